"""The cameras of a simulated community: where they are, what their records say, how they fail.

One plan feeds three places — the inventory (records, key positions), the gateway config
(ONVIF devices at the simulator's URLs) and the camera simulator's fault schedule — so the
demo and the end-to-end test measure a community whose right answers are known:

- 14 key positions in 3 compounds; the first 12 have two cameras each (cam-001 … cam-024),
  kp-13 and kp-14 have none;
- 20 more cameras (cam-025 … cam-044), of which cam-041 … cam-044 are not public;
- picture / access faults on cam-001 … cam-013 (key positions) and cam-025 … cam-030;
- record defects on cam-015 … cam-018 and a duplicated code on cam-031 / cam-032.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KEY_POSITION_TYPES = ("community_entrance", "parking_entrance", "main_road", "fire_lane")
_TYPE_WORDS = {"community_entrance": "大门出入口", "parking_entrance": "停车库出入口",
               "main_road": "主干道", "fire_lane": "消防通道"}
_COMPOUND_WORDS = {"north": "北苑", "south": "南苑", "east": "东苑"}

#: Faults given to cameras at start, as the simulator names them.
START_FAULTS: dict[str, dict[str, Any]] = {
    "cam-001": {"unreachable": True},
    "cam-003": {"wrong_password": True},
    "cam-004": {"black": True},
    "cam-005": {"clock_skew": 300},
    "cam-007": {"blank": True},
    "cam-009": {"frozen": True},
    "cam-011": {"corrupt_jpeg": True},
    "cam-025": {"unreachable": True},
    "cam-026": {"wrong_password": True},
    "cam-027": {"black": True},
    "cam-028": {"blank": True},
    "cam-029": {"frozen": True},
    "cam-030": {"corrupt_jpeg": True},
}
#: Cameras whose tamper alarm is open from the start (the end-to-end test raises it; the
#: demo does not).
START_TAMPER = ("cam-013",)
#: Cameras whose record fails a check: camera type, factory name, position, civil code,
#: and a duplicated code (both cameras sharing it fail).
RECORD_DEFECTS = ("cam-015", "cam-016", "cam-017", "cam-018", "cam-031", "cam-032")


@dataclass(frozen=True)
class PlannedCamera:
    id: str
    compound: str
    key_position: str | None
    public: bool
    code: str
    name: str
    civil_code: str
    longitude: float
    latitude: float


@dataclass
class CameraPlan:
    district: str = "370102"
    center: tuple[float, float] = (117.0012, 36.6512)   # lon, lat
    radius_m: float = 800.0
    compounds: tuple[str, ...] = ("north", "south", "east")
    period_s: float = 10.0
    username: str = "admin"
    password: str = "admin123"
    cameras: list[PlannedCamera] = field(init=False)
    key_positions: list[dict[str, str]] = field(init=False)

    def __post_init__(self) -> None:
        self.key_positions = [
            {"id": f"kp-{k:02d}", "type": KEY_POSITION_TYPES[(k - 1) % 4],
             "compound": self.compounds[(k - 1) % len(self.compounds)],
             "name": f"{_COMPOUND_WORDS.get(self.compounds[(k - 1) % len(self.compounds)], '')}"
                     f"{_TYPE_WORDS[KEY_POSITION_TYPES[(k - 1) % 4]]}{k}"}
            for k in range(1, 15)]
        self.cameras = [self._camera(n) for n in range(1, 45)]

    def _camera(self, n: int) -> PlannedCamera:
        cam_id = f"cam-{n:03d}"
        kp = self.key_positions[(n - 1) // 2] if n <= 24 else None
        compound = kp["compound"] if kp else self.compounds[n % len(self.compounds)]
        # Spread the cameras on a ring well inside the community boundary.
        angle = 2 * math.pi * n / 44
        lon = self.center[0] + 0.003 * math.cos(angle)
        lat = self.center[1] + 0.002 * math.sin(angle)
        place = kp["name"] if kp else f"{_COMPOUND_WORDS.get(compound, compound)}{n}号楼单元门"
        code = f"{self.district}00" + "00" + "132" + "0" + f"{n:06d}"
        name = f"{place}{n:02d}"
        civil = self.district
        if cam_id == "cam-015":
            code = f"{self.district}00" + "00" + "118" + "0" + f"{n:06d}"  # not a camera type
        elif cam_id == "cam-016":
            name = "IPCamera"                                           # factory default
        elif cam_id == "cam-017":
            lon, lat = self.center[0] + 0.05, self.center[1]            # ~4.5 km away
        elif cam_id == "cam-018":
            civil = "370103"                                            # not the code's prefix
        elif cam_id == "cam-032":
            code = f"{self.district}00" + "00" + "132" + "0" + f"{31:06d}"  # cam-031's code
        return PlannedCamera(cam_id, compound, kp["id"] if kp else None, n <= 40, code, name,
                             civil, round(lon, 6), round(lat, 6))

    def record_defects(self) -> tuple[str, ...]:
        return RECORD_DEFECTS

    @property
    def boundary(self) -> dict[str, Any]:
        return {"center": list(self.center), "radius_m": self.radius_m}

    def inventory_devices(self, gateway: str, urls: dict[str, str]) -> list[dict[str, Any]]:
        """The cameras' rows, with the login the centre keeps for each (sealed at import)."""
        return [{"id": c.id, "kind": "camera", "compound": c.compound, "public": c.public,
                 **({"key_position": c.key_position} if c.key_position else {}),
                 "code": c.code, "name": c.name, "civil_code": c.civil_code,
                 "longitude": c.longitude, "latitude": c.latitude,
                 "gateway": gateway, "protocol": "onvif", "address": urls[c.id],
                 "username": self.username, "password": self.password}
                for c in self.cameras]

    def gateway_devices(self, urls: dict[str, str],
                        password_file: Path | None = None) -> list[dict[str, Any]]:
        """The cameras of the gateway config; with `password_file` (a 0600 file holding
        `password`) the password stays out of the config."""
        login: dict[str, Any] = {"username": self.username}
        if password_file is not None:
            login["password_file"] = str(password_file)
        else:
            login["password"] = self.password
        return [{"id": c.id, "driver": "onvif", "profile": "onvif_profile_s",
                 "address": urls[c.id], "period": f"{self.period_s}s", "options": dict(login)}
                for c in self.cameras]

    def driver_settings(self) -> dict[str, Any]:
        timeout = min(5.0, self.period_s)
        return {"concurrency": 16, "timeout": f"{timeout}s",
                "pull_timeout": f"{timeout}s", "subscription_time": "60s"}

    def fault_schedule(self) -> list[dict[str, Any]]:
        """The simulator's fault file (`scg sim cameras --faults`): every fault from start."""
        return [{"camera": cam, "fault": fault, "value": value, "at": 0}
                for cam, faults in START_FAULTS.items() for fault, value in faults.items()]
