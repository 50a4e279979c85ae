"""Reading a YAML config so that every mistake can be reported with its line and key path:
a loader that keeps line numbers and refuses duplicate keys, value parsers whose errors
complete the sentence "`key` ...", and sections that report keys nobody asked for.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

import yaml

T = TypeVar("T")


# ---------------------------------------------------------------- values

_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB)?\s*$")
_SIZE_UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, None: 1}


class YamlSyntaxError(ValueError):
    """The text is not valid YAML; the message gives the line and column."""


def load_yaml(text: str) -> Any:
    """Parse `text` into dicts (that remember each key's line) and lists."""
    try:
        return yaml.load(text, Loader=_Loader)  # _Loader derives from SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise YamlSyntaxError(f"{line}YAML syntax error: {what}; fix the indentation or "
                              "quoting there") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML syntax error: {exc}") from None


class Bad(ValueError):
    """A value is wrong; the message completes the sentence "`key` ..."."""


def parse_duration(value: Any) -> float:
    """Seconds from "10s", "5m", "1h", "250ms" or a plain positive number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION_RE.match(value)):
        seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2)]
    else:
        raise Bad(f"must be a duration like 10s, 5m, 1h or a number of seconds, got {value!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise Bad(f"must be a duration greater than zero, like 10s, got {value!r}")
    return seconds


def parse_size(value: Any) -> int:
    """Bytes from an integer or "NNN KiB|MiB|GiB"."""
    if isinstance(value, int) and not isinstance(value, bool):
        size = value
    elif isinstance(value, str) and (m := _SIZE_RE.match(value)):
        size = int(float(m.group(1)) * _SIZE_UNITS[m.group(2)])
    else:
        raise Bad(f"must be a number of bytes or a size like 512KiB, 64MiB, 1GiB, "
                  f"got {value!r}")
    if size <= 0:
        raise Bad(f"must be greater than zero, got {value!r}")
    return size


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Bad(f"must be a non-empty text, got {value!r}")
    return value


def optional_text(value: Any) -> str | None:
    return None if value is None else text(value)


def int_between(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise Bad(f"must be a whole number from {low} to {high}, got {value!r}")
        return value
    return parse


def seconds_at_least(low: float) -> Callable[[Any], float]:
    def parse(value: Any) -> float:
        seconds = parse_duration(value)
        if seconds < low:
            raise Bad(f"must be at least {low:g} s, got {value!r}")
        return seconds
    return parse


def mapping(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise Bad(f"must be a mapping of key: value, got {describe(value)}")
    return dict(value)


def describe(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


# ---------------------------------------------------------------- YAML with line numbers

class _Map(dict[Any, Any]):
    """A YAML mapping that remembers the line of each key (1-based)."""

    lines: dict[Any, int]
    line: int


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.lines = {}
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            duplicate = key in result
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is not a plain name", key_node.start_mark) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice (first on line {result.lines[key]}); "
                "keep one", key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = line
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# ---------------------------------------------------------------- reading sections

class Problems:
    """Every problem found so far, each with the line it is on."""

    def __init__(self) -> None:
        self.found: list[tuple[int, int, str]] = []

    def add(self, line: int | None, path: str, message: str) -> None:
        self.found.append((line or 0, len(self.found),
                           f"{f'line {line}, ' if line else ''}{path}: {message}"))

    @property
    def items(self) -> list[str]:
        """The problems in the order of the file, so they read top to bottom."""
        return [message for _, _, message in sorted(self.found)]


class Section:
    """One mapping of the config being read; keys nobody asked for are reported as unknown."""

    def __init__(self, data: Any, path: str, line: int | None, problems: Problems,
                 known: tuple[str, ...], *, absent: bool = False) -> None:
        self.path = path
        self.absent = absent  # already reported as missing: don't report each key again
        self.problems = problems
        self.known = known
        self.data: dict[Any, Any] = data if isinstance(data, dict) else {}
        self.lines: dict[Any, int] = getattr(data, "lines", {})
        self.line = line if line is not None else getattr(data, "line", None)
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                fix = f"did you mean `{close[0]}`?" if close else \
                    f"remove it (known keys: {', '.join(known)})"
                problems.add(self.lines.get(key, self.line), self.key_path(str(key)),
                             f"unknown key `{key}`; {fix}")

    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def line_of(self, key: str) -> int | None:
        return self.lines.get(key, self.line)

    def required(self, key: str, parse: Callable[[Any], T], fallback: T, example: str) -> T:
        if key not in self.data or self.data[key] is None:
            if self.absent:
                return fallback
            where = f"`{self.path}`" if self.path else "the top level"
            self.problems.add(self.line, self.key_path(key),
                              f"`{key}` is missing; add it to {where}, e.g. `{key}: {example}`")
            return fallback
        return self._parse(key, parse, fallback)

    def optional(self, key: str, parse: Callable[[Any], T], default: T) -> T:
        if key not in self.data:
            return default
        return self._parse(key, parse, default)

    def _parse(self, key: str, parse: Callable[[Any], T], fallback: T) -> T:
        try:
            return parse(self.data[key])
        except Bad as exc:
            self.problems.add(self.line_of(key), self.key_path(key), f"`{key}` {exc}")
            return fallback

    def section(self, key: str, known: tuple[str, ...], *, required: bool,
                example: str = "") -> Section:
        value = self.data.get(key)
        path = self.key_path(key)
        reported = False
        if value is None and required:
            self.problems.add(self.line, path, f"section `{key}` is missing; add it, e.g. "
                              f"`{key}: {example}`")
            reported = True
        elif value is not None and not isinstance(value, dict):
            self.problems.add(self.line_of(key), path, f"`{key}` must be a mapping of "
                              f"key: value, got {describe(value)}")
            reported = True
        return Section(value, path, self.line_of(key), self.problems, known, absent=reported)


def plain(value: Any) -> Any:
    """Turn the loader's line-tracking mappings into plain dicts for drivers."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
