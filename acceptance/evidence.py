"""Evidence files on disk, content-addressed: the bytes of a file with SHA-256 `h` live at
`<evidence dir>/sha256/<h[:2]>/<h>`, written once (atomically, read-only) and never changed.

The directory is `SCG_EVIDENCE_DIR`, by default `.scg-state/evidence` under the current
directory (next to the demo's state). Their metadata (size, type, names, who attached them
to what) is in the database; see `acceptance.declared`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

ENV_DIR: Final = "SCG_EVIDENCE_DIR"
DEFAULT_DIR: Final = Path(".scg-state/evidence")
ENV_MAX_BYTES: Final = "SCG_EVIDENCE_MAX_BYTES"
#: Largest evidence file accepted unless SCG_EVIDENCE_MAX_BYTES says otherwise (scans and
#: photos of documents, not videos).
DEFAULT_MAX_BYTES: Final = 50 * 1024 * 1024

_SHA256_RE: Final = re.compile(r"^[0-9a-f]{64}$")
_CHUNK: Final = 1 << 20


class EvidenceError(ValueError):
    """An evidence file that cannot be accepted (empty, too large); the message says which."""


class EvidenceTooLarge(EvidenceError):
    """A file above the size limit (HTTP 413)."""


class EvidenceMissing(RuntimeError):
    """A file the database lists is not on disk, or no longer has its SHA-256."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An uploaded file once its bytes are safely stored."""

    sha256: str
    size: int
    name: str
    content_type: str


def is_sha256(text: str) -> bool:
    return bool(_SHA256_RE.match(text))


def evidence_dir_from_env() -> Path:
    """SCG_EVIDENCE_DIR, or `.scg-state/evidence` under the current directory; absolute."""
    raw = os.environ.get(ENV_DIR, "").strip()
    return (Path(raw) if raw else DEFAULT_DIR).expanduser().resolve()


def max_bytes_from_env() -> int:
    raw = os.environ.get(ENV_MAX_BYTES, "").strip()
    if not raw:
        return DEFAULT_MAX_BYTES
    if not raw.isdigit() or int(raw) <= 0:
        raise ValueError(f"{ENV_MAX_BYTES}={raw!r} is not a positive number of bytes; "
                         f"e.g. {ENV_MAX_BYTES}={DEFAULT_MAX_BYTES}")
    return int(raw)


class EvidenceStore:
    """The evidence directory. Blocking file I/O: call from a worker thread in async code."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def path(self, sha256: str) -> Path:
        if not is_sha256(sha256):
            raise ValueError(f"{sha256!r} is not a SHA-256 (64 lower-case hex digits)")
        return self.root / "sha256" / sha256[:2] / sha256

    def put(self, source: BinaryIO, name: str, content_type: str) -> StoredFile:
        """Copy `source` (read to its end) into the store while hashing it.

        The bytes go to a temporary file in the store first and are renamed into place
        only when complete, so a crash never leaves a partial file under a valid name.
        """
        incoming = self.root / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=incoming, prefix="upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := source.read(_CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise EvidenceTooLarge(
                            f"evidence file {name!r} is larger than {self.max_bytes} bytes, "
                            f"the most accepted ({ENV_MAX_BYTES}); attach a smaller scan or "
                            "split the document")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if size == 0:
                raise EvidenceError(f"evidence file {name!r} is empty; attach the document "
                                    "itself")
            sha = digest.hexdigest()
            final = self.path(sha)
            if final.exists():
                tmp.unlink()
            else:
                final.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(tmp, 0o444)
                os.replace(tmp, final)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return StoredFile(sha256=sha, size=size, name=name, content_type=content_type)

    def read(self, sha256: str) -> bytes:
        """The stored bytes, checked against their name; EvidenceMissing when absent or
        altered (the database and the directory no longer agree)."""
        path = self.path(sha256)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise EvidenceMissing(
                f"evidence {sha256} is recorded but {path} does not exist; is "
                f"{ENV_DIR} pointing at the right directory ({self.root})? Restore the file "
                "from a backup") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise EvidenceMissing(f"evidence file {path} no longer has SHA-256 {sha256}: it "
                                  "was altered on disk; restore it from a backup")
        return data
