"""The DL/T 645 driver against the simulated meters, over a TCP transparent gateway and over
a socat pseudo-terminal pair: exact values, a silent meter that costs its neighbours one
timeout at most, garbage and abnormal replies named, and a link that comes back."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import socket
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from driver_support import RecordingSink

from drivers.base import DeviceSpec, Observation, Outcome
from drivers.dlt645 import Dlt645Driver, FrameError, create
from simulators.dlt645 import MeterBus, PtyPair, SerialPort, TcpGateway, make_meters

ENERGY, VOLTS, AMPS, KW = 0x00010000, 0x02010100, 0x02020100, 0x02030000


class TimedSink(RecordingSink):
    """Records when each observation arrived, per device."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, list[tuple[float, Observation]]] = defaultdict(list)

    def observe(self, observation: Observation) -> None:
        super().observe(observation)
        self.seen[observation.device].append((time.monotonic(), observation))

    def outcomes(self, device: str) -> list[Outcome]:
        return [o.outcome for _, o in self.seen[device]]


async def until(condition: Callable[[], bool], what: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(0.01)


@pytest.fixture
async def bus() -> AsyncIterator[tuple[MeterBus, TcpGateway]]:
    meters = MeterBus(make_meters(5))
    gateway = TcpGateway(meters)
    await gateway.start()
    await meters.start()
    yield meters, gateway
    await meters.stop()
    await gateway.stop()


def driver_for(link: dict[str, Any], addresses: Sequence[str], *, period: float = 0.3,
               profile: str = "dlt645_2007", **settings: Any) -> Dlt645Driver:
    devices = [DeviceSpec(f"m{a[-2:]}", "dlt645", profile, f"tgw/{a}",
                          timedelta(seconds=period)) for a in addresses]
    return create({"links": {"tgw": link}, "reconnect_min": 0.05, "reconnect_max": 0.2,
                   **settings}, devices)


def tcp(port: int, timeout: float = 0.2) -> dict[str, Any]:
    return {"type": "tcp", "host": "127.0.0.1", "port": port, "timeout": timeout}


@contextlib.asynccontextmanager
async def running(driver: Dlt645Driver, sink: TimedSink) -> AsyncIterator[None]:
    task = asyncio.create_task(driver.run(sink))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def expected(bus: MeterBus, address: str, di: int, scale: int = 1) -> list[float]:
    """What the driver must report for what the meter last sent."""
    return [float(v * Decimal(scale)) for v in bus.meter(address).answered[di]]


# ---------------------------------------------------------------- values

async def test_readings_are_exactly_the_values_the_meters_sent(
        bus: tuple[MeterBus, TcpGateway]) -> None:
    meters, gateway = bus
    addresses = sorted(meters.meters)[:2]  # the first sends FE wake-up bytes, the next not
    driver = driver_for(tcp(gateway.port), addresses)
    for m, address in zip(driver.meters, addresses, strict=True):
        result = await driver.poll(m)
        assert result.observation == Observation(m.id, Outcome.OK)
        got = {r.metric: r.value for r in result.readings}
        assert got == {"energy_import_kwh": expected(meters, address, ENERGY)[0],
                       "voltage_v": expected(meters, address, VOLTS)[0],
                       "current_a": expected(meters, address, AMPS)[0],
                       "power_w": expected(meters, address, KW, 1000)[0]}
        assert got["energy_import_kwh"] >= 1000 and 198 <= got["voltage_v"] <= 242
        assert {r.device for r in result.readings} == {m.id}


async def test_three_phase_meters_report_each_phase_from_blocks() -> None:
    meters = MeterBus(make_meters(1, phases=3))
    gateway = TcpGateway(meters)
    await gateway.start()
    try:
        (address,) = meters.meters
        driver = driver_for(tcp(gateway.port), [address], profile="dlt645_2007_3phase")
        result = await driver.poll(driver.meters[0])
        got = {r.metric: r.value for r in result.readings}
        assert result.observation.outcome is Outcome.OK
        assert [got[f"voltage_l{n}_v"] for n in (1, 2, 3)] == expected(meters, address,
                                                                       0x0201FF00)
        assert [got["power_w"], got["power_l1_w"], got["power_l2_w"], got["power_l3_w"]] == \
            expected(meters, address, 0x0203FF00, 1000)
    finally:
        await gateway.stop()


async def test_a_single_phase_meter_asked_for_phase_blocks_answers_no_requested_data(
        bus: tuple[MeterBus, TcpGateway]) -> None:
    _, gateway = bus
    driver = driver_for(tcp(gateway.port), ["000000000001"], profile="dlt645_2007_3phase")
    result = await driver.poll(driver.meters[0])
    assert result.observation.outcome is Outcome.DEGRADED
    assert "0201FF00 (voltage block (A, B, C)): abnormal reply from meter 000000000001: error " \
           "byte 0x02 (no requested data)" in result.observation.reason
    assert [r.metric for r in result.readings] == ["energy_import_kwh"]


# ---------------------------------------------------------------- bad meters

async def test_a_silent_meter_fails_while_its_neighbours_keep_their_period(
        bus: tuple[MeterBus, TcpGateway]) -> None:
    meters, gateway = bus
    period, timeout = 0.25, 0.2
    meters.set_fault("000000000002", "silent")
    driver = driver_for(tcp(gateway.port, timeout), sorted(meters.meters), period=period,
                        silent_retry_max=1.0)
    sink = TimedSink()
    neighbours = ["m01", "m03", "m04", "m05"]
    async with running(driver, sink):
        await until(lambda: all(len(sink.seen[n]) >= 9 for n in neighbours),
                    "9 polls of every neighbour")
        silent = [t for t, _ in sink.seen["m02"]]
        meters.set_fault("000000000002", "silent", None)
        await until(lambda: sink.outcomes("m02")[-1] is Outcome.OK, "the meter back",
                    within=3)
    worst = 0.0
    for n in neighbours:
        assert set(sink.outcomes(n)) == {Outcome.OK}
        gaps = [b - a for a, b in itertools.pairwise([t for t, _ in sink.seen[n]][:9])]
        worst = max(worst, *gaps)
        # Each neighbour is polled every period; the silent meter's attempt may hold the
        # link for one timeout, never more.
        assert max(gaps) < period + timeout + 0.05, (n, gaps)
        assert abs(sum(gaps) / len(gaps) - period) < 0.03, (n, gaps)
    failed = [o for _, o in sink.seen["m02"] if o.outcome is Outcome.FAILED]
    assert failed[0].reason == ("meter tgw/000000000002: no reply within 0.2 s to the read "
                                "of 00010000 (total forward active energy)")
    # One read per attempt, and the attempts back off: 1, 2, 4 ... periods (at most 1 s).
    good = sink.outcomes("m02").count(Outcome.OK)
    assert meters.meter("000000000002").requests == len(failed) + 4 * good
    retry_gaps = [round(b - a, 3) for a, b in itertools.pairwise(silent)]
    assert retry_gaps[:3] == pytest.approx([period, 2 * period, 4 * period], abs=0.05)
    assert all(g <= 1.0 + 0.05 for g in retry_gaps)
    print(f"\nsilent meter: neighbours' longest gap {worst:.3f} s (period {period} s, timeout "
          f"{timeout} s); gaps between the silent meter's attempts {retry_gaps}")


@pytest.mark.parametrize(("kind", "reason"), [
    ("checksum", "checksum expected 0x"),
    ("truncated", "truncated frame: "),
    ("non_bcd", "non-BCD digit in data: byte 0xAB"),
    ("bad_start", "bad start byte 0x69"),
    ("no_end", "missing end byte 0x16 (got 0x61)"),
    ("wrong_di", "reply to another data identifier 00010001 (asked for 00010000)"),
    ("wrong_address", "wrong address: reply from meter 000000000099, the request went to "
                      "000000000001"),
])
async def test_a_garbling_meter_is_degraded_with_the_reason(
        bus: tuple[MeterBus, TcpGateway], kind: str, reason: str) -> None:
    meters, gateway = bus
    meters.set_fault("000000000001", "garbage", kind)
    driver = driver_for(tcp(gateway.port), ["000000000001", "000000000002"])
    garbled = await driver.poll(driver.meters[0])
    assert garbled.readings == []
    assert garbled.observation.outcome is Outcome.DEGRADED
    assert garbled.observation.reason.startswith(
        "meter tgw/000000000001: 00010000 (total forward active energy): ")
    assert reason in garbled.observation.reason
    # The rest of the garbage is gone before the neighbour's turn.
    neighbour = await driver.poll(driver.meters[1])
    assert neighbour.observation.outcome is Outcome.OK and len(neighbour.readings) == 4


async def test_an_abnormal_reply_is_named_with_its_error_bits(
        bus: tuple[MeterBus, TcpGateway]) -> None:
    meters, gateway = bus
    meters.set_fault("000000000003", "abnormal", 0x04)
    driver = driver_for(tcp(gateway.port), ["000000000003"])
    result = await driver.poll(driver.meters[0])
    assert result.observation.outcome is Outcome.DEGRADED
    assert result.observation.reason.count("error byte 0x04 (wrong password or not "
                                           "authorised)") == 4
    assert "02030000 (total active power): abnormal reply from meter 000000000003" in \
        result.observation.reason


async def test_a_late_reply_from_a_slow_meter_does_not_spoil_the_next_exchange(
        bus: tuple[MeterBus, TcpGateway]) -> None:
    meters, gateway = bus
    meters.set_fault("000000000001", "slow", 0.45)
    driver = driver_for(tcp(gateway.port, timeout=0.3), ["000000000001", "000000000002"])
    late, neighbour = await asyncio.gather(driver.poll(driver.meters[0]),
                                           driver.poll(driver.meters[1]))
    assert late.observation.outcome is Outcome.FAILED
    assert "no reply within 0.3 s" in late.observation.reason
    assert neighbour.observation.outcome is Outcome.OK
    assert {r.metric: r.value for r in neighbour.readings}["voltage_v"] == \
        expected(meters, "000000000002", VOLTS)[0]


# ---------------------------------------------------------------- the link

async def test_the_link_reconnects_after_the_gateway_restarts(
        bus: tuple[MeterBus, TcpGateway]) -> None:
    _, gateway = bus
    driver = driver_for(tcp(gateway.port), ["000000000001"], period=0.1)
    sink = TimedSink()
    async with running(driver, sink):
        await until(lambda: sink.outcomes("m01").count(Outcome.OK) >= 2, "two good polls")
        await gateway.stop()
        await until(lambda: Outcome.FAILED in sink.outcomes("m01"), "a failed poll")
        down = next(o for _, o in sink.seen["m01"] if o.outcome is Outcome.FAILED)
        await gateway.start()
        mark = len(sink.seen["m01"])
        await until(lambda: Outcome.OK in sink.outcomes("m01")[mark:], "a good poll again")
    assert down.reason.startswith(f"meter tgw/000000000001: link tgw (tcp://127.0.0.1:"
                                  f"{gateway.port}) is down: ")
    assert driver.links["tgw"].connects == 2
    assert gateway.accepted == 2


async def test_a_dead_gateway_fails_its_meters_without_waiting_each_time() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    driver = driver_for(tcp(port), ["000000000001", "000000000002"], reconnect_min=5,
                        reconnect_max=5)
    first = await driver.poll(driver.meters[0])
    began = time.monotonic()
    second = await driver.poll(driver.meters[1])
    assert time.monotonic() - began < 0.05
    assert first.observation.reason == (f"meter tgw/000000000001: link tgw (tcp://127.0.0.1:"
                                        f"{port}) is down: cannot connect to 127.0.0.1:{port}: "
                                        "Connection refused; next attempt in 5 s")
    assert second.observation.outcome is Outcome.FAILED
    assert "Connection refused; next attempt in 5 s" in second.observation.reason


async def test_the_wildcard_read_finds_a_meter_alone_on_its_bus() -> None:
    alone = MeterBus(make_meters(1, first="000012345678"))
    gateway = TcpGateway(alone)
    await gateway.start()
    try:
        driver = driver_for(tcp(gateway.port), ["000012345678"])
        assert await driver.read_address("tgw") == "000012345678"
    finally:
        await gateway.stop()


async def test_the_wildcard_read_on_a_shared_bus_gets_a_collision(
        bus: tuple[MeterBus, TcpGateway]) -> None:
    _, gateway = bus
    driver = driver_for(tcp(gateway.port), ["000000000001"])
    with pytest.raises(FrameError):
        await driver.read_address("tgw")


# ---------------------------------------------------------------- RS-485 over a pty pair

@pytest.fixture
def pty_pair() -> Iterator[PtyPair]:
    if shutil.which("socat") is None:
        pytest.skip("socat is not installed: it links the two pseudo-terminals of the "
                    "RS-485 path (apt-get install socat)")
    with PtyPair() as pair:
        yield pair


async def test_meters_on_a_serial_line_are_read_through_a_pty_pair(pty_pair: PtyPair) -> None:
    meters = MeterBus(make_meters(3))
    meters.set_fault("000000000003", "silent")
    port = SerialPort(meters, pty_pair.meter_side)
    await port.start()
    try:
        driver = driver_for({"type": "serial", "port": pty_pair.gateway_side,
                             "baudrate": 2400, "parity": "E", "timeout": 0.3},
                            sorted(meters.meters))
        good = [await driver.poll(m) for m in driver.meters[:2]]
        silent = await driver.poll(driver.meters[2])
        for result, address in zip(good, ("000000000001", "000000000002"), strict=True):
            assert result.observation.outcome is Outcome.OK
            assert {r.metric: r.value for r in result.readings} == {
                "energy_import_kwh": expected(meters, address, ENERGY)[0],
                "voltage_v": expected(meters, address, VOLTS)[0],
                "current_a": expected(meters, address, AMPS)[0],
                "power_w": expected(meters, address, KW, 1000)[0]}
        assert silent.observation.reason == ("meter tgw/000000000003: no reply within 0.3 s "
                                             "to the read of 00010000 (total forward active "
                                             "energy)")
        for link in driver.links.values():
            await link.close()
    finally:
        await port.stop()
