"""Every reading the simulators sent is stored exactly once, whatever dies on the way."""

from __future__ import annotations

import signal

import pytest
from e2e_support import Community, FleetThread, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

METRICS_PER_STATUS = 4  # on, dim_pct, power_w, energy_kwh


def assert_exactly_once(c: Community, fleet: FleetThread) -> None:
    sent = fleet.stop()
    expected = METRICS_PER_STATUS * sum(sent.values())
    wait_until(lambda: c.light_readings() == expected,
               f"{expected} light readings in the database", timeout=60)
    per_device = dict(c.rows("SELECT device, count(*) FROM readings WHERE device LIKE 'light-%' "
                             "GROUP BY device"))
    assert {d: int(n) for d, n in per_device.items()} == {
        d: METRICS_PER_STATUS * n for d, n in sent.items() if n}
    distinct = c.scalar("SELECT count(*) FROM (SELECT DISTINCT device, metric, time "
                        "FROM readings WHERE device LIKE 'light-%') AS d")
    assert distinct == expected, "some reading was stored twice"


def test_ingest_killed_mid_stream_loses_and_duplicates_nothing(busy_lights: Community) -> None:
    c = busy_lights
    fleet = c.fleet()
    wait_until(lambda: c.light_readings() > 800, "readings flowing into the database")
    c.stack.stop("ingest", signal.SIGKILL)
    down_at = fleet.total_sent()
    wait_until(lambda: fleet.total_sent() > down_at + 400, "400 more status messages sent "
               "while ingest is dead")
    c.start_ingest()
    stored_again = c.light_readings()
    wait_until(lambda: c.light_readings() > stored_again, "ingest storing again")
    assert_exactly_once(c, fleet)
    assert c.scalar("SELECT count(*) FROM dead_letters") == 0


def test_central_broker_restart_loses_and_duplicates_nothing(busy_lights: Community) -> None:
    c = busy_lights
    fleet = c.fleet()
    wait_until(lambda: c.light_readings() > 800, "readings flowing into the database")
    c.stack.broker.stop()
    down_at = fleet.total_sent()
    wait_until(lambda: fleet.total_sent() > down_at + 400, "400 more status messages sent "
               "while the central broker is down")
    c.stack.broker.start()
    assert_exactly_once(c, fleet)
    assert c.scalar("SELECT count(*) FROM dead_letters") == 0
