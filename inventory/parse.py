"""Parse and validate inventory YAML into an Inventory, collecting every problem.

Each problem names the key path (`devices[12].compound`), what was found and the fix;
template rows (`repeat`, `start`, `{n:03d}`) expand into one device per n.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Final

import yaml

from inventory.field import FIELD_KEYS, field_fields
from inventory.fields import FieldReader
from inventory.gb26875 import link_transmission_devices
from inventory.lighting import LIGHT_KEYS, light_fields
from inventory.model import (
    KINDS,
    PROTOCOLS,
    Building,
    Community,
    Compound,
    Device,
    Inventory,
    InventoryError,
)
from inventory.personal import (
    CREDENTIAL_KEYS,
    DeviceCredential,
    credential_fields,
    link_residents,
    parse_residents,
)
from inventory.safety import SAFETY_KEYS, link_safety_devices, safety_fields
from inventory.video import (
    CAMERA_KEYS,
    camera_fields,
    parse_boundary,
    parse_key_positions,
)
from telemetry.topics import TopicError, check_id

_COMMUNITY_KEYS: Final = ("id", "name", "district", "households", "boundary",
                           "lone_elderly")
_COMPOUND_KEYS: Final = ("id", "name", "closed", "ebikes", "elevators", "attrs")
_BUILDING_KEYS: Final = ("id", "compound", "floors", "residential", "attrs")
_DEVICE_KEYS: Final = ("id", "kind", "name", "compound", "building", "public", "gateway",
                       "protocol", "address", "capabilities", "attrs", *CAMERA_KEYS,
                       *FIELD_KEYS, *SAFETY_KEYS, *LIGHT_KEYS, *CREDENTIAL_KEYS,
                       "repeat", "start")
_TOP_KEYS: Final = ("community", "compounds", "buildings", "key_positions", "devices",
                    "residents", "gateways")
_PLACEHOLDER_RE: Final = re.compile(r"\{n(?::[^}]*)?\}")
_DISTRICT_RE: Final = re.compile(r"^[0-9]{6}$")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _mapping_no_duplicates(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark)
        seen.add(key)
    loader.flatten_mapping(node)
    return dict(loader.construct_pairs(node))


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                              _mapping_no_duplicates)


def load_inventory(path: str | Path) -> Inventory:
    """Read and validate the inventory file at `path`; raise InventoryError listing problems."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InventoryError(str(p), [f"cannot read the file: {exc.strerror or exc}"]) from None
    return parse_inventory(text, source=str(p))


def parse_inventory(text: str, source: str = "<inventory>") -> Inventory:
    """Validate inventory YAML `text` (from `source`, used in messages) into an Inventory."""
    try:
        doc = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InventoryError(source, [f"{where}not valid YAML: {problem}"]) from None
    return _Parser(source).parse(doc)


