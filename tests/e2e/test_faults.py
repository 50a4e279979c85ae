"""Faults, end to end, with counts: real mosquitto, PostgreSQL, `scg gateway run` and
`scg ingest run` processes, the light fleet as the devices.

- PostgreSQL stopped with `-m immediate` mid-stream: ingest waits it out, nothing is lost
  or stored twice.
- The gateway SIGKILLed during an uplink outage with thousands of items spooled, and again
  while it drains: every item arrives exactly once.
- The spool's byte cap reached during an outage: every alarm and state change arrives, the
  oldest readings are dropped, and their count reaches the centre as data.
- The spool's filesystem full: the gateway keeps running, says so once, keeps what it can
  in memory, drops the oldest readings past that with counts, and recovers by itself.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import Community, start_community, wait_progressing, wait_until
from fault_support import (
    SpoolFile,
    busy_scenario,
    fill,
    mount_tmpfs,
    ms,
    produced_readings,
    reading_keys,
    reported,
    stored_events,
    stored_light_readings,
    stored_states,
    unmount,
)
from test_delivery import assert_exactly_once

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAULTY = ("light-002", "light-005", "light-009", "light-013", "light-017")  # lamp alarms
SILENCED = ("light-004", "light-011", "light-018")  # offline, then back online


@pytest.fixture
def lights(e2e_root: Path) -> Iterator[Community]:
    """20 controllers every 0.1 s, and a spool that sends 100 items an envelope, two
    envelopes at a time, so that draining a backlog takes many envelopes."""
    yield from start_community(e2e_root, busy_scenario(batch_items=100, max_inflight=2))


@pytest.fixture
def capped_lights(e2e_root: Path) -> Iterator[Community]:
    """20 controllers every 0.1 s and a spool capped at 1 MiB (about 8 000 readings)."""
    yield from start_community(e2e_root, busy_scenario(max_bytes="1MiB"))


@pytest.fixture
def lights_on_small_disk(e2e_root: Path) -> Iterator[Community]:
    """20 controllers every 0.1 s, the spool on a 16 MiB tmpfs the test fills. The spool cap
    is 4 MiB, so its memory bound while the disk is full is 256 KiB (about 2 000 items)."""
    folder = e2e_root / "spool-fs"
    try:
        mount_tmpfs(folder, "16m")
    except PermissionError as exc:
        pytest.skip(f"the full-disk test mounts a tmpfs of its own: {exc}")
    try:
        yield from start_community(e2e_root, busy_scenario(
            path=str(folder / "spool.sqlite"), max_bytes="4MiB"))
    finally:
        unmount(folder)


def reading_keys_of(spool: SpoolFile) -> set[tuple[str, int]]:
    return {(i["device"], ms(i["time"])) for i in spool.light_readings()}


def uplink_down(c: Community) -> int:
    """Wait until the gateway says its uplink is down; return where that line ends."""
    broker = c.stack.broker
    return c.stack.wait_for_log("gateway", f"uplink to {broker.host}:{broker.port} is down")


def spool_of(c: Community) -> SpoolFile:
    return SpoolFile(c.gateway_config.parent / "spool.sqlite")


def gateway_log(c: Community) -> str:
    return c.stack.log("gateway").read_text(errors="replace")


def test_postgresql_stopped_immediately_mid_stream_is_waited_out(lights: Community) -> None:
    c = lights
    # The e2e cluster runs with synchronous_commit=off for speed; an immediate stop would
    # then lose commits ingest had already acknowledged. Production keeps the default (on).
    c.stack.psql("ALTER DATABASE scg SET synchronous_commit = on")
    c.stack.stop("ingest")
    c.start_ingest()
    ingest = c.stack.procs["ingest"]
    fleet = c.fleet()
    wait_until(lambda: c.light_readings() > 800, "readings flowing into the database")
    c.stack.pg.stop(mode="immediate")
    down_at = fleet.total_sent()
    c.stack.wait_for_log("ingest", "database write failed", timeout=30)
    wait_until(lambda: fleet.total_sent() > down_at + 400, "400 more status messages sent "
               "while PostgreSQL is down")
    c.stack.pg.start()  # crash recovery, same port
    c.stack.wait_for_log("ingest", "database writes succeed again", timeout=60)
    assert_exactly_once(c, fleet)
    assert ingest.poll() is None, "ingest exited instead of waiting for the database"
    log = c.stack.log("ingest").read_text(errors="replace")
    assert "Traceback" not in log
    assert c.scalar("SELECT count(*) FROM dead_letters") == 0


def test_gateway_killed_with_a_full_spool_loses_and_duplicates_nothing(
        lights: Community) -> None:
    c = lights
    spool = spool_of(c)
    fleet = c.fleet()
    wait_until(lambda: c.light_readings() > 800, "readings flowing into the database")
    c.stack.broker.stop()  # the uplink is down: items pile up in the spool
    wait_until(lambda: len(spool.light_readings()) >= 4000, "4000 readings in the spool")
    fleet.stop()
    last = {(light, ms(stamps[-1])) for light, stamps in fleet.fleet.sent_ts.items()}
    wait_until(lambda: last <= reading_keys_of(spool), "the last status of every light "
               "committed to the spool", timeout=10)
    committed = reading_keys(spool.items())

    assert c.stack.stop("gateway", signal.SIGKILL) == -signal.SIGKILL
    on_disk = spool.items()
    assert reading_keys(on_disk) >= committed  # nothing committed was lost with the process
    c.stack.start("gateway", "gateway", "run", "--config", str(c.gateway_config))
    c.stack.wait_for_log("gateway", f"holds {len(on_disk)} items")  # and it finds them all
    c.stack.broker.start()
    # Killed again while it drains: envelopes the broker acknowledged but the spool had
    # not yet forgotten are sent again with their seq, and ingest drops the duplicates.
    c.stack.wait_for_log("gateway", "is back after", timeout=30)
    assert c.stack.stop("gateway", signal.SIGKILL) == -signal.SIGKILL
    c.stack.start("gateway", "gateway", "run", "--config", str(c.gateway_config))
    assert_exactly_once(c, fleet)
    assert c.scalar("SELECT count(*) FROM dead_letters") == 0


def test_spool_cap_drops_the_oldest_readings_keeps_alarms_and_states_and_says_how_many(
        capped_lights: Community) -> None:
    c = capped_lights
    spool = spool_of(c)
    fleet = c.fleet()
    wait_until(lambda: c.light_readings() > 800 and len(stored_states(c)) >= 20,
               "readings and every light's first state in the database")
    outage_ms = time.time() * 1000
    c.stack.broker.stop()
    at = uplink_down(c)

    # Early in the outage: alarms raised and cleared, lights going offline and coming back.
    for light in FAULTY:
        fleet.call(fleet.fleet.set_fault, light, "lamp", True)
    fleet.call(fleet.fleet.silence, SILENCED)
    for light in SILENCED:
        c.stack.wait_for_log("gateway", f"device {light} is offline", after=at)
    fleet.call(fleet.fleet.resume, SILENCED)
    for light in SILENCED:
        c.stack.wait_for_log("gateway", f"device {light} is back online", after=at)
    for light in FAULTY:
        fleet.call(fleet.fleet.set_fault, light, "lamp", False)
    last_alarm = max(ms(i["time"]) for i in spool.items() if i["kind"] == "event")

    # Readings keep coming until the cap has pushed out thousands of readings, every one as
    # old as the alarms among them. (Readings in an envelope sent just before the outage
    # stay: they go again under their seq; only waiting items are dropped.)
    # How long that takes depends on the machine's pace (about 8 000 readings to fill the
    # cap, then 2 000 more): wait while the spool moves, fail when it stops.
    def pushed_past_the_alarms() -> bool:
        oldest = spool.oldest_waiting_light_reading()
        return oldest is not None and ms(oldest["time"]) > last_alarm

    wait_progressing(lambda: spool.dropped().get("reading", 0) >= 2000
                     and pushed_past_the_alarms(),
                     lambda: (spool.dropped().get("reading", 0), len(spool.items())),
                     "the cap dropping 2000 readings, younger ones than the alarms too",
                     limit=120)
    fleet.stop()
    wait_until(lambda: all(latest_state(spool, light) == "offline"
                           for light in fleet.fleet.ids),
               "every light offline in the spool after the fleet stopped", timeout=10)
    held = spool.items()
    held_states = {(i["device"], i["state"], ms(i["since"])) for i in held if i["kind"] == "state"}
    held_events = {(i["device"], i["type"], "t" if i.get("active") else "f", ms(i["time"]))
                   for i in held if i["kind"] == "event"}
    dropped_in_file = spool.dropped()

    c.stack.broker.start()
    produced = produced_readings(fleet)
    wait_until(lambda: reported(c, "spool_dropped_readings_total") is not None
               and len(stored_light_readings(c)) + (reported(c, "spool_dropped_readings_total")
                                                    or 0) == len(produced),
               "every kept reading stored and the drop count reported", timeout=60)

    stored = stored_light_readings(c)
    assert len(stored) == len(set(stored)), "some reading was stored twice"
    assert set(stored) <= set(produced)
    lost = set(produced) - set(stored)
    assert len(lost) == reported(c, "spool_dropped_readings_total") \
        == reported(c, "spool_dropped_total") == dropped_in_file["reading"] >= 2000
    assert set(dropped_in_file) == {"reading"}  # no alarm, no state, no event went
    # The oldest went: nothing in the stored readings lies inside the span of the lost ones,
    # and that span reaches past the alarms, which arrived all the same.
    first_lost, last_lost = min(t for *_, t in lost), max(t for *_, t in lost)
    assert not [k for k in stored if first_lost < k[2] < last_lost]
    assert last_lost > last_alarm

    # Every state change and event the gateway made during the outage waited in the spool,
    # and arrived, once.
    states, events = stored_states(c), stored_events(c)
    assert len(states) == len(set(states)) and len(events) == len(set(events))
    assert held_states <= set(states) and held_events <= set(events)
    assert {s for s in states if s[2] >= outage_ms} == {s for s in held_states
                                                       if s[2] >= outage_ms}
    assert {e for e in events if e[3] >= outage_ms} == held_events
    assert Counter((d, t, a) for d, t, a, _ in held_events) == {
        (light, "lamp_fault", active): 1 for light in FAULTY for active in "tf"}
    for light in SILENCED:
        assert [s for d, s, _ in sorted(held_states, key=lambda k: k[2]) if d == light][:2] \
            == ["offline", "online"]
    assert c.scalar("SELECT count(*) FROM alarms WHERE type = 'lamp_fault' "
                    "AND cleared_at IS NOT NULL") == len(FAULTY)
    assert c.scalar("SELECT count(*) FROM dead_letters") == 0


def latest_state(spool: SpoolFile, light: str) -> str | None:
    states = [i for i in spool.items() if i["kind"] == "state" and i["device"] == light]
    return max(states, key=lambda i: ms(i["since"]))["state"] if states else None


def test_full_spool_disk_is_survived_reported_once_and_recovered_from(
        lights_on_small_disk: Community) -> None:
    c = lights_on_small_disk
    folder = c.stack.state_dir / "spool-fs"
    spool_path = folder / "spool.sqlite"
    gateway = c.stack.procs["gateway"]
    fleet = c.fleet()
    wait_until(lambda: c.light_readings() > 800, "readings flowing into the database")
    c.stack.broker.stop()  # the spool must grow to notice the disk
    at = uplink_down(c)
    filler = fill(folder)
    c.stack.wait_for_log("gateway", "disk full", after=at)
    c.stack.wait_for_log("gateway", "the oldest readings are dropped", after=at, timeout=60)
    shed_at = fleet.total_sent()
    wait_until(lambda: fleet.total_sent() > shed_at + 200, "more statuses while it drops")
    filler.unlink()
    c.stack.wait_for_log("gateway", "writable again", after=at, timeout=30)
    recovered_at = fleet.call(lambda: {k: len(v) for k, v in fleet.fleet.sent_ts.items()})
    wait_until(lambda: fleet.total_sent() > sum(recovered_at.values()) + 400,
               "400 statuses after the disk has room again")
    fleet.stop()
    c.stack.broker.start()
    produced = produced_readings(fleet)
    wait_until(lambda: len(stored_light_readings(c))
               + (reported(c, "spool_dropped_readings_total") or 0) == len(produced),
               "every kept reading stored and the drop count reported", timeout=60)

    assert gateway.poll() is None, "the gateway exited"
    stored = stored_light_readings(c)
    assert len(stored) == len(set(stored)), "some reading was stored twice"
    assert set(stored) <= set(produced)
    lost = set(produced) - set(stored)
    assert len(lost) == reported(c, "spool_dropped_readings_total") > 0
    first_lost, last_lost = min(t for *_, t in lost), max(t for *_, t in lost)
    assert not [k for k in stored if first_lost < k[2] < last_lost], "not the oldest held"
    after = {(light, ms(ts)) for light, stamps in fleet.fleet.sent_ts.items()
             for ts in stamps[recovered_at[light]:]}
    assert after <= {(d, t) for d, _, t in stored}, "a status sent after recovery is missing"
    log = gateway_log(c)
    errors = [line for line in log.splitlines() if "ERROR" in line]
    assert len(errors) == 1, errors
    assert "disk full" in errors[0] and str(spool_path) in errors[0]
    assert "Traceback" not in log
    # When the disk filled, the gateway said so as data too (kept in memory, sent later).
    writable = c.rows("SELECT value FROM readings WHERE device = 'e2e-gw1' "
                      "AND metric = 'spool_writable' ORDER BY time")
    assert ["0"] in writable and writable[-1] == ["1"]
    assert c.scalar("SELECT count(*) FROM dead_letters") == 0
