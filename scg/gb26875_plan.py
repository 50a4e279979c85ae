"""A GB 26875.3 user information transmission device (用户信息传输装置) of a simulated community,
with the fire alarm controllers (火灾报警控制器) of three buildings behind it.

Like the other plans, one plan feeds the inventory (the transmission device, its panels and
their zones), the gateway config (the gb26875 driver listening, the site map from loop to
zone) and the simulator's files (`scg sim gb26875 --config --story`), so the right answers
are known. Each panel has two loops: loop 1 is zone 1, the building's public areas
(stairwells, lift lobbies, the garage), loop 2 is zone 2, its equipment rooms (not public:
they do not decide coverage). The demo story plays its faults on loop 2 only, so coverage
stays what the plan predicts while the fire on loop 1 still opens an alarm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: (system address, building, name on the panel) of the demo's three panels.
DEMO_PANELS = ((1, "north-b1", "北1栋"), (2, "north-b2", "北2栋"), (3, "south-b1", "南1栋"))
PUBLIC_ZONE, PRIVATE_ZONE = 1, 2
LOOPS, POINTS = 2, 20


@dataclass
class Gb26875Plan:
    device: str = "uitd-1"
    address: int = 100000000001
    #: the fire control room's compound (the device serves the whole community)
    compound: str | None = "north"
    panels: tuple[tuple[int, str, str], ...] = DEMO_PANELS
    #: the device's heartbeat (sent when it has been quiet this long) ...
    heartbeat_s: float = 10.0
    #: ... and the gateway's period for it and its panels: a little longer, so a heartbeat
    #: a moment late on a busy machine is not a missed one (offline after 3 periods)
    period_s: float = 15.0
    confirm_timeout_s: float = 3.0
    #: play `demo_story()` (the demo); tests steer the simulator on its control port
    story: bool = False
    #: where the gateway's gb26875 driver listens (set before the gateway config is written)
    host: str = "127.0.0.1"
    port: int = 0

    def panel_id(self, building: str) -> str:
        return f"fire-ctl-{building}"

    @property
    def buildings(self) -> list[str]:
        return [b for _, b, _ in self.panels]

    # ------------------------------------------------------------ inventory

    def inventory_devices(self, gateway: str) -> list[dict[str, Any]]:
        box: dict[str, Any] = {"id": self.device, "kind": "fire_transmission_device",
                               "gateway": gateway, "protocol": "gb26875",
                               "address": str(self.address)}
        if self.compound is not None:
            box["compound"] = self.compound
        out = [box]
        for system, building, _ in self.panels:
            out.append({"id": self.panel_id(building), "kind": "fire_panel",
                        "building": building, "gateway": gateway, "protocol": "gb26875",
                        "address": f"{self.device}/{system}",
                        "zones": [{"zone": PUBLIC_ZONE, "area": "public", "loop": 1},
                                  {"zone": PRIVATE_ZONE, "area": "private", "loop": 2}]})
        return out

    # ------------------------------------------------------------ gateway

    def driver_settings(self) -> dict[str, Any]:
        return {"gb26875": {"listen": {"host": self.host, "port": self.port},
                            "utc_offset": "+08:00"}}

    def gateway_devices(self) -> list[dict[str, Any]]:
        """What `scg inventory gb26875-devices` writes from `inventory_devices` (a test
        holds the two equal)."""
        period = f"{self.period_s}s"
        out: list[dict[str, Any]] = [
            {"id": self.device, "driver": "gb26875", "profile": "transmission_device",
             "address": str(self.address), "period": period}]
        for system, building, _ in self.panels:
            out.append({"id": self.panel_id(building), "driver": "gb26875",
                        "profile": "fire_alarm_controller",
                        "address": f"{self.device}/{system}", "period": period,
                        "options": {"zones": [{"zone": PUBLIC_ZONE, "loop": 1},
                                              {"zone": PRIVATE_ZONE, "loop": 2}]}})
        return out

    # ------------------------------------------------------------ simulator

    def simulator_config(self) -> dict[str, Any]:
        """The `scg sim gb26875 --config` document."""
        return {"address": self.address, "centre_address": 0,
                "heartbeat": f"{self.heartbeat_s}s",
                "confirm_timeout": f"{self.confirm_timeout_s}s", "retries": 3,
                "utc_offset": "+08:00",
                "panels": [{"address": system, "loops": LOOPS, "points": POINTS, "name": name}
                           for system, _, name in self.panels]}

    def demo_story(self) -> dict[str, Any]:
        """Ten minutes of the fire control room, again and again: a smoke detector in the
        second building's public area goes off, is silenced and reset; an equipment-room
        detector of the first fails and is shielded until mended; the device loses mains
        power for a minute. Only the fire opens an alarm that concerns coverage's zones,
        and a zone in fire is working: coverage does not move."""
        systems = [system for system, _, _ in self.panels]
        first, second, third = systems[0], systems[1 % len(systems)], systems[-1]
        return {"every": 600, "story": [
            {"at": 60, "action": "fire", "panel": second, "loop": 1, "point": 1},
            {"at": 90, "action": "silence", "panel": second},
            {"at": 150, "action": "reset", "panel": second},
            {"at": 200, "action": "fault", "panel": first, "loop": 2, "point": 7},
            {"at": 260, "action": "shield", "panel": first, "loop": 2, "point": 7},
            {"at": 400, "action": "restore", "panel": first, "loop": 2, "point": 7},
            {"at": 420, "action": "device", "flag": "main_power_fault"},
            {"at": 480, "action": "device", "flag": "main_power_fault", "active": False},
            {"at": 540, "action": "self_test", "panel": third},
        ]}
