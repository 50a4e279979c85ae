"""Bounds on untrusted JSON: how deep it nests, measured before parsing, and what values a
parsed document may carry onward (finite numbers, valid Unicode).

`json.loads` recurses once per nested array or object, so a few kilobytes of `[` raise
RecursionError from inside the parser; the depth has to be known before it runs. And JSON
text can spell values that Python parses but nothing downstream can write back: `NaN`,
`Infinity`, `1e999` (parsed as infinity), integers past the range of a 64-bit float, and
`"\\ud800"` (a lone UTF-16 surrogate, which no UTF-8 encoder or PostgreSQL accepts).
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Final

_NOT_BRACKETS_OR_QUOTES: Final = bytes(b for b in range(256) if b not in b'[]{}"')
_AS_PARENS: Final = bytes.maketrans(b"[]{}", b"()()")

FLOAT_MAX: Final = sys.float_info.max

# Deeper than this and json.loads itself may run out of stack in a worker thread.
DEPTH_CEILING: Final = 200


def decode_text(payload: bytes) -> str:
    """The JSON text of `payload`, decoded exactly as `json.loads(payload)` would decode it.

    UTF-8 (with or without a byte-order mark), UTF-16 and UTF-32 are recognised as RFC 4627
    describes; raises UnicodeDecodeError for bytes that are none of them.
    """
    if len(payload) > 1 and payload[0] == 0x7B and payload[1]:
        # "{" then a byte that is not NUL: what detect_encoding calls UTF-8 (no byte-order
        # mark starts with "{"), without its Python-level checks: nearly every message.
        return payload.decode("utf-8", "surrogatepass")
    return payload.decode(json.detect_encoding(payload), "surrogatepass")


def nests_deeper_than(text: str, limit: int) -> bool:
    """Whether `json.loads(text)` could recurse more than `limit` arrays and objects deep.

    Exact for valid JSON; for invalid JSON it errs towards True, counting the depth the
    parser could reach before it gives up. Brackets inside strings do not count. Linear
    in the length of `text`, with at most `limit` further passes over its brackets.
    """
    if text.count("[") + text.count("{") <= limit:
        return False  # most messages stop here
    raw = text.encode("utf-8", "surrogatepass")
    if b"\\" in raw:
        # Drop escaped backslashes, then escaped quotes: what remains of each string is
        # delimited by plain quotes. Backslash runs are paired from their left end, as
        # JSON reads them.
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Keep only the brackets and the quotes. Two adjacent quotes enclose no bracket and
    # removing them keeps every later quote's parity, so one pass drops nearly all strings;
    # of what is left, pieces at odd positions between quotes lie inside strings (an
    # unterminated one runs to the end).
    brackets = raw.translate(_AS_PARENS, _NOT_BRACKETS_OR_QUOTES).replace(b'""', b"")
    if b'"' in brackets:
        brackets = b"".join(brackets.split(b'"')[::2])
    if b"(" * (limit + 1) in brackets:
        return True  # the usual attack, a run of opening brackets, found in one search
    # Each pass removes the innermost pairs, so the number of passes is the depth of the
    # matched pairs; brackets left unmatched could each add a level before the parser fails.
    passes = 0
    while passes <= limit:
        inner_removed = brackets.replace(b"()", b"")
        if len(inner_removed) == len(brackets):
            return passes + brackets.count(b"(") > limit
        brackets = inner_removed
        passes += 1
    return True


def check_number(value: int | float, what: str) -> float:
    """`value` as a finite float; raise ValueError naming `what` when it is not one."""
    if isinstance(value, int):
        if abs(value) > FLOAT_MAX:
            raise ValueError(f"{what} {show(value)} is beyond the range of a 64-bit float "
                             f"(about ±1.8e308); send it in a smaller unit or as text")
        return float(value)
    if not math.isfinite(value):
        raise ValueError(f"{what} is {show(value)}; numbers must be finite (JSON has no NaN "
                         "or Infinity, and literals past ±1.8e308 overflow to infinity)")
    return value


def check_text(value: str, what: str) -> str:
    """`value` when it is valid Unicode; raise ValueError naming `what` when it holds a
    lone UTF-16 surrogate (from an escape such as \\ud800 or from raw surrogate bytes)."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{what} holds {value[exc.start]!r}, half of a UTF-16 surrogate "
                             "pair; send the character itself or both halves of its escape") \
                from None
    return value


def check_portable(value: Any, what: str) -> None:
    """Raise ValueError naming the first place in a parsed JSON value that could not be
    written back as JSON or stored: a non-finite or out-of-range number, or text that is
    not valid Unicode. Iterative, so the depth of `value` does not matter."""
    if not _is_portable(value):
        _raise_first_fault(value, what)


def _is_portable(value: Any) -> bool:
    """The common case, fast: no paths are built unless something is wrong."""
    pending = [value]
    while pending:
        node = pending.pop()
        kind = type(node)
        if kind is str:
            if not node.isascii() and not _encodes(node):
                return False
        elif kind is float:
            if not math.isfinite(node):
                return False
        elif kind is int:
            if not -FLOAT_MAX <= node <= FLOAT_MAX:
                return False
        elif kind is dict:
            # One check for all keys: Python never merges two lone surrogates when joining.
            keys = "".join(node)
            if not keys.isascii() and not _encodes(keys):
                return False
            pending.extend(node.values())
        elif kind is list:
            pending.extend(node)
    return True


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _raise_first_fault(value: Any, what: str) -> None:
    pending: list[tuple[Any, str]] = [(value, what)]
    while pending:
        node, where = pending.pop()
        if isinstance(node, str):
            check_text(node, where)
        elif isinstance(node, bool) or node is None:
            continue
        elif isinstance(node, int | float):
            check_number(node, where)
        elif isinstance(node, dict):
            for key in node:
                check_text(key, f"a key in {where}")
            pending.extend((child, f"{where}[{show(key)}]")
                           for key, child in reversed(node.items()))
        elif isinstance(node, list):
            pending.extend((node[i], f"{where}[{i}]") for i in range(len(node) - 1, -1, -1))


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages: object, array, string…"""
    return {dict: "object", list: "array", str: "string", bool: "boolean",
            type(None): "null"}.get(type(value), "number")


def show(value: Any, width: int = 60) -> str:
    """`repr(value)` cut to `width` characters, so a reason never repeats a huge input."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**width:
        digits = len(str(abs(value)))
        return f"{'-' if value < 0 else ''}{str(abs(value))[:12]}… ({digits} digits)"
    text = repr(value)
    if len(text) <= width:
        return text
    return f"{text[:width - 20]}… ({len(text)} characters)"
