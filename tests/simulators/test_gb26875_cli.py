"""`scg sim gb26875` dials a centre and reports until SIGTERM, is steered with
`scg sim gb26875-control`, and refuses a bad config naming it."""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import simulators.gb26875
from drivers.gb26875 import Frame, FrameReader, decode_unit
from simulators.cli import register

RUN = ("import argparse, sys; import simulators.cli as c; "
       "p = argparse.ArgumentParser(prog='scg'); c.register(p.add_subparsers()); "
       "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")
LABEL = bytes([1, 2, 3, 4, 5, 26])
DEMO_SITE = Path(simulators.gb26875.__file__).parent / "demo_site.yaml"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scg")
    register(p.add_subparsers())
    return p


def test_help_explains_the_device_and_its_actions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["sim", "gb26875", "--help"])
    out = capsys.readouterr().out
    for text in ("--centre HOST:PORT", "--config FILE", "--story FILE", "用户信息传输装置",
                 "resent until the centre confirms it", "--ready-file FILE"):
        assert text in out
    with pytest.raises(SystemExit):
        parser().parse_args(["sim", "gb26875-control", "--help"])
    out = capsys.readouterr().out
    assert "fire          panel=VALUE loop=VALUE point=VALUE [active=VALUE]" in out
    assert "reset         panel=VALUE [operator=VALUE]" in out


def test_a_bad_config_stops_the_command_with_its_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "site.yaml"
    config.write_text("address: 1\npanels: [{address: 1, loop: 2}]\n")
    args = parser().parse_args(["sim", "gb26875", "--centre", "127.0.0.1:5200",
                                "--config", str(config)])
    assert args.func(args) == 2
    assert f"config {config}: panels[0]: unknown key(s) loop" in capsys.readouterr().err


def test_control_refuses_a_bad_argument_before_sending(
        capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["sim", "gb26875-control", "--control", "127.0.0.1:1",
                                "fire", "panel=2", "loop=x", "point=1"])
    assert args.func(args) == 2
    assert "argument loop of fire: expected a whole number" in capsys.readouterr().err


async def test_the_command_reports_to_a_centre_and_takes_control_actions(
        tmp_path: Path) -> None:
    frames: list[Frame] = []
    reported = asyncio.Event()

    async def confirm_all(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cut = FrameReader()
        while chunk := await reader.read(4096):
            for frame in cut.feed(chunk):
                assert isinstance(frame, Frame)
                frames.append(frame)
                if frame.data[:1] == b"\x02":
                    reported.set()
                writer.write(frame.reply(3, source=0, time=LABEL).encode())

    server = await asyncio.start_server(confirm_all, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    ready = tmp_path / "ready.yaml"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN, "sim", "gb26875", "--centre", f"127.0.0.1:{port}",
        "--config", str(DEMO_SITE), "--ready-file", str(ready),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(10):
            line = (await proc.stdout.readline()).decode()
        assert line.startswith("scg sim gb26875: transmission device 100000000001 with 3 "
                               "panels and 120 detectors -> tcp://127.0.0.1:"), line
        for _ in range(250):
            if ready.exists():
                break
            await asyncio.sleep(0.02)
        control = yaml.safe_load(ready.read_text())
        args = parser().parse_args(["sim", "gb26875-control", "--control",
                                    f"{control['host']}:{control['port']}", "fire",
                                    "panel=2", "loop=1", "point=1"])
        assert await asyncio.to_thread(args.func, args) == 0
        await asyncio.wait_for(reported.wait(), 10)
        report = next(f for f in frames if f.data[:1] == b"\x02")
        assert decode_unit(report.data, 2).objects[0]["description"] == "B栋1层电梯前室"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 15)
        server.close()
    assert proc.returncode == 0, err.decode()
    assert "stopped; " in out.decode() and "reports still unconfirmed" in out.decode()
    assert not ready.exists(), "removed on stop"
