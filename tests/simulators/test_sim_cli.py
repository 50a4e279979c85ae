"""`scg sim lights` runs a fleet until SIGTERM; `scg sim lights-control` steers it."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

import aiomqtt
import pytest
from broker_support import login_args, login_env

from scg.localsvc import Mosquitto
from simulators.cli import register

# The simulators' CLI alone, without the rest of `scg` (other packages register theirs).
RUN = ("import argparse, sys, logging; import simulators.cli as c; "
       "p = argparse.ArgumentParser(prog='scg'); c.register(p.add_subparsers()); "
       "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scg")
    register(p.add_subparsers())
    return p


def test_help_explains_the_fleet(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["sim", "lights", "--help"])
    out = capsys.readouterr().out
    assert "PREFIX/ID/status" in out and "--faults FILE" in out and "light-{n:03d}" in out


def test_bad_broker_address_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["sim", "lights", "--broker", "localhost"])
    assert "'localhost' is not HOST:PORT" in capsys.readouterr().err


def test_an_unreadable_password_file_is_named(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["sim", "lights", "--broker", "127.0.0.1:1", "--username",
                                "devices", "--password-file", str(tmp_path / "missing")])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert f"--password-file {tmp_path / 'missing'}: cannot be read" in err


@pytest.mark.integration
async def test_cli_fleet_publishes_obeys_control_and_stops_on_sigterm(
        broker: Mosquitto, tmp_path: Path) -> None:
    heard: dict[str, list[dict[str, object]]] = {}
    addr = f"{broker.host}:{broker.port}"
    password_file = tmp_path / "devices.password"
    password_file.write_text(broker.login("devices").password + "\n")
    async with aiomqtt.Client(broker.host, broker.port, **login_args(broker)) as client:
        await client.subscribe("scg-sim/cli-lights/+/status", qos=1)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", RUN, "sim", "lights", "--broker", addr, "--count", "3",
            "--start", "201", "--period", "0.2", "--prefix", "scg-sim/cli-lights",
            "--username", "devices", "--password-file", str(password_file),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            async with asyncio.timeout(10):
                async for m in client.messages:
                    assert isinstance(m.payload, bytes)
                    heard.setdefault(str(m.topic).split("/")[-2], []).append(
                        json.loads(m.payload))
                    if len(heard) == 3:
                        break
            ctl = await asyncio.create_subprocess_exec(
                sys.executable, "-c", RUN, "sim", "lights-control", "--broker", addr,
                "--prefix", "scg-sim/cli-lights", "--fault", "light-202", "relay", "on",
                stdout=subprocess.PIPE, env=login_env(broker))
            assert await ctl.wait() == 0
            async with asyncio.timeout(10):
                async for m in client.messages:
                    assert isinstance(m.payload, bytes)
                    doc = json.loads(m.payload)
                    if str(m.topic).endswith("/light-202/status") and doc["faults"]["relay"]:
                        break
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert sorted(heard) == ["light-201", "light-202", "light-203"]
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert "3 controllers light-201 … light-203" in text
    assert "stopped;" in text and "status messages acknowledged" in text
