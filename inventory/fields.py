"""Typed readers for inventory fields: each records a problem (key path, what was found,
the fix) and returns a default instead of raising, so one run reports every fault.
"""

from __future__ import annotations

import json
import math
from typing import Any


class FieldReader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, path: str, message: str) -> None:
        line = f"{path}: {message}" if path else message
        if line not in self.problems:  # template rows repeat the same fault once per copy
            self.problems.append(line)

    def text(self, row: dict[str, Any], key: str, path: str, *, required: bool = False,
             ident: bool = False) -> str | None:
        value = row.get(key)
        if value is None:
            if required:
                self.fail(f"{path}.{key}", "is required")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(f"{path}.{key}", f"must be a non-empty string, got {value!r}"
                      + ("; quote it" if isinstance(value, int | float) else ""))
            return None
        if ident and (any(c in value for c in "/+#") or len(value) > 128):
            self.fail(f"{path}.{key}", f"{value!r} cannot be an id: use at most 128 "
                      "characters and no '/', '+' or '#'")
            return None
        return value

    def flag(self, row: dict[str, Any], key: str, path: str, default: bool) -> bool:
        value = row.get(key, default)
        if not isinstance(value, bool):
            self.fail(f"{path}.{key}", f"must be true or false, got {value!r}")
            return default
        return value

    def count(self, row: dict[str, Any], key: str, path: str, minimum: int) -> int | None:
        value = row.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.fail(f"{path}.{key}", f"must be a whole number >= {minimum}, got {value!r}")
            return None
        return value

    def attrs(self, row: dict[str, Any], path: str) -> dict[str, Any]:
        value = row.get("attrs", {})
        if not isinstance(value, dict):
            self.fail(f"{path}.attrs", f"must be a mapping of extra facts, got {value!r}")
            return {}
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            self.fail(f"{path}.attrs", "must hold only strings, numbers, booleans, lists "
                      "and mappings (it is stored as JSON)")
            return {}
        return value

    def known_keys(self, row: dict[str, Any], allowed: tuple[str, ...], path: str) -> None:
        for key in row:
            if key not in allowed:
                self.fail(f"{path}.{key}", f"unknown key; known keys are {', '.join(allowed)} "
                          "(put other facts under attrs)")

    def rows(self, doc: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
        value = doc.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(key, f"must be a list of mappings, got {type(value).__name__}")
            return []
        out = []
        for i, row in enumerate(value):
            if isinstance(row, dict):
                out.append((f"{key}[{i}]", row))
            else:
                self.fail(f"{key}[{i}]", f"must be a mapping (id: ..., ...), got {row!r}")
        return out

    def number(self, row: dict[str, Any], key: str, path: str, what: str) -> float | None:
        """A finite int or float (YAML gives either); `what` says what it measures."""
        value = row.get(key)
        if value is None:
            return None
        if (isinstance(value, bool) or not isinstance(value, int | float)
                or not math.isfinite(value)):
            self.fail(f"{path}.{key}", f"must be a number ({what}), got {value!r}")
            return None
        return float(value)

    def digits(self, row: dict[str, Any], key: str, path: str) -> str | None:
        """A code kept as text; a YAML number is accepted and turned into its digits."""
        value = row.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return str(value)
        return self.text(row, key, path)

    def ref(self, row: dict[str, Any], key: str, path: str, known: set[str] | dict[str, Any],
            section: str) -> str | None:
        value = self.text(row, key, path)
        if value is not None and value not in known:
            listed = ", ".join(sorted(known)) or "none defined"
            self.fail(f"{path}.{key}", f"{value!r} is not in {section} (known: {listed}); "
                      f"add it under {section} or correct the id")
            return None
        return value
