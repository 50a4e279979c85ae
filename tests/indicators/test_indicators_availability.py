"""The windowed networked rate (online time ÷ observed time, gateway-offline time apart)
against figures computed by hand, on plain PostgreSQL and on TimescaleDB, with the state
changes arriving out of order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import asyncpg
import pytest
from ingest_support import T0, envelope, msg, state, status_msg
from timescale_support import timescale_server, ts_database  # noqa: F401 (fixtures)

from indicators.availability import INDICATOR_ID
from indicators.availability_load import video_networked_time_rate
from ingest.messages import Received
from ingest.schema.migrate import migrate
from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from telemetry import DeviceState, Probe

pytestmark = pytest.mark.integration

INVENTORY = """\
community: {id: av, name: 可用性社区, district: "370102"}
key_positions:
  - {id: kp-gate, type: community_entrance, name: 北门}
  - {id: kp-road, type: main_road, name: 主干道}
devices:
  - {id: cam-a, kind: camera, key_position: kp-gate, gateway: av-gw1, protocol: onvif}
  - {id: cam-b, kind: camera, key_position: kp-road, gateway: av-gw2, protocol: onvif}
  - {id: cam-c, kind: camera, key_position: kp-road}
  - {id: cam-x, kind: camera, gateway: av-gw1, protocol: onvif}
