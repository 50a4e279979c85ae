"""The simulated DL/T 645 meters: the shared bus answers only the meter addressed, values
live (energy rises with the load), faults at start and at run time, fault files checked."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path

import pytest

from drivers.dlt645.codec import (
    STANDARD,
    AbnormalReply,
    FrameError,
    decode_frame,
    decode_values,
    parse_address_reply,
    parse_read_reply,
    read_address_request,
    read_request,
)
from simulators.dlt645 import (
    Fault,
    FaultEntry,
    Garbage,
    MeterBus,
    MeterSpec,
    RequestReader,
    SimMeter,
    TcpGateway,
    load_faults,
    make_meters,
    parse_faults,
)
from simulators.dlt645.wire import Request

ENERGY = 0x00010000


def heard(raw: bytes) -> Request:
    (request,) = RequestReader().feed(raw)
    return request


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def ask(bus: MeterBus, raw: bytes) -> bytes | None:
    return await bus.handle(heard(raw))


# ---------------------------------------------------------------- the bus

async def test_a_request_is_answered_only_by_the_meter_addressed() -> None:
    bus = MeterBus(make_meters(3))
    raw = await ask(bus, read_request("000000000002", ENERGY))
    assert raw is not None
    frame = decode_frame(raw)
    assert frame.address == "000000000002"
    value = decode_values(parse_read_reply(frame, address="000000000002", di=ENERGY),
                          STANDARD[ENERGY].format)
    assert value == bus.meter("000000000002").answered[ENERGY]
    assert [bus.meter(a).requests for a in sorted(bus.meters)] == [0, 1, 0]
    assert await ask(bus, read_request("000000000009", ENERGY)) is None


async def test_the_wildcard_read_is_answered_by_a_meter_alone_on_the_bus() -> None:
    alone = MeterBus([MeterSpec("000012345678")])
    raw = await ask(alone, read_address_request())
    assert raw is not None
    assert parse_address_reply(decode_frame(raw)) == "000012345678"


async def test_the_wildcard_read_on_a_shared_bus_collides() -> None:
    shared = MeterBus(make_meters(2))
    raw = await ask(shared, read_address_request())
    assert raw is not None
    with pytest.raises(FrameError):
        parse_address_reply(decode_frame(raw))


async def test_broadcasts_get_no_answer() -> None:
    bus = MeterBus(make_meters(2))
    assert await ask(bus, read_request("999999999999", ENERGY)) is None


async def test_every_second_meter_omits_the_wake_up_bytes() -> None:
    bus = MeterBus(make_meters(2))
    first = await ask(bus, read_request("000000000001", ENERGY))
    second = await ask(bus, read_request("000000000002", ENERGY))
    assert first is not None and first.startswith(b"\xfe\xfe\xfe\xfe\x68")
    assert second is not None and second.startswith(b"\x68")


def test_requests_are_found_among_noise_and_broken_frames() -> None:
    good = read_request("000000000001", ENERGY)
    broken = bytearray(read_request("000000000002", ENERGY))
    broken[-2] ^= 0xFF
    reader = RequestReader()
    stream = b"\x00\x68\x12" + bytes(broken) + good
    found = [r for i in range(0, len(stream), 3) for r in reader.feed(stream[i:i + 3])]
    assert found == [Request("000000000001", 0x11, ENERGY.to_bytes(4, "little"))]


async def test_a_meter_without_the_data_says_no_requested_data() -> None:
    bus = MeterBus(make_meters(1))  # single phase: no voltage block
    raw = await ask(bus, read_request("000000000001", 0x0201FF00))
    assert raw is not None
    with pytest.raises(AbnormalReply) as caught:
        parse_read_reply(decode_frame(raw), address="000000000001", di=0x0201FF00)
    assert caught.value.errors == ["no requested data"]


# ---------------------------------------------------------------- live values

def test_energy_rises_with_the_load() -> None:
    clock = Clock()
    meter = SimMeter(MeterSpec("000000000001", energy_kwh=500.0), clock=clock)
    readings = []
    for _ in range(6):
        clock.now += 600  # ten minutes
        load = meter.power_kw
        before = meter.energy_kwh
        meter.values(ENERGY)
        assert meter.energy_kwh - before == pytest.approx(Decimal(load / 6), abs=Decimal("1e-6"))
        readings.append(meter.values(ENERGY))
    energies = [found[1][0] for found in readings if found]
    assert energies == sorted(energies) and energies[-1] > Decimal("500.05")
    assert 0.05 <= meter.power_kw <= 4.0


def test_three_phase_meters_add_up() -> None:
    meter = SimMeter(MeterSpec("000000000001", phases=3))
    found = meter.values(0x0203FF00)
    assert found is not None
    total, *phases = found[1]
    assert sum(phases) == pytest.approx(total, abs=Decimal("0.0003"))
    volts = meter.values(0x0201FF00)
    assert volts is not None and len(volts[1]) == 3


def test_speed_makes_the_household_run_faster() -> None:
    clock = Clock()
    fast = SimMeter(MeterSpec("000000000001", energy_kwh=0.0), clock=clock, speed=60)
    clock.now += 60
    fast.values(ENERGY)
    assert fast.energy_kwh > Decimal("0.04")  # an hour of at least 0.05 kW


# ---------------------------------------------------------------- faults

@pytest.mark.parametrize(("kind", "reason"), [
    (Garbage.CHECKSUM, "checksum expected"),
    (Garbage.TRUNCATED, "truncated frame"),
    (Garbage.BAD_START, "bad start byte 0x69"),
    (Garbage.NO_END, "missing end byte"),
    (Garbage.NON_BCD, "non-BCD digit in data"),
    (Garbage.WRONG_DI, "reply to another data identifier"),
    (Garbage.WRONG_ADDRESS, "wrong address"),
])
async def test_each_garbage_kind_breaks_the_reply_as_named(kind: Garbage, reason: str) -> None:
    bus = MeterBus([MeterSpec("000000000001", faults={Fault.GARBAGE: kind.value})])
    raw = await ask(bus, read_request("000000000001", ENERGY))
    assert raw is not None
    with pytest.raises(FrameError, match=reason):
        payload = parse_read_reply(decode_frame(raw), address="000000000001", di=ENERGY)
        decode_values(payload, STANDARD[ENERGY].format)


async def test_silent_abnormal_and_slow_meters() -> None:
    bus = MeterBus(make_meters(3))
    bus.set_fault("000000000001", "silent")
    bus.set_fault("000000000002", "abnormal", 0x04)
    bus.set_fault("000000000003", "slow", 0.1)
    assert await ask(bus, read_request("000000000001", ENERGY)) is None
    raw = await ask(bus, read_request("000000000002", ENERGY))
    assert raw is not None
    with pytest.raises(AbnormalReply, match="wrong password or not authorised"):
        parse_read_reply(decode_frame(raw), address="000000000002", di=ENERGY)
    began = time.monotonic()
    assert await ask(bus, read_request("000000000003", ENERGY)) is not None
    assert time.monotonic() - began >= 0.1
    bus.set_fault("000000000001", "silent", None)
    assert await ask(bus, read_request("000000000001", ENERGY)) is not None


async def test_scheduled_faults_start_and_clear_at_run_time() -> None:
    bus = MeterBus(make_meters(2), schedule=[
        FaultEntry("000000000001", Fault.SILENT, True),
        FaultEntry("000000000002", Fault.ABNORMAL, 1, at=0.05, duration=0.1)])
    await bus.start()
    try:
        assert Fault.SILENT in bus.meter("000000000001").faults  # at 0: set before start returns
        deadline = time.monotonic() + 3
        seen = []
        while time.monotonic() < deadline and seen[-2:] != [True, False]:
            state = Fault.ABNORMAL in bus.meter("000000000002").faults
            if not seen or seen[-1] != state:
                seen.append(state)
            await asyncio.sleep(0.005)
        assert seen[-2:] == [True, False]
    finally:
        await bus.stop()


def test_fault_files_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text('- {meter: "000000000003", fault: silent}\n'
                    '- {meter: "000000000004", fault: garbage, value: truncated, at: 30, '
                    'duration: 60}\n'
                    '- {meter: "000000000005", fault: abnormal, value: 0x02}\n')
    assert load_faults(path) == [
        FaultEntry("000000000003", Fault.SILENT, True),
        FaultEntry("000000000004", Fault.GARBAGE, Garbage.TRUNCATED, 30.0, 60.0),
        FaultEntry("000000000005", Fault.ABNORMAL, 2)]


@pytest.mark.parametrize(("doc", "message"), [
    ([{"meter": 3, "fault": "silent"}],
     "entry 0: 'meter' must be a 12-digit meter address such as \"000000000003\", got 3 "
     "(quote it"),
    ([{"meter": "000000000003", "fault": "fog"}], "entry 0: unknown fault 'fog'"),
    ([{"meter": "000000000003", "fault": "garbage", "value": "noise"}],
     "garbage kind 'noise' is unknown; known: checksum, truncated, non_bcd"),
    ([{"meter": "000000000003", "fault": "abnormal", "value": 300}],
     "abnormal needs an error byte 1..255"),
    ([{"meter": "000000000003", "fault": "slow", "value": -1}], "slow needs a delay"),
    ([{"meter": "000000000003", "fault": "silent", "at": -5}], "'at' must be a number"),
    ({"meter": "000000000003"}, "must be a list"),
])
def test_bad_fault_entries_are_refused_with_the_fix(doc: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_faults(doc, source="meter fault file f.yaml")
    assert str(caught.value).startswith("meter fault file f.yaml")
    assert message in str(caught.value)


def test_faults_for_meters_not_on_the_bus_are_refused() -> None:
    with pytest.raises(ValueError, match="fault for meter 000000000009: no such meter on the "
                                         "bus"):
        MeterBus(make_meters(2), schedule=[FaultEntry("000000000009", Fault.SILENT, True)])


# ---------------------------------------------------------------- the TCP gateway

async def test_the_tcp_gateway_carries_frames_both_ways_and_restarts_on_its_port() -> None:
    bus = MeterBus(make_meters(2))
    gateway = TcpGateway(bus)
    await gateway.start()
    port = gateway.port
    try:
        for _ in range(2):
            reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
            # Two requests in one write, split oddly: both are answered, in order.
            writer.write(read_request("000000000001", ENERGY) +
                         read_request("000000000002", ENERGY))
            replies = b""
            async with asyncio.timeout(3):
                while replies.count(b"\x16") < 2 or not replies.endswith(b"\x16"):
                    replies += await reader.read(100)
            assert replies.index(b"\x68\x01") < replies.index(b"\x68\x02")
            writer.close()
            await gateway.stop()
            await gateway.start()
            assert gateway.port == port
    finally:
        await gateway.stop()
