"""The demo stack for the console's browser tests: `scg demo` started once for a test
module, the users of each role added with `scg user add` as an operator would, and
Playwright driving Debian's chromium (launched by path: nothing is downloaded), in
zh-CN and Beijing time, with every console message and page error of a page collected.

Screenshots go to tests/artifacts/ (ignored by git), one file per page, replaced each run.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from e2e_support import wait_until

from scg.localsvc.process import free_port

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "console browser test password"
#: user -> role; each county-wide, signed in through the sign-in form.
USERS = {"zhang.wei": "operator", "zhao.min": "auditor", "li.na": "viewer"}


def chromium_binary() -> str | None:
    """Debian's chromium: the browser itself rather than its shell launcher, else the
    launcher on PATH; None when it is not installed."""
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@dataclass
class Demo:
    """A running `scg demo`: its address, state folder, admin password and broker."""

    base: str
    state: Path
    admin_password: str
    broker: tuple[str, int]
    output: list[str] = field(default_factory=list)

    def devices_password(self) -> str:
        """The password of the broker's device account (the simulators' login)."""
        logins = json.loads((self.state / "broker" / "logins.json").read_text())
        return str(logins["devices"])

    def database_url(self) -> str:
        """The runtime role's address, as the demo's services use it."""
        pid = self.state / "pg" / "postmaster.pid"
        port = int(pid.read_text().splitlines()[3])
        password = (self.state / "db-app-password").read_text().strip()
        return f"postgresql://scg_app:{password}@127.0.0.1:{port}/scg"

    def add_user(self, name: str, role: str) -> None:
        done = subprocess.run([sys.executable, "-m", "scg.cli", "user", "add", name, "--role",
                               role, "--password-stdin"], input=PASSWORD + "\n", text=True,
                              capture_output=True, timeout=60,
                              env={**os.environ, "SCG_DATABASE_URL": self.database_url()})
        assert done.returncode == 0, (f"scg user add {name} exited {done.returncode}: "
                                      f"{done.stderr or done.stdout}")

    def get(self, path: str, user: str = "admin", **params: Any) -> httpx.Response:
        """GET `path` as `user`, with a bearer token."""
        password = self.admin_password if user == "admin" else PASSWORD
        token = httpx.post(f"{self.base}/api/auth/token", timeout=20,
                           data={"username": user, "password": password})
        token.raise_for_status()
        return httpx.get(f"{self.base}{path}", params=params, timeout=30, headers={
            "Authorization": f"Bearer {token.json()['access_token']}"})

    def api(self, path: str, user: str = "admin", **params: Any) -> Any:
        """The JSON of GET `path` as `user` (HTTPStatusError unless 200)."""
        r = self.get(path, user, **params)
        r.raise_for_status()
        return r.json()


@contextmanager
def running_demo() -> Iterator[Demo]:
    """`scg demo` on a fresh state folder, until its community has a snapshot; stopped
    with Ctrl-C (SIGINT) at the end, as a person stops it."""
    root = Path(tempfile.mkdtemp(prefix="scg-console-"))
    os.chmod(root, 0o755)   # PostgreSQL runs as `postgres` and must reach its folder
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "scg.cli", "demo", "--state-dir",
                             str(root / "demo"), "--api-port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        out = wait_until(lambda: "".join(lines) if "Ctrl-C stops" in "".join(lines)
                         else (proc.poll() is not None and ("".join(lines) or "exited")),
                         "scg demo to print that it runs", timeout=300)
        assert proc.poll() is None, out
        password = re.search(r"user admin, password (\S+)", out)
        broker = re.search(r"mosquitto\s+mqtt://([\d.]+):(\d+)", out)
        assert password and broker, out
        demo = Demo(f"http://127.0.0.1:{port}", root / "demo", password.group(1),
                    (broker.group(1), int(broker.group(2))), lines)
        wait_until(lambda: _snapshot_of_demo(demo), "the demo community's first snapshot",
                   timeout=120, interval=1)
        for name, role in USERS.items():
            demo.add_user(name, role)
        yield demo
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=30)
        reader.join(10)
        shutil.rmtree(root, ignore_errors=True)


def _snapshot_of_demo(demo: Demo) -> bool:
    try:
        body = demo.api("/api/overview")
    except httpx.HTTPError:
        return False
    found = [c for c in body["communities"] if c["id"] == "demo"]
    return bool(found and found[0]["indicators"])


@dataclass
class PageLog:
    """What a page said that it should not have: console errors and warnings, uncaught
    script errors, requests that failed and resources answered with an error status. A
    request aborted because the page moved on (a form sent, a download, the alarm stream
    left) is not a failure."""

    problems: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(
            f"request failed: {r.url} ({r.failure})")
            if "ERR_ABORTED" not in (r.failure or "") else None)
        page.on("response", lambda r: self.problems.append(
            f"{r.status} for {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None)


def sign_in(page: Any, base: str, user: str, password: str) -> None:
    """Through the front door: / leads to the sign-in form, which leads to the overview."""
    page.goto(f"{base}/")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{base}/overview")


def shot(page: Any, name: str) -> Path:
    """A whole-page screenshot in tests/artifacts/console-NAME.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"console-{name}.png"
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def overview_row(page: Any) -> dict[str, Any]:
    """The demo rows of the overview as the page shows them (data-* attributes): the
    summary's and the indicator table's."""
    return page.evaluate("""() => {
      const row = document.querySelector('#community-demo');
      const cells = {};
      document.querySelectorAll('#indicators-demo td[data-indicator][data-status]')
        .forEach(td => {
        cells[td.dataset.indicator] = [td.dataset.numerator, td.dataset.denominator,
                                       td.dataset.status]; });
      const states = {};
      row.querySelectorAll('td[data-state]').forEach(td => {
        states[td.dataset.state] = Number(td.innerText.trim()); });
      const verdicts = {};
      row.querySelectorAll('td[data-tier]').forEach(td => {
        verdicts[td.dataset.tier] = td.dataset.verdict; });
      return {cells, states, verdicts};
    }""")


