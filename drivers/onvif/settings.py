"""The `drivers.onvif` section of the gateway config and each camera's address and options,
validated at load so a typo is reported with the key and the fix before anything runs.

    drivers:
      onvif:
        concurrency: 16        # picture probes in flight at once
        timeout: 10s           # per camera request, and for the snapshot of a probe
        checks: {black_below: 30, white_above: 225, blank_std_below: 5}
        events: true           # keep a PullPoint event subscription per camera
        pull_timeout: 20s      # how long the camera may hold one PullMessages call
        subscription_time: 5m  # asked-for lifetime of a subscription; renewed at 80 %
        max_clock_skew: 10s    # a camera clock further off than this is reported degraded
        thumbnails: true       # send a small JPEG of the picture (<= 20 KB) with a probe
        thumbnail_every: 1h    # ... at most this often while the picture check says the same

Each camera logs in with `options: {username, password}`, or, to keep the password out of
gateway.yaml, `options: {username, password_file: /etc/scg/cameras/cam-001.password}`: a
file holding the password on one line, readable by its owner only (mode 0600 or 0400).
Several cameras with one password may share a file. It is read once, at load.
"""

from __future__ import annotations

import math
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from drivers.base import DeviceSpec, DriverConfigError

PROFILES = frozenset({"onvif_profile_s"})
DEVICE_OPTIONS = frozenset({"username", "password", "password_file"})
_DEVICE_SERVICE_PATH = "/onvif/device_service"


@dataclass(frozen=True, slots=True)
class Checks:
    """Thresholds of the picture check (INDICATORS.md, Video): grey levels are 0..255."""

    black_below: float = 30.0
    white_above: float = 225.0
    blank_std_below: float = 5.0


@dataclass(frozen=True, slots=True)
class OnvifSettings:
    concurrency: int = 16
    timeout: float = 10.0
    checks: Checks = field(default_factory=Checks)
    events: bool = True
    pull_timeout: float = 20.0
    subscription_time: float = 300.0
    #: The driver signs requests on the camera's own clock, so a skewed camera still answers;
    #: but its recordings and events carry wrong times, which an operator must fix.
    max_clock_skew: float = 10.0
    #: A probe carries a thumbnail of its picture when the check's verdict changes, else at
    #: most every `thumbnail_every` seconds (`drivers.onvif.thumbnail`); off: never, for a
    #: site whose pictures must not leave the edge box.
    thumbnails: bool = True
    thumbnail_every: float = 3600.0


@dataclass(frozen=True, slots=True)
class CameraAddress:
    """Where a camera's device service answers, split the way the ONVIF client wants it."""

    url: str     # http://host:port/onvif/device_service
    scheme: str  # http | https
    host: str
    port: int


@dataclass(frozen=True, slots=True)
class Camera:
    """One configured camera: its spec, its parsed address and its credentials."""

    spec: DeviceSpec
    address: CameraAddress
    username: str
    password: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def period(self) -> float:
        return self.spec.period.total_seconds()


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def _seconds(key: str, value: Any, example: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION_RE.match(value)):
        seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    else:
        raise DriverConfigError(f"onvif setting {key!r}: expected a duration such as "
                                f"{example} (or a number of seconds), got {value!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise DriverConfigError(f"onvif setting {key!r}: must be longer than zero, e.g. "
                                f"{example}; got {value!r}")
    return seconds


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not 0 <= value <= 255:
        raise DriverConfigError(f"onvif setting {key!r}: expected a grey level between 0 "
                                f"and 255, got {value!r}")
    return float(value)


_CHECK_KEYS = ("black_below", "white_above", "blank_std_below")
_KEYS = ("concurrency", "timeout", "checks", "events", "pull_timeout", "subscription_time",
         "max_clock_skew", "thumbnails", "thumbnail_every")


