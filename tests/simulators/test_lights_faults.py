"""Fault schedules: validated files, reproducible random ones, merged overlapping windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.lights import FaultTimeline, FaultWindow, load_faults, random_faults


def test_schedule_file_loads_windows(tmp_path: Path) -> None:
    f = tmp_path / "faults.yaml"
    f.write_text("- {light: light-007, flag: lamp, at: 20, duration: 60}\n"
                 "- {light: light-051, flag: relay, at: 10}\n")
    assert load_faults(f) == [FaultWindow("light-007", "lamp", 20.0, 60.0),
                              FaultWindow("light-051", "relay", 10.0, None)]


@pytest.mark.parametrize(("text", "message"), [
    ("- {light: light-1, flag: bulb, at: 1}", r"entry 0: 'flag' must be one of lamp, gear, "
                                              r"relay, got 'bulb'"),
    ("- {light: light-1, flag: lamp, at: -5}", r"entry 0: 'at' must be a number of seconds"),
    ("- {light: light-1, flag: lamp, at: 1, durtion: 5}", r"unknown key\(s\) \['durtion'\]"),
    ("light: light-1", r"must be a list"),
])
def test_bad_schedule_file_names_the_file_the_entry_and_the_rule(
        tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "faults.yaml"
    f.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        load_faults(f)
    assert str(f) in str(info.value)


def test_random_schedule_repeats_with_the_same_seed() -> None:
    ids = ["light-001", "light-002"]
    a = random_faults(ids, seed=3, rate_per_hour=2, horizon=36_000)
    assert a == random_faults(ids, seed=3, rate_per_hour=2, horizon=36_000)
    assert a != random_faults(ids, seed=4, rate_per_hour=2, horizon=36_000)
    # ~2 per light per hour over 10 hours
    assert 15 <= len(a) <= 70
    assert {w.light for w in a} == set(ids)


def test_overlapping_windows_merge_into_one_raise_and_one_clear() -> None:
    timeline = FaultTimeline([FaultWindow("l", "lamp", 10, 20),     # 10..30
                              FaultWindow("l", "lamp", 20, 20),     # 20..40
                              FaultWindow("l", "gear", 5, 1)])      # 5..6
    assert timeline.edges == [(5, "gear", True), (6, "gear", False),
                              (10, "lamp", True), (40, "lamp", False)]
    assert timeline.due(9) == [("gear", True), ("gear", False)]
    assert timeline.due(9) == []
    assert timeline.due(100) == [("lamp", True), ("lamp", False)]
