"""The `rules:` section of the gateway config: a list of rule entries, each with a unique
`name` and a `kind` from `KINDS`; the kind parses the rest. Mistakes join the config's
other problems (line, key path, fix), so an installer fixes everything in one pass.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from drivers.base import DeviceSpec
from gateway import configread as cr
from gateway.rules.base import RuleKind, RuleSpec
from gateway.rules.ebike import EBIKE_LIFT_LOCKOUT

#: Every rule kind the gateway knows, by the name the config gives it. A new kind is a
#: spec parser plus a rule class, registered here.
KINDS: dict[str, RuleKind] = {kind.name: kind for kind in (EBIKE_LIFT_LOCKOUT,)}


def parse_rules(top: cr.Section, problems: cr.Problems,
                devices: Sequence[DeviceSpec]) -> tuple[RuleSpec, ...]:
    """The specs of the `rules` list of config `top` (empty when there is none)."""
    value = top.data.get("rules")
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(top.line_of("rules"), "rules", "`rules` must be a list (each entry "
                     f"starting with '- name: ...'), got {cr.describe(value)}")
        return ()
    by_id = {d.id: d for d in devices if d.id}
    specs: list[RuleSpec] = []
    names: dict[str, str] = {}
    commanded: dict[str, RuleSpec] = {}
    for index, entry in enumerate(value):
        path = f"rules[{index}]"
        if not isinstance(entry, dict):
            problems.add(top.line_of("rules"), path, "each rule must be a mapping with keys "
                         f"name, kind, ..., got {cr.describe(entry)}")
            continue
        kind = _kind(entry, path, problems)
        if kind is None:
            continue
        sec = cr.Section(entry, path, None, problems, kind.keys)
        name = sec.required("name", cr.text, "", "ebike-lockout-north-e1")
        if name in names:
            problems.add(sec.line_of("name"), sec.key_path("name"), f"`name` {name!r} is "
                         f"already used by {names[name]}; rule names must be unique")
        elif name:
            names[name] = path
        spec = kind.parse(sec, name, by_id)
        for key, device in spec.commands():
            other = commanded.get(device)
            if other is not None and device:
                problems.add(sec.line_of(key), sec.key_path(key),
                             f"`{key}` {device!r} is already commanded by rule {other.name!r} "
                             f"({other.path}); two rules would fight over one device, so "
                             "give each device one rule")
            elif device:
                commanded[device] = spec
        specs.append(spec)
    return tuple(specs)


def _kind(entry: dict[Any, Any], path: str, problems: cr.Problems) -> RuleKind | None:
    lines: dict[Any, int] = getattr(entry, "lines", {})
    line = lines.get("kind", getattr(entry, "line", None))
    known = ", ".join(KINDS)
    kind = entry.get("kind")
    if kind is None:
        problems.add(line, f"{path}.kind", f"`kind` is missing; add it, e.g. `kind: "
                     f"{next(iter(KINDS))}` (known kinds: {known})")
        return None
    found = KINDS.get(kind) if isinstance(kind, str) else None
    if found is None:
        close = difflib.get_close_matches(str(kind), list(KINDS), n=1)
        fix = f"did you mean `{close[0]}`?" if close else f"known kinds: {known}"
        problems.add(line, f"{path}.kind", f"`kind` {kind!r} is not a rule kind this gateway "
                     f"knows; {fix}")
    return found
