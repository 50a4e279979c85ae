"""A child's output goes through its parent into a bounded set of files, and readiness
waits see only what this run printed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scg.localsvc.childlog import ChildLog


def test_a_previous_runs_line_does_not_satisfy_a_wait(tmp_path: Path) -> None:
    path = tmp_path / "ingest.log"
    path.write_text("... subscribed to scg/v1/+/+/+ (an earlier run)\n")
    log = ChildLog(path)
    with pytest.raises(TimeoutError, match="subscribed"):
        log.wait_for("subscribed", timeout=0.3)
    log.add(b"INFO ingest: subscribed to scg/v1/+/+/+\n")
    end = log.wait_for("subscribed", timeout=1)
    assert end == log.written
    with pytest.raises(TimeoutError):
        log.wait_for("subscribed", timeout=0.2, after=end)
    log.close()
    assert path.read_text().count("subscribed") == 2, "the old line is kept in the file"


def test_the_file_rotates_at_its_cap_and_keeps_a_bounded_number_of_old_files(
        tmp_path: Path) -> None:
    path = tmp_path / "sim.log"
    log = ChildLog(path, max_bytes=4096, backups=2)
    line = b"x" * 99 + b"\n"
    for _ in range(200):  # 20 000 bytes: about five files' worth
        log.add(line)
    log.close()
    files = log.files()
    assert [p.name for p in files] == ["sim.log", "sim.log.1", "sim.log.2"]
    assert all(p.stat().st_size <= 4096 for p in files)
    assert all(p.read_bytes().endswith(b"\n") for p in files), "no line is cut"
    assert log.rotations >= 4


def test_a_childs_output_and_traceback_are_copied_and_a_wait_fails_when_it_exits(
        tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "print('starting', flush=True); 1/0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    log = ChildLog(tmp_path / "child.log")
    log.follow(proc.stdout, "child")
    with pytest.raises(EOFError, match="ready"):
        log.wait_for("ready", timeout=10)
    proc.wait(10)
    log.close()
    text = (tmp_path / "child.log").read_text()
    assert "starting" in text and "ZeroDivisionError" in text
    assert "ZeroDivisionError" in log.tail()
