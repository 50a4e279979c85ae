"""`scg demo` serves the lighting and video indicators to its admin, whose random password it
prints once; Ctrl-C leaves no process behind."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from demo_support import admin_headers, alive, descendants
from e2e_support import wait_until

from scg.localsvc.process import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_demo_serves_the_lighting_rate_and_stops_everything_on_ctrl_c(e2e_root: Path) -> None:
    port = free_port()
    state = e2e_root / "demo"
    demo = subprocess.Popen([sys.executable, "-m", "scg.cli", "demo", "--state-dir",
                             str(state), "--api-port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
        started = descendants(demo.pid)
        assert len(started) >= 7  # mosquitto, postgres, ingest, api, 2 simulators, gateway
    finally:
        demo.send_signal(signal.SIGINT)
        out, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, out
    assert "every process it started has stopped" in out
    password = (state / "admin-password").read_text().strip()
    assert out.count(password) == 1 and f"user admin, password {password}" in out
    assert [pid for pid in started if alive(pid)] == []
