"""A community with the device and household figures of the published growth table of
偕园（东阳城）社区, 青州 (seeds/growth-tier-acceptance-qingzhou-2024.txt), fed through the
real inventory import and writer; and the declared values that table reports.

Figures the table states: 3790 households, 3790 remote meters all collected (row 7); 112
smart of 112 public lights (row 5); 11 compounds with e-bikes and smart charging showing
timed charging, auto power-off and fault alarm (row 6); 11 closed compounds with access
control and perimeter detection (rows 15, 16); 5 residential buildings of 12 floors or
more, all watched from floor 3 (row 17); 100 % of compounds detecting the four fire
hazards and e-bikes in elevators (row 19); full automatic fire alarm coverage (row 20);
video at 100 % (row 4). Figures it does not state are chosen here: 12 key positions with
one camera each plus 4 other public cameras, 22 residential buildings (two per compound,
the second of compounds 1–5 is an 18-floor tower with an elevator), 20 lone elderly
residents with SOS buttons and 3 calls answered within 5 minutes.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import yaml
from ingest_support import T0, envelope, msg, status_msg

from ingest.writer import write_batch
from inventory import import_inventory, parse_inventory
from telemetry import DeviceState, Event, Item, Probe, Reading, Severity, StateChange
from web.alarms.actions import apply_action

COMMUNITY = "xieyuan"
GW = "xy-gw1"
AS_OF = T0 + timedelta(days=1)
SINCE = AS_OF - timedelta(days=10)
COMPOUNDS = [f"c{n:02d}" for n in range(1, 12)]
TOWERS = COMPOUNDS[:5]            # compounds whose second building is an 18-floor tower
HOUSEHOLDS = 3790
LONE_ELDERLY = 20
KEY_POSITIONS = (("community_entrance", "小区北门", 4), ("parking_entrance", "地库入口", 2),
                 ("main_road", "主干道", 3), ("fire_lane", "消防通道", 3))
_seq = itertools.count(1)


@dataclass
class Figures:
    """What to build; the defaults are the Qingzhou table's."""

    lights: int = 112
    smart_lights: int = 112
    households: int = HOUSEHOLDS
    meters_collected: int = HOUSEHOLDS
    extra_public_cameras: int = 4
    offline: set[str] = field(default_factory=set)
    #: Devices that never report anything (no state, no reading).
    silent: set[str] = field(default_factory=set)


def inventory(f: Figures) -> dict[str, Any]:
    """The inventory document (parsed by the real parser)."""
    compounds = [{"id": c, "name": f"偕园{int(c[1:])}区", "closed": True, "ebikes": True}
                 for c in COMPOUNDS]
    buildings: list[dict[str, Any]] = []
    devices: list[dict[str, Any]] = []
    for c in COMPOUNDS:
        tower = c in TOWERS
        buildings += [{"id": f"{c}-b1", "compound": c, "floors": 6},
                      {"id": f"{c}-b2", "compound": c, "floors": 18 if tower else 6}]
        devices += [
            {"id": f"gate-{c}", "kind": "access_gate", "compound": c,
             "subjects": ["person", "vehicle"], **_mqtt()},
            {"id": f"per-{c}", "kind": "perimeter_detector", "compound": c, **_mqtt()},
            {"id": f"hz-{c}", "kind": "fire_hazard_sensor", "compound": c,
             "hazards": ["fire_lane", "hydrant", "fire_door", "electrical"], **_mqtt()},
            {"id": f"ch-{c}", "kind": "charger", "compound": c, "ports": 10,
             "gateway": GW, "protocol": "modbus", "address": f"chg/{c}"},
            {"id": f"fp-{c}", "kind": "fire_panel", "building": f"{c}-b1", "gateway": GW,
             "protocol": "modbus", "address": f"fire/{c}",
             "zones": [{"zone": 1, "area": "public"},
                       {"zone": 2, "building": f"{c}-b2", "area": "public"}]},
        ]
        if tower:
            devices += [
                {"id": f"lift-{c}", "kind": "elevator", "building": f"{c}-b2"},
                {"id": f"eb-{c}", "kind": "ebike_detector", "elevator": f"lift-{c}",
                 **_mqtt()},
                {"id": f"tc-{c}", "kind": "throw_camera", "building": f"{c}-b2",
                 "floors": [3, 18], **_mqtt()},
            ]
    devices += [{"id": f"light-{n:04d}", "kind": "light", "compound": COMPOUNDS[n % 11],
                 **(_mqtt(capabilities=["dimming", "remote_control", "fault_report"])
                    if n <= f.smart_lights else {})}
                for n in range(1, f.lights + 1)]
    devices.append({"id": "m-{n:04d}", "repeat": f.households, "kind": "meter",
                    "household": "h-{n:04d}", "gateway": GW, "protocol": "modbus",
                    "address": "mtr/{n}"})
    devices += [{"id": f"sos-{n:02d}", "kind": "sos_button", "resident": f"r{n:02d}",
                 **_mqtt()} for n in range(1, LONE_ELDERLY + 1)]
    positions, cameras = _video(f)
    return {"community": {"id": COMMUNITY, "name": "偕园（东阳城）社区", "district": "370781",
                          "households": f.households, "lone_elderly": LONE_ELDERLY,
                          "boundary": {"center": [118.4790, 36.6940], "radius_m": 900}},
            "compounds": compounds, "buildings": buildings, "key_positions": positions,
            "devices": devices + cameras}


