"""A simulated controller meters energy, reports unique times and obeys commands."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime

import pytest

from simulators.lights import Light, LightSpec, make_lights, parse_command

T0 = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)


def light(**spec: object) -> Light:
    return Light(LightSpec("light-001", **spec), now=0.0, rng=random.Random(1), noise=0.0)  # type: ignore[arg-type]


def test_status_reports_state_power_and_faults_in_the_wire_format() -> None:
    lamp = light(rated_w=90.0, dim=80)
    ts, doc = lamp.status(0.0, T0.replace(microsecond=123456))
    assert ts == "2026-11-23T08:00:00.123Z"
    assert doc == {"ts": ts, "on": True, "dim": 80, "power_w": 72.0, "energy_kwh": 0.0,
                   "faults": {"lamp": False, "gear": False, "relay": False}}


def test_energy_integrates_power_over_time_and_stops_when_switched_off() -> None:
    lamp = light(rated_w=100.0)
    lamp.command(1800.0, dim=50)          # 100 W for half an hour: 0.05 kWh
    lamp.command(3600.0, on=False)        # 50 W for half an hour: 0.025 kWh
    _, doc = lamp.status(7200.0, T0)      # off for an hour: nothing
    assert doc["energy_kwh"] == pytest.approx(0.075)
    assert doc["power_w"] == 0.0 and doc["on"] is False


def test_ts_stays_unique_when_the_clock_does_not_move() -> None:
    lamp = light()
    stamps = [lamp.status(0.0, T0)[0] for _ in range(3)]
    assert stamps == ["2026-11-23T08:00:00.000Z", "2026-11-23T08:00:00.001Z",
                      "2026-11-23T08:00:00.002Z"]


def test_power_noise_is_small_and_repeats_with_the_same_seed() -> None:
    def powers(seed: int) -> list[float]:
        lamp = Light(LightSpec("light-001"), now=0.0, rng=random.Random(seed), noise=0.01)
        return [lamp.status(float(i), T0)[1]["power_w"] for i in range(20)]

    assert powers(7) == powers(7)
    assert powers(7) != powers(8)
    assert all(97.0 <= p <= 103.0 for p in powers(7))


def test_make_lights_follows_the_inventory_template_numbering() -> None:
    assert [s.id for s in make_lights(3, start=201)] == ["light-201", "light-202", "light-203"]
    with pytest.raises(ValueError, match=r"must contain \{n\}"):
        make_lights(2, pattern="light")


@pytest.mark.parametrize(("payload", "expected"), [
    (b'{"on": false}', (False, None)),
    (b'{"dim": 40}', (None, 40)),
    (b'{"on": true, "dim": 100}', (True, 100)),
])
def test_commands_switch_and_dim(payload: bytes, expected: tuple[object, object]) -> None:
    assert parse_command(payload) == expected


@pytest.mark.parametrize(("payload", "message"), [
    (b"off", "not JSON"),
    (b'{"on": "yes"}', "'on' must be true or false"),
    (b'{"dim": 150}', "'dim' must be a number 0..100"),
    (b'{"power": 3}', "unknown keys"),
])
def test_bad_commands_are_refused_with_the_reason(payload: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_command(payload)


def test_status_document_is_plain_json() -> None:
    _, doc = light().status(0.0, T0)
    assert json.loads(json.dumps(doc)) == doc
