"""A fire-alarm gateway over Modbus: zone bits become condition events on their edges (one
event when a bit changes, none while it stays), with the zone in the data; hydrant
pressure, fire doors and residual current become readings and alarms."""

from __future__ import annotations

from modbus_support import TimedSink, eventually, make_driver, running, spec, tcp_link

from simulators.modbus import FireAlarmGateway, TcpEndpoint
from telemetry import Severity


async def test_zone_bits_raise_and_clear_condition_events_on_their_edges() -> None:
    panel = FireAlarmGateway()
    async with TcpEndpoint({2: panel}) as endpoint:
        assert isinstance(endpoint, TcpEndpoint)
        driver = make_driver({"gw2": tcp_link(endpoint)},
                             [spec("fire", "fire_alarm_gateway", "gw2/2", 0.05)])
        sink = TimedSink()

        def seen(n: int) -> bool:
            return len(sink.events_of("fire")) >= n

        async with running(driver, sink):
            await eventually(lambda: sink.ok_times("fire"), "the first poll")
            panel.set_zone(3, "fire")
            panel.set_zone(9, "supervisory")
            await eventually(lambda: seen(2), "fire and supervisory raised")
            polls = len(sink.ok_times("fire"))
            await eventually(lambda: len(sink.ok_times("fire")) >= polls + 3, "3 more polls")
            assert len(sink.events_of("fire")) == 2, "no event while a bit stays set"
            panel.set_zone(3, "fault")
            panel.set_zone(3, "fire", False)
            await eventually(lambda: seen(4), "fault raised, fire cleared")
            panel.set_zone(16, "disabled")
            await eventually(lambda: seen(5), "zone 16 disabled")

    events = [(e.type, e.active, e.data, e.severity) for e in sink.events_of("fire")]
    assert events[:2] == [("zone_fire", True, {"zone": 3}, Severity.CRITICAL),
                          ("zone_supervisory", True, {"zone": 9}, Severity.WARNING)]
    assert sorted(events[2:4], key=str) == sorted([
        ("zone_fire", False, {"zone": 3}, Severity.CRITICAL),
        ("zone_fault", True, {"zone": 3}, Severity.ALARM)], key=str)
    assert events[4] == ("zone_disabled", True, {"zone": 16}, Severity.WARNING)


async def test_hydrant_doors_and_residual_current_are_read_and_alarmed() -> None:
    panel = FireAlarmGateway()
    async with TcpEndpoint({2: panel}) as endpoint:
        assert isinstance(endpoint, TcpEndpoint)
        driver = make_driver({"gw2": tcp_link(endpoint)},
                             [spec("fire", "fire_alarm_gateway", "gw2/2", 0.05)])
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: sink.ok_times("fire"), "the first poll")
            assert sink.latest("fire")["fire_door_open"] == 0.0
            panel.set_pressure(0.08)
            panel.set_residual_current(350.0)
            panel.set_door(4)
            await eventually(lambda: len(sink.events_of("fire")) == 3, "three hazards")
    latest = sink.latest("fire")
    assert (latest["hydrant_pressure_mpa"], latest["residual_current_ma"],
            latest["fire_door4_open"], latest["fire_door_open"]) == (0.08, 350.0, 1.0, 1.0)
    assert {(e.type, e.active, tuple(e.data.items()), e.severity)
            for e in sink.events_of("fire")} == {
        ("hydrant_pressure_low", True, (), Severity.ALARM),
        ("residual_current_high", True, (), Severity.ALARM),
        ("fire_door_open", True, (("door", 4),), Severity.WARNING)}
