"""The simulated GB 26875 transmission device: what its reports carry (read back with the
driver's codec, the other implementation), what a reset keeps, how it resends a report a
centre does not confirm, what it answers, its story and its control port."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from drivers.gb26875 import Frame, FrameReader, decode_unit, encode_unit
from drivers.gb26875.tables import COMPONENT_STATE_BITS, set_bits
from simulators.gb26875 import (
    Action,
    DeviceModel,
    TransmissionDeviceSim,
    parse_action,
    parse_config,
    parse_story,
    send_control,
    wire,
)

CONFIG = {"address": 100000000001, "heartbeat": 60, "confirm_timeout": 0.2, "retries": 1,
          "panels": [{"address": 2, "loops": 1, "points": 3, "name": "B栋"}]}
LABEL = bytes([1, 2, 3, 4, 5, 26])


def model() -> DeviceModel:
    return DeviceModel(parse_config(CONFIG))


def read(unit: bytes) -> list[dict[str, Any]]:
    return [dict(o.fields) for o in decode_unit(unit, 2).objects]


# ---------------------------------------------------------------- reports

def test_a_fire_sends_the_component_then_the_panel_state() -> None:
    component, system = model().set_component(2, 1, 3, "fire_alarm", True, LABEL)
    (c,) = read(component)
    assert (c["system_address"], c["component_type"], c["component_address"]) == \
        (2, 42, 1 << 16 | 3)
    assert set_bits(c["flags"], COMPONENT_STATE_BITS) == ["normal_operation", "fire_alarm"]
    assert c["description"] == "B栋1回路3号感烟" and c["time"] == LABEL
    (s,) = read(system)
    assert (s["system_type"], s["system_address"], s["flags"]) == (1, 2, 0b11)


def test_a_second_detector_in_fire_does_not_repeat_the_panel_state() -> None:
    m = model()
    m.set_component(2, 1, 1, "fire_alarm", True, LABEL)
    assert len(m.set_component(2, 1, 2, "fire_alarm", True, LABEL)) == 1


def test_a_reset_clears_fire_alarms_but_a_fault_stays_and_is_reported_again() -> None:
    m = model()
    m.set_component(2, 1, 1, "fire_alarm", True, LABEL)
    m.set_component(2, 1, 2, "fault", True, LABEL)
    operation, fault, system = m.operation(2, "reset", LABEL, operator=9)
    assert read(operation) == [{"system_type": 1, "system_address": 2, "flags": 1,
                                "operator": 9, "time": LABEL}]
    assert read(fault)[0]["component_address"] == 1 << 16 | 2
    assert read(system)[0]["flags"] == 0b101  # normal + fault, the fire is gone


def test_the_device_answers_the_reads_a_centre_makes() -> None:
    m = model()
    m.set_device("main_power_fault", True, LABEL)
    answer = m.answer(81, b"\x00", LABEL)
    assert answer is not None and decode_unit(answer, 5).objects[0]["flags"] == 0b1001
    answer = m.answer(61, bytes([1, 2]), LABEL)
    assert answer is not None and decode_unit(answer, 5).objects[0]["system_address"] == 2
    answer = m.answer(62, bytes([1, 2]) + (1 << 16 | 3).to_bytes(4, "little"), LABEL)
    assert answer is not None and decode_unit(answer, 5).objects[0]["component_type"] == 42
    assert m.answer(61, bytes([1, 7]), LABEL) is None  # no panel 7
    assert m.answer(64, b"", LABEL) is None


@pytest.mark.parametrize(("doc", "message"), [
    ({**CONFIG, "adress": 1}, "unknown key(s) adress"),
    ({**CONFIG, "panels": []}, "panels must be a non-empty list"),
    ({**CONFIG, "panels": [{"address": 1}, {"address": 1}]}, "panel addresses must differ"),
    ({**CONFIG, "heartbeat_kind": "ping"}, "heartbeat_kind must be state or empty"),
    ({**CONFIG, "panels": [{"address": 1, "detectors": [
        {"loop": 1, "point": 1, "description": "一二三四五六七八九十一二三四五六"}]}]},
     "at most 31 bytes in GB 18030"),
    ({**CONFIG, "utc_offset": "CST"}, "expected a UTC offset such as +08:00"),
])
def test_a_bad_config_says_what_to_fix(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match="config: ") as caught:
        parse_config(doc)
    assert message in str(caught.value)


def test_a_long_panel_name_is_cut_to_fit_a_description() -> None:
    config = parse_config({**CONFIG, "panels": [{"address": 1, "loops": 1, "points": 1,
                                                 "name": "幸福里社区北苑十八号楼东单元"}]})
    text = config.panels[0].detectors[0].description
    assert len(text.encode("gb18030")) <= 31 and text.startswith("幸福里社区北苑")


# ---------------------------------------------------------------- on the wire

class FakeCentre:
    """A centre of the test's own: records frames, confirms only when told to."""

    def __init__(self, confirm: Callable[[Frame], bool]) -> None:
        self.confirm = confirm
        self.frames: list[Frame] = []
        self.connections = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        frames = FrameReader()
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(4096):
                for frame in frames.feed(chunk):
                    assert isinstance(frame, Frame), frame
                    self.frames.append(frame)
                    if frame.command == 2 and self.confirm(frame):
                        writer.write(frame.reply(3, source=0, time=LABEL).encode())

    def reports(self) -> list[Frame]:
        return [f for f in self.frames if f.command == 2 and f.data[:1] == b"\x02"]