"""
H = timedelta(hours=1)
AS_OF = T0 + 24 * H + 30 * timedelta(minutes=1)  # window [T0 + 0:30, T0 + 24:30)
WINDOW = 24 * H


def _states(seq: int, gateway: str, *changes: tuple[str, DeviceState, timedelta]
            ) -> Received:
    items = [state(device, st, T0 + at) for device, st, at in changes]
    return msg(envelope(seq, items, community="av", gateway=gateway, sent_at=T0),
               community="av", gateway=gateway, now=T0 + 30 * H)


def _history() -> list[list[Received]]:
    """cam-a (av-gw1): online from T0-1h, offline 2h-4h, degraded 10:15-11h, online after;
    av-gw1's last will at 6h, birth at 7:30. cam-b (av-gw2): first report at 12h, online.
    cam-c: no protocol, never reports. cam-x: not at a key position. Sent in three
    batches, the outage and the degraded spell after the later changes."""
    return [
        [_states(1, "av-gw1", ("cam-a", DeviceState.ONLINE, -H),
                 ("cam-a", DeviceState.ONLINE, 4 * H), ("cam-x", DeviceState.ONLINE, -H))],
        [_states(1, "av-gw2", ("cam-b", DeviceState.ONLINE, 12 * H)),
         _states(2, "av-gw1", ("cam-a", DeviceState.ONLINE, 11 * H)),
         status_msg(False, community="av", gateway="av-gw1", t=T0 + 6 * H),
         status_msg(True, community="av", gateway="av-gw1", t=T0 + 7.5 * H)],
        [_states(3, "av-gw1", ("cam-a", DeviceState.OFFLINE, 2 * H),
                 ("cam-a", DeviceState.DEGRADED, 10.25 * H))],
    ]


async def _load(conn: asyncpg.Connection, batches: Sequence[list[Received]]) -> None:
    await import_inventory(conn, parse_inventory(INVENTORY, "av.yaml"))
    for batch in batches:
        await write_batch(conn, batch)


def _figures(result: object) -> dict[str, object]:
    details = result.details  # type: ignore[attr-defined]
    return {"numerator": result.numerator,  # type: ignore[attr-defined]
            "denominator": result.denominator,  # type: ignore[attr-defined]
            "gateway_offline_s": details["gateway_offline_s"],
            "before_connection_s": details["before_connection_s"],
            "devices": details["devices"]}


def _expected() -> dict[str, object]:
    hour = 3600.0
    return {
        # cam-a online 1.5 + 6.25 + 13.5 = 21.25 h, 1.5 h of it behind the gateway's
        # outage, and degraded (answering, so counted) 0.75 h; cam-b online 12.5 h, and
        # nothing was heard of it or its gateway before 12h; cam-c never, and nothing was
        # ever heard of it, so its whole window counts.
        "numerator": (19.75 + 0.75 + 12.5) * hour,
        "denominator": (22.5 + 12.5 + 24) * hour,
        "gateway_offline_s": 1.5 * hour,
        "before_connection_s": 11.5 * hour,
        "devices": {
            "cam-a": {"online_s": 19.75 * hour, "degraded_s": 0.75 * hour,
                      "refused_s": 0.0, "offline_s": 2 * hour, "unknown_s": 0.0,
                      "unreported_s": 0.0,
                      "gateway_offline_s": 1.5 * hour, "before_connection_s": 0.0,
                      "observed_s": 22.5 * hour},
            "cam-b": {"online_s": 12.5 * hour, "degraded_s": 0.0, "refused_s": 0.0,
                      "offline_s": 0.0,
                      "unknown_s": 0.0, "unreported_s": 0.0,
                      "gateway_offline_s": 0.0, "before_connection_s": 11.5 * hour,
                      "observed_s": 12.5 * hour},
            "cam-c": {"online_s": 0.0, "degraded_s": 0.0, "refused_s": 0.0,
                      "offline_s": 0.0,
                      "unknown_s": 0.0, "unreported_s": 24 * hour,
                      "gateway_offline_s": 0.0, "before_connection_s": 0.0,
                      "observed_s": 24 * hour},
        },
    }


async def test_windowed_networked_rate_matches_the_hand_computed_figure(
        conn: asyncpg.Connection) -> None:
    await _load(conn, _history())
    result = await video_networked_time_rate(conn, "av", AS_OF, WINDOW)
    assert result.id == INDICATOR_ID
    assert _figures(result) == _expected()
    assert result.value == 55.9  # 33 h / 59 h = 55.93 %, truncated
    assert result.breakdown == {"never_online": ("cam-c",), "gateway_offline": (),
                                "not_yet_connected": ()}
    assert (result.window.start, result.window.end) == (AS_OF - WINDOW, AS_OF)


async def test_the_same_history_in_order_gives_the_same_figures(
        conn: asyncpg.Connection) -> None:
    batches = _history()
    await _load(conn, [batches[2] + batches[0], batches[1]])
    result = await video_networked_time_rate(conn, "av", AS_OF, WINDOW)
    assert _figures(result) == _expected()


async def test_time_before_scg_heard_of_a_gateway_is_not_observed(
        conn: asyncpg.Connection) -> None:
    """A community connected during the window: av-gw1 is born at 20h and cam-a answers a
    minute later; the 19.5 h before are neither online nor offline. Nothing was ever heard
    of cam-b, av-gw2 or cam-c: their whole window counts against them. As of 19h, nothing
    of av-gw1 had been heard yet: cam-a is observed not at all."""
    await _load(conn, [[status_msg(True, community="av", gateway="av-gw1", t=T0 + 20 * H),
                        _states(1, "av-gw1",
                                ("cam-a", DeviceState.ONLINE, 20 * H + timedelta(minutes=1)))]])
    result = await video_networked_time_rate(conn, "av", AS_OF, WINDOW)
    hour, cam_a = 3600.0, result.details["devices"]["cam-a"]
    assert (cam_a["before_connection_s"], cam_a["observed_s"], cam_a["online_s"],
            cam_a["unreported_s"]) == (19.5 * hour, 4.5 * hour, 4.5 * hour - 60, 60.0)
    assert (result.numerator, result.denominator) == (4.5 * hour - 60, (4.5 + 24 + 24) * hour)
    assert result.breakdown["never_online"] == ("cam-b", "cam-c")

    before = await video_networked_time_rate(conn, "av", T0 + 19 * H, WINDOW)
    assert before.details["devices"]["cam-a"]["observed_s"] == 0.0
    assert before.breakdown == {"never_online": ("cam-b", "cam-c"), "gateway_offline": (),
                                "not_yet_connected": ("cam-a",)}
    assert before.denominator == 48 * hour


REFUSED = ("wrong credentials: camera answered NotAuthorized (user 'admin'); check "
           "options.username/password of cam-b against the camera")


def _probe(seq: int, *probes: tuple[timedelta, str]) -> Received:
    items = [Probe("cam-a", T0 + at, check == "ok", check, {"check": check})
             for at, check in probes]
    return msg(envelope(seq, items, community="av", gateway="av-gw1", sent_at=T0),
               community="av", gateway="av-gw1", now=T0 + 30 * H)


async def test_time_a_camera_refused_our_credentials_is_not_networked(
        conn: asyncpg.Connection) -> None:
    """As the live rate judges a moment: degraded with a refusal as its reason, or after an
    `auth` probe until the next probe. cam-a: an auth probe at 10:30 inside its degraded
    spell (10:15-11), an ok probe at 10:45, an auth probe at 20h while online (no effect).
    cam-b: degraded 14h-16h for wrong credentials, its gateway offline 15h-15:30 (its
    first report at 12h is still the first heard of it)."""
    await _load(conn, [*_history(), [
        _probe(4, (10.5 * H, "auth"), (10.75 * H, "ok"), (20 * H, "auth")),
        msg(envelope(2, [state("cam-b", DeviceState.DEGRADED, T0 + 14 * H, REFUSED),
                         state("cam-b", DeviceState.ONLINE, T0 + 16 * H)],
                     community="av", gateway="av-gw2", sent_at=T0),
            community="av", gateway="av-gw2", now=T0 + 30 * H),
        status_msg(False, community="av", gateway="av-gw2", t=T0 + 15 * H),
        status_msg(True, community="av", gateway="av-gw2", t=T0 + 15.5 * H)]])
    result = await video_networked_time_rate(conn, "av", AS_OF, WINDOW)
    devices = result.details["devices"]
    hour = 3600.0
    assert {d: (v["degraded_s"], v["refused_s"]) for d, v in devices.items()} == {
        "cam-a": (0.75 * hour, 0.25 * hour), "cam-b": (1.5 * hour, 1.5 * hour),
        "cam-c": (0.0, 0.0)}
    # cam-a 19.75 + 0.75 - 0.25 h; cam-b online 2 + 8.5 h, its refused 1.5 h not counted.
    assert result.numerator == (20.25 + 10.5) * hour
    assert result.denominator == (22.5 + 12 + 24) * hour
    assert result.numerator_devices == ("cam-a", "cam-b")


async def test_the_hourly_rollup_holds_each_hour_of_the_timeline(
        conn: asyncpg.Connection) -> None:
    await _load(conn, _history())
    rows = {r["hour"]: (r["online_s"], r["degraded_s"], r["offline_s"]) for r in
            await conn.fetch("SELECT hour, online_s, degraded_s, offline_s "
                             "FROM availability_hourly WHERE device = 'cam-a' ORDER BY hour")}
    # Closed up to cam-a's latest change (11h); the open span after it is not a row yet.
    assert sorted(rows) == [T0 + i * H for i in range(-1, 11)]
    assert rows[T0 + 2 * H] == (0.0, 0.0, 3600.0)
    assert rows[T0 + 10 * H] == (900.0, 2700.0, 0.0)
    assert rows[T0 + 5 * H] == (3600.0, 0.0, 0.0)


async def test_timescaledb_continuous_aggregates_give_the_same_figures(
        ts_database: str) -> None:  # noqa: F811 (fixture)
    await migrate(ts_database, timescaledb=True)
    conn = await asyncpg.connect(ts_database)
    try:
        assert await conn.fetchval(
            "SELECT count(*) FROM timescaledb_information.continuous_aggregates "
            "WHERE view_name IN ('availability_hourly', 'energy_daily')") == 2
        await _load(conn, _history())
        # What the refresh policy does every few minutes.
        await conn.execute("CALL refresh_continuous_aggregate('availability_hourly', NULL, "
                           "NULL)")
        result = await video_networked_time_rate(conn, "av", AS_OF, WINDOW)
    finally:
        await conn.close()
    assert _figures(result) == _expected()
