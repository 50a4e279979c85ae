"""The lighting parts of a device row: a lamp's rated power and the hours a conventional
light burns a day at full output, which give the baseline of the DB37/T 3890.3 energy
saving ((baseline - metered) ÷ baseline). Only lights carry them."""

from __future__ import annotations

from typing import Any, Final

from inventory.fields import FieldReader

LIGHT_KEYS: Final = ("rated_power_w", "burn_hours_per_day")


def light_fields(r: FieldReader, row: dict[str, Any], path: str,
                 kind: str | None) -> dict[str, Any]:
    """`rated_power_w` (W, > 0) and `burn_hours_per_day` (0 < h <= 24) of a light, as
    keyword arguments of Device."""
    out: dict[str, Any] = {"rated_power_w": None, "burn_hours_per_day": None}
    for key in LIGHT_KEYS:
        if key in row and kind is not None and kind != "light":
            r.fail(f"{path}.{key}", f"only light devices have {key}; this device is a "
                   f"{kind}: remove {key} or correct the kind")
            return out
    power = r.number(row, "rated_power_w", path, "the lamp's rated power in watts, e.g. 60")
    if power is not None and not 0 < power < 100_000:
        r.fail(f"{path}.rated_power_w", f"must be more than 0 and less than 100000 W, got "
               f"{power:g}")
        power = None
    hours = r.number(row, "burn_hours_per_day", path,
                     "hours a day the light burns at full output without smart control, "
                     "e.g. 11")
    if hours is not None and not 0 < hours <= 24:
        r.fail(f"{path}.burn_hours_per_day", f"must be more than 0 and at most 24 hours, got "
               f"{hours:g}")
        hours = None
    out.update(rated_power_w=power, burn_hours_per_day=hours)
    return out
