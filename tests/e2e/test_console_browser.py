"""The operations console in a real browser (Debian's chromium driven by Playwright) against
the whole demo stack (`scg demo`: simulators, gateway, mosquitto, ingest, PostgreSQL, API):
signing in and out, the county overview beside GET /api/overview, the device table
filtered as the API filters, an alarm a simulator raises appearing live and acknowledged by
an operator whose name the operation log then shows, a viewer and an auditor who cannot
act, /docs with the network cut off, and every page without a console error, each saved
as a screenshot under tests/artifacts/."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from console_browser_support import (
    PASSWORD,
    Demo,
    PageLog,
    api_row,
    chromium_binary,
    control,
    listed_ids,
    new_row,
    overview_row,
    post_from_page,
    running_demo,
    shot,
    sign_in,
)
from e2e_support import wait_until

CHROMIUM = chromium_binary()
pytestmark = [
    pytest.mark.integration, pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed "
                       "(scripts/system-deps.sh installs it)")]


@pytest.fixture(scope="module")
def demo() -> Iterator[Demo]:
    with running_demo() as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # --lang: the browser's own words (file and date-time fields) in Chinese where
        # Debian's chromium-l10n is installed; English otherwise.
        launched = p.chromium.launch(executable_path=CHROMIUM,
                                     args=["--no-sandbox", "--lang=zh-CN"])
        yield launched
        launched.close()


class Session:
    """A browser context signed in as one user, its page, and what the page complained of."""

    def __init__(self, browser: Any, demo: Demo, user: str | None) -> None:
        self.demo = demo
        self.context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                           viewport={"width": 1366, "height": 900},
                                           accept_downloads=True)
        self.page = self.context.new_page()
        self.log = PageLog()
        self.log.watch(self.page)
        if user is not None:
            password = demo.admin_password if user == "admin" else PASSWORD
            sign_in(self.page, demo.base, user, password)

    def open(self, path: str) -> Any:
        self.page.goto(self.demo.base + path)
        self.page.wait_for_load_state("load")
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser: Any, demo: Demo) -> Iterator[Any]:
    opened: list[Session] = []

    def open_as(user: str | None) -> Session:
        s = Session(browser, demo, user)
        opened.append(s)
        return s

    yield open_as
    for s in opened:
        s.close()


def test_the_front_door_leads_to_sign_in_and_the_user_is_named_until_signing_out(
        session: Any, demo: Demo) -> None:
    printed = "".join(demo.output)   # the demo says where the console is and how to sign in
    assert f"The operations console: {demo.base}/ (sign in as admin, above)" in printed
    assert f"user admin, password {demo.admin_password}" in printed
    s = session(None)
    s.open("/")
    s.page.wait_for_url(re.compile(r"/login\?next=/$"))
    shot(s.page, "00-login")
    sign_in(s.page, demo.base, "admin", demo.admin_password)
    assert s.page.inner_text("#who-name") == "admin"
    assert s.page.inner_text("#who-role") == "管理员"
    s.page.click(".who button[type=submit]")
    s.page.wait_for_url(re.compile(r"/login$"))
    s.open("/overview")
    assert "/login?next=/overview" in s.page.url   # the session has ended
    assert s.log.problems == []






def test_the_overview_shows_demo_with_the_figures_of_the_api(session: Any,
                                                            demo: Demo) -> None:
    s = session("admin")
    seen: list[Any] = []

    def agree() -> bool:
        # The snapshot moves on while the demo runs: read both until one moment agrees.
        wanted = api_row(demo)
        shown = overview_row(s.open("/overview"))
        seen[:] = [wanted, shown]
        return wanted == shown

    wait_until(agree, "the overview to show the figures of /api/overview", timeout=90,
               interval=1)
    shown = seen[1]
    assert len(shown["cells"]) >= 16 and shown["states"]["online"] > 0
    row = s.page.inner_text("#community-demo")
    assert "演示社区" in row and ("未达标" in row or "达标" in row)
    # The 18 indicators fit a laptop's width: the table is no wider than its page.
    assert s.page.evaluate("document.getElementById('indicator-matrix').scrollWidth"
                           " <= document.querySelector('main').clientWidth")
    shot(s.page, "01-overview")
    assert s.log.problems == []




def test_filtering_devices_by_state_offline_lists_exactly_the_devices_the_api_lists(
        session: Any, demo: Demo) -> None:
    s = session("zhang.wei")
    found: list[Any] = []

    def agree() -> bool:
        s.open("/communities/demo/devices")
        s.page.select_option("#filter-state", "offline")
        s.page.click("form.filters button[type=submit]")
        s.page.wait_for_url(re.compile(r"state=offline"))
        shown = listed_ids(s.page)
        wanted = [d["id"] for d in demo.api("/api/communities/demo/devices",
                                            user="zhang.wei", state="offline")]
        found[:] = [shown, wanted]
        return bool(wanted) and shown == wanted

    wait_until(agree, "the offline filter to list the API's offline devices", timeout=90,
               interval=1)
    shown = found[0]
    s.open("/communities/demo/devices?state=offline")
    states = s.page.eval_on_selector_all("#devices tbody tr[data-state]",
                                         "rows => rows.map(r => r.dataset.state)")
    assert set(states) == {"offline"}
    assert "离线" in s.page.inner_text("#devices")
    shot(s.page, "03-devices-offline")
    with s.page.expect_download() as download:
        s.page.click("#csv")
    rows = list(csv.reader(io.StringIO(
        download.value.path().read_bytes().decode("utf-8-sig"))))
    assert rows[0][:4] == ["设备编号", "名称", "种类", "状态"]
    assert {r[3] for r in rows[1:]} == {"离线"}
    assert {r[0] for r in rows[1:]} >= set(shown)   # the file is as of its own moment
    s.open("/communities/demo/devices")
    shot(s.page, "02-devices")
    assert s.log.problems == []






def test_a_simulated_alarm_appears_live_and_an_operator_acknowledges_it(
        session: Any, demo: Demo) -> None:
    s = session("zhang.wei")
    page = s.open("/communities/demo/alarms")
    page.wait_for_selector("#live-status.on", timeout=10_000)
    page.evaluate("window.notReloaded = true")
    before = page.eval_on_selector_all("#open-alarms tbody tr[data-alarm]",
                                       "rows => rows.map(r => r.dataset.alarm)")
    started = time.monotonic()
    control(demo, "throw", "throw-north-b2", floor=9)
    alarm = new_row(page, "object_thrown", before, 5_000)
    took = time.monotonic() - started
    assert took <= 5.0, f"the alarm showed after {took:.1f} s"
    assert page.evaluate("window.notReloaded") is True   # no reload: it came live
    row = page.inner_text(f"#alarm-{alarm}")
    assert "高空抛物" in row and "object_thrown" not in row
    assert "北苑2号楼 / 9 层" in row and "告警" in row

    control(demo, "press_sos", "sos-001")
    sos = new_row(page, "sos_pressed", before, 10_000)
    clock = page.inner_text(f"#alarm-{sos} .sos-clock")
    assert re.fullmatch(r"剩余 1[45]:\d\d", clock), clock
    assert "紧急呼叫" in page.inner_text(f"#alarm-{sos}")
    shot(page, "04-alarms-live")

    page.fill(f"#alarm-{alarm} input[name=note]", "已派保安到北苑2号楼查看")
    page.click(f"#alarm-{alarm} button.acknowledge")
    page.wait_for_url(re.compile(rf"done={alarm}"))
    assert "已处理告警" in page.inner_text("#action-done")
    acked = page.inner_text(f"#alarm-{alarm}")
    assert "已确认" in acked and "zhang.wei" in acked and "已派保安" in acked
    assert page.query_selector(f"#alarm-{alarm} button.close") is not None
    page.fill(f"#alarm-{alarm} input[name=note]", "已清理，无人受伤")
    page.click(f"#alarm-{alarm} button.close")
    page.wait_for_url(re.compile(rf"done={alarm}"))
    assert page.query_selector(f"#alarm-{alarm}") is None   # closed: off the live table
    closed = page.inner_text(f'#alarm-history tr[data-alarm="{alarm}"]')
    assert "已关闭" in closed and "已清理，无人受伤" in closed

    audit = session("zhao.min")
    log = audit.open("/audit?action=alarm.acknowledge")
    entry = log.query_selector(f'#operation-log tr[data-target="alarm:{alarm}"]')
    assert entry is not None, log.inner_text("#operation-log")
    assert entry.get_attribute("data-actor") == "zhang.wei"
    assert "确认告警" in entry.inner_text() and "已派保安" in entry.inner_text()
    shot(log, "10-audit")
    assert s.log.problems == [] and audit.log.problems == []




def test_a_viewer_and_an_auditor_cannot_acknowledge_even_by_a_forged_post(
        session: Any, demo: Demo) -> None:
    alarms = demo.api("/api/communities/demo/alarms", state="open")
    assert alarms, "the demo has no open alarm"
    target = f"/communities/demo/alarms/{alarms[0]['id']}/acknowledge"

    auditor = session("zhao.min")
    page = auditor.open("/communities/demo/alarms")
    page.wait_for_selector("#open-alarms tbody tr[data-alarm]")
    assert page.query_selector("#open-alarms button") is None   # sees, cannot act
    assert "只能查看" in page.inner_text("main")
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    assert post_from_page(page, target, token) == 403

    viewer = session("li.na")
    page = viewer.open("/communities/demo/alarms")
    assert page.inner_text("#refused") == "无权访问（403）"
    assert page.query_selector("button.acknowledge") is None
    assert page.query_selector('.topbar a[href$="/alarms"]') is None
    shot(page, "11-viewer-refused")
    page = viewer.open("/communities/demo")
    token = page.get_attribute('meta[name="csrf-token"]', "content")
    assert post_from_page(page, target, token) == 403
    assert post_from_page(page, target, None) == 403
    still = next(a for a in demo.api("/api/communities/demo/alarms")
                 if a["id"] == alarms[0]["id"])
    assert still["acknowledged_by"] != "li.na" and still["acknowledged_by"] != "zhao.min"


def black_camera(demo: Demo) -> str | None:
    """A camera whose picture check finds it black and whose thumbnail has arrived."""
    for d in demo.api("/api/communities/demo/devices", kind="camera"):
        if (d["reason"] or "").startswith("picture black"):
            r = demo.get(f"/api/communities/demo/devices/{d['id']}/picture")
            if r.status_code == 200 and r.headers["content-type"] == "image/jpeg":
                return str(d["id"])
    return None


PAGES = [("05-community", "/communities/demo"),
         ("06-indicator", "/communities/demo/indicators/video_picture_out_rate"),
         ("08-gateway", "/communities/demo/gateways/demo-gw1"),
         ("09-map", "/communities/demo/map"),
         ("12-acceptance-report", "/communities/demo/acceptance.html?tier=growth"),
         ("15-light", "/communities/demo/devices/light-099"),
         ("16-alarm-history", "/communities/demo/alarms?state=closed")]


def test_every_page_renders_in_chinese_without_console_errors(session: Any,
                                                               demo: Demo) -> None:
    s = session("admin")
    camera = wait_until(lambda: black_camera(demo), "a black camera with its thumbnail",
                        timeout=120, interval=2)
    for name, path in [*PAGES, ("07-camera-black", f"/communities/demo/devices/{camera}")]:
        page = s.open(path)
        assert page.inner_text("#who-name") == "admin", path
        assert page.inner_text("#who-role") == "管理员", path
        shot(page, name)
        assert s.log.problems == [], (path, s.log.problems)
    page = s.open(f"/communities/demo/devices/{camera}")
    assert page.evaluate("document.getElementById('picture').naturalWidth") > 0
    assert "黑屏" in page.inner_text("#picture-panel")
    assert page.query_selector("svg.timeline rect[data-state]") is not None
    page = s.open("/communities/demo/map")
    assert page.query_selector_all("svg.map g.mark.camera")

    assert s.log.problems == []

    # A declared value refused by the checks: the reasons at the row, in Chinese (the page
    # answers 422, which chromium notes in the console).
    page = s.open("/communities/demo/declared.html?tier=growth")
    page.click("#growth-01 summary")
    page.fill("#growth-01-fibre_households", "4000")
    page.fill("#growth-01-total_households", "3790")
    page.click("#growth-01 form.declared button[type=submit]")
    page.wait_for_selector("#growth-01 .errors li")
    errors = page.inner_text("#growth-01 .errors")
    assert "“具备千兆接入能力的家庭数” = 4000，超过“社区家庭总数” = 3790" in errors
    assert "本行须附证明材料" in errors and "exceeds" not in errors
    shot(page, "13-declared-refused")
    assert [p for p in s.log.problems if "status of 422" not in p] == []
    s.log.problems.clear()

    # The claims check of a published table.
    published = (Path(__file__).parents[1] / "acceptance" / "data"
                 / "growth-tier-acceptance-qingzhou-2024.txt").read_text(encoding="utf-8")
    page = s.open("/communities/demo/claims")
    page.fill("#claims-text", published)
    page.click("#claims-form button[type=submit]")
    page.wait_for_selector("#claims-summary")
    assert int(page.get_attribute("#claims-summary", "data-flags") or "0") > 0
    shot(page, "14-claims")
    assert s.log.problems == []


def test_the_api_docs_render_with_the_network_cut_off(session: Any, demo: Demo) -> None:
    s = session("admin")
    outside: list[str] = []

    def only_this_machine(route: Any) -> None:
        if re.match(r"^https?://127\.0\.0\.1[:/]", route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    s.context.route("**/*", only_this_machine)
    page = s.open("/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.query_selector_all(".swagger-ui .opblock-tag")
    assert "scg" in page.inner_text(".swagger-ui .info")
    shot(page, "17-docs-offline")
    assert outside == []
    assert s.log.problems == []