def parse_settings(raw: Mapping[str, Any] | None) -> OnvifSettings:
    """Check the settings mapping; DriverConfigError names the key, what is wrong, the fix."""
    if raw is not None and not isinstance(raw, Mapping):
        raise DriverConfigError("the onvif driver settings must be a mapping such as "
                                f"{{concurrency: 16, timeout: 10s}}, got {raw!r}")
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(_KEYS))
    if unknown:
        raise DriverConfigError(f"unknown onvif driver setting(s) "
                                f"{', '.join(map(repr, unknown))}; known: {', '.join(_KEYS)} "
                                "(check the spelling)")
    defaults = OnvifSettings()
    concurrency = raw.get("concurrency", defaults.concurrency)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise DriverConfigError(f"onvif setting 'concurrency': expected a whole number of "
                                f"probes in flight of at least 1, e.g. 16; got {concurrency!r}")
    events = raw.get("events", defaults.events)
    if not isinstance(events, bool):
        raise DriverConfigError(f"onvif setting 'events': expected true or false, "
                                f"got {events!r}")
    timeout = _seconds("timeout", raw.get("timeout", defaults.timeout), "10s")
    pull = _seconds("pull_timeout", raw.get("pull_timeout", defaults.pull_timeout), "20s")
    lifetime = _seconds("subscription_time",
                        raw.get("subscription_time", defaults.subscription_time), "5m")
    if lifetime <= pull:
        raise DriverConfigError(f"onvif settings 'subscription_time' ({lifetime:g} s) must "
                                f"be longer than 'pull_timeout' ({pull:g} s), or the "
                                "subscription expires while a pull is waiting")
    skew = _seconds("max_clock_skew", raw.get("max_clock_skew", defaults.max_clock_skew), "10s")
    thumbnails = raw.get("thumbnails", defaults.thumbnails)
    if not isinstance(thumbnails, bool):
        raise DriverConfigError(f"onvif setting 'thumbnails': expected true or false, "
                                f"got {thumbnails!r}")
    every = _seconds("thumbnail_every", raw.get("thumbnail_every", defaults.thumbnail_every),
                     "1h")
    return OnvifSettings(concurrency=concurrency, timeout=timeout,
                         checks=_parse_checks(raw.get("checks")), events=events,
                         pull_timeout=pull, subscription_time=lifetime, max_clock_skew=skew,
                         thumbnails=thumbnails, thumbnail_every=every)


def _parse_checks(raw: Any) -> Checks:
    if raw is None:
        return Checks()
    if not isinstance(raw, Mapping):
        raise DriverConfigError("onvif setting 'checks': expected a mapping such as "
                                f"{{black_below: 30, white_above: 225, blank_std_below: 5}}, "
                                f"got {raw!r}")
    unknown = sorted(set(raw) - set(_CHECK_KEYS))
    if unknown:
        raise DriverConfigError(f"unknown onvif setting(s) "
                                f"{', '.join(f'checks.{k}' for k in unknown)}; known: "
                                f"{', '.join(_CHECK_KEYS)}")
    values = {k: _number(f"checks.{k}", raw[k]) for k in _CHECK_KEYS if k in raw}
    checks = Checks(**values)
    if checks.black_below >= checks.white_above:
        raise DriverConfigError(f"onvif settings checks.black_below ({checks.black_below:g}) "
                                f"must be below checks.white_above ({checks.white_above:g}), "
                                "or every picture is black or white")
    return checks


