"""A problem that repeats is logged when it starts, counted, reminded of, and closed with
its count — whether our code says it (ConditionLog) or a library does (RepeatFilter)."""

from __future__ import annotations

import logging

import pytest

from telemetry.repeats import ConditionLog, RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def messages(caplog: pytest.LogCaptureFixture, name: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == name]


def test_a_condition_is_logged_once_reminded_with_its_count_and_closed(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="t.cond")
    clock = Clock()
    conditions = ConditionLog(logging.getLogger("t.cond"), remind_every=600, clock=clock)
    assert conditions.cleared("link", "link back") is False, "nothing to clear yet"
    for _ in range(300):  # every 2 s for 10 minutes
        conditions.problem("link", logging.WARNING, "link %s down", "gw1")
        clock.now += 2
    assert conditions.count("link") == 300
    conditions.problem("link", logging.WARNING, "link %s down", "gw1")
    clock.now += 30
    assert conditions.cleared("link", "link %s back", "gw1")
    assert messages(caplog, "t.cond") == [
        "link gw1 down",
        "link gw1 down (still; 301 times in 10 min)",
        "link gw1 back (after 301 failures over 10 min)",
    ]
    assert not conditions.active("link")


def test_different_conditions_are_counted_apart(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="t.keys")
    conditions = ConditionLog(logging.getLogger("t.keys"), clock=Clock())
    for key in ("a", "b", "a", "b", "a"):
        conditions.problem(key, logging.WARNING, "%s failed", key)
    assert messages(caplog, "t.keys") == ["a failed", "b failed"]
    assert (conditions.count("a"), conditions.count("b")) == (3, 2)


def test_a_librarys_repeated_line_is_let_through_once_per_period_with_the_count(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="t.lib")
    clock = Clock()
    logger = logging.getLogger("t.lib")
    repeats = RepeatFilter(remind_every=60, clock=clock)
    logger.addFilter(repeats)
    try:
        for _ in range(100):
            logger.error("Datastore unable to fulfill request: %s", "boom")
            clock.now += 1
        logger.warning("something else")
    finally:
        logger.removeFilter(repeats)
    assert messages(caplog, "t.lib") == [
        "Datastore unable to fulfill request: boom",
        "Datastore unable to fulfill request: boom (and 59 more like this in the last "
        "60 s, not logged)",
        "something else",
    ]
