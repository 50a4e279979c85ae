"""Reading a profile YAML file strictly: typed access to its keys that fails with the file,
the key path and the fix, and a loader that refuses YAML's silent octal numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

import yaml

from drivers.base import DriverConfigError


class ProfileError(DriverConfigError):
    """A profile file is unusable; the message names the file, the key path and the fix."""


_OCTAL_LOOKING = re.compile(r"^[-+]?0[0-9_]+$")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses `0100`: YAML 1.1 reads it as octal 64, which is never what a
    register map means (write 0x0100 or 256)."""


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(node.value)
    if _OCTAL_LOOKING.match(text):
        raise yaml.constructor.ConstructorError(
            None, None, f"{text} has a leading zero, which YAML reads as an octal number; "
                        f"write it as hex (0x{text.lstrip('+-0') or '0'}) or as decimal "
                        "without the leading zero", node.start_mark)
    return int(yaml.SafeLoader.construct_yaml_int(loader, node))


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def read_yaml(path: Path) -> Any:
    """Parse one profile file; ProfileError names the file and the line on failure."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the profile: {exc.strerror}") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path}: not valid YAML: {exc}") from None


def describe(value: Any) -> str:
    """`value` the way an error message should show it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"the number {value!r}"


class Checker:
    """Typed access to a parsed YAML document that fails with file, key path and fix."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ProfileError(f"{self.source}: {key + ': ' if key else ''}{problem}")

    def mapping(self, doc: Any, where: str, *, required: Iterable[str] = (),
                optional: Iterable[str] | None = ()) -> dict[str, Any]:
        """`doc` as a mapping with exactly these keys (`optional=None`: any other key)."""
        at = where or "(top level)"
        if not isinstance(doc, dict):
            self.fail(at, f"must be a mapping, got {describe(doc)}")
        required = set(required)
        if optional is not None:
            allowed = required | set(optional)
            for key in doc:
                if key not in allowed:
                    self.fail(at, f"unknown key {key!r}; allowed keys: "
                                  f"{', '.join(sorted(allowed))} (check the spelling)")
        for key in sorted(required):
            if key not in doc:
                self.fail(at, f"missing key {key!r}")
        return doc

    def string(self, doc: dict[str, Any], where: str, key: str, *,
               default: str | None = None, pattern: re.Pattern[str] | None = None,
               hint: str = "") -> str:
        value = doc.get(key, default)
        at = f"{where}.{key}" if where else key
        if not isinstance(value, str):
            extra = ("; YAML reads unquoted on/off/yes/no as booleans, so quote it"
                     if isinstance(value, bool) else "")
            self.fail(at, f"must be a string, got {describe(value)}{extra}")
        if pattern is not None and not pattern.match(value):
            self.fail(at, f"{value!r} is not valid; use {hint}")
        return value

    def choice(self, doc: dict[str, Any], where: str, key: str, options: Iterable[Any], *,
               default: Any = None) -> Any:
        value = doc.get(key, default)
        options = tuple(options)
        if isinstance(value, bool) or value not in options:
            self.fail(f"{where}.{key}" if where else key,
                      f"must be one of {', '.join(map(str, options))}, got {describe(value)}")
        return value

    def integer(self, doc: dict[str, Any], where: str, key: str, *, low: int, high: int,
                default: int | None = None) -> int:
        value = doc.get(key, default)
        at = f"{where}.{key}" if where else key
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(at, f"must be a whole number, got {describe(value)}")
        if not low <= value <= high:
            self.fail(at, f"{value} is out of range; use {low} .. {high}")
        return value

    def number(self, doc: dict[str, Any], where: str, key: str, *,
               default: float | None = None) -> float | None:
        value = doc.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{where}.{key}" if where else key,
                      f"must be a number, got {describe(value)}")
        return float(value)

    def boolean(self, doc: dict[str, Any], where: str, key: str, *, default: bool) -> bool:
        value = doc.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{where}.{key}" if where else key,
                      f"must be true or false, got {describe(value)}")
        return value

    def items(self, doc: dict[str, Any], key: str, where: str) -> list[Any]:
        values = doc.get(key) or []
        if not isinstance(values, list):
            self.fail(f"{where}.{key}" if where else key,
                      f"must be a list, got {describe(values)}")
        return values
