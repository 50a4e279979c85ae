"""`scg sim dlt645` serves meters behind a TCP gateway (and a pty) until SIGTERM, applies a
fault file, and refuses a bad one naming it."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from drivers.dlt645.codec import (
    STANDARD,
    decode_frame,
    decode_values,
    frame_extent,
    parse_read_reply,
    read_request,
)
from simulators.cli import register

RUN = ("import argparse, sys; import simulators.cli as c; "
       "p = argparse.ArgumentParser(prog='scg'); c.register(p.add_subparsers()); "
       "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")
ENERGY = 0x00010000


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scg")
    register(p.add_subparsers())
    return p


def test_help_explains_the_meters(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["sim", "dlt645", "--help"])
    out = capsys.readouterr().out
    for text in ("--meters N", "--port P", "--faults FILE", "--serial-link PATH",
                 "transparent", "00010000", "wrong_address", "2400 8E1"):
        assert text in out


def test_a_bad_fault_file_stops_the_command_with_its_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("- {meter: 000000000001, fault: silent}\n")
    args = parser().parse_args(["sim", "dlt645", "--faults", str(faults)])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert f"meter fault file {faults}: entry 0: 'meter' must be a 12-digit" in err


async def read_energy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      address: str) -> bytes:
    writer.write(read_request(address, ENERGY))
    buf = b""
    async with asyncio.timeout(5):
        while (size := frame_extent(buf)) is None or len(buf) < size:
            buf += await reader.read(100)
    return buf


async def test_cli_serves_meters_applies_faults_and_stops_on_sigterm(tmp_path: Path) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text('- {meter: "000000000102", fault: silent}\n')
    serial_args = []
    if shutil.which("socat"):
        serial_args = ["--serial-link", str(tmp_path / "rs485")]
    ready = tmp_path / "ready.yaml"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN, "sim", "dlt645", "--meters", "3", "--port", "0",
        "--first-address", "000000000101", "--faults", str(faults), *serial_args,
        "--ready-file", str(ready), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(10):
            line = (await proc.stdout.readline()).decode()
        assert line.startswith("scg sim dlt645: 3 meters 000000000101 … 000000000103 behind "
                               "tcp://127.0.0.1:"), line
        assert "1 scheduled faults" in line
        port = int(line.split("tcp://127.0.0.1:")[1].split()[0].rstrip(";"))
        for _ in range(250):  # the file is written right after the line: 5 s at most
            if ready.exists():
                break
            await asyncio.sleep(0.02)
        assert yaml.safe_load(ready.read_text()) == {"host": "127.0.0.1", "port": port}
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        raw = await read_energy(reader, writer, "000000000101")
        frame = decode_frame(raw)
        value = decode_values(parse_read_reply(frame, address="000000000101", di=ENERGY),
                              STANDARD[ENERGY].format)
        assert value[0] >= 1000
        # The bus takes one request at a time: had the silent meter answered, its reply
        # would come before the next meter's.
        writer.write(read_request("000000000102", ENERGY))
        assert decode_frame(await read_energy(reader, writer, "000000000103")).address == \
            "000000000103"
        writer.close()
        if serial_args:
            assert "and on serial" in line and (tmp_path / "rs485").exists()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0, err.decode()
    assert "stopped; 3 requests heard, 2 replies sent" in out.decode()
    assert not ready.exists(), "removed on stop"
