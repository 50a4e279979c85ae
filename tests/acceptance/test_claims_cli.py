"""`scg claims check FILE` as an assessor runs it: the flags of both seed tables in one
file (exit 1), a table whose figures add up (exit 0), files it cannot check (exit 2 with
what to do), and the comparison with a seeded database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import asyncpg
import pytest
from acceptance_support import AS_OF, COMMUNITY, populate

from scg.cli import main

DATA = Path(__file__).with_name("data")
SEEDS = [DATA / "basic-tier-acceptance-chengwu-2024.txt",
         DATA / "growth-tier-acceptance-qingzhou-2024.txt"]


@pytest.fixture(autouse=True)
def _no_database_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCG_DATABASE_URL", raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["claims", "check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def both(tmp_path: Path) -> Path:
    path = tmp_path / "both.txt"
    path.write_text("\n".join(p.read_text(encoding="utf-8") for p in SEEDS), encoding="utf-8")
    return path


EXPECTED_TEXT = "\n".join([
    "后陈庄社区（基础型），第10行起，共22行：2处存疑",
    "  第8行 养老服务 [unfilled_blank] 模板空白未填写",
    "    原文：“社区社区60岁以上常住老年人总数占比，低于智慧社区的养老服务条件标准。”",
    "    问题：“占比”后没有数字：模板中的比例未填写",
    "  第14行 高空抛物监测 [unfilled_blank] 模板空白未填写",
    "    原文：“社区内 19 层及以上住宅栋，均实现高空抛物监控报警，监控范围覆盖 3 层及以上所有"
    "窗户和洞口。”",
    "    问题：“住宅栋”中“栋”前没有数字：模板中的数量未填写",
    "",
    "偕园（东阳城）社区（成长型），第{line}行起，共27行：1处存疑",
    "  第10行 养老服务 [unfilled_blank] 模板空白未填写",
    "    原文：“社区60岁及以上老年人占比19%，未超过30%，提供种社区养老服务，分别为社区医生、"
    "社区托管。”",
    "    问题：“提供种”中“种”前没有数字：模板中的数量未填写",
    "",
    "{source}：2张表，共3处存疑",
    ""])


def test_both_seed_tables_print_their_flags_and_exit_1(
        both: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, str(both))
    assert (code, err) == (1, "")
    # The growth table's header is line 9 of its file, which starts at line 59 here.
    assert out == EXPECTED_TEXT.format(line=67, source=both)


def test_json_gives_the_kind_ids_per_table(both: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(both), "--format", "json")
    body = json.loads(out)
    assert code == 1 and body["flag_count"] == 3
    assert [(t["community"], t["tier"], [(f["kind"], f["row"]) for f in t["flags"]])
            for t in body["tables"]] == [
        ("后陈庄社区", "basic", [("unfilled_blank", 8), ("unfilled_blank", 14)]),
        ("偕园（东阳城）社区", "growth", [("unfilled_blank", 10)])]


def test_a_table_whose_figures_add_up_exits_0(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.txt"
    path.write_text("## 幸福里社区（成长型）\n一级指标\t序号\t二级指标\t指标释义\t标准要求\t"
                    "本社区完成情况\n基础设施\t5\t智能照明设施\t智能照明设施安装率=社区内智能照明"
                    "设备数/社区内公共照明设备总数\t智能照明设施安装率达到80%\t达标。智能照明设施"
                    "安装率达到85.7%，其中社区内智能照明设备数96个，社区内公共照明设备总数112个。\n",
                    encoding="utf-8")
    code, out, _ = run(capsys, str(path))
    assert code == 0
    assert out == (f"幸福里社区（成长型），第2行起，共1行：未发现问题\n\n{path}：1张表，"
                   "所有数字相互吻合\n")


def test_files_it_cannot_check_exit_2_saying_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notice = tmp_path / "notice.txt"
    notice.write_text("后陈庄社区建设验收结果公示\n达标。\n", encoding="utf-8")
    code, out, err = run(capsys, str(notice))
    assert (code, out) == (2, "")
    assert err.startswith(f"scg claims: no acceptance table found in {notice}: a table "
                          "starts at its header row 一级指标 / 序号 / 二级指标 / 指标释义 / "
                          "标准要求 / 本社区完成情况")
    missing = tmp_path / "missing.txt"
    assert run(capsys, str(missing)) == (
        2, "", f"scg claims: cannot read {missing}: No such file or directory\n")
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("一级指标".encode("gbk"))
    assert run(capsys, str(gbk)) == (
        2, "", f"scg claims: {gbk} is not UTF-8 text (byte 2); save the publication as "
               "UTF-8 and try again\n")
    assert run(capsys, str(notice), "--community", COMMUNITY) == (
        2, "", "scg claims: --community needs --database-url (or SCG_DATABASE_URL): the "
               "community is looked up in the inventory\n")


def test_with_a_database_the_table_is_compared_with_the_devices(
        migrated: str, capsys: pytest.CaptureFixture[str]) -> None:
    async def seed() -> None:
        conn = await asyncpg.connect(migrated)
        try:
            await populate(conn)
        finally:
            await conn.close()

    asyncio.run(seed())
    code, out, err = run(capsys, str(SEEDS[1]), "--database-url", migrated,
                         "--as-of", AS_OF.isoformat())
    assert (code, err) == (1, "")
    assert out.splitlines()[0] == (f"偕园（东阳城）社区（成长型），第9行起，共27行：1处存疑，"
                                   f"已与设备台账社区 {COMMUNITY} 的实测比对")
    assert "contradicts_measurement" not in out
    code, _, err = run(capsys, str(SEEDS[1]), "--database-url", migrated,
                       "--community", "nowhere")
    assert (code, err) == (2, f"scg claims: community 'nowhere' is not in the inventory "
                              f"(known: {COMMUNITY})\n")
