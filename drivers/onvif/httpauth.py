"""HTTP authentication of a camera's snapshot URL, in the scheme the camera asks for.

Cameras protect the snapshot with HTTP Basic or HTTP Digest (RFC 7617 / RFC 7616), as
configured on the camera; which one is only known from the `WWW-Authenticate` challenge of
a 401. `SnapshotLogin` reads the challenges, answers the one it can (Digest before Basic:
Digest never sends the password itself), and remembers it, so that later fetches
authenticate in one round trip. A refusal counts as wrong credentials only when it answers
an Authorization built from a challenge of the same fetch (see `session.fetch_snapshot`):
a remembered Digest nonce may simply have expired.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

#: Digest algorithms (RFC 7616 3.3) and their hash; `-sess` variants hash the nonces in.
_DIGEST_HASHES: Final[dict[str, Callable[[bytes], hashlib._Hash]]] = {
    "MD5": hashlib.md5, "SHA-256": hashlib.sha256, "SHA-512-256": lambda b: hashlib.new(
        "sha512_256", b)}
SCHEME_NAMES: Final = {"basic": "HTTP Basic", "digest": "HTTP Digest"}


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge of a WWW-Authenticate header: its scheme (lower case) and parameters
    (names lower case, values unquoted)."""

    scheme: str
    params: dict[str, str]


def parse_challenges(headers: Iterable[str]) -> list[Challenge]:
    """Every challenge in the given WWW-Authenticate header values.

    A camera may send one header per scheme or several challenges in one header
    (`Digest realm="a", nonce="b", Basic realm="a"`): a new challenge starts wherever a
    token is followed by a space rather than by `=`.
    """
    found: list[Challenge] = []
    for header in headers:
        for piece in _split_commas(header):
            name, _, rest = piece.partition(" ")
            if "=" not in name and name:
                found.append(Challenge(name.lower(), {}))
                piece = rest.strip()
                if not piece:
                    continue
            if not found:
                continue  # parameters before any scheme: not a challenge
            key, eq, value = piece.partition("=")
            if eq:
                found[-1].params[key.strip().lower()] = _unquote(value.strip())
    return found


def _split_commas(text: str) -> list[str]:
    """`text` split at commas outside quoted strings, each piece stripped."""
    pieces: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in text:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            pieces.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    pieces.append("".join(current).strip())
    return [p for p in pieces if p]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        out, escaped = [], False
        for ch in value[1:-1]:
            if escaped or ch != "\\":
                out.append(ch)
                escaped = False
            else:
                escaped = True
        return "".join(out)
    return value


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SnapshotLogin:
    """The credentials of one camera and the snapshot challenge it last sent."""

    def __init__(self, username: str, password: str, *,
                 cnonce: Callable[[], str] = lambda: os.urandom(8).hex()) -> None:
        self.username = username
        self.password = password
        self._cnonce = cnonce  # the client nonce of each Digest answer (tests fix it)
        #: "basic" or "digest": the scheme of the challenge answered last (None: none yet)
        self.scheme: str | None = None
        self._digest: dict[str, str] = {}
        self._count = 0

    @property
    def scheme_name(self) -> str:
        """`HTTP Basic` / `HTTP Digest`, for messages."""
        return SCHEME_NAMES.get(self.scheme or "", "no scheme")

    def authorization(self, method: str, target: str) -> str | None:
        """An Authorization header for a request, from the challenge remembered (None
        before the first one): one round trip instead of two."""
        if self.scheme == "basic":
            return self._basic()
        if self.scheme == "digest":
            return self._digest_header(method, target)
        return None

    def answer(self, challenges: list[Challenge], method: str, target: str) -> str | None:
        """The Authorization header answering the best challenge we can answer; None when
        the camera offers no scheme we speak (then `scheme` is left as it was)."""
        usable = [c for c in challenges if c.scheme == "digest" and c.params.get("nonce")
                  and self._algorithm(c) is not None]
        if usable:
            self.scheme, self._digest, self._count = "digest", usable[0].params, 0
            return self._digest_header(method, target)
        if any(c.scheme == "basic" for c in challenges):
            self.scheme, self._digest = "basic", {}
            return self._basic()
        return None

    @staticmethod
    def offered(challenges: list[Challenge]) -> str:
        """The schemes a 401 asked for, for messages: `NTLM, Negotiate` or `no scheme`."""
        names = [c.scheme.capitalize() if c.scheme not in SCHEME_NAMES else
                 SCHEME_NAMES[c.scheme].removeprefix("HTTP ") for c in challenges]
        if not names:
            return "no scheme (the 401 has no WWW-Authenticate header)"
        algorithms = [c.params.get("algorithm", "MD5") for c in challenges
                      if c.scheme == "digest"]
        extra = f" (algorithm {', '.join(algorithms)})" if algorithms else ""
        return ", ".join(dict.fromkeys(names)) + extra

    def _basic(self) -> str:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return f"Basic {token}"

    @staticmethod
    def _algorithm(challenge: Challenge) -> str | None:
        name = challenge.params.get("algorithm", "MD5").upper()
        base = name.removesuffix("-SESS")
        if base not in _DIGEST_HASHES:
            return None
        qops = _qops(challenge.params)
        if qops and not qops & {"auth", "auth-int"}:
            return None
        return name

    def _digest_header(self, method: str, target: str) -> str:
        c = self._digest
        algorithm = c.get("algorithm", "MD5").upper()
        hash_ = _DIGEST_HASHES[algorithm.removesuffix("-SESS")]

        def h(text: str) -> str:
            return hash_(text.encode()).hexdigest()

        realm, nonce = c.get("realm", ""), c.get("nonce", "")
        self._count += 1
        nc = f"{self._count:08x}"
        cnonce = self._cnonce()
        ha1 = h(f"{self.username}:{realm}:{self.password}")
        if algorithm.endswith("-SESS"):
            ha1 = h(f"{ha1}:{nonce}:{cnonce}")
        qops = _qops(c)
        qop = "auth" if "auth" in qops or not qops else "auth-int"
        ha2 = h(f"{method}:{target}") if qop == "auth" else h(f"{method}:{target}:{h('')}")
        fields = [("username", _quote(self.username)), ("realm", _quote(realm)),
                  ("nonce", _quote(nonce)), ("uri", _quote(target))]
        if qops:
            response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
            fields += [("qop", qop), ("nc", nc), ("cnonce", _quote(cnonce))]
        else:  # RFC 2069 style, for cameras that offer no qop
            response = h(f"{ha1}:{nonce}:{ha2}")
        fields += [("response", _quote(response)), ("algorithm", algorithm)]
        if "opaque" in c:
            fields.append(("opaque", _quote(c["opaque"])))
        return "Digest " + ", ".join(f"{k}={v}" for k, v in fields)


def _qops(params: dict[str, str]) -> set[str]:
    return {q.strip().lower() for q in params.get("qop", "").split(",") if q.strip()}
