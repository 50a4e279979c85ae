"""The faults a simulated meter can show, and fault schedules read from a file:

    - {meter: "000000000003", fault: silent}                          # never answers
    - {meter: "000000000004", fault: garbage, value: checksum, at: 30, duration: 60}
    - {meter: "000000000005", fault: abnormal, value: 2}              # error byte
    - {meter: "000000000006", fault: slow, value: 1.5}                # seconds
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml


class Fault(StrEnum):
    SILENT = "silent"      # the meter never answers
    GARBAGE = "garbage"    # answers, but with a broken frame (value: a Garbage kind)
    ABNORMAL = "abnormal"  # answers every read with an abnormal reply (value: error byte)
    SLOW = "slow"          # answers after this many seconds


class Garbage(StrEnum):
    CHECKSUM = "checksum"            # the checksum byte is off by one
    TRUNCATED = "truncated"          # only the first half of the reply is sent
    NON_BCD = "non_bcd"              # a value digit is not 0-9 (frame otherwise valid)
    BAD_START = "bad_start"          # the first byte after the wake-up bytes is not 0x68
    NO_END = "no_end"                # the last byte is not 0x16
    WRONG_DI = "wrong_di"            # a valid reply to another data identifier
    WRONG_ADDRESS = "wrong_address"  # a valid reply that names another meter


def fault_value(fault: Fault | str, value: Any, *, where: str = "fault") -> Any:
    """Normalise a fault's value; None means cleared. ValueError says what is expected."""
    try:
        fault = Fault(fault)
    except ValueError:
        raise ValueError(f"{where}: unknown fault {fault!r}; known: "
                         f"{', '.join(f.value for f in Fault)}") from None
    if value is None or value is False:
        return None
    if fault is Fault.SILENT:
        if value is not True:
            raise ValueError(f"{where}: silent is on/off; give true, got {value!r}")
        return True
    if fault is Fault.GARBAGE:
        value = Garbage.CHECKSUM.value if value is True else value
        try:
            return Garbage(value)
        except ValueError:
            raise ValueError(f"{where}: garbage kind {value!r} is unknown; known: "
                             f"{', '.join(g.value for g in Garbage)}") from None
    if fault is Fault.ABNORMAL:
        value = 0x02 if value is True else value
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 255:
            raise ValueError(f"{where}: abnormal needs an error byte 1..255 (bits: 1 other "
                             f"error, 2 no requested data, 4 password ...), got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError(f"{where}: slow needs a delay in seconds > 0, got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class FaultEntry:
    """`fault` of `meter` is set to `value` `at` seconds after start and cleared `duration`
    later (None: never)."""

    meter: str
    fault: Fault
    value: Any
    at: float = 0.0
    duration: float | None = None


_KEYS = ("meter", "fault", "value", "at", "duration")


def load_faults(path: str | Path) -> list[FaultEntry]:
    """Read a meter fault schedule (YAML or JSON); ValueError names the file, entry and fix."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"meter fault file {path}: cannot read it: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"meter fault file {path}: not valid YAML: {exc}") from None
    return parse_faults(doc, source=f"meter fault file {path}")


def parse_faults(doc: Any, *, source: str = "meter faults") -> list[FaultEntry]:
    if isinstance(doc, dict) and set(doc) == {"faults"}:
        doc = doc["faults"]
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise ValueError(f"{source}: must be a list of {{meter, fault, value, at, duration}} "
                         f"entries, got {type(doc).__name__}")
    entries = []
    for i, item in enumerate(doc):
        where = f"{source}: entry {i}"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: must be a mapping like "
                             '{meter: "000000000003", fault: silent}')
        unknown = sorted(map(str, set(item) - set(_KEYS)))
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {', '.join(_KEYS)}")
        meter = item.get("meter")
        if not isinstance(meter, str) or len(meter) != 12 or not meter.isdigit():
            hint = (" (quote it: unquoted, YAML reads leading-zero digits as a number)"
                    if isinstance(meter, int) else "")
            raise ValueError(f"{where}: 'meter' must be a 12-digit meter address such as "
                             f'"000000000003", got {meter!r}{hint}')
        value = fault_value(str(item.get("fault")), item.get("value", True), where=where)
        if value is None:
            raise ValueError(f"{where}: a scheduled fault needs a value that sets it")
        at = _seconds(item.get("at", 0), f"{where}: 'at'")
        duration = item.get("duration")
        if duration is not None:
            duration = _seconds(duration, f"{where}: 'duration'")
        entries.append(FaultEntry(meter, Fault(str(item["fault"])), value, at, duration))
    return entries


def _seconds(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{what} must be a number of seconds >= 0, got {value!r}")
    return float(value)
