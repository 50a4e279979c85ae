"""`scg sim modbus` runs a described set of devices until SIGTERM; `--example` prints a
description to start from; a bad description is refused with the key."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from pymodbus.client import AsyncModbusTcpClient

RUN = ("import argparse, sys, logging; import simulators.cli as c; "
       "p = argparse.ArgumentParser(prog='scg'); c.register(p.add_subparsers()); "
       "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN, "sim", "modbus", *args],
                          capture_output=True, text=True, timeout=30, check=False)


def test_example_is_printed() -> None:
    done = run("--example")
    assert done.returncode == 0
    assert "ebike_charger_10p" in done.stdout and "power_off: 5s" in done.stdout


def test_a_bad_description_is_refused_with_the_key(tmp_path: Path) -> None:
    path = tmp_path / "farm.yaml"
    path.write_text("endpoints: {gw: {type: serial, units: {}}}\n", encoding="utf-8")
    done = run("--config", str(path))
    assert done.returncode == 2
    assert f"scg sim modbus: {path}: endpoints.gw.type: must be tcp, rtu_over_tcp or rtu, " \
           "got 'serial'" in done.stderr


async def test_devices_answer_until_sigterm(tmp_path: Path) -> None:
    path = tmp_path / "farm.yaml"
    path.write_text("endpoints:\n  gw: {type: tcp, port: 0, units: {1: {model: "
                    "street_light_controller}}}\n", encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN, "sim", "modbus", "--config", str(path),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 10)).decode()
        assert line.startswith("gw: tcp 127.0.0.1:") and "1=street_light_controller" in line
        port = int(line.split(":")[2].split()[0])
        client = AsyncModbusTcpClient("127.0.0.1", port=port, timeout=1, retries=0)
        assert await client.connect()
        reply = await client.read_holding_registers(0, count=1, device_id=1)
        client.close()
        assert reply.registers == [100], "dimming level 100 %"
        proc.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(proc.communicate(), 10)
        assert proc.returncode == 0
        assert b"scg sim modbus: stopped" in out
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.mark.parametrize("argv", [[], ["--config"]])
def test_config_is_required(argv: list[str]) -> None:
    done = run(*argv)
    assert done.returncode == 2


async def test_the_ready_file_names_the_ports_bound_and_goes_away_on_stop(
        tmp_path: Path) -> None:
    path = tmp_path / "farm.yaml"
    path.write_text("endpoints:\n"
                    "  gw: {type: tcp, port: 0, units: {1: {model: street_light_controller}}}\n"
                    "  tgw: {type: rtu_over_tcp, port: 0, units: {2: {model: acrel_adw300}}}\n",
                    encoding="utf-8")
    ready = tmp_path / "ready.yaml"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN, "sim", "modbus", "--config", str(path),
        "--ready-file", str(ready), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        async with asyncio.timeout(15):
            while not ready.exists():
                assert proc.returncode is None, "the simulator exited before it was ready"
                await asyncio.sleep(0.05)
        endpoints = yaml.safe_load(ready.read_text())["endpoints"]
        assert set(endpoints) == {"gw", "tgw"}
        assert endpoints["tgw"]["type"] == "rtu_over_tcp"
        gw = endpoints["gw"]
        assert (gw["type"], gw["host"]) == ("tcp", "127.0.0.1") and gw["port"] > 0
        client = AsyncModbusTcpClient("127.0.0.1", port=gw["port"], timeout=1, retries=0)
        assert await client.connect()
        reply = await client.read_holding_registers(0, count=1, device_id=1)
        client.close()
        assert reply.registers == [100]
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.communicate(), 10)
        assert proc.returncode == 0
        assert not ready.exists(), "a ready file must not outlive its simulator"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