def _mqtt(**extra: Any) -> dict[str, Any]:
    return {"gateway": GW, "protocol": "mqtt", **extra}


def _video(f: Figures) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    positions: list[dict[str, Any]] = []
    cameras: list[dict[str, Any]] = []
    serial = itertools.count(1)
    for kind, place, count in KEY_POSITIONS:
        for i in range(1, count + 1):
            kp = f"kp-{kind}-{i}"
            positions.append({"id": kp, "type": kind, "name": f"{place}{i}"})
            cameras.append(_camera(next(serial), f"{place}{i}号", kp))
    cameras += [_camera(next(serial), f"中心广场{i}号", None)
                for i in range(1, f.extra_public_cameras + 1)]
    return positions, cameras


def _camera(n: int, name: str, key_position: str | None) -> dict[str, Any]:
    cam: dict[str, Any] = {
        "id": f"cam-{n:02d}", "kind": "camera", "code": f"37078100001320{n:06d}",
        "name": name, "civil_code": "370781", "longitude": round(118.4790 + n * 0.0002, 6),
        "latitude": round(36.6940 + n * 0.0001, 6), "gateway": GW, "protocol": "onvif",
        "address": f"10.0.0.{n}"}
    if key_position:
        cam["key_position"] = key_position
    return cam


def ev(device: str, type_: str, at: datetime, *, active: bool | None = None,
       severity: Severity = Severity.ALARM, **data: Any) -> Event:
    return Event(device, type_, severity, at, active, data)


async def write(conn: asyncpg.Connection, items: Sequence[Item], now: datetime) -> None:
    """Write `items` through the real writer, 500 items per envelope."""
    batch = []
    for start in range(0, len(items), 500):
        chunk = items[start:start + 500]
        batch.append(msg(envelope(next(_seq), chunk, community=COMMUNITY, gateway=GW,
                                  sent_at=now), community=COMMUNITY, gateway=GW, now=now))
    await write_batch(conn, batch)


