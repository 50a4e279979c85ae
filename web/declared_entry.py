"""Reading one declared-value entry from an HTTP request and storing it: the values (form
fields named after the row's fields, and/or a JSON `values` field), `text`, and the
`evidence` files, which go to the evidence store only once the rest of the entry is valid,
and `evidence_sha256`: files already stored (by an earlier entry) to attach again, so a
correction need not upload the same document twice. Shared by the JSON API and the page.
Who enters it is the signed-in user: a `by` field is refused with that reason (it used to
name the person, and anyone could type any name).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from fastapi import Request
from starlette.datastructures import UploadFile

from acceptance.declared import Declaration, enter_declaration, evidence_file
from acceptance.declared_check import DeclarationRefused, check_entry, declarable_row
from acceptance.evidence import (
    EvidenceError,
    EvidenceStore,
    EvidenceTooLarge,
    StoredFile,
    is_sha256,
)
from web.forms import MAX_FILES, read_form

Connection = Any  # asyncpg.Connection

#: Form fields with a meaning of their own; every other field is one of the row's values
#: (`csrf_token` is the page form's, checked before the entry is read).
RESERVED: Final = frozenset({"values", "text", "evidence", "evidence_sha256", "csrf_token"})
NO_BY: Final = ("`by` is not taken any more: an entry is recorded in the name of the signed-in "
                "user; leave the field out")

_SHA256: Final = {"type": "string", "pattern": "^[0-9a-f]{64}$",
                  "description": "SHA-256 of an evidence file stored by an earlier entry"}
_TEXT_FIELDS: Final = {
    "values": {"type": "string", "description": 'the values as one JSON object, e.g. '
                                                '{"fibre_households": 3790}'},
    "text": {"type": "string", "description": "free text: how the figure was obtained"},
    "evidence_sha256": {"type": "array", "items": _SHA256,
                        "description": "stored files to attach again"},
    "csrf_token": {"type": "string", "description": "the page's CSRF token: needed only when "
                                                    "signed in by the session cookie"},
}
_VALUE_FIELD: Final = {"type": "string", "description": "one value of the row, named as in "
                                                        "the catalogue, e.g. fibre_households"}
#: The entry as the OpenAPI document describes it (the route reads the request itself).
ENTRY_BODY: Final = {"required": True, "content": {
    "multipart/form-data": {"schema": {
        "type": "object",
        "properties": {**_TEXT_FIELDS, "evidence": {
            "type": "array", "items": {"type": "string", "format": "binary"},
            "description": f"evidence files (at most {MAX_FILES})"}},
        "additionalProperties": _VALUE_FIELD}},
    "application/x-www-form-urlencoded": {"schema": {
        "type": "object", "properties": _TEXT_FIELDS, "additionalProperties": _VALUE_FIELD}},
    "application/json": {"schema": {
        "type": "object",
        "properties": {"values": {"type": "object", "description": "field: value"},
                       "text": _TEXT_FIELDS["text"],
                       "evidence_sha256": _TEXT_FIELDS["evidence_sha256"]},
        "additionalProperties": False}},
}}


@dataclass
class Entry:
    values: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    uploads: list[UploadFile] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)   # SHA-256 of stored files to attach


async def read_entry(request: Request) -> Entry:
    """The entry in a multipart or url-encoded form, or in a JSON body (no files then)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "application/json":
        return _json_entry(await _json_body(request))
    if kind not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise DeclarationRefused([
            f"send the entry as multipart/form-data (fields, `text`, files `evidence`) "
            f"or as JSON, not {kind or 'an empty body'}"], 415)
    form = await read_form(request)
    entry = Entry()
    problems: list[str] = []
    raw_values = form.get("values")
    if isinstance(raw_values, str) and raw_values.strip():
        try:
            parsed = json.loads(raw_values)
        except json.JSONDecodeError as exc:
            parsed = None
            problems.append(f"`values` is not JSON ({exc.msg} at character {exc.pos}); send "
                            'an object such as {"fibre_households": 3790}')
        if parsed is not None and not isinstance(parsed, dict):
            problems.append(f"`values` must be a JSON object of field: value, got "
                            f"{raw_values.strip()[:80]!r}")
        elif isinstance(parsed, dict):
            entry.values.update(parsed)
    for key, value in form.multi_items():
        if key == "evidence":
            if isinstance(value, UploadFile):
                # A file input left empty still sends a part, with no name and no bytes.
                if value.filename or (value.size or 0) > 0:
                    entry.uploads.append(value)
            elif value.strip():
                problems.append("`evidence` must be a file upload, not text")
        elif key == "text":
            entry.text = value if isinstance(value, str) else ""
        elif key == "by":
            problems.append(NO_BY)
        elif key == "csrf_token":
            continue
        elif key == "evidence_sha256":
            if isinstance(value, str) and value.strip():
                entry.keep.append(value.strip().lower())
        elif key != "values":
            if isinstance(value, UploadFile):
                problems.append(f"{key!r} is a file; only `evidence` takes files")
            elif key in entry.values and _differs(entry.values[key], value):
                problems.append(f"{key!r} is given twice with different values: "
                                f"{entry.values[key]!r} and {value!r}; send it once")
            else:
                entry.values.setdefault(key, value)
    if problems:
        raise DeclarationRefused(problems)
    return entry


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DeclarationRefused([f"the body is not JSON: {exc}"]) from None


