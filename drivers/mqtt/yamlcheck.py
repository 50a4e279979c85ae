"""Typed access to a parsed YAML document whose failures name the file, the key and the fix.

Used by the profile loader; `error` is the exception class a failure raises.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NoReturn

Scalar = str | int | float | bool


class Checker:
    """Typed access to a parsed YAML document that fails with file, key and fix."""

    def __init__(self, source: str, error: type[Exception] = ValueError) -> None:
        self.source = source
        self.error = error

    def fail(self, key: str, problem: str) -> NoReturn:
        raise self.error(f"{self.source}: {key + ': ' if key else ''}{problem}")

    def mapping(self, doc: Any, where: str, *, required: set[str],
                optional: set[str] | None) -> dict[str, Any]:
        """`doc` as a mapping with these keys (`optional=None`: any other key is allowed)."""
        if not isinstance(doc, dict):
            self.fail(where or "(top level)", f"must be a mapping, got {_describe(doc)}")
        for k in doc:
            if not isinstance(k, str):
                self.fail(where or "(top level)", f"key {k!r} must be a string"
                                                  + _yaml_bool_hint(k))
        if optional is not None:
            allowed = required | optional
            for k in doc:
                if k not in allowed:
                    self.fail(where or "(top level)",
                              f"unknown key {k!r}; allowed keys: {', '.join(sorted(allowed))} "
                              "(check the spelling)")
        for k in sorted(required):
            if k not in doc:
                self.fail(where or "(top level)", f"missing key {k!r}")
        return dict(doc)

    def string(self, doc: dict[str, Any], where: str, key: str, *, default: str | None = None,
               pattern: re.Pattern[str] | None = None, hint: str = "") -> str:
        value = doc.get(key, default)
        at = f"{where}.{key}" if where else key
        if not isinstance(value, str):
            self.fail(at, f"must be a string, got {_describe(value)}" + _yaml_bool_hint(value))
        if pattern is not None and not pattern.match(value):
            self.fail(at, f"{value!r} is not a valid name; use {hint}")
        return value

    def path(self, doc: dict[str, Any], where: str, key: str) -> str:
        value = self.string(doc, where, key)
        if not value or any(not part for part in value.split(".")):
            self.fail(f"{where}.{key}", f"{value!r} is not a field path; use a JSON key, or "
                                        "keys joined by '.', e.g. faults.lamp")
        return value

    def scalars(self, raw: Any, at: str) -> tuple[Scalar, ...]:
        """A scalar or a non-empty list of them, as a tuple."""
        values = raw if isinstance(raw, list) else [raw]
        if not values or not all(isinstance(v, Scalar) for v in values):
            self.fail(at, f"must be a string, number or boolean, or a list of them, got "
                          f"{raw!r}")
        return tuple(values)

    def choice(self, doc: dict[str, Any], where: str, key: str, options: tuple[str, ...],
               *, default: str | None = None) -> str:
        value = doc.get(key, default)
        if value not in options:
            self.fail(f"{where}.{key}", f"must be one of {', '.join(options)}, got "
                                        f"{_describe(value)}")
        return str(value)

    def number(self, doc: dict[str, Any], where: str, key: str, *, default: float) -> float:
        value = doc.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{where}.{key}", f"must be a number, got {_describe(value)}")
        return float(value)

    def boolean(self, doc: dict[str, Any], where: str, key: str, *, default: bool) -> bool:
        value = doc.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{where}.{key}", f"must be true or false, got {_describe(value)}")
        return value

    def each(self, doc: dict[str, Any], key: str,
             build: Callable[[Checker, Any, str], Any]) -> list[Any]:
        items = doc.get(key) or []
        if not isinstance(items, list):
            self.fail(key, f"must be a list, got {_describe(items)}")
        return [build(self, item, f"{key}[{i}]") for i, item in enumerate(items)]


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    kind = {dict: "a mapping", list: "a list", str: "the string", bool: "the boolean"}.get(
        type(value), "the number")
    return f"{kind} {value!r}" if not isinstance(value, dict | list) else kind


def _yaml_bool_hint(value: Any) -> str:
    if isinstance(value, bool):
        return ("; YAML reads unquoted on/off/yes/no/true/false as booleans, so quote it, "
                'e.g. "on"')
    return ""