def api_row(demo: Demo) -> dict[str, Any]:
    """The same figures from GET /api/overview (statuses on the growth tier, which the
    page judges by default)."""
    [c] = [c for c in demo.api("/api/overview")["communities"] if c["id"] == "demo"]
    by_state = (c["devices"] or {}).get("by_state", {})
    return {"cells": {f["id"]: [str(f["numerator"]), str(f["denominator"]),
                                f["status"]["growth"]] for f in c["indicators"]},
            "states": {s: by_state.get(s, 0)
                       for s in ("online", "degraded", "offline", "unknown")},
            "verdicts": {t: (c["tiers"] or {}).get(t, {}).get("verdict", "")
                         for t in ("basic", "growth")}}


def listed_ids(page: Any) -> list[str]:
    """Every device id of the filtered table, page after page."""
    ids: list[str] = []
    while True:
        ids += page.eval_on_selector_all("#devices tbody tr[data-device]",
                                         "rows => rows.map(r => r.dataset.device)")
        if page.query_selector("#next-page") is None:
            return ids
        page.click("#next-page")
        page.wait_for_load_state("load")


def control(demo: Demo, action: str, device: str, **args: Any) -> None:
    """Make something happen in the demo's safety fleet, over its control topic."""
    from simulators.safety.actions import send_control

    # On a thread of its own: Playwright's synchronous API keeps an event loop on this one.
    failed: list[BaseException] = []

    def send() -> None:
        try:
            asyncio.run(send_control(*demo.broker, [{"action": action, "device": device,
                                                     "args": args}],
                                     username="devices", password=demo.devices_password()))
        except BaseException as exc:  # handed to the test below
            failed.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    sender.join(30)
    if failed:
        raise failed[0]


def new_row(page: Any, kind: str, before: list[str], timeout_ms: float) -> str:
    """The id of the first alarm row of type `kind` not among `before`, once it shows."""
    handle = page.wait_for_function(
        """([kind, before]) => {
             const rows = document.querySelectorAll(
               '#open-alarms tbody tr[data-type="' + kind + '"]');
             for (const r of rows) { if (!before.includes(r.dataset.alarm)) {
               return r.dataset.alarm; } }
             return null; }""", arg=[kind, before], timeout=timeout_ms)
    return str(handle.json_value())


def post_from_page(page: Any, path: str, token: str | None) -> int:
    """A POST the page's own script could forge (same origin, its session cookie)."""
    return int(page.evaluate("""async ([path, token]) => {
        const body = new URLSearchParams({note: "forged"});
        if (token !== null) { body.set("csrf_token", token); }
        const r = await fetch(path, {method: "POST", body, redirect: "manual"});
        return r.status; }""", [path, token]))
