"""Tier thresholds as data: `thresholds.yaml` next to this module, validated at load."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml

from indicators.model import TIERS, Thresholds

DEFAULT_PATH: Final = Path(__file__).with_name("thresholds.yaml")


class ThresholdError(ValueError):
    """The thresholds file is unusable; the message names the file, the key and the fix."""


def load_thresholds(path: Path = DEFAULT_PATH) -> dict[str, Thresholds]:
    """Read and validate a thresholds file: `{indicator_id: {basic: pct|null, growth: …}}`."""
    try:
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ThresholdError(f"{path}: cannot be read as YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ThresholdError(f"{path}: must map indicator ids to {{basic: …, growth: …}}")
    out: dict[str, Thresholds] = {}
    problems: list[str] = []
    for ident, tiers in doc.items():
        if not isinstance(tiers, dict) or set(tiers) != set(TIERS):
            problems.append(f"{ident}: must have exactly the keys {', '.join(TIERS)} "
                            "(a percentage, or null when the tier does not require it)")
            continue
        values: dict[str, float | None] = {}
        for tier in TIERS:
            v = tiers[tier]
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                                  or not 0 <= v <= 100):
                problems.append(f"{ident}.{tier}: must be a percentage 0-100 or null, "
                                f"got {v!r}")
                v = None
            values[tier] = None if v is None else float(v)
        out[str(ident)] = Thresholds(values["basic"], values["growth"])
    if problems:
        raise ThresholdError(f"{path}:\n  " + "\n  ".join(problems))
    return out


@cache
def _shipped() -> dict[str, Thresholds]:
    return load_thresholds()


def thresholds_for(indicator: str) -> Thresholds:
    """The shipped thresholds of `indicator`; KeyError naming the file if it has none."""
    try:
        return _shipped()[indicator]
    except KeyError:
        raise KeyError(f"{DEFAULT_PATH} has no thresholds for {indicator!r}; add "
                       f"'{indicator}: {{basic: …, growth: …}}'") from None
