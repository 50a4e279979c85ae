"""What went wrong talking to a camera, named by what the operator should do about it:
no answer (FAILED: power, network), refused credentials or clock (DEGRADED: fix the
config or the camera's clock), a wrong answer (DEGRADED: the camera misbehaves).
"""

from __future__ import annotations

import aiohttp
import zeep.exceptions
from onvif.exceptions import ONVIFError
from onvif.util import is_auth_error, stringify_onvif_error

from drivers.base import Outcome
from drivers.onvif.picture import Check

#: UsernameToken `Created` values further than this from a camera's clock are commonly
#: refused (ONVIF core spec leaves it to the device; 5 s is usual).
SKEW_WINDOW_S = 5.0

_OUTCOME = {Check.TIMEOUT: Outcome.FAILED, Check.UNREACHABLE: Outcome.FAILED}


class ProbeFailure(Exception):
    """A probe step failed; `check` is the Probe's check, `reason` the operator's sentence."""

    def __init__(self, check: Check, reason: str) -> None:
        super().__init__(reason)
        self.check = check
        self.reason = reason

    @property
    def outcome(self) -> Outcome:
        return _OUTCOME.get(self.check, Outcome.DEGRADED)


class NotAuthorized(ProbeFailure):
    """The camera refused our WS-Security token; the driver decides below whether the
    password or the clock is to blame."""

    def __init__(self, step: str, detail: str) -> None:
        super().__init__(Check.AUTH, f"camera answered NotAuthorized to {step}")
        self.step = step
        self.detail = detail


def classify(exc: BaseException, step: str, where: str, timeout: float) -> ProbeFailure:
    """Turn an exception raised by one camera request into a ProbeFailure.

    `step` names the request (GetDeviceInformation, snapshot), `where` the camera's
    host:port. Exceptions that are not about the camera (our bugs) are not turned into
    failures: the caller re-raises them.
    """
    if isinstance(exc, ProbeFailure):
        return exc
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return ProbeFailure(Check.TIMEOUT, f"no answer to {step} within {timeout:g} s "
                            f"from {where}")
    if isinstance(exc, zeep.exceptions.Fault):
        if is_auth_error(exc):
            return NotAuthorized(step, stringify_onvif_error(exc))
        return ProbeFailure(Check.HTTP_ERROR, f"camera answered {step} with a SOAP fault: "
                            f"{stringify_onvif_error(exc)}")
    if isinstance(exc, zeep.exceptions.TransportError):
        if exc.status_code == 401:
            return NotAuthorized(step, f"HTTP 401 {exc.message}")
        return ProbeFailure(Check.HTTP_ERROR, f"camera answered {step} with HTTP "
                            f"{exc.status_code}")
    if isinstance(exc, zeep.exceptions.XMLSyntaxError | zeep.exceptions.XMLParseError
                  | zeep.exceptions.ValidationError):
        return ProbeFailure(Check.HTTP_ERROR, f"camera answered {step} with XML that is "
                            f"not a valid ONVIF response ({exc})")
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError | OSError):
        detail = str(exc) or type(exc).__name__
        return ProbeFailure(Check.UNREACHABLE, f"unreachable at {where} ({step}: {detail})")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return ProbeFailure(Check.HTTP_ERROR, f"camera broke off its answer to {step} "
                            f"({exc})")
    if isinstance(exc, aiohttp.ClientResponseError):
        return ProbeFailure(Check.HTTP_ERROR, f"camera answered {step} with HTTP "
                            f"{exc.status}")
    if isinstance(exc, ONVIFError):
        return ProbeFailure(Check.HTTP_ERROR, f"{step} failed: {exc}")
    raise exc


def auth_reason(device: str, username: str | None, offset: float | None,
                snapshot_login_ok: bool | None, snapshot_scheme: str | None = None) -> str:
    """Why a camera refused us, from what else we know: `offset` is its clock minus ours
    (None when it would not say), `snapshot_login_ok` whether the snapshot URL — whose
    HTTP Basic or Digest carries no timestamp — accepted the same credentials (None: not
    tried), under `snapshot_scheme` (`HTTP Basic`, `HTTP Digest`)."""
    who = f"user {username!r}" if username else "no user name"
    fix_creds = f"check options.username/password of {device} against the camera"
    if snapshot_login_ok is False:
        also = f", and its snapshot refused them under {snapshot_scheme}" \
            if snapshot_scheme else ""
        return (f"wrong credentials: camera answered NotAuthorized ({who}){also}; "
                f"{fix_creds}")
    if offset is None:
        return ("wrong credentials or clock skew: camera answered NotAuthorized and would not "
                f"tell its clock ({who}); {fix_creds}, then set the camera's clock (NTP)")
    if abs(offset) <= SKEW_WINDOW_S:
        if snapshot_login_ok:
            return (f"ONVIF access refused: camera answered NotAuthorized although its clock "
                    f"agrees with ours and its snapshot accepts {who}; give that user the "
                    "ONVIF operator (or administrator) role on the camera")
        return f"wrong credentials: camera answered NotAuthorized ({who}); {fix_creds}"
    ahead = "ahead of" if offset > 0 else "behind"
    skew = (f"clock skew {abs(offset):.0f} s could not be corrected: the camera's clock is "
            f"{abs(offset):.0f} s {ahead} ours")
    if snapshot_login_ok:
        return (f"{skew} and it refuses WS-Security tokens dated on its own clock, although "
                "its snapshot accepts the same credentials; set the camera's clock (NTP)")
    return (f"{skew} and it refused tokens dated on its own clock ({who}); set the camera's "
            f"clock (NTP), or {fix_creds}")
