"""Cameras whose snapshot asks for HTTP Basic, as many are set up: the challenge, the
check, a scheme switched at run time, and how a farm is told (spec, fault file, CLI)."""

from __future__ import annotations

import argparse
from pathlib import Path

import httpx
import pytest

from simulators.cli import register
from simulators.onvif import CameraFarm, CameraSpec, Fault, FaultEntry, load_faults, make_cameras


async def test_a_basic_camera_challenges_with_basic_and_checks_the_password() -> None:
    async with CameraFarm([CameraSpec("cam-001", snapshot_auth="basic")]) as farm:
        url = farm.camera("cam-001").snapshot_url("Profile_1")
        async with httpx.AsyncClient() as http:
            bare = await http.get(url)
            assert bare.status_code == 401
            assert bare.headers["www-authenticate"] == 'Basic realm="SimCam cam-001", ' \
                                                       'charset="UTF-8"'
            wrong = await http.get(url, auth=httpx.BasicAuth("admin", "nope"))
            assert wrong.status_code == 401
            assert b"wrong user name or password for user 'admin'" in wrong.content
            digest = await http.get(url, auth=httpx.DigestAuth("admin", "admin123"))
            assert digest.status_code == 401  # Basic was asked for; Digest is not answered
            good = await http.get(url, auth=httpx.BasicAuth("admin", "admin123"))
            assert good.status_code == 200 and good.content[:3] == b"\xff\xd8\xff"
            farm.set_fault("cam-001", Fault.WRONG_PASSWORD)
            assert (await http.get(url, auth=httpx.BasicAuth("admin", "admin123"))) \
                .status_code == 401
            farm.clear_faults("cam-001")
            # Switched at run time, as when someone changes the camera's web settings.
            farm.set_fault("cam-001", Fault.SNAPSHOT_AUTH, "digest")
            assert (await http.get(url, auth=httpx.BasicAuth("admin", "admin123"))) \
                .status_code == 401
            assert (await http.get(url, auth=httpx.DigestAuth("admin", "admin123"))) \
                .status_code == 200
        # bare, wrong, digest, changed password, basic to digest, the digest challenge
        assert farm.camera("cam-001").snapshot_refusals == 6


def test_the_scheme_is_set_by_spec_fault_file_and_command_line(tmp_path: Path) -> None:
    assert CameraSpec("cam-001").snapshot_auth == "digest"
    assert {c.snapshot_auth for c in make_cameras(3, snapshot_auth="basic")} == {"basic"}
    with pytest.raises(ValueError, match="camera cam-001: snapshot_auth is digest or basic, "
                                         "got 'ntlm'"):
        CameraSpec("cam-001", snapshot_auth="ntlm")
    faults = tmp_path / "faults.yaml"
    faults.write_text("- {camera: cam-002, fault: snapshot_auth, value: basic, at: 60}\n")
    assert load_faults(faults) == [FaultEntry("cam-002", Fault.SNAPSHOT_AUTH, "basic", 60.0)]
    faults.write_text("- {camera: cam-002, fault: snapshot_auth}\n")
    with pytest.raises(ValueError, match="entry 0: snapshot_auth is digest or basic, got True"):
        load_faults(faults)
    parser = argparse.ArgumentParser(prog="scg")
    register(parser.add_subparsers())
    assert parser.parse_args(["sim", "cameras", "--snapshot-auth", "basic"]).snapshot_auth \
        == "basic"
    assert parser.parse_args(["sim", "cameras"]).snapshot_auth == "digest"
    with pytest.raises(SystemExit):
        parser.parse_args(["sim", "cameras", "--snapshot-auth", "ntlm"])
