"""The acceptance report as files and over HTTP: CSV and XLSX hold every row with its
completion text and verdict, the HTML page has the published columns, the API serves JSON
and downloads, and `scg report` writes each format."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import yaml
from acceptance_support import AS_OF, COMMUNITY, Figures, inventory, populate
from ingest_support import client_for
from openpyxl import load_workbook

from acceptance.export import COLUMNS, export
from acceptance.report import AcceptanceReport, build_report
from scg.cli import main

LIGHTING = ("未达标。智能照明设施安装率为28%，低于80%的要求52个百分点，其中社区内智能照明设备数"
            "28个，社区内公共照明设备总数100个，尚差52个")
SMALL = Figures(lights=100, smart_lights=28, households=30, meters_collected=30)


@pytest.fixture
async def report(migrated: str) -> AcceptanceReport:
    conn = await asyncpg.connect(migrated)
    try:
        await populate(conn, SMALL)
        return await build_report(conn, COMMUNITY, "growth", now=AS_OF)
    finally:
        await conn.close()


def test_csv_has_the_published_columns_every_row_and_the_summary_after(
        report: AcceptanceReport) -> None:
    data = export(report, "csv")
    assert data.startswith(b"\xef\xbb\xbf")               # BOM: spreadsheets read UTF-8
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(lines[0]) == COLUMNS
    rows = lines[1:29]
    assert [r[1] for r in rows] == [str(n) for n in range(1, 29)]
    lighting = rows[4]
    assert lighting[:3] == ["基础设施", "5", "智能照明设施"]
    assert lighting[4] == "智能照明设施安装率达到80%"
    assert lighting[5].startswith(LIGHTING)
    assert lighting[6:10] == ["未达标", "28%（28/100）", "设备实测",
                              "智能照明设施安装率（smart_lighting_rate）"]
    assert lighting[10] == ("社区内智能照明设备数28个〔设备实测〕；"
                            "社区内公共照明设备总数100个〔设备台账〕")
    assert rows[0][6:10] == ["无数据", "", "申报", "具备千兆接入能力的家庭数、社区家庭总数"]
    summary = dict(line for line in lines[30:] if len(line) == 2)
    assert summary["总体判定"] == "未达标"
    assert summary["社区"] == "偕园（东阳城）社区"


def test_xlsx_has_a_title_merged_groups_numeric_numbers_and_a_summary_sheet(
        report: AcceptanceReport) -> None:
    book = load_workbook(io.BytesIO(export(report, "xlsx")))
    assert book.sheetnames == ["验收表", "汇总"]
    sheet = book["验收表"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "山东省智慧社区建设指标（成长型）——偕园（东阳城）社区建设验收表"
    assert str(values[1][0]).startswith("数据时间：2026-11-24 16:00（北京时间）；总体判定：未达标")
    assert tuple(values[2]) == COLUMNS
    assert len(values) == 3 + 28
    lighting = values[3 + 4]
    assert lighting[1] == 5 and isinstance(lighting[1], int)      # 序号 is a number
    assert lighting[2] == "智能照明设施" and str(lighting[5]).startswith(LIGHTING)
    assert lighting[6:8] == ["未达标", "28%（28/100）"]
    assert [r[1] for r in values[3:]] == list(range(1, 29))
    merged = {str(r) for r in sheet.merged_cells.ranges}
    # Title and data-time rows across the table; 一级指标 over each group's rows:
    # 基础设施 1-8, 社区服务 9-13, 社区安全 14-20, 社区治理 21-23, 保障措施 24-26, 创新 27-28.
    assert merged == {"A1:M1", "A2:M2", "A4:A11", "A12:A16", "A17:A23", "A24:A26",
                      "A27:A29", "A30:A31"}
    assert sheet["A12"].value == "社区服务" and sheet["A13"].value is None
    assert sheet.freeze_panes == "A4" and sheet.print_title_rows == "$3:$3"
    summary = {r[0].value: r[1].value for r in book["汇总"].iter_rows()}
    assert summary["总体判定"] == "未达标"
    assert summary["达标/未达标/无数据/未判定"].count("/") == 3


def test_html_has_the_published_columns_and_a_row_per_catalogue_row(
        report: AcceptanceReport) -> None:
    page = export(report, "html").decode("utf-8")
    for header in ("一级指标", "序号", "二级指标", "指标释义", "标准要求", "本社区完成情况"):
        assert f"<th>{header}</th>" in page
    assert page.count('<tr id="growth-') == 28
    assert 'id="overall-verdict"' in page and "<strong>未达标</strong>" in page
    assert "@page" in page and "table-header-group" in page
    assert '<span class="verdict-word">未达标</span>' in page


def test_json_export_is_the_api_document(report: AcceptanceReport) -> None:
    doc = json.loads(export(report, "json"))
    assert doc["tier"] == "growth" and len(doc["rows"]) == 28
    assert doc["rows"][4]["indicators"][0] | {"source": "computed"} == {
        "indicator": "smart_lighting_rate", "basis": "growth", "threshold": 80.0,
        "numerator": 28, "denominator": 100, "value": 28.0, "status": "fail", "unknown": [],
        "status_if_online": "fail", "source": "computed"}


@pytest.fixture
async def api(migrated: str) -> AsyncIterator[httpx.AsyncClient]:
    conn = await asyncpg.connect(migrated)
    try:
        await populate(conn, SMALL)
    finally:
        await conn.close()
    async for client in client_for(migrated):
        yield client


async def test_the_api_serves_json_html_csv_and_xlsx(api: httpx.AsyncClient) -> None:
    params = {"tier": "growth", "as_of": AS_OF.isoformat()}
    r = await api.get(f"/api/communities/{COMMUNITY}/acceptance", params=params)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["tier"], doc["live"], doc["as_of"]) == ("growth", False, "2026-11-24T08:00:00Z")
    lighting = doc["rows"][4]
    assert (lighting["id"], lighting["verdict"], lighting["verdict_word"]) == (
        "growth-05", "fail", "未达标")
    assert lighting["text"].startswith(LIGHTING)
    assert lighting["figures"][0] == {"label": "社区内智能照明设备数", "value": 28, "unit": "个",
                                      "source": "measured", "source_word": "设备实测",
                                      "note": "有智能控制器且近24小时内上报的公共照明设备"}
    page = await api.get(f"/communities/{COMMUNITY}/acceptance.html", params=params)
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert page.text.count('<tr id="growth-') == 28
    sheet = await api.get(f"/communities/{COMMUNITY}/acceptance.csv", params=params)
    assert sheet.headers["content-disposition"] == (
        'attachment; filename="acceptance-xieyuan-growth-20261124-0800.csv"')
    assert sheet.content.decode("utf-8-sig").splitlines()[0].startswith("一级指标,序号,")
    book = await api.get(f"/communities/{COMMUNITY}/acceptance.xlsx", params=params)
    assert book.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert load_workbook(io.BytesIO(book.content)).sheetnames == ["验收表", "汇总"]


async def test_the_api_says_what_is_wrong_with_a_request(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/communities/nowhere/acceptance", params={"tier": "growth"})
    assert r.status_code == 404 and "community 'nowhere' is not in the inventory" in r.text
    r = await api.get(f"/api/communities/{COMMUNITY}/acceptance", params={"tier": "gold"})
    assert r.status_code == 422 and "basic" in r.text
    r = await api.get(f"/api/communities/{COMMUNITY}/acceptance",
                      params={"tier": "basic", "as_of": "2026-11-24T08:00:00"})
    assert r.status_code == 422 and "has no timezone" in r.text


def test_scg_report_writes_each_format(database: str, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "xieyuan.yaml"
    source.write_text(yaml.safe_dump(inventory(Figures(lights=5, smart_lights=2, households=3,
                                                       meters_collected=0)),
                                     allow_unicode=True), encoding="utf-8")
    assert main(["db", "migrate", "--database-url", database]) == 0
    assert main(["inventory", "import", str(source), "--database-url", database]) == 0
    capsys.readouterr()
    for fmt in ("html", "csv", "xlsx", "json"):
        out = tmp_path / f"report.{fmt}"
        code = main(["report", "--database-url", database, "--community", COMMUNITY,
                     "--tier", "basic", "--format", fmt, "--out", str(out)])
        assert code == 0
        assert out.stat().st_size > 1000
        assert capsys.readouterr().err.startswith(
            f"{out}: 山东省智慧社区建设指标（基础型）, community xieyuan: 未")
    doc = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in doc["rows"]] == [f"basic-{n:02d}" for n in range(1, 23)]
    # The format follows the file name when not given.
    assert main(["report", "--database-url", database, "--community", COMMUNITY,
                 "--tier", "growth", "--out", str(tmp_path / "g.csv")]) == 0
    assert (tmp_path / "g.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    capsys.readouterr()
    code = main(["report", "--database-url", database, "--community", "nowhere",
                 "--tier", "growth", "--out", str(tmp_path / "x.html")])
    assert code == 2
    assert capsys.readouterr().err.startswith(
        "scg report: community 'nowhere' is not in the inventory (known: xieyuan)")
