"""The safety devices of a simulated community: lifts with e-bike detectors, SOS buttons,
fire-hazard sensors, perimeter detectors, access gates, throw cameras, manhole covers.

Like `CameraPlan`, one plan feeds the inventory, the gateway config (devices and the e-bike
lift lock-out rules) and the simulator's devices file (`scg sim safety --devices`). The
compounds are the scenario's (north, south, east, each with buildings `-b1` and `-b2`), and
the plan leaves known gaps so the indicators have something to find:

- lifts in north-b2 and east-b2, each with a detector and a controller;
- SOS buttons for 6 of 8 declared lone elderly residents, all 8 registered as residents
  with name, phone, room and emergency contact (fictitious: see `RESIDENTS`);
- fire-hazard sensors: all four kinds in north, three in south (no electrical), none in east;
- perimeter detectors in north and south; gates for people and vehicles in north, people only
  in south; a throw camera on north-b2 (floors 3 to the top); two manhole covers in north.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The demo's lone elderly residents. Every one is made up: the given names are built of
#: characters that say so (演 demo, 样 sample, 例 example, 虚 fictitious, 构 made-up, 假
#: false, 拟 simulated, 设 supposed), and the numbers are 138/139 followed by zeros and a
#: serial. China reserves no phone range for fiction, so these are merely implausible ones.
RESIDENTS = (
    ("张演华", "张演明"), ("李样芳", "李样军"), ("王例明", "王例丽"), ("赵虚英", "赵虚东"),
    ("钱构兰", "钱构平"), ("孙假国", "孙假红"), ("周拟珍", "周拟伟"), ("吴设强", "吴设霞"),
)
_COMPOUND_WORDS = {"north": "北苑", "south": "南苑", "east": "东苑"}

HAZARD_SENSORS = {"north": ("fire_lane", "hydrant", "fire_door", "electrical"),
                  "south": ("fire_lane", "hydrant", "fire_door")}


@dataclass
class SafetyPlan:
    lift_buildings: tuple[str, ...] = ("north-b2", "east-b2")
    lone_elderly: int = 8
    sos_buttons: int = 6
    period_s: float = 10.0

    def _devices(self) -> list[dict[str, Any]]:
        """Each device once: id, inventory kind, profile (= simulator kind) and extras."""
        out: list[dict[str, Any]] = []
        for b in self.lift_buildings:
            lift = f"lift-{b}"
            out.append({"id": lift, "kind": "elevator", "building": b})
            out.append({"id": f"liftcam-{b}", "kind": "ebike_detector", "profile":
                        "ebike_detector", "elevator": lift})
            out.append({"id": f"liftctl-{b}", "kind": "elevator_controller", "profile":
                        "elevator_controller", "elevator": lift, "sim": {"floors": 18}})
        for n in range(1, self.sos_buttons + 1):
            out.append({"id": f"sos-{n:03d}", "kind": "sos_button", "profile": "sos_button",
                        "resident": f"elder-{n:03d}"})
        for compound, kinds in HAZARD_SENSORS.items():
            for kind in kinds:
                out.append({"id": f"hz-{compound}-{kind}", "kind": "fire_hazard_sensor",
                            "profile": "fire_hazard_sensor", "compound": compound,
                            "hazards": [kind], "sim": {"hazard": kind}})
        for compound in ("north", "south"):
            out.append({"id": f"fence-{compound}", "kind": "perimeter_detector",
                        "profile": "perimeter_detector", "compound": compound})
        out.append({"id": "gate-north", "kind": "access_gate", "profile": "access_gate",
                    "compound": "north", "subjects": ["person", "vehicle"]})
        out.append({"id": "gate-south", "kind": "access_gate", "profile": "access_gate",
                    "compound": "south", "subjects": ["person"]})
        out.append({"id": "throw-north-b2", "kind": "throw_camera", "profile": "throw_detector",
                    "building": "north-b2", "floors": [3, 18], "sim": {"floors": 18}})
        for n in (1, 2):
            out.append({"id": f"mh-north-{n}", "kind": "manhole_cover",
                        "profile": "manhole_cover", "compound": "north"})
        return out

    def residents(self) -> list[dict[str, Any]]:
        """The `residents:` section: every lone elderly resident, fictitious (`RESIDENTS`);
        SOS button n belongs to resident n."""
        out = []
        for n in range(1, self.lone_elderly + 1):
            name, contact = RESIDENTS[(n - 1) % len(RESIDENTS)]
            compound = ("north", "south", "east")[(n - 1) % 3]
            room = (f"{_COMPOUND_WORDS[compound]}{1 + n % 2}号楼{1 + n % 3}单元"
                    f"{1 + n % 6}0{n % 4 + 1}室")
            out.append({"id": f"elder-{n:03d}", "name": name, "phone": f"1380000{n:04d}",
                        "room": room,
                        "emergency_contact": {"name": contact, "phone": f"1390000{n:04d}"}})
        return out

    def inventory_devices(self, gateway: str) -> list[dict[str, Any]]:
        rows = []
        for d in self._devices():
            row = {k: v for k, v in d.items() if k not in ("profile", "sim")}
            if "profile" in d:
                row.update(gateway=gateway, protocol="mqtt", address=d["id"])
            rows.append(row)
        return rows

    def gateway_devices(self) -> list[dict[str, Any]]:
        return [{"id": d["id"], "driver": "mqtt", "profile": d["profile"], "address": d["id"],
                 "period": f"{self.period_s}s"} for d in self._devices() if "profile" in d]

    def rules(self) -> list[dict[str, Any]]:
        return [{"name": f"ebike-lockout-{b}", "kind": "ebike_lift_lockout",
                 "detector": f"liftcam-{b}", "controller": f"liftctl-{b}",
                 "confirm": {"hits": 2, "within": "3s", "min_confidence": 0.6},
                 "release_when": "ebike_left", "max_hold": "10m"}
                for b in self.lift_buildings]

    def simulator_devices(self) -> dict[str, Any]:
        """The devices file of `scg sim safety`."""
        return {"period": f"{self.period_s}s",
                "devices": [{"id": d["id"], "kind": d["profile"], **d.get("sim", {})}
                            for d in self._devices() if "profile" in d]}

    def demo_story(self) -> dict[str, Any]:
        """A five-minute day, replayed (`scg sim safety --story`): an e-bike wheeled into a
        lift, a false hit the lock-out rule ignores, SOS calls, a blocked fire lane, an
        intrusion, something thrown, gates opening."""
        lift = self.lift_buildings[0]
        return {"every": 300, "story": [
            {"at": 5, "action": "gate_pass", "device": "gate-north",
             "args": {"direction": "in", "subject": "vehicle", "credential": "plate"}},
            {"at": 20, "action": "false_hit", "device": f"liftcam-{lift}",
             "args": {"confidence": 0.4}},
            {"at": 40, "action": "ebike_enters", "device": f"liftcam-{lift}",
             "args": {"confidence": 0.93, "hits": 3}},
            {"at": 70, "action": "ebike_leaves", "device": f"liftcam-{lift}"},
            {"at": 90, "action": "press_sos", "device": "sos-003"},
            {"at": 120, "action": "set_hazard", "device": "hz-north-fire_lane",
             "args": {"alarm": True}},
            {"at": 150, "action": "intrusion", "device": "fence-north"},
            {"at": 165, "action": "intrusion", "device": "fence-north",
             "args": {"active": False}},
            {"at": 200, "action": "throw", "device": "throw-north-b2", "args": {"floor": 12}},
            {"at": 230, "action": "press_sos", "device": "sos-005"},
            {"at": 240, "action": "set_hazard", "device": "hz-north-fire_lane",
             "args": {"alarm": False}},
            {"at": 270, "action": "gate_pass", "device": "gate-south",
             "args": {"direction": "out", "subject": "person", "credential": "face"}},
        ]}
