"""`scg gateway check` and `scg gateway run`: summaries, exit codes, errors without tracebacks."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from gateway_support import FakeDriver, config_dict, write_config

from gateway.cli import register


def scg_gateway(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="scg")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["gateway", *argv])
    return int(args.func(args))


def test_check_prints_a_one_line_summary_per_driver(
        tmp_path: Path, fake_driver: type[FakeDriver], capsys: pytest.CaptureFixture[str]) -> None:
    doc = config_dict(devices=3, drivers={"fake": {}, "fake2": {}})
    doc["devices"][2]["driver"] = "fake2"
    path = write_config(tmp_path, doc)
    assert scg_gateway("check", "--config", str(path)) == 0
    out, err = capsys.readouterr()
    assert out == (f"{path}: ok - gateway gw1 of community demo, 3 devices (fake: 2, fake2: 1), "
                   f"uplink 127.0.0.1:1883, spool {tmp_path.absolute() / 'spool.sqlite'}\n")
    assert err == ""


def test_check_lists_every_problem_and_exits_2_without_a_traceback(
        tmp_path: Path, fake_driver: type[FakeDriver], capsys: pytest.CaptureFixture[str]) -> None:
    doc = config_dict(devices=2)
    doc["devices"][0]["period"] = "soon"
    doc["devices"][1]["driver"] = "nope"
    path = write_config(tmp_path, doc)
    assert scg_gateway("check", "--config", str(path)) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"gateway config {path}: 2 problems to fix\n")
    assert "devices[0].period: `period` must be a duration" in err
    assert "devices[1].driver: there is no driver 'nope'" in err
    assert "Traceback" not in err


def test_check_reports_what_a_driver_refuses(
        tmp_path: Path, fake_driver: type[FakeDriver], capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, config_dict(drivers={"fake": {"bad": True}}))
    assert scg_gateway("check", "--config", str(path)) == 2
    assert "drivers.fake: unknown setting(s) bad for the fake driver" in capsys.readouterr().err


def test_run_with_an_invalid_config_exits_2_and_says_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert scg_gateway("run", "--config", str(tmp_path / "absent.yaml")) == 2
    _, err = capsys.readouterr()
    assert f"gateway config {tmp_path / 'absent.yaml'}: 1 problem to fix" in err
    assert "cannot read the file: No such file or directory" in err
