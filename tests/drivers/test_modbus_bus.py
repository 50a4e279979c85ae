"""An RS-485 bus (socat pseudo-terminals) and an RTU-over-TCP gateway with several units:
a dead unit never holds up its live neighbours by more than one timeout and comes back by
itself; units that answer wrongly are degraded with the reason named."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import AsyncIterator
from itertools import pairwise

import pytest
from modbus_support import TimedSink, eventually, make_driver, running, spec, tcp_link

from drivers.base import Outcome
from simulators.modbus import EastronSdm120, SerialBus, TcpEndpoint

PERIOD = 0.3
TIMEOUT = 0.15


def bus_link(bus: SerialBus) -> dict[str, object]:
    # 115200 baud: the inter-frame silence (1.75 ms) does not dominate the measurement.
    return {"type": "rtu", "port": bus.client_port, "baudrate": 115200, "timeout": TIMEOUT}


async def test_a_dead_unit_never_delays_live_neighbours_beyond_one_timeout(
        capsys: pytest.CaptureFixture[str]) -> None:
    meters = {u: EastronSdm120(seed=u) for u in range(1, 11)}
    meters[5].kill()
    live = [u for u in meters if u != 5]
    async with SerialBus(meters) as bus:
        assert isinstance(bus, SerialBus)
        driver = make_driver({"bus": bus_link(bus)},
                             [spec(f"m{u}", "eastron_sdm120", f"bus/{u}", PERIOD)
                              for u in meters], retry_max=0.6)
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: all(len(sink.ok_times(f"m{u}")) >= 10 for u in live),
                             "ten good polls of every live meter", within=10)
            retries = meters[5].ignored
            meters[5].revive()
            revived = asyncio.get_running_loop().time()
            await eventually(lambda: sink.ok_times("m5"), "the revived meter answers again",
                             within=0.6 + PERIOD + TIMEOUT + 1.0)
            back_after = sink.ok_times("m5")[0] - revived

    assert retries >= 3, "the dead unit must have been retried (and cost a timeout) meanwhile"
    dead = [(t, o) for t, o in sink.timed if o.device == "m5" and o.outcome is Outcome.FAILED]
    assert dead and all("device m5 (unit 5 on link bus): no answer within 0.15 s to the read "
                        "of input registers 0x0000..0x0001 (fc 4)" in o.reason for _, o in dead)
    assert all(o.outcome is Outcome.OK for o in sink.observations if o.device != "m5")
    # Judged by order, not by the clock: a live meter's poll waits behind at most one
    # timeout of the dead unit, i.e. between two good polls of a live meter at most one
    # time-out of m5 ends. Two would mean the dead unit held the bus twice in one period.
    # Its attempts back off 0.3 s, then 0.6 s apart: counted from the second one, two ends in
    # one gap need a live poll held up for a whole retry interval, not one timeout.
    timeouts = [t for t, _ in dead if t < revived][1:]
    behind = {u: max(sum(a < t <= b for t in timeouts)
                     for a, b in pairwise(sink.ok_times(f"m{u}")))
              for u in live}
    assert max(behind.values()) == 1, behind
    # The revived unit answers at its next retry: at most the one attempt already in flight
    # when it came back fails.
    assert sum(t > revived for t, _ in dead) <= 1
    intervals = [b - a for u in live for a, b in pairwise(sink.ok_times(f"m{u}"))]
    with capsys.disabled():
        print(f"\n[bus timing] 10 units over socat RS-485, unit 5 dead (retried {retries} "
              f"times); period {PERIOD} s, timeout {TIMEOUT} s: live poll interval mean "
              f"{statistics.mean(intervals):.3f} s, worst {max(intervals):.3f} s; revived unit "
              f"answered after {back_after:.2f} s (bench.modbus_bus judges these against "
              f"their limits)")


async def test_exception_and_garbage_units_are_degraded_with_the_reason_named() -> None:
    meters = {u: EastronSdm120(seed=u) for u in (1, 2, 3)}
    meters[2].fail_with(4)
    meters[3].send_garbage()
    async with SerialBus(meters) as bus:
        assert isinstance(bus, SerialBus)
        driver = make_driver({"bus": bus_link(bus)},
                             [spec(f"m{u}", "eastron_sdm120", f"bus/{u}") for u in meters])
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: all(sink.last(f"m{u}") for u in meters), "a poll of each")
    assert sink.last("m1") is not None and sink.last("m1").outcome is Outcome.OK  # type: ignore[union-attr]
    exc = sink.last("m2")
    assert exc is not None and exc.outcome is Outcome.DEGRADED
    assert ("device m2 (unit 2 on link bus), profile eastron_sdm120: read of input registers "
            "0x0000..0x0001 (fc 4) answered with exception 4 SERVER DEVICE FAILURE (the device "
            "reports an internal fault or is busy)") in exc.reason
    garbage = sink.last("m3")
    assert garbage is not None and garbage.outcome is Outcome.DEGRADED
    assert ("input register 0x0000 (f32, voltage_v): expected a finite number, received "
            "FFFF FFFF (nan)") in garbage.reason
    assert not sink.latest("m3") and not sink.latest("m2"), "garbage produces no reading"


@pytest.fixture
async def gateway() -> AsyncIterator[TcpEndpoint]:
    meters = {1: EastronSdm120(seed=1), 2: EastronSdm120(seed=2), 3: EastronSdm120(seed=3)}
    meters[2].kill()
    meters[3].fail_with(11)  # what a serial gateway answers for a silent slave
    async with TcpEndpoint(meters, rtu=True) as endpoint:
        assert isinstance(endpoint, TcpEndpoint)
        yield endpoint


async def test_rtu_over_tcp_gateway_units_are_polled_and_silent_ones_fail(
        gateway: TcpEndpoint) -> None:
    driver = make_driver({"gw3": tcp_link(gateway, TIMEOUT)},
                         [spec(f"m{u}", "eastron_sdm120", f"gw3/{u}") for u in (1, 2, 3)])
    sink = TimedSink()
    async with running(driver, sink):
        await eventually(lambda: len(sink.ok_times("m1")) >= 3 and sink.last("m2")
                         and sink.last("m3"), "polls of all three")
    assert sink.latest("m1")["energy_import_kwh"] >= 1000.0
    silent = sink.last("m2")
    assert silent is not None and silent.outcome is Outcome.FAILED
    assert "no answer within 0.15 s" in silent.reason
    behind = sink.last("m3")
    assert behind is not None and behind.outcome is Outcome.FAILED
    assert ("the gateway answered the read of input registers 0x0000..0x0001 (fc 4) with "
            "exception 11 GATEWAY TARGET DEVICE FAILED TO RESPOND: the device behind it is "
            "silent") in behind.reason
    assert driver.links["gw3"].connects == 1, "a silent unit behind a live gateway must not " \
                                              "make the driver reopen the connection"


async def test_bytes_that_are_not_a_modbus_answer_are_garbage_not_silence() -> None:
    async def babble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(256):
            writer.write(bytes.fromhex("01 04 04 43 66 00 00 ff ff"))  # bad CRC

    server = await asyncio.start_server(babble, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        driver = make_driver({"gw": {"type": "rtu_over_tcp", "host": "127.0.0.1", "port": port,
                                     "timeout": TIMEOUT}},
                             [spec("m1", "eastron_sdm120", "gw/1")])
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: sink.last("m1"), "a poll")
    finally:
        server.close()
        await server.wait_closed()
    got = sink.last("m1")
    assert got is not None and got.outcome is Outcome.DEGRADED
    assert ("read of input registers 0x0000..0x0001 (fc 4): expected a Modbus answer, received "
            "9 bytes 01 04 04 43 66 00 00 ff ff that are not a valid answer to the request") \
        in got.reason
