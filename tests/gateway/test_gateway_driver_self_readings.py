"""What a driver says about itself (a polled link's cycle time and overruns) goes out as
readings of the gateway's own device, with the spool counters."""

from __future__ import annotations

import json
from pathlib import Path

from gateway_support import FakeDriver, config_dict, write_config

from gateway.app import Gateway
from gateway.config import load_config


class LinkDriver(FakeDriver):
    def self_readings(self) -> dict[str, float]:
        return {"modbus_link_bus1_cycle_s": 12.5, "modbus_link_bus1_cycle_overruns_total": 3.0}


def test_a_drivers_own_figures_are_readings_of_the_gateway(
        tmp_path: Path, fake_driver: type[FakeDriver]) -> None:
    gateway = Gateway(load_config(write_config(tmp_path, config_dict(devices=1))))
    gateway.drivers["fake"] = LinkDriver({}, [])
    gateway.report_self()
    gateway.spool.flush()
    batch = gateway.spool.next_batch(100)
    assert batch is not None
    own = {i["metric"]: i["value"] for i in map(json.loads, batch.bodies)
           if i["device"] == "gw1"}
    assert own["modbus_link_bus1_cycle_s"] == 12.5
    assert own["modbus_link_bus1_cycle_overruns_total"] == 3.0
    assert own["spool_items"] == 0.0
    gateway.spool.close()