def _json_entry(body: Any) -> Entry:
    if not isinstance(body, dict):
        raise DeclarationRefused(['send a JSON object {"values": {...}, "text": "..."}'])
    unknown = sorted(set(body) - {"values", "text", "evidence_sha256", "by"})
    problems = [f"unknown key {k!r}; a JSON entry has values, text and evidence_sha256 "
                "(new files need a multipart form)" for k in unknown]
    if "by" in body:
        problems.append(NO_BY)
    values = body.get("values", {})
    if not isinstance(values, dict):
        problems.append(f"`values` must be an object of field: value, got {values!r}")
    text = body.get("text", "")
    if not isinstance(text, str):
        problems.append(f"`text` must be a string, got {text!r}")
    keep = body.get("evidence_sha256", [])
    if not isinstance(keep, list) or not all(isinstance(k, str) for k in keep):
        problems.append(f"`evidence_sha256` must be a list of SHA-256 strings, got {keep!r}")
    if problems:
        raise DeclarationRefused(problems)
    return Entry(values=dict(values), text=text, keep=[k.strip().lower() for k in keep])


def _differs(a: Any, b: str) -> bool:
    return str(a).strip().lower() != b.strip().lower()


async def store_entry(conn: Connection, store: EvidenceStore, community: str, row_id: str,
                      entry: Entry, at: datetime, *, by: str) -> Declaration:
    """Check the entry, store its files, then record it in the name of `by`, the signed-in
    user (DeclarationRefused if it cannot be: nothing is written then, except files already
    stored, which are harmless)."""
    row = declarable_row(row_id)
    kept = await _kept_files(conn, entry.keep)
    check_entry(row, entry.values, files=len(entry.uploads) + len(kept), by=by,
                text=entry.text)
    stored: list[StoredFile] = list(kept)
    for upload in entry.uploads:
        name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1] or "evidence"
        ctype = upload.content_type or "application/octet-stream"
        try:
            stored.append(await asyncio.to_thread(store.put, upload.file, name, ctype))
        except EvidenceError as exc:
            status = 413 if isinstance(exc, EvidenceTooLarge) else 422
            raise DeclarationRefused([str(exc)], status) from None
    return await enter_declaration(conn, community, row_id, entry.values, text=entry.text,
                                   by=by, at=at, files=stored)


async def _kept_files(conn: Connection, shas: list[str]) -> list[StoredFile]:
    out: list[StoredFile] = []
    for sha in dict.fromkeys(shas):
        info = await evidence_file(conn, sha) if is_sha256(sha) else None
        if info is None:
            raise DeclarationRefused([
                f"evidence_sha256 {sha!r} is not a stored evidence file; upload the file "
                "itself (field `evidence`)"])
        out.append(StoredFile(sha256=info.sha256, size=info.size, name=info.name,
                              content_type=info.content_type))
    return out
