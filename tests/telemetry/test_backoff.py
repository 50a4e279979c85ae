"""Reconnect and restart delays: doubling from a floor to a ceiling, reset, bounded jitter."""

from __future__ import annotations

import pytest

from telemetry.backoff import Backoff


def test_delays_double_up_to_the_ceiling_and_start_over_after_reset() -> None:
    backoff = Backoff(0.5, 30)
    assert [backoff.next() for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    backoff.reset()
    assert backoff.next() == 0.5


def test_jitter_only_shortens_a_delay_by_at_most_its_fraction() -> None:
    backoff = Backoff(10, 10, jitter=0.2)
    delays = [backoff.next() for _ in range(200)]
    assert all(8 <= d <= 10 for d in delays)
    assert len(set(delays)) > 1


@pytest.mark.parametrize(("first", "ceiling", "jitter"), [(0, 1, 0), (2, 1, 0), (1, 2, 1.0)])
def test_nonsense_settings_are_refused(first: float, ceiling: float, jitter: float) -> None:
    with pytest.raises(ValueError, match="backoff"):
        Backoff(first, ceiling, jitter=jitter)
