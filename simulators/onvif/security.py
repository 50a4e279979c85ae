"""The camera's locks: WS-Security UsernameToken (PasswordDigest) on SOAP calls, and on the
snapshot URL HTTP Digest (RFC 7616, MD5, qop=auth) or, as many cameras are set up, HTTP
Basic (RFC 7617)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time
import xml.etree.ElementTree as ET
from collections import OrderedDict
from datetime import datetime

from simulators.onvif.soap import NS, parse_datetime

PASSWORD_DIGEST = ("http://docs.oasis-open.org/wss/2004/01/"
                   "oasis-200401-wss-username-token-profile-1.0#PasswordDigest")
CREATED_WINDOW = 5.0      # seconds either side of the camera's clock
_NONCES_KEPT = 4096


class NonceLedger:
    """Nonces seen lately, so that a captured request cannot be played again."""

    def __init__(self, keep: float = 4 * CREATED_WINDOW) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._keep = keep

    def first_use(self, nonce: str, now: float) -> bool:
        while self._seen and (next(iter(self._seen.values())) < now - self._keep
                              or len(self._seen) > _NONCES_KEPT):
            self._seen.popitem(last=False)
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        return True


def check_username_token(header: ET.Element | None, *, username: str, password: str,
                         camera_now: datetime, ledger: NonceLedger,
                         window: float = CREATED_WINDOW) -> str | None:
    """None when the token proves the password; otherwise why not (for the fault text)."""
    token = None if header is None else header.find("wsse:Security/wsse:UsernameToken", NS)
    if token is None:
        return "the request carries no WS-Security UsernameToken"
    user = (token.findtext("wsse:Username", "", NS) or "").strip()
    pw = token.find("wsse:Password", NS)
    nonce_b64 = (token.findtext("wsse:Nonce", "", NS) or "").strip()
    created = (token.findtext("wsu:Created", "", NS) or "").strip()
    if pw is None or pw.get("Type", PASSWORD_DIGEST) != PASSWORD_DIGEST:
        return "only PasswordDigest is accepted (Base64(SHA1(nonce + created + password)))"
    if not nonce_b64 or not created:
        return "PasswordDigest needs both wsse:Nonce and wsu:Created"
    try:
        nonce = base64.b64decode(nonce_b64, validate=True)
        created_at = parse_datetime(created)
    except (binascii.Error, ValueError):
        return f"Nonce {nonce_b64!r} or Created {created!r} cannot be read"
    skew = (created_at - camera_now).total_seconds()
    if abs(skew) > window:
        return (f"Created {created} is {skew:+.0f} s from the camera clock "
                f"{camera_now.isoformat(timespec='seconds')} (allowed ±{window:g} s); "
                "read GetSystemDateAndTime and correct for the offset")
    expected = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode())
                                .digest()).decode()
    if user != username or not hmac.compare_digest(expected, (pw.text or "").strip()):
        return f"wrong user name or password for user {user!r}"
    if not ledger.first_use(nonce_b64, time.monotonic()):
        return "this Nonce was used before (replayed request)"
    return None


class DigestGuard:
    """HTTP Digest for one camera: stateless nonces signed with a per-camera secret."""

    def __init__(self, realm: str, *, nonce_lifetime: float = 300.0) -> None:
        self.realm = realm
        self._secret = os.urandom(16)
        self._lifetime = nonce_lifetime

    def challenge(self, *, stale: bool = False) -> str:
        stamp = f"{time.time():.3f}"
        sig = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:24]
        nonce = base64.b64encode(f"{stamp}:{sig}".encode()).decode()
        return (f'Digest realm="{self.realm}", qop="auth", algorithm=MD5, nonce="{nonce}"'
                + (", stale=true" if stale else ""))

    def check(self, method: str, target: str, authorization: str | None, *,
              username: str, password: str) -> str | None:
        """None when `authorization` proves the password; otherwise why not."""
        if not authorization or not authorization.lower().startswith("digest "):
            return "no Digest Authorization header"
        fields = parse_auth_fields(authorization[7:])
        nonce = fields.get("nonce", "")
        if not self._nonce_ok(nonce):
            return "unknown or expired nonce"
        if fields.get("algorithm", "MD5").upper() != "MD5":
            return f"algorithm {fields.get('algorithm')} not offered (MD5 only)"
        if fields.get("uri") != target:
            return f"uri {fields.get('uri')!r} is not the requested {target!r}"
        ha1 = _md5(f"{fields.get('username', '')}:{self.realm}:{password}")
        ha2 = _md5(f"{method}:{target}")
        if fields.get("qop"):
            if fields["qop"] != "auth":
                return f"qop {fields['qop']} not offered (auth only)"
            expected = _md5(f"{ha1}:{nonce}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:"
                            f"auth:{ha2}")
        else:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")
        if (fields.get("username") != username
                or not hmac.compare_digest(expected, fields.get("response", ""))):
            return f"wrong user name or password for user {fields.get('username')!r}"
        return None

    def _nonce_ok(self, nonce: str) -> bool:
        try:
            stamp, _, sig = base64.b64decode(nonce, validate=True).decode().partition(":")
            issued = float(stamp)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        good = hmac.new(self._secret, stamp.encode(), hashlib.sha256).hexdigest()[:24]
        return hmac.compare_digest(good, sig) and -1.0 <= time.time() - issued <= self._lifetime


class BasicGuard:
    """HTTP Basic for one camera: the user name and password in every request."""

    def __init__(self, realm: str) -> None:
        self.realm = realm

    def challenge(self) -> str:
        return f'Basic realm="{self.realm}", charset="UTF-8"'

    def check(self, authorization: str | None, *, username: str, password: str) -> str | None:
        """None when `authorization` carries the right user and password; otherwise why not."""
        if not authorization or not authorization.lower().startswith("basic "):
            return "no Basic Authorization header"
        try:
            user, sep, given = base64.b64decode(authorization[6:].strip(), validate=True) \
                .decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "the Basic credentials are not base64 of UTF-8 user:password"
        if not sep:
            return "the Basic credentials have no ':' between user and password"
        if user != username or not hmac.compare_digest(given.encode(), password.encode()):
            return f"wrong user name or password for user {user!r}"
        return None


def parse_auth_fields(text: str) -> dict[str, str]:
    """`a="x", b=y, ...` of an Authorization header into a dict (quotes and escapes removed)."""
    fields: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " ,\t":
            i += 1
        eq = text.find("=", i)
        if eq < 0:
            break
        name = text[i:eq].strip().lower()
        i = eq + 1
        if i < n and text[i] == '"':
            i += 1
            value = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                value.append(text[i])
                i += 1
            i += 1
            fields[name] = "".join(value)
        else:
            end = text.find(",", i)
            end = n if end < 0 else end
            fields[name] = text[i:end].strip()
            i = end
    return fields


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()
