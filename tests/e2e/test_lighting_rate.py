"""The smart-lighting rate follows the devices through gateway, broker, ingest and API."""

from __future__ import annotations

import pytest
from e2e_support import Community, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_rate_is_80_of_100_then_75_when_five_controllers_fall_silent(
        hundred_lights: Community) -> None:
    c = hundred_lights
    fleet = c.fleet()
    try:
        rate = wait_until(lambda: (r := c.indicator("smart_lighting_rate"))["numerator"] == 80
                          and r, "80 lights counted as smart")
        assert (rate["numerator"], rate["denominator"], rate["value"]) == (80, 100, 80.0)
        assert rate["status"] == {"basic": "not_required", "growth": "pass"}
        assert rate["thresholds"] == {"basic": None, "growth": 80.0}
        controlled = c.scenario.controlled_lights
        assert sorted(rate["devices"]["numerator"]) == controlled
        assert sorted(rate["devices"]["denominator"]) == c.scenario.all_lights
        assert sorted(rate["breakdown"]["plain"]) == c.scenario.all_lights[80:]

        silenced = ["light-003", "light-017", "light-040", "light-066", "light-080"]
        fleet.call(fleet.fleet.silence, silenced)
        rate = wait_until(lambda: (r := c.indicator("smart_lighting_rate"))["numerator"] == 75
                          and r, "the 5 silenced lights to drop out")
        assert (rate["numerator"], rate["denominator"], rate["value"]) == (75, 100, 75.0)
        assert rate["status"]["growth"] == "fail"
        assert sorted(rate["devices"]["numerator"]) == sorted(set(controlled) - set(silenced))
        assert sorted(rate["breakdown"]["silent"]) == silenced

        offline = c.get("/api/communities/e2e/devices", kind="light", state="offline")
        assert sorted(d["id"] for d in offline) == silenced
        assert all("no answer" in d["reason"] for d in offline)
    finally:
        fleet.stop()
