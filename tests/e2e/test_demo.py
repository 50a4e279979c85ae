"""`scg demo` serves the lighting and video indicators to its admin, whose random password it
prints once, and prints where the API, ingest and the gateway serve their metrics; Ctrl-C
leaves no process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from demo_support import admin_headers, alive, descendants
from e2e_support import wait_until
from metrics_support import promtool_check, samples, value

from scg.demo_plan import DemoPlan
from scg.localsvc.process import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_serves_the_lighting_rate_and_stops_everything_on_ctrl_c(e2e_root: Path) -> None:
    port = free_port()
    state = e2e_root / "demo"
    demo = subprocess.Popen([sys.executable, "-m", "scg.cli", "demo", "--state-dir",
                             str(state), "--api-port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def read() -> None:
        assert demo.stdout is not None
        for line in demo.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        url = f"http://127.0.0.1:{port}/api/communities/demo/indicators"
        wait_until(lambda: (state / "duty-officer.token").exists(), "the demo's accounts",
                   timeout=120)
        assert httpx.get(url, timeout=5).status_code == 401   # nobody anonymous
        headers = admin_headers(state, port)

        def lighting() -> dict[str, object] | None:
            try:
                found = [i for i in httpx.get(url, headers=headers, timeout=5).json()
                         if i["id"] == "smart_lighting_rate"]
            except httpx.HTTPError:
                return None
            return found[0] if found and found[0]["numerator"] == 98 else None

        rate = wait_until(lighting, "the demo's 98 live controllers to be counted", timeout=90)
        assert (rate["numerator"], rate["denominator"]) == (98, 120)
        figures = {i["id"]: (i["numerator"], i["denominator"])
                   for i in httpx.get(url, headers=headers, timeout=5).json()}
        assert figures["video_record_compliance"] == (38, 44)  # the plan's 6 bad records
        assert figures["video_networked_rate"][1] == 24
        check_fire_control_room(port, headers)
        started = descendants(demo.pid)
        assert len(started) >= 7  # mosquitto, postgres, ingest, api, 2 simulators, gateway
        check_metrics_urls("".join(lines), port)
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=60)
        reader.join(10)
    out = "".join(lines)
    assert demo.returncode == 0, out
    assert "every process it started has stopped" in out
    password = (state / "admin-password").read_text().strip()
    assert out.count(password) == 1 and f"user admin, password {password}" in out
    assert [pid for pid in started if alive(pid)] == []


def check_metrics_urls(out: str, api_port: int) -> None:
    """The three /metrics the demo prints answer, pass promtool, and are the API's, ingest's
    and the gateway's."""
    urls = dict((who, url) for url, who in re.findall(
        r"^  (http://127\.0\.0\.1:\d+/metrics) +(the API|ingest|the gateway)$", out, re.M))
    assert urls.keys() == {"the API", "ingest", "the gateway"}, out
    assert urls["the API"] == f"http://127.0.0.1:{api_port}/metrics"
    wanted = {"the API": "scg_api_request_seconds_count",
              "ingest": "scg_ingest_messages_received_total",
              "the gateway": "scg_gateway_spool_items"}
    for who, url in urls.items():
        text = wait_until(lambda u=url: _scrape(u), f"{who}'s metrics at {url}", timeout=60)
        promtool_check(text, f"{who}'s /metrics in the demo")
        assert any(name == wanted[who] for name, _ in samples(text)), who
    gateway = samples(httpx.get(urls["the gateway"], timeout=5).text)
    assert value(gateway, "scg_gateway_uplink_connected") == 1


def check_fire_control_room(api_port: int, headers: dict[str, str]) -> None:
    """The demo's GB 26875 transmission device has dialled the gateway: it and the three
    fire alarm controllers behind it are online."""
    plan = DemoPlan().fire_transmission
    url = f"http://127.0.0.1:{api_port}/api/communities/demo/devices"
    wanted = {plan.device: "online", **{plan.panel_id(b): "online" for b in plan.buildings}}

    def fire_room() -> dict[str, str] | None:
        try:
            found = {d["id"]: d["state"] for kind in ("fire_transmission_device", "fire_panel")
                     for d in httpx.get(url, params={"kind": kind}, headers=headers,
                                        timeout=5).json() if d["id"] in wanted}
        except httpx.HTTPError:
            return None
        return found if found == wanted else None

    wait_until(fire_room, "the GB 26875 device and its three panels online", timeout=60)


def _scrape(url: str) -> str | None:
    try:
        r = httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None
    return r.text if r.status_code == 200 else None


def test_a_child_that_dies_stops_the_demo_which_says_why(e2e_root: Path) -> None:
    """The gateway killed while the demo runs: the demo names it, shows its last lines and
    stops everything else, exiting 1."""
    state = e2e_root / "demo"
    demo = subprocess.Popen([sys.executable, "-m", "scg.cli", "demo", "--state-dir",
                             str(state), "--api-port", str(free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(demo.stdout or []), daemon=True)
    reader.start()
    try:
        wait_until(lambda: any("scg demo is running" in line for line in lines),
                   "the demo to be up", timeout=120)
        # Up means the gateway's uplink is connected (the demo waited for it).
        assert "uplink connected" in (state / "logs" / "gateway.log").read_text()
        started = descendants(demo.pid)
        gateway = [pid for pid in started
                   if b"gateway\0run" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(gateway) == 1, gateway
        os.kill(gateway[0], signal.SIGKILL)
        assert demo.wait(timeout=60) == 1
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGINT)
            demo.wait(timeout=60)
        reader.join(10)
    out = "".join(lines)
    assert f"scg demo: gateway exited with code -9; its last lines ({state}/logs/gateway.log)" \
        in out, out[-3000:]
    assert "gateway.uplink: uplink connected" in out.split("its last lines")[1]
    assert "every process it started has stopped" in out
    assert [pid for pid in started if alive(pid)] == []
