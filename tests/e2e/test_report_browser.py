"""The HTML acceptance report in a real browser: `scg api` serves a migrated database holding
the Qingzhou community (devices, telemetry and declared values with evidence), headless
Debian chromium loads the page, every row and the verdict are there, it prints to A4
pages, and a screenshot goes to tests/artifacts/. `scg report --format pdf` prints a real
A4 PDF whose every page names the group (一级指标) of its first row."""

from __future__ import annotations

import asyncio
import io
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from acceptance_support import (
    AS_OF,
    COMMUNITY,
    populate,
    qingzhou_declarations,
)
from auth_support import user_headers

from ingest.schema.migrate import migrate
from scg.localsvc.process import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Bearer headers of the viewer the served report is read as (made by `served`).
READER: dict[str, str] = {}
COUNTY_SETTINGS = "county: 青州市\nthresholds:\n  growth-28: {satisfaction_pct: 100}\n"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason="Debian chromium is not installed (scripts/system-deps.sh installs it)")


async def _fill(dsn: str, evidence: Path) -> None:
    from acceptance.declared import enter_declaration
    from acceptance.evidence import EvidenceStore

    await migrate(dsn)
    conn = await asyncpg.connect(dsn)
    try:
        await populate(conn)
        store = EvidenceStore(evidence)
        proof = store.put(io.BytesIO("验收材料".encode()), "验收材料.pdf", "application/pdf")
        for row_id, entry in qingzhou_declarations().items():
            await enter_declaration(conn, COMMUNITY, row_id, entry.values, text=entry.text,
                                    by="社区工作者", at=AS_OF - timedelta(days=2),
                                    files=[proof])
    finally:
        await conn.close()


@pytest.fixture
def served(database: str, tmp_path: Path) -> Iterator[str]:
    """Base URL of `scg api` over the populated database (a viewer's bearer headers in
    READER, for the requests)."""
    evidence = tmp_path / "evidence"
    asyncio.run(_fill(database, evidence))
    READER.update(asyncio.run(user_headers(database, "report.reader", "viewer")))
    port = free_port()
    log = (tmp_path / "api.log").open("w")
    # Qingzhou publishes 居民满意度达到100%: the county settings give row 28 its threshold.
    county = tmp_path / "county.yaml"
    county.write_text(COUNTY_SETTINGS, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from scg.cli import main; sys.exit(main())",
         "api", "--database-url", database, "--host", "127.0.0.1", "--port", str(port),
         "--history-interval", "off", "--evidence-dir", str(evidence)],
        stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "SCG_COUNTY_SETTINGS": str(county)})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("scg api did not answer /healthz within 30 s:\n"
                                     + (tmp_path / "api.log").read_text())
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", *args],
        capture_output=True, timeout=90, check=False)


def pdf_pages(pdf: Path) -> tuple[int, str]:
    """(page count, page size) by pdfinfo when installed, else from the PDF's objects."""
    if shutil.which("pdfinfo"):
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                              check=True).stdout
        pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
        size = re.search(r"^Page size:\s+(.*)$", info, re.M).group(1)  # type: ignore[union-attr]
        return pages, size
    data = pdf.read_bytes()
    return len(re.findall(rb"/Type\s*/Page(?!s)", data)), "unknown"


