"""The `uplink` section of the gateway config: where the central broker is, how the
gateway logs in (inline password or `password_file`) and TLS (`tls: {ca_file, cert_file,
key_file}`), all checked at load so a bad path or a key that does not fit its certificate
is reported with the key to fix, not found at the first connection.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gateway import configread as cr
from telemetry.tls import TlsNames, TlsSetupError, client_context

#: The names of the TLS settings in the config, for messages about them.
TLS_NAMES = TlsNames("uplink.tls.ca_file", "uplink.tls.cert_file", "uplink.tls.key_file")

UPLINK_KEYS = ("host", "port", "client_id", "username", "password", "password_file", "tls",
               "keepalive", "reconnect_min", "reconnect_max", "publish_timeout")
_TLS_KEYS = ("ca_file", "cert_file", "key_file")


@dataclass(frozen=True, slots=True)
class UplinkTls:
    """TLS to the central broker: trust only `ca_file`; present `cert_file` / `key_file`
    where the broker asks for a client certificate (mutual TLS)."""

    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None

    def context(self) -> ssl.SSLContext:
        """A fresh client context, read again on every connection so that renewed
        certificates are used from the next reconnect. Raises TlsSetupError."""
        return client_context(self.ca_file, self.cert_file, self.key_file, TLS_NAMES)


@dataclass(frozen=True, slots=True)
class UplinkConfig:
    """The central broker the gateway publishes to. `password` is the one given inline or
    read from `password_file` at load."""

    host: str
    port: int = 1883
    client_id: str = ""
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    password_file: Path | None = None
    tls: UplinkTls | None = None
    keepalive: int = 30
    reconnect_min: float = 0.5
    reconnect_max: float = 30.0
    publish_timeout: float = 30.0


def parse_uplink(top: cr.Section, source: Path, problems: cr.Problems, community: str,
                 gateway: str) -> UplinkConfig:
    up = top.section("uplink", UPLINK_KEYS, required=True,
                     example="{host: 10.0.0.5, port: 1883}")
    uplink = UplinkConfig(
        host=up.required("host", cr.text, "", "10.0.0.5"),
        port=up.optional("port", cr.int_between(1, 65535), 1883),
        client_id=up.optional("client_id", cr.text, f"scg-gw-{community}-{gateway}"),
        username=up.optional("username", cr.optional_text, None),
        password=up.optional("password", cr.optional_text, None),
        password_file=up.optional("password_file", readable_file(source), None),
        tls=_tls(up, source, problems),
        keepalive=up.optional("keepalive", cr.int_between(5, 65535), 30),
        reconnect_min=up.optional("reconnect_min", cr.seconds_at_least(0.01), 0.5),
        reconnect_max=up.optional("reconnect_max", cr.seconds_at_least(0.01), 30.0),
        publish_timeout=up.optional("publish_timeout", cr.seconds_at_least(0.1), 30.0),
    )
    if uplink.reconnect_max < uplink.reconnect_min:
        problems.add(up.line_of("reconnect_max"), up.key_path("reconnect_max"),
                     f"`reconnect_max` ({uplink.reconnect_max:g} s) is less than "
                     f"`reconnect_min` ({uplink.reconnect_min:g} s); raise it or lower "
                     "reconnect_min")
    return _with_password_file(uplink, up, problems, f"{community}/{gateway}")


def readable_file(source: Path) -> Callable[[Any], Path | None]:
    """A file path (relative to the config's folder) that must name a readable file."""
    def parse(value: Any) -> Path | None:
        if value is None:
            return None
        path = (source.parent / Path(cr.text(value)).expanduser()).absolute()
        try:
            with path.open("rb"):
                pass
        except OSError as exc:
            raise cr.Bad(f"cannot be read: {exc.strerror or exc} ({str(path)!r}); check the "
                         "path (a relative path is taken from the config file's folder) and "
                         "that the gateway's user may read it") from None
        return path
    return parse


def _tls(up: cr.Section, source: Path, problems: cr.Problems) -> UplinkTls | None:
    if up.data.get("tls") is None:
        if "tls" in up.data:
            problems.add(up.line_of("tls"), up.key_path("tls"), "`tls` is empty; give at "
                         "least `ca_file`, e.g. `tls: {ca_file: /etc/scg/county-ca.crt}`, or "
                         "remove it for plain MQTT")
        return None
    sec = up.section("tls", _TLS_KEYS, required=False)
    reported = len(problems.found)
    files = readable_file(source)
    ca_file = sec.required("ca_file", files, None, "/etc/scg/county-ca.crt")
    cert_file = sec.optional("cert_file", files, None)
    key_file = sec.optional("key_file", files, None)
    if ca_file is None or len(problems.found) > reported:
        return None  # a file is missing or the section is wrong: reported already
    tls = UplinkTls(ca_file, cert_file, key_file)
    try:
        tls.context()
    except TlsSetupError as exc:
        problems.add(sec.line_of(exc.setting), sec.key_path(exc.setting), str(exc))
        return None
    return tls


def _with_password_file(uplink: UplinkConfig, up: cr.Section, problems: cr.Problems,
                        account: str) -> UplinkConfig:
    """Read `password_file` into `password`; a login needs a user name."""
    if uplink.password_file is not None:
        if uplink.password is not None:
            problems.add(up.line_of("password_file"), up.key_path("password_file"),
                         "both `password` and `password_file` are set; keep one (the file "
                         "keeps the secret out of this config)")
            return uplink
        try:
            text = uplink.password_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            problems.add(up.line_of("password_file"), up.key_path("password_file"),
                         f"`password_file` cannot be read as text: {exc}")
            return uplink
        if not text or "\n" in text:
            problems.add(up.line_of("password_file"), up.key_path("password_file"),
                         f"`password_file` {str(uplink.password_file)!r} must hold the "
                         "password on one line, got "
                         f"{'nothing' if not text else 'several lines'}")
            return uplink
        uplink = replace(uplink, password=text)
    owner = uplink.username.partition("/") if uplink.username else ("", "", "")
    if owner[1] and uplink.username != account:
        problems.add(up.line_of("username"), up.key_path("username"),
                     f"`username` {uplink.username!r} is the broker account of another "
                     f"gateway; this one is {account!r}. The broker's ACL would accept and "
                     "drop everything it publishes: use this gateway's own account")
    if uplink.password is not None and uplink.username is None:
        key = "password" if "password" in up.data else "password_file"
        problems.add(up.line_of(key), up.key_path(key),
                     f"`{key}` is set without `username`; add the username, e.g. "
                     f"`username: {account}` (the account `scg broker config` makes for "
                     "this gateway)")
    return uplink
