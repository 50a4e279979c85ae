"""Camera naming rules (the "name" check of record compliance), configurable per district.

Rules come from YAML (`naming.yaml` next to this module, or the file named by the
environment variable SCG_CAMERA_NAMING), validated at load: see that file for the format.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

import yaml

DEFAULT_PATH: Final = Path(__file__).with_name("naming.yaml")
ENV_VAR: Final = "SCG_CAMERA_NAMING"
_OVERRIDE_KEYS: Final = ("place_words", "extra_place_words", "factory_defaults",
                         "extra_factory_defaults")
_EXAMPLE: Final = "e.g. 北苑北门入口"


class NamingRulesError(ValueError):
    """The naming rules file is unusable; the message names the file, the key and the fix."""


@dataclass(frozen=True, slots=True)
class NameRules:
    """The rules in force for one district."""

    place_words: tuple[str, ...]
    factory_defaults: tuple[str, ...]  # regular expressions, matched whole and ignoring case

    def factory_default(self, name: str) -> str | None:
        """The pattern `name` matches, or None."""
        for pattern in self.factory_defaults:
            if re.fullmatch(pattern, name, re.IGNORECASE):
                return pattern
        return None


@dataclass(frozen=True, slots=True)
class Naming:
    """The default rules and the per-district overrides, as loaded from a file."""

    default: NameRules
    districts: dict[str, dict[str, tuple[str, ...]]]
    source: str = "<naming>"

    def rules_for(self, district: str) -> NameRules:
        """Default, then the province, city and district overrides (widest first)."""
        rules = self.default
        for key in dict.fromkeys((district[:2] + "0000", district[:4] + "00", district)):
            override = self.districts.get(key)
            if override is None:
                continue
            words = override.get("place_words", rules.place_words)
            pats = override.get("factory_defaults", rules.factory_defaults)
            rules = NameRules(
                tuple(dict.fromkeys((*words, *override.get("extra_place_words", ())))),
                tuple(dict.fromkeys((*pats, *override.get("extra_factory_defaults", ())))))
        return rules


def check_name(name: str | None, code: str | None, rules: NameRules) -> list[str]:
    """Problems with a camera's name under `rules`; [] when it passes."""
    if name is None or not name.strip():
        return [f"name: missing; name the place the camera watches ({_EXAMPLE})"]
    value = name.strip()
    if code is not None and value == code.strip():
        return [f"name: {value!r} is the device code; name the place the camera watches "
                f"({_EXAMPLE})"]
    if rules.factory_default(value) is not None:
        return [f"name: {value!r} is a factory default; rename it after the place the camera "
                f"watches ({_EXAMPLE})"]
    if not any(word in value for word in rules.place_words):
        shown = ", ".join(rules.place_words[:8]) + (" …" if len(rules.place_words) > 8 else "")
        return [f"name: {value!r} contains no place word ({shown}); say where the camera "
                f"is ({_EXAMPLE})"]
    return []


def load_naming(path: Path = DEFAULT_PATH) -> Naming:
    """Read and validate a naming rules file; NamingRulesError lists every problem."""
    try:
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise NamingRulesError(f"{path}: cannot be read as YAML: {exc}") from None
    problems: list[str] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("default"), dict):
        raise NamingRulesError(f"{path}: must be a mapping with 'default: {{place_words: [...], "
                               "factory_defaults: [...]}}' and optionally 'districts:'")
    for key in doc:
        if key not in ("default", "districts"):
            problems.append(f"{key}: unknown key; use default and districts")
    default = doc["default"]
    for key in default:
        if key not in ("place_words", "factory_defaults"):
            problems.append(f"default.{key}: unknown key; use place_words and factory_defaults")
    words = _strings(default, "place_words", "default", problems, required=True)
    pats = _patterns(default, "factory_defaults", "default", problems, required=True)
    districts: dict[str, dict[str, tuple[str, ...]]] = {}
    raw = doc.get("districts") or {}
    if not isinstance(raw, dict):
        problems.append("districts: must map GB/T 2260 codes (quoted, e.g. \"370102\") to "
                        "overrides")
        raw = {}
    for code, override in raw.items():
        where = f"districts.{code}"
        if not isinstance(code, str) or len(code) != 6 or not code.isdigit():
            problems.append(f"{where}: the key must be a 6-digit GB/T 2260 code in quotes")
            continue
        if not isinstance(override, dict):
            problems.append(f"{where}: must be a mapping with any of {', '.join(_OVERRIDE_KEYS)}")
            continue
        entry: dict[str, tuple[str, ...]] = {}
        for key in override:
            if key not in _OVERRIDE_KEYS:
                problems.append(f"{where}.{key}: unknown key; use {', '.join(_OVERRIDE_KEYS)}")
            elif key.endswith("place_words"):
                entry[key] = _strings(override, key, where, problems)
            else:
                entry[key] = _patterns(override, key, where, problems)
        districts[code] = entry
    if problems:
        raise NamingRulesError(f"{path}:\n  " + "\n  ".join(problems))
    return Naming(NameRules(words, pats), districts, str(path))


def _strings(row: dict[str, Any], key: str, where: str, problems: list[str],
             required: bool = False) -> tuple[str, ...]:
    value = row.get(key)
    if value is None and not required:
        return ()
    if (not isinstance(value, list) or not value
            or not all(isinstance(v, str) and v.strip() for v in value)):
        problems.append(f"{where}.{key}: must be a non-empty list of words, got {value!r}")
        return ()
    return tuple(v.strip() for v in value)


def _patterns(row: dict[str, Any], key: str, where: str, problems: list[str],
              required: bool = False) -> tuple[str, ...]:
    out = _strings(row, key, where, problems, required)
    for i, pattern in enumerate(out):
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(f"{where}.{key}[{i}]: {pattern!r} is not a regular expression "
                            f"({exc}); quote it in single quotes and escape special characters")
    return out


@cache
def _load_cached(path: str) -> Naming:
    return load_naming(Path(path))


def configured_naming() -> Naming:
    """The rules in force: the file named by SCG_CAMERA_NAMING, else the shipped one."""
    return _load_cached(os.environ.get(ENV_VAR) or str(DEFAULT_PATH))
