"""The key file of personal data: random SM4 keys with their ids, one of them current.

`scg keys init` makes it (mode 0600, never over an existing file); `scg keys rotate` adds a
new current key and keeps the old ones to open what they sealed until `scg keys retire`
removes one that nothing uses any more. Central commands and the API find it through
`--key-file` or SCG_DATA_KEY_FILE. The file is JSON:

    {"format": "scg-data-keys 1",
     "current": "3f9a0c1e",
     "keys": [{"id": "3f9a0c1e", "sm4": "<32 hex digits>", "created": "2026-…Z"}, …]}

A key file anyone but its owner may read is refused at load: whoever reads it reads every
resident's phone number.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from inventory.sealing import KEY_BYTES, DataKey, KeyRing, new_key_id

KEY_FILE_ENV: Final = "SCG_DATA_KEY_FILE"
FORMAT: Final = "scg-data-keys 1"
_ID_RE: Final = re.compile(r"^[0-9a-f]{8}$")
_SECRET_RE: Final = re.compile(rf"^[0-9a-f]{{{2 * KEY_BYTES}}}$")
_NOTE: Final = ("SM4 keys of scg's personal data. Keep this file secret (mode 0600) and back "
                "it up apart from the database: without it the residents' data cannot be read.")


class KeyFileError(ValueError):
    """The key file cannot be used; the message names the file and the fix."""


def key_file_path(value: str | os.PathLike[str] | None = None) -> Path | None:
    """`value` (a --key-file option), else SCG_DATA_KEY_FILE, else None."""
    chosen = value if value else os.environ.get(KEY_FILE_ENV)
    return Path(chosen).expanduser() if chosen else None


def init_key_file(path: Path, *, now: datetime | None = None) -> DataKey:
    """Write a new key file with one random key at `path`; refuse an existing file."""
    if path.exists() or path.is_symlink():
        raise KeyFileError(f"{path} already exists; scg never overwrites a key file (the "
                           "data sealed with it could no longer be read). Use `scg keys "
                           "rotate` to add a key, or choose another path")
    key = _new_key(set(), now)
    _write(path, key.id, [key], exclusive=True)
    return key


def load_key_file(path: Path) -> KeyRing:
    """The key ring in `path`, after checking who may read it and what it holds."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist; make one with `scg keys init "
                           f"--key-file {path}` (or point {KEY_FILE_ENV} at yours)") from None
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"key file {path} is not a regular file")
    if info.st_mode & 0o077:
        raise KeyFileError(
            f"key file {path} may be read by others (mode {stat.S_IMODE(info.st_mode):04o}): "
            f"whoever reads it reads every resident's data. Run `chmod 600 {path}` (and "
            "check who could have copied it)")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyFileError(f"key file {path} is not a readable scg key file ({exc}); "
                           "restore it from its backup") from None
    return _ring(path, doc)


def add_key(path: Path, *, now: datetime | None = None) -> DataKey:
    """Add a new random key to the file at `path` and make it current; return it."""
    ring = load_key_file(path)
    key = _new_key(set(ring.keys), now)
    _write(path, key.id, [*ring.keys.values(), key])
    return key


def remove_key(path: Path, key_id: str) -> KeyRing:
    """Remove key `key_id` (not the current one) from the file; return what remains.
    Whether any sealed value still uses it is the caller's check (`scg keys retire`)."""
    ring = load_key_file(path)
    if key_id not in ring.keys:
        raise KeyFileError(f"key {key_id} is not in {path} (it holds "
                           f"{', '.join(sorted(ring.keys))})")
    if key_id == ring.current:
        raise KeyFileError(f"key {key_id} is the current key of {path}; rotate first "
                           "(`scg keys rotate`), then retire it")
    kept = [k for k in ring.keys.values() if k.id != key_id]
    _write(path, ring.current, kept)
    return KeyRing({k.id: k for k in kept}, ring.current)


@dataclass
class KeySource:
    """A key file read again when it changes on disk, so a running API opens values that
    `scg keys rotate` has just sealed under a new key without a restart."""

    path: Path
    _seen: tuple[int, int, int] | None = None
    _ring: KeyRing | None = None

    def ring(self) -> KeyRing:
        try:
            info = self.path.stat()
            seen = (info.st_ino, info.st_mtime_ns, info.st_size)
        except OSError:
            seen = None
        if self._ring is None or seen != self._seen:
            self._ring = load_key_file(self.path)
            self._seen = seen
        return self._ring


def _new_key(taken: set[str], now: datetime | None) -> DataKey:
    return DataKey(new_key_id(taken), os.urandom(KEY_BYTES), now or datetime.now(UTC))


def _ring(path: Path, doc: Any) -> KeyRing:
    def bad(what: str) -> KeyFileError:
        return KeyFileError(f"key file {path}: {what}; restore it from its backup")

    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise bad(f"it is not an scg key file (expected \"format\": \"{FORMAT}\")")
    rows = doc.get("keys")
    if not isinstance(rows, list) or not rows:
        raise bad("\"keys\" must be a non-empty list")
    keys: dict[str, DataKey] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise bad(f"keys[{i}] must be a mapping with id, sm4 and created")
        ident, secret = row.get("id"), row.get("sm4")
        if not isinstance(ident, str) or not _ID_RE.match(ident):
            raise bad(f"keys[{i}].id must be 8 lowercase hex digits, got {ident!r}")
        if not isinstance(secret, str) or not _SECRET_RE.match(secret):
            raise bad(f"keys[{i}].sm4 of key {ident} must be {2 * KEY_BYTES} lowercase hex "
                      "digits")
        if ident in keys:
            raise bad(f"key {ident} is listed twice")
        created = None
        if isinstance(row.get("created"), str):
            with contextlib.suppress(ValueError):
                created = datetime.fromisoformat(row["created"].replace("Z", "+00:00"))
        keys[ident] = DataKey(ident, bytes.fromhex(secret), created)
    current = doc.get("current")
    if current not in keys:
        raise bad(f"\"current\" ({current!r}) is not one of its keys "
                  f"({', '.join(keys)})")
    return KeyRing(keys, str(current))


def _write(path: Path, current: str, keys: list[DataKey], *, exclusive: bool = False) -> None:
    """Write the file through a 0600 temporary file in the same folder, then move it in
    place (or link it, for a new file, so that an existing one is never replaced)."""
    doc = {"format": FORMAT, "note": _NOTE, "current": current,
           "keys": [{"id": k.id, "sm4": k.secret.hex(),
                     "created": (k.created.astimezone(UTC).isoformat().replace("+00:00", "Z")
                                 if k.created else None)} for k in keys]}
    folder = path.parent
    if not folder.is_dir():
        raise KeyFileError(f"folder {folder} does not exist; create it first (mode 0700 is "
                           "a good choice)")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=folder)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(doc, out, indent=2)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise KeyFileError(f"{path} already exists; scg never overwrites a key "
                                   "file") from None
        else:
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