def test_the_html_report_renders_every_row_and_prints_to_a4(served: str,
                                                             tmp_path: Path) -> None:
    served_url = f"{served}/communities/{COMMUNITY}/acceptance.html?tier=growth&as_of=" \
        f"{AS_OF.isoformat().replace('+00:00', 'Z')}"
    # The API serves the page only to a signed-in user, and chromium's command line cannot
    # send a bearer header: the page as served is saved, and chromium opens that file (it
    # is self-contained: inline style, no other resource).
    answer = httpx.get(served_url, headers=READER, timeout=30)
    assert answer.status_code == 200
    assert "style-src 'self' 'nonce-" in answer.headers["content-security-policy"]
    saved = tmp_path / "acceptance.html"
    saved.write_bytes(answer.content)
    url = saved.as_uri()
    profile = tmp_path / "chromium"
    dom = chromium(profile, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
    page = dom.stdout.decode("utf-8")
    rows = re.findall(r'<tr id="(growth-\d\d)" class="row (\w+)"', page)
    assert [r for r, _ in rows] == [f"growth-{n:02d}" for n in range(1, 29)]
    assert {v for _, v in rows} == {"pass"}
    assert re.search(r'id="overall-verdict"[^>]*>\s*总体判定：<strong>达标</strong>', page)
    assert "智能照明设施安装率达到100%，其中社区内智能照明设备数112个" in page
    assert "申报人：社区工作者" in page

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "acceptance-report-growth.png"
    shot.unlink(missing_ok=True)
    done = chromium(profile, f"--screenshot={shot}", "--window-size=1280,1800",
                    "--hide-scrollbars", url)
    assert done.returncode == 0 and shot.stat().st_size > 50_000, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    pdf = ARTIFACTS / "acceptance-report-growth.pdf"
    pdf.unlink(missing_ok=True)
    printed = chromium(profile, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", url)
    assert printed.returncode == 0 and pdf.exists(), printed.stderr[-2000:]
    pages, size = pdf_pages(pdf)
    assert 2 <= pages <= 12
    if size != "unknown":
        assert "(A4)" in size, size
    if shutil.which("pdftotext"):  # the console's bar is for the screen, never printed
        first = page_texts(pdf)[0]
        assert "山东省智慧社区建设指标" in first and "智慧社区运维台" not in first
    if shutil.which("pdftoppm"):   # the first printed page, to look at the print layout
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile",
                        str(pdf), str(ARTIFACTS / "acceptance-report-growth-page1")],
                       check=True, timeout=60)


GROUPS = ("基础设施", "社区服务", "社区安全", "社区治理", "保障措施", "创新应用和做法")


def page_texts(pdf: Path) -> list[str]:
    """Each page's text as laid out (columns kept on their lines)."""
    pages, _ = pdf_pages(pdf)
    return [subprocess.run(["pdftotext", "-layout", "-f", str(n), "-l", str(n), str(pdf),
                            "-"], capture_output=True, text=True, check=True).stdout
            for n in range(1, pages + 1)]


def first_cell_after_header(text: str) -> str:
    """The first cell of the first table row under a page's header row (一级指标 …)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    header = next(i for i, line in enumerate(lines) if line.startswith("一级指标"))
    return lines[header + 1].split()[0]


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_scg_report_prints_a_real_a4_pdf_whose_pages_each_name_their_group(
        database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scg.cli import main

    asyncio.run(_fill(database, tmp_path / "evidence"))
    county = tmp_path / "county.yaml"
    county.write_text(COUNTY_SETTINGS, encoding="utf-8")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pdf = ARTIFACTS / "acceptance-report-growth-scg.pdf"
    pdf.unlink(missing_ok=True)
    code = main(["report", "--database-url", database, "--community", COMMUNITY,
                 "--tier", "growth", "--format", "pdf", "--out", str(pdf),
                 "--as-of", AS_OF.isoformat(), "--county-settings", str(county)])
    assert code == 0, capsys.readouterr().err
    assert pdf.read_bytes().startswith(b"%PDF-")
    pages, size = pdf_pages(pdf)
    assert pages >= 3 and "(A4)" in size, (pages, size)
    texts = page_texts(pdf)
    assert "总体判定：达标" in texts[0].replace(" ", "")
    assert "（北京时间）" in texts[0]
    # Every page after the first starts its table with the header and then a group name:
    # a page that continues a group repeats its 一级指标 rather than leaving it blank.
    for n, text in enumerate(texts[1:], 2):
        assert "一级指标" in text, f"page {n} lacks the repeated header"
        first = first_cell_after_header(text)   # a long group name wraps: 创新应用 / 和做法
        assert any(group.startswith(first) for group in GROUPS), (n, text[:400])
    # Nothing of the report is lost across the breaks: every row's name is printed.
    whole = "".join(texts)
    for name in ("有线宽带网络", "智能照明设施", "高空抛物监测", "信息安全", "居民满意度"):
        assert name in whole
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "2", "-l", "2", "-singlefile",
                    str(pdf), str(ARTIFACTS / "acceptance-report-growth-scg-page2")],
                   check=True, timeout=60)