@contextlib.asynccontextmanager
async def centre(confirm: Callable[[Frame], bool]) -> AsyncIterator[tuple[FakeCentre, int]]:
    fake = FakeCentre(confirm)
    server = await asyncio.start_server(fake.serve, "127.0.0.1", 0)
    async with server:
        yield fake, server.sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def device(port: int, **config: Any) -> AsyncIterator[TransmissionDeviceSim]:
    sim = TransmissionDeviceSim(parse_config({**CONFIG, **config}), "127.0.0.1", port,
                                reconnect_min=0.05, reconnect_max=0.1, control_port=0)
    await sim.start()
    try:
        yield sim
    finally:
        await sim.stop()


async def until(condition: Callable[[], object], what: str, within: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def test_an_unconfirmed_report_is_resent_byte_for_byte_then_over_a_new_link() -> None:
    seen: dict[int, int] = {}

    def fourth_time_lucky(frame: Frame) -> bool:
        seen[frame.serial] = seen.get(frame.serial, 0) + 1
        return frame.data[:1] != b"\x02" or seen[frame.serial] >= 4

    async with centre(fourth_time_lucky) as (fake, port), device(port) as sim:
        await until(lambda: fake.frames, "the first heartbeat")
        sim.perform(Action("fire", {"panel": 2, "loop": 1, "point": 1}))
        await until(lambda: sim.counts["confirmed"] >= 1, "the report confirmed")
        copies = [f.encode() for f in fake.reports()][:4]
        assert len(copies) == 4 and len(set(copies)) == 1  # the same frame, same serial
        # retries: 1 -> sent, resent once, then a new connection and sent again.
        assert fake.connections == 2 and sim.counts["redials"] == 1
        assert sim.counts["resent"] >= 2


async def test_a_denied_report_is_dropped_and_counted() -> None:
    async with centre(lambda f: f.data[:1] != b"\x02") as (fake, port), \
            device(port, confirm_timeout=30) as sim:
        await until(lambda: fake.writers, "connected")
        sim.perform(Action("fault", {"panel": 2, "loop": 1, "point": 2}))
        await until(lambda: fake.reports(), "the report")
        report = fake.reports()[0]
        fake.writers[0].write(report.reply(6, source=0, time=LABEL).encode())
        await until(lambda: sim.counts["denied"] == 1, "the denial counted")
        assert report.serial not in sim.confirmed_serials
        assert [f.serial for f in fake.reports()] == [report.serial]  # not resent
        assert not sim.outbox


async def test_a_heartbeat_is_a_state_report_or_an_empty_frame() -> None:
    async with centre(lambda f: True) as (fake, port), device(port, heartbeat=0.05) as sim:
        await until(lambda: sim.counts["heartbeats"] >= 2, "heartbeats")
        beat = fake.frames[0]
        assert beat.source == 100000000001 and decode_unit(beat.data, 2).type == 21
    async with centre(lambda f: True) as (fake, port), \
            device(port, heartbeat=0.05, heartbeat_kind="empty"):
        await until(lambda: len(fake.frames) >= 2, "heartbeats")
        assert fake.frames[0].data == b""


async def test_the_clock_and_inspection_commands_are_confirmed() -> None:
    async with centre(lambda f: True) as (fake, port), device(port) as sim:
        await until(lambda: fake.writers, "connected")
        when = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
        stamp = wire.stamp(when, sim.config.tz)
        fake.writers[0].write(Frame(77, 1, 0, sim.config.address,
                                    encode_unit(90, [{"time": stamp}], 1), LABEL).encode())
        fake.writers[0].write(Frame(78, 1, 0, sim.config.address,
                                    encode_unit(91, [{"timeout_minutes": 5}], 1),
                                    LABEL).encode())
        await until(lambda: sim.counts["commands"] == 2, "both commands")
        assert abs((sim.now() - when).total_seconds()) < 5
        replies = {f.serial: f.command for f in fake.frames if f.serial in (77, 78)}
        assert replies == {77: 3, 78: 3}
        await until(lambda: any(f.data[:1] == b"\x18" for f in fake.frames),
                    "the inspection reply (an operation record of the device)")


async def test_the_control_port_steers_the_device_and_says_what_it_refuses() -> None:
    async with centre(lambda f: True) as (fake, port), device(port) as sim:
        assert sim.control_port
        answer = await send_control("127.0.0.1", sim.control_port,
                                    {"action": "fire", "panel": 2, "loop": 1, "point": 1})
        assert answer == {"ok": True, "queued": 2}
        status = await send_control("127.0.0.1", sim.control_port, {"action": "status"})
        assert status["panels"]["2"]["abnormal"] == {"1-1": ["fire_alarm"]}
        refused = await send_control("127.0.0.1", sim.control_port,
                                     {"action": "fire", "panel": 9, "loop": 1, "point": 1})
        assert refused == {"error": "there is no panel 9; panels: 2"}
        await until(lambda: len(fake.reports()) == 1, "the report")


# ---------------------------------------------------------------- story

def test_a_story_is_checked_and_sorted() -> None:
    story = parse_story({"every": 100, "story": [
        {"at": "30s", "action": "reset", "panel": 2},
        {"at": 10, "action": "fire", "panel": 2, "loop": 1, "point": 1, "active": True}]})
    assert [(at, a.name) for at, a in story.steps] == [(10.0, "fire"), (30.0, "reset")]
    with pytest.raises(ValueError, match="entry 0: action reset needs panel"):
        parse_story([{"at": 1, "action": "reset"}])
    with pytest.raises(ValueError, match=r"a key reads as True .* write active: true"):
        parse_story([{"at": 1, "action": "device", "flag": "fault", True: False}])
    with pytest.raises(ValueError, match="every \\(5 s\\) must be longer"):
        parse_story({"every": 5, "story": [{"at": 9, "action": "stop"}]})
    with pytest.raises(ValueError, match="action must be one of fire, fault"):
        parse_action({"action": "explode"}, where="control")


async def test_the_story_plays_on_schedule() -> None:
    story = parse_story([{"at": 0, "action": "fault", "panel": 2, "loop": 1, "point": 3},
                         {"at": 0.1, "action": "fault", "panel": 2, "loop": 1, "point": 3,
                          "active": False}])
    async with centre(lambda f: True) as (fake, port):
        sim = TransmissionDeviceSim(parse_config(CONFIG), "127.0.0.1", port, story=story)
        await sim.start()
        try:
            await until(lambda: len(fake.reports()) == 2, "both story reports")
        finally:
            await sim.stop()
    flags = [decode_unit(f.data, 2).objects[0]["flags"] for f in fake.reports()]
    assert flags == [0b101, 0b1]