async def populate(conn: asyncpg.Connection, f: Figures | None = None,
                   edit: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Import the inventory (changed by `edit` first, if given) and write what the devices
    said up to AS_OF; returns it."""
    f = f or Figures()
    doc = inventory(f)
    if edit is not None:
        edit(doc)
    inv = parse_inventory(yaml.safe_dump(doc, allow_unicode=True), "xieyuan.yaml")
    await import_inventory(conn, inv)
    await write_batch(conn, [status_msg(True, community=COMMUNITY, gateway=GW, t=SINCE)])
    states: list[Item] = [
        StateChange(d.id, DeviceState.OFFLINE if d.id in f.offline else DeviceState.ONLINE,
                    SINCE, "no answer" if d.id in f.offline else "")
        for d in inv.devices if d.protocol is not None]
    await write(conn, [s for s in states if s.device not in f.silent], SINCE)
    recent = AS_OF - timedelta(hours=1)
    day_ago = AS_OF - timedelta(days=1)
    items: list[Item] = []
    items += [Reading(f"light-{n:04d}", "power_w", recent, 60.0)
              for n in range(1, f.smart_lights + 1) if f"light-{n:04d}" not in f.silent]
    items += [Reading(f"m-{n:04d}", "energy_import_kwh", AS_OF - timedelta(hours=2), 1000.0 + n)
              for n in range(1, f.meters_collected + 1)]
    cameras = [d.id for d in inv.devices if d.kind == "camera"]
    items += [Probe(c, AS_OF - timedelta(minutes=10), True, "",
                    {"check": "ok", "latency_ms": 380.0, "width": 1920, "height": 1080})
              for c in cameras]
    for c in COMPOUNDS:
        items += [
            ev(f"ch-{c}", "charge_stopped", day_ago, severity=Severity.INFO, port=1,
               reason="full", energy_kwh=1.2),
            ev(f"ch-{c}", "charge_stopped", day_ago + timedelta(hours=1),
               severity=Severity.INFO, port=2, reason="timer", energy_kwh=0.8),
            ev(f"ch-{c}", "over_temperature", day_ago + timedelta(hours=2), active=True,
               port=3),
            ev(f"ch-{c}", "over_temperature", day_ago + timedelta(hours=3), active=False,
               port=3)]
    items += [ev(f"eb-{c}", "ebike_detected", day_ago, confidence=0.93) for c in TOWERS]
    presses = [AS_OF - timedelta(days=d) for d in (1, 3, 5)]
    items += [ev(f"sos-{n:02d}", "sos_pressed", t, severity=Severity.CRITICAL)
              for n, t in enumerate(presses, 1)]
    await write(conn, items, AS_OF)
    for alarm, pressed in await conn.fetch(
            "SELECT id, raised_at FROM alarms WHERE community = $1 AND type = 'sos_pressed' "
            "ORDER BY id", COMMUNITY):
        await apply_action(conn, alarm, "acknowledge", by="值班员", note="已上门",
                           at=pressed + timedelta(minutes=5))
    await staff(conn)
    return doc


#: The community's own accounts: an administrator and a duty operator, both limited to
#: it (信息安全 asks for tiered roles; the published table reports them).
STAFF = {"偕园管理员": "admin", "偕园值班员": "operator"}


async def staff(conn: asyncpg.Connection, community: str = COMMUNITY) -> None:
    """Add STAFF for `community` through the product's own user store (once)."""
    from web.auth.users import add_user

    for name, role in STAFF.items():
        if await conn.fetchval("SELECT id FROM users WHERE name = $1", name) is None:
            await add_user(conn, name, role, [community], None, actor="test", at=SINCE)


@dataclass(frozen=True)
class Entry:
    """A declaration as `acceptance.declared.latest_declarations` returns one."""

    row_id: str
    values: dict[str, Any]
    text: str = ""
    entered_by: str = "社区工作者"
    entered_at: datetime = AS_OF - timedelta(days=2)
    evidence: list[Any] = field(default_factory=lambda: [_Proof()])


@dataclass(frozen=True)
class _Proof:
    name: str = "证明材料.pdf"
    sha256: str = "0" * 64
    size: int = 1024
    content_type: str = "application/pdf"


def qingzhou_county() -> Any:
    """Qingzhou's settings: its table writes 居民满意度达到100%, a threshold the provincial
    standard does not publish, so the county gives it."""
    from acceptance.county import CountySettings

    return CountySettings(county="青州市", thresholds={"growth-28": {"satisfaction_pct": 100}})


def qingzhou_declarations() -> dict[str, Entry]:
    """The growth table's declared rows as 偕园（东阳城）社区 reported them. Row 26
    (信息安全) is not among them: scg judges it from its own state (`populate` gives the
    community its staff in two roles), and refuses a declaration of it."""
    yes = True
    rows: dict[str, dict[str, Any]] = {
        "growth-01": {"fibre_households": 3790, "total_households": 3790},
        "growth-02": {"covered_area": 0.4, "total_area": 0.4},
        "growth-03": {"tv_households": 3790, "total_households": 3790},
        "growth-08": {"data_aggregation": yes, "property_platform_linked": yes,
                      "scenarios": 5},
        "growth-09": {"one_stop_service": yes,
                      "service_forms": "综合受理、帮办代办等人工窗口、“爱山东”网上办事体验区"},
        "growth-11": {"book_corners": 1, "sports_venues": 5},
        "growth-12": {"facilities_present": yes,
                      "facility_types": "智能快件箱、智能回收柜、智能共享直饮水机"},
        "growth-13": {"online_payment": yes, "garbage_compounds": 11, "compounds": 11},
        "growth-14": {"police_warnings": yes},
        "growth-18": {"records_and_push": yes, "anomaly_reporting": yes},
        "growth-21": {"digital_governance": yes, "party_records": yes},
        "growth-22": {"online_voter_registration": yes, "online_consultations": 3,
                      "open_affairs": yes},
        "growth-23": {"epidemic_records": yes, "epidemic_updates": yes},
        "growth-24": {"leadership_system": yes, "operator": "青州市大数据中心",
                      "in_city_plan": yes},
        "growth-25": {"campaigns_this_year": 11},
        "growth-27": {"scenarios_promoted": 1, "description": "新型智慧便民市场"},
        "growth-28": {"survey_done": yes, "satisfaction_pct": 100},
    }
    return {row: Entry(row, values) for row, values in rows.items()}
