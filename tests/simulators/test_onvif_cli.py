"""`scg sim cameras` runs a camera farm until SIGTERM, prints and lists the camera URLs, and
applies a fault file."""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from onvif import ONVIFCamera

from simulators.cli import register

# The simulators' CLI alone, without the rest of `scg` (other packages register theirs).
RUN = ("import argparse, sys; import simulators.cli as c; "
       "p = argparse.ArgumentParser(prog='scg'); c.register(p.add_subparsers()); "
       "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="scg")
    register(p.add_subparsers())
    return p


def test_help_explains_the_farm(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(["sim", "cameras", "--help"])
    out = capsys.readouterr().out
    for text in ("/onvif/device_service", "--base-port P", "--list-file OUT.yaml",
                 "clock_skew", "WS-Discovery", "--faults FILE"):
        assert text in out


def test_a_bad_fault_file_stops_the_command_with_its_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("- {camera: cam-001, fault: fog}\n")
    args = parser().parse_args(["sim", "cameras", "--faults", str(faults)])
    assert args.func(args) == 2
    err = capsys.readouterr().err
    assert f"camera fault file {faults}: entry 0: unknown fault 'fog'" in err


async def test_cli_farm_serves_lists_applies_faults_and_stops_on_sigterm(tmp_path: Path) -> None:
    faults = tmp_path / "faults.yaml"
    faults.write_text("- {camera: cam-002, fault: unreachable}\n")
    listing = tmp_path / "cameras.yaml"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RUN, "sim", "cameras", "--count", "3", "--base-port", "0",
        "--discovery-port", "0", "--password", "pw", "--faults", str(faults),
        "--list-file", str(listing), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        printed: dict[str, str] = {}
        async with asyncio.timeout(15):
            while True:
                line = (await proc.stdout.readline()).decode()
                assert line, (await proc.stderr.read()).decode()
                if line.startswith("scg sim cameras: 3 cameras up"):
                    assert "WS-Discovery on udp://127.0.0.1:" in line
                    break
                cam_id, url = line.split()
                printed[cam_id] = url
        assert list(printed) == ["cam-001", "cam-002", "cam-003"]
        assert yaml.safe_load(listing.read_text()) == printed

        port = int(printed["cam-003"].split(":")[2].split("/")[0])
        cam = ONVIFCamera("127.0.0.1", port, "admin", "pw", adjust_time=True)
        try:
            await cam.update_xaddrs()
            info = await (await cam.create_devicemgmt_service()).GetDeviceInformation()
            assert info.Manufacturer == "SimCam"
        finally:
            await cam.close()
        async with httpx.AsyncClient() as http:
            with pytest.raises(httpx.ConnectError):
                await http.post(printed["cam-002"], content=b"<x/>")
    finally:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert "scg sim cameras: stopped" in out.decode()
    assert not listing.exists(), "the list is removed on stop: it says who listens now"