class _Parser(FieldReader):
    key_position_ids: set[str]
    #: Personal data: each SOS button's resident (with the row naming it first) and the
    #: credentials device rows carry.
    resident_rows: dict[str, str]
    credentials: list[DeviceCredential]

    def parse(self, doc: Any) -> Inventory:
        if not isinstance(doc, dict):
            raise InventoryError(self.source, ["the file must be a mapping with keys "
                                               f"{', '.join(_TOP_KEYS)}"])
        self.known_keys(doc, _TOP_KEYS, "")
        community = self.community(doc.get("community"))
        compounds = self.compounds(doc)
        compound_ids = {c.id for c in compounds}
        buildings = self.buildings(doc, compound_ids)
        key_positions = parse_key_positions(self, self.rows(doc, "key_positions"),
                                            compound_ids)
        self.key_position_ids = {k.id for k in key_positions}
        self.resident_rows, self.credentials = {}, []
        devices = self.devices(doc, compound_ids, {b.id: b for b in buildings}, community)
        resident_rows = self.rows(doc, "residents")
        residents = parse_residents(self, resident_rows)
        link_residents(self, residents, resident_rows, self.resident_rows,
                       community.lone_elderly if community else None,
                       listed=doc.get("residents") is not None)
        gateways = self.gateways(doc.get("gateways"))
        if community is not None:
            self.check_households(community, devices)
        if self.problems or community is None:
            raise InventoryError(self.source, self.problems)
        return Inventory(community, tuple(compounds), tuple(buildings), tuple(devices),
                         self.source, tuple(key_positions), residents=tuple(residents),
                         credentials=tuple(self.credentials), gateways=gateways)

    def gateways(self, listed: Any) -> tuple[str, ...]:
        """`gateways:` — ids of gateways ingest accepts before any device names them."""
        if listed is None:
            return ()
        if not isinstance(listed, list):
            self.fail("gateways", f"must be a list of gateway ids, e.g. [demo-gw2], got "
                      f"{listed!r}")
            return ()
        out: list[str] = []
        for i, gateway in enumerate(listed):
            try:
                check_id(gateway if isinstance(gateway, str) else "", "gateway")
            except TopicError as exc:
                self.fail(f"gateways[{i}]", f"{exc} (got {gateway!r})")
                continue
            if gateway in out:
                self.fail(f"gateways[{i}]", f"{gateway!r} is listed twice")
                continue
            out.append(gateway)
        return tuple(out)

    def community(self, row: Any) -> Community | None:
        if not isinstance(row, dict):
            self.fail("community", "is required: a mapping with id, name, district "
                      "(6-digit GB/T 2260 code) and optionally households and boundary")
            return None
        self.known_keys(row, _COMMUNITY_KEYS, "community")
        cid = self.text(row, "id", "community", required=True)
        if cid is not None:
            try:
                check_id(cid, "community")
            except TopicError as exc:
                self.fail("community.id", str(exc))
        name = self.text(row, "name", "community", required=True)
        district = row.get("district")
        if isinstance(district, int) and not isinstance(district, bool):
            district = str(district)
        if not isinstance(district, str) or not _DISTRICT_RE.match(district):
            self.fail("community.district", f"must be the 6-digit GB/T 2260 district code in "
                      f"quotes, e.g. \"370102\", got {row.get('district')!r}")
            district = None
        households = self.count(row, "households", "community", 0)
        boundary = parse_boundary(self, row.get("boundary"), "community.boundary")
        lone_elderly = self.count(row, "lone_elderly", "community", 0)
        if cid is None or name is None or district is None:
            return None
        return Community(cid, name, district, households, boundary, lone_elderly)

    def compounds(self, doc: dict[str, Any]) -> list[Compound]:
        out: list[Compound] = []
        seen: dict[str, str] = {}
        for path, row in self.rows(doc, "compounds"):
            self.known_keys(row, _COMPOUND_KEYS, path)
            cid = self.text(row, "id", path, required=True, ident=True)
            if cid is None:
                continue
            if cid in seen:
                self.fail(f"{path}.id", f"{cid!r} is already used by {seen[cid]}; "
                          "compound ids must be unique")
                continue
            seen[cid] = path
            out.append(Compound(cid, self.text(row, "name", path),
                                self.stated(row, "closed", path),
                                self.stated(row, "ebikes", path), self.attrs(row, path),
                                self.stated(row, "elevators", path)))
        return out

    def stated(self, row: dict[str, Any], key: str, path: str) -> bool | None:
        """A yes/no the file may leave out (None): whether a compound is closed, has
        e-bikes, has elevators decides if a row has anything to judge there."""
        if row.get(key) is None:
            return None
        return self.flag(row, key, path, False)

    def buildings(self, doc: dict[str, Any], compounds: set[str]) -> list[Building]:
        out: list[Building] = []
        seen: dict[str, str] = {}
        for path, row in self.rows(doc, "buildings"):
            self.known_keys(row, _BUILDING_KEYS, path)
            bid = self.text(row, "id", path, required=True, ident=True)
            compound = self.ref(row, "compound", path, compounds, "compounds")
            floors = self.count(row, "floors", path, 1)
            if bid is None:
                continue
            if bid in seen:
                self.fail(f"{path}.id", f"{bid!r} is already used by {seen[bid]}; "
                          "building ids must be unique")
                continue
            seen[bid] = path
            out.append(Building(bid, compound, floors, self.flag(row, "residential", path, True),
                                self.attrs(row, path)))
        return out

    def devices(self, doc: dict[str, Any], compounds: set[str],
                buildings: dict[str, Building], community: Community | None) -> list[Device]:
        out: list[tuple[str, Device]] = []
        seen: dict[str, str] = {}
        households: dict[str, str] = {}
        for path, template in self.rows(doc, "devices"):
            self.known_keys(template, _DEVICE_KEYS, path)
            for label, row in self.expand(template, path):
                device = self.device(row, path, compounds, buildings)
                did = row.get("id")
                if isinstance(did, str) and did in seen:
                    self.fail(f"{path}.id", f"{did!r}{label} is already used by "
                              f"{seen[did]}; device ids must be unique in the community")
                    continue
                if isinstance(did, str):
                    seen[did] = path + label
                if device is None:
                    continue
                if device.household is not None:
                    other = households.get(device.household)
                    if other is not None:
                        self.fail(f"{path}.household", f"{device.household!r}{label} is "
                                  f"already served by {other}; household ids must be unique "
                                  "in the community (one meter per household)")
                        continue
                    households[device.household] = f"{device.id} ({path}{label})"
                if device.resident is not None:
                    self.resident_rows.setdefault(device.resident, path + label)
                out.append((path + label, device))
        link_transmission_devices(self, out)
        return link_safety_devices(self, out, community)

    def check_households(self, community: Community, devices: list[Device]) -> None:
        """More metered households than declared ones would put the collection rate
        above 100 %: one of the two is wrong."""
        metered = sum(1 for d in devices if d.household is not None)
        if community.households is not None and metered > community.households:
            self.fail("community.households", f"declares {community.households} households "
                      f"but meters serve {metered} distinct households; correct the count "
                      "or the meters' household ids")

    def expand(self, row: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
        """A template row (`repeat`) becomes one row per n; other rows pass through."""
        repeat = row.get("repeat")
        rid = row.get("id")
        templated = isinstance(rid, str) and bool(_PLACEHOLDER_RE.search(rid))
        if repeat is None:
            if "start" in row:
                self.fail(f"{path}.start", "only makes sense with repeat; add repeat: N")
            if templated:
                self.fail(f"{path}.id", f"{rid!r} has an {{n}} placeholder but the row has no "
                          "repeat; add repeat: N (and start:) or write the id out")
                return []
            return [("", row)]
        count = self.count(row, "repeat", path, 1)
        start = self.count(row, "start", path, 0)
        if count is None:
            if not isinstance(repeat, int):
                return []
            count = 0  # reported by count(): repeat < 1
        if not templated:
            self.fail(f"{path}.id", f"{rid!r} must contain a placeholder such as {{n:03d}} so "
                      "each of the repeated devices gets its own id")
            return []
        first = 1 if start is None else start
        out = []
        for n in range(first, first + count):
            copy = {k: v for k, v in row.items() if k not in ("repeat", "start")}
            for key, value in copy.items():
                if isinstance(value, str) and "{" in value:
                    try:
                        copy[key] = value.format(n=n)
                    except (KeyError, IndexError, ValueError) as exc:
                        self.fail(f"{path}.{key}", f"{value!r} is not a valid template ({exc}); "
                                  "only {n} with a format such as {n:03d} is available")
                        return []
            out.append((f" (n={n})", copy))
        return out

    def device(self, row: dict[str, Any], path: str, compounds: set[str],
               buildings: dict[str, Building]) -> Device | None:
        did = self.text(row, "id", path, required=True, ident=True)
        kind = self.text(row, "kind", path, required=True)
        if kind is not None and kind not in KINDS:
            self.fail(f"{path}.kind", f"{kind!r} is not a known kind; use one of "
                      f"{', '.join(KINDS)}")
            kind = None
        compound = self.ref(row, "compound", path, compounds, "compounds")
        building = self.ref(row, "building", path, buildings, "buildings")
        if building is not None:
            in_compound = buildings[building].compound
            if compound is None:
                compound = in_compound  # a device in a building is in that building's compound
            elif in_compound is not None and in_compound != compound:
                self.fail(f"{path}.compound", f"{compound!r} differs from the compound of "
                          f"building {building!r} ({in_compound!r}); fix one of them")
        gateway = self.text(row, "gateway", path)
        if gateway is not None:
            try:
                check_id(gateway, "gateway")
            except TopicError as exc:
                self.fail(f"{path}.gateway", str(exc))
        protocol = self.text(row, "protocol", path)
        if protocol is not None and protocol not in PROTOCOLS:
            self.fail(f"{path}.protocol", f"{protocol!r} is not a known protocol; use one of "
                      f"{', '.join(PROTOCOLS)}, or leave it out for a device with no controller")
        if protocol is not None and gateway is None:
            self.fail(f"{path}.gateway", "is required when protocol is set: name the gateway "
                      "that reports this device")
        caps = row.get("capabilities", [])
        if not isinstance(caps, list) or not all(isinstance(c, str) and c for c in caps):
            self.fail(f"{path}.capabilities", f"must be a list of names such as [dimming, "
                      f"remote_control, fault_report], got {caps!r}")
            caps = []
        if caps and protocol is None:
            self.fail(f"{path}.capabilities", "are listed but protocol is not set; a device "
                      "without a controller cannot offer them: add protocol (and gateway) or "
                      "remove capabilities")
        public = self.flag(row, "public", path, True)
        name = self.text(row, "name", path)
        address = self.text(row, "address", path)
        attrs = self.attrs(row, path)
        record = camera_fields(self, row, path, kind, self.key_position_ids)
        field = field_fields(self, row, path, kind, compound, building, buildings)
        safety = safety_fields(self, row, path, kind, compound, building, buildings)
        light = light_fields(self, row, path, kind)
        credential = credential_fields(self, row, path, did, protocol)
        if did is None or kind is None:
            return None
        if credential is not None:
            self.credentials.append(credential)
        return Device(did, kind, name, compound, building, public, gateway, protocol,
                      address, tuple(dict.fromkeys(caps)), attrs, **record, **field,
                      **safety, **light)
