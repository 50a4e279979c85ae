"""What a dead-letter row says: one row per rejected message, with a reason a person can act
on and a `details` document a program can count with.

Items rejected inside an otherwise valid envelope are summarised on the message's row
(counts per reason, the first few items with their index), not written one row each: a
single 40 KB message of 10,000 bad items must not become 10,000 rows. A message that makes
ingest's own code fail is set aside as `internal_error` naming the exception, so that no
message content can stop ingest or stall the messages queued behind it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

from telemetry import EnvelopeError, ItemRejection

#: How many rejected items a row shows in full (index, reason, the item as sent).
FIRST_ITEMS: Final = 5
#: How many reasons the row's text names before saying "… and N more".
REASONS_IN_TEXT: Final = 5
#: Upper bounds on text kept per row, so a pathological message cannot bloat the table.
MAX_REASON_CHARS: Final = 2000
MAX_ITEM_CHARS: Final = 300
MAX_EXCEPTION_CHARS: Final = 1000

ITEMS_REJECTED: Final = "items_rejected"
INTERNAL_ERROR: Final = "internal_error"

_ITEM_PREFIX: Final = re.compile(r"^item \d+: ")
# Values inside a reason (quoted reprs, times, numbers) vary per item; blanking them groups
# "got 'high'" and "got 'hot'" under one reason.
_VALUES: Final = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
                            r"|\d{4}-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)?"
                            r"|\b\d+:\d\d:\d\d(?:\.\d+)?\b|(?<!RFC )\b\d+(?:\.\d+)?\b")


class InternalError(EnvelopeError):
    """Ingest's own code failed on this message; `details` names the stage and exception.

    The reason starts `internal_error: <Type>: <text>` so an operator can grep for it; the
    payload is kept on the row, which is what a bug report needs.
    """

    def __init__(self, exc: BaseException, stage: str) -> None:
        text = exception_text(exc)
        name = type(exc).__name__
        super().__init__(INTERNAL_ERROR,
                         f"{INTERNAL_ERROR}: {name}: {text} (while {stage} this message; "
                         "ingest set it aside and went on — the payload is kept here for a "
                         "bug report)")
        self.details: dict[str, Any] = {"stage": stage, "exception": name, "message": text}


def exception_text(exc: BaseException) -> str:
    """`str(exc)`, storable and cut short; never raises (a broken `__str__` included)."""
    try:
        text = str(exc)
    except Exception:
        text = f"<{type(exc).__name__} whose text cannot be shown>"
    return storable(text)[:MAX_EXCEPTION_CHARS]


def storable(text: str) -> str:
    """`text` as PostgreSQL accepts it in text and jsonb: no NUL, no lone surrogates."""
    return (text.encode("utf-8", "backslashreplace").decode("utf-8")
            .replace("\x00", "\\x00"))


def reason_key(rejection: ItemRejection) -> str:
    """What a rejection is grouped under: its code when the decoder gives one, otherwise
    its reason with the item number and the offending values blanked."""
    code = getattr(rejection, "code", None)
    if isinstance(code, str) and code:
        return code
    text = _ITEM_PREFIX.sub("", rejection.reason)
    text = text.split(", got ", 1)[0]
    return storable(_VALUES.sub("…", text))[:200]


def summarise_rejections(rejected: Sequence[ItemRejection],
                         items: int) -> tuple[str, dict[str, Any]]:
    """The row's reason and details for `rejected` items out of `items` in one envelope."""
    counts = Counter(reason_key(r) for r in rejected)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    named = ", ".join(f"{key} ×{n}" for key, n in ranked[:REASONS_IN_TEXT])
    if len(ranked) > REASONS_IN_TEXT:
        named += f", and {len(ranked) - REASONS_IN_TEXT} more kinds"
    first = rejected[0]
    kept = items - len(rejected)
    reason = (f"{ITEMS_REJECTED}: {len(rejected)} of {items} items ({named}); first: "
              f"{storable(first.reason)[:MAX_ITEM_CHARS]}"
              + (f"; the other {kept} were stored" if kept else ""))
    details: dict[str, Any] = {
        "items": items,
        "rejected": len(rejected),
        "by_reason": [{"reason": key, "count": n} for key, n in ranked],
        "first": [{"index": r.index, "reason": storable(r.reason)[:MAX_ITEM_CHARS],
                   "item": _item_text(r.raw)} for r in rejected[:FIRST_ITEMS]],
    }
    return reason[:MAX_REASON_CHARS], details


def details_json(details: dict[str, Any] | None) -> str | None:
    """The details document as jsonb text (its strings are already `storable`)."""
    return None if details is None else json.dumps(details, ensure_ascii=False)


def _item_text(raw: Any) -> str:
    """The item as sent, as compact JSON text, cut short; never raises (the item may be
    nested too deep to encode, or not JSON at all)."""
    try:
        text = json.dumps(raw, ensure_ascii=False, separators=(",", ":"), default=repr)
    except Exception as exc:  # a RecursionError on a deeply nested item, say
        return f"<{type(raw).__name__} that cannot be shown: {type(exc).__name__}>"
    text = storable(text)
    return text if len(text) <= MAX_ITEM_CHARS else text[:MAX_ITEM_CHARS] + "…"
