"""A street-lighting controller over Modbus: switching and dimming commands reach the
controller, readings follow, lamp / gear / relay faults raise and clear like the MQTT
street light's."""

from __future__ import annotations

import pytest
from modbus_support import TimedSink, eventually, make_driver, running, spec, tcp_link

from drivers.modbus import CommandError
from simulators.modbus import LightController, TcpEndpoint


async def test_switch_dim_and_faults_of_a_modbus_street_light() -> None:
    lamp = LightController(rated_w=120.0, energy_kwh=10.0)
    async with TcpEndpoint({3: lamp}) as endpoint:
        assert isinstance(endpoint, TcpEndpoint)
        driver = make_driver({"gw": tcp_link(endpoint)},
                             [spec("light-m01", "street_light_controller", "gw/3", 0.05)])
        sink = TimedSink()
        async with running(driver, sink):
            await eventually(lambda: sink.latest("light-m01").get("power_w") == 120.0,
                             "full power")
            await driver.write("light-m01", "dim", 25)
            assert lamp.dim == 25
            await eventually(lambda: sink.latest("light-m01").get("power_w") == 30.0, "dimmed")
            await driver.write("light-m01", "on", False)
            assert lamp.on is False
            await eventually(lambda: sink.latest("light-m01").get("on") == 0.0, "switched off")
            with pytest.raises(CommandError, match=r"dim=150 is outside its range 0 \.\. 100"):
                await driver.write("light-m01", "dim", 150)
            with pytest.raises(CommandError, match=r"dim: 12\.5 is not a multiple of its "
                                                   r"resolution 1 %"):
                await driver.write("light-m01", "dim", 12.5)
            lamp.set_fault("gear")
            await eventually(lambda: sink.events_of("light-m01"), "gear fault raised")
            lamp.set_fault("gear", False)
            await eventually(lambda: len(sink.events_of("light-m01")) == 2, "gear fault cleared")
    latest = sink.latest("light-m01")
    assert (latest["on"], latest["dim_pct"], latest["power_w"]) == (0.0, 25.0, 0.0)
    assert latest["energy_kwh"] >= 10.0
    assert [(e.type, e.active) for e in sink.events_of("light-m01")] == [
        ("gear_fault", True), ("gear_fault", False)]