def parse_address(value: str) -> CameraAddress:
    """A device-service URL, or `host:port` (then http and /onvif/device_service)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("address is empty; give the device service URL, e.g. "
                         f"http://192.0.2.10:80{_DEVICE_SERVICE_PATH}, or host:port")
    text = value.strip()
    if "://" not in text:
        text = f"http://{text}{_DEVICE_SERVICE_PATH}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"address {value!r} is not a URL or host:port ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"address {value!r}: scheme {parts.scheme!r} is not http or https")
    if not parts.hostname:
        raise ValueError(f"address {value!r} names no host; e.g. http://192.0.2.10:80"
                         f"{_DEVICE_SERVICE_PATH}")
    if parts.username or parts.password:
        raise ValueError(f"address {value!r} carries credentials; put them in options "
                         "username/password instead")
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    path = parts.path or _DEVICE_SERVICE_PATH
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    url = f"{parts.scheme}://{host}:{port}{path}"
    if parts.query:
        url += f"?{parts.query}"
    return CameraAddress(url=url, scheme=parts.scheme, host=parts.hostname, port=port)


def parse_cameras(devices: Sequence[DeviceSpec]) -> list[Camera]:
    """Check each camera's driver, profile, address and options; no two share an address."""
    cameras: list[Camera] = []
    seen: dict[str, str] = {}
    for d in devices:
        where = f"device {d.id}"
        if d.driver != "onvif":
            raise DriverConfigError(f"{where}: driver is {d.driver!r}, not 'onvif'")
        if d.profile not in PROFILES:
            raise DriverConfigError(f"{where}: profile {d.profile!r} is not one the onvif "
                                    f"driver knows; use {', '.join(sorted(PROFILES))}")
        try:
            address = parse_address(d.address)
        except ValueError as exc:
            raise DriverConfigError(f"{where}: {exc}") from None
        other = seen.get(address.url)
        if other is not None:
            raise DriverConfigError(f"{where}: address {address.url} is also used by device "
                                    f"{other}; give each camera its own")
        seen[address.url] = d.id
        options = d.options or {}
        if not isinstance(options, Mapping):
            raise DriverConfigError(f"{where}: options must be a mapping such as "
                                    "{username: admin, password: secret}")
        unknown = sorted(set(options) - DEVICE_OPTIONS)
        if unknown:
            raise DriverConfigError(f"{where}: unknown option(s) {', '.join(unknown)} for the "
                                    f"onvif driver; known: {', '.join(sorted(DEVICE_OPTIONS))}")
        username, password = options.get("username"), options.get("password")
        if options.get("password_file") is not None:
            if password is not None:
                raise DriverConfigError(f"{where}: options.password and options.password_file "
                                        "are both set; keep password_file (it keeps the "
                                        "secret out of the gateway config)")
            password = read_password_file(where, options["password_file"])
        if username is None or password is None:
            missing = " and ".join(k for k, v in (("username", username), ("password", password))
                                   if v is None)
            raise DriverConfigError(f"{where}: options.{missing} missing; ONVIF cameras "
                                    "authenticate every service call, e.g. options: "
                                    "{username: admin, password_file: /etc/scg/cam.password}"
                                    " (or password: <the camera's password>)")
        for key, val in (("username", username), ("password", password)):
            if isinstance(val, bool) or not isinstance(val, str | int):
                raise DriverConfigError(f"{where}: option {key} must be text, got "
                                        f"{type(val).__name__}")
        if not str(username):
            raise DriverConfigError(f"{where}: options.username is empty; give the camera "
                                    "user, often admin")
        if d.period.total_seconds() <= 0:
            raise DriverConfigError(f"{where}: period must be longer than zero, e.g. 60s")
        cameras.append(Camera(d, address, str(username), str(password)))
    return cameras


def read_password_file(where: str, value: Any) -> str:
    """The password in the file `value` names: an absolute path (the driver does not know
    the config's folder), a regular file only its owner may read, one line."""
    if not isinstance(value, str) or not value.strip():
        raise DriverConfigError(f"{where}: options.password_file must be the path of a file "
                                f"holding the password, got {value!r}")
    path = Path(value.strip()).expanduser()
    if not path.is_absolute():
        raise DriverConfigError(f"{where}: options.password_file {value!r} is relative; give "
                                "an absolute path such as /etc/scg/cameras/cam-001.password")
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise DriverConfigError(f"{where}: options.password_file {str(path)!r} is not a "
                                    "regular file")
        if info.st_mode & 0o077:
            raise DriverConfigError(
                f"{where}: options.password_file {str(path)!r} may be read by others (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); run `chmod 600 {path}`, or the camera's "
                "password is as good as in the config")
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise DriverConfigError(f"{where}: options.password_file {str(path)!r} cannot be "
                                f"read: {reason}; check the path and that the gateway's "
                                "user may read it") from None
    if not text or "\n" in text:
        raise DriverConfigError(f"{where}: options.password_file {str(path)!r} must hold "
                                "the password on one line, got "
                                f"{'nothing' if not text else 'several lines'}")
    return text
