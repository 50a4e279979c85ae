"""What the video indicators know about a camera, and the two judgements they share:
is the camera networked (联网), and is it intact (完好).

Networked follows docs/indicators.md: "registered and answering the gateway (ONVIF reachable
with valid credentials)". The edge reports `degraded` both for a camera that answers with
a bad picture or an open tamper / video-loss fault (it IS networked: the platform reaches
it) and for one that refuses our credentials or whose clock skew defeats authentication
(it is NOT: nothing can be pulled from it). The two are told apart by the state's reason
(`ACCESS_REASON`) and by the camera's last probe: a probe during the current state whose
check is `auth` means the credentials fail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

#: Open faults that make a camera not intact (events with `active` true, not yet cleared).
FAULT_TYPES: Final = ("tamper", "video_loss")
#: Probe checks the ONVIF driver reports (`data.check`); `ok` is the only passing one.
PROBE_CHECKS: Final = ("ok", "timeout", "unreachable", "auth", "http_error", "not_jpeg",
                       "corrupt", "black", "white", "blank", "frozen")
#: Probe checks that mean the camera did not let us in: not networked while degraded.
ACCESS_CHECKS: Final = frozenset({"auth"})
#: State reasons that mean the same (wording of the ONVIF driver and of common platforms).
ACCESS_REASON: Final = re.compile(
    r"credential|not ?authori[sz]ed|unauthori[sz]ed|access refused|"
    r"\bauth(entication)?\b.*fail|\b401\b", re.IGNORECASE)
#: Effective states in which the camera is not networked, each its own breakdown reason.
NOT_NETWORKED_STATES: Final = ("offline", "unknown", "unmonitored")


@dataclass(frozen=True, slots=True)
class ProbeFact:
    """A camera's last picture probe at or before as_of.

    `check` is the driver's `data.check`; a probe that carried none is `ok` when it passed
    and `failed` otherwise.
    """

    time: datetime
    ok: bool
    check: str
    reason: str = ""
    latency_ms: float | None = None


@dataclass(frozen=True, slots=True)
class CameraFact:
    """One registered camera as of a time.

    `state` is the effective state: online, degraded, offline, unknown (its gateway is
    offline, or nothing was reported yet) or unmonitored (no protocol: nothing reaches it);
    `since` and `reason` come with it. `record_problems` maps each record check (code,
    civil_code, name, coordinates) to its problems, empty when it passed.
    """

    id: str
    key_position: str | None = None
    public: bool = True
    state: str = "unknown"
    since: datetime | None = None
    reason: str = ""
    probe: ProbeFact | None = None
    open_faults: tuple[str, ...] = ()
    record_problems: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class KeyPositionFact:
    id: str
    type: str
    name: str | None = None


def access_refused(cam: CameraFact) -> bool:
    """A degraded camera that does not let us in (credentials, or a clock skew that cannot be
    corrected: both end in an `auth` probe). A camera whose clock is off but which answers
    requests signed on its own clock is reachable, and so networked."""
    if ACCESS_REASON.search(cam.reason):
        return True
    probe = cam.probe
    return (probe is not None and probe.check in ACCESS_CHECKS
            and (cam.since is None or probe.time >= cam.since))


def network_status(cam: CameraFact) -> tuple[bool, str]:
    """(networked, why): why is `online`, `degraded` (networked), `no_access`, `offline`,
    `unknown` or `unmonitored`."""
    if cam.state == "online":
        return True, "online"
    if cam.state == "degraded":
        return (False, "no_access") if access_refused(cam) else (True, "degraded")
    if cam.state in NOT_NETWORKED_STATES:
        return False, cam.state
    return False, "unknown"  # a state this code does not know is not evidence of anything


def intact_status(cam: CameraFact) -> tuple[bool, str]:
    """(intact, why): networked, last probe passed, no open fault. The first reason that
    fails is given: a not-networked reason, then `open_fault`, `never_probed`,
    `bad_picture`; `intact` when it passes."""
    networked, why = network_status(cam)
    if not networked:
        return False, why
    if cam.open_faults:
        return False, "open_fault"
    if cam.probe is None:
        return False, "never_probed"
    if not cam.probe.ok:
        return False, "bad_picture"
    return True, "intact"


def describe(cam: CameraFact) -> str:
    """One line on the camera's condition, for the per-camera reasons in `details`."""
    parts = [cam.state + (f": {cam.reason}" if cam.reason else "")]
    if cam.open_faults:
        parts.append("open " + ", ".join(cam.open_faults))
    if cam.probe is None:
        parts.append("never probed")
    else:
        p = cam.probe
        verdict = "passed" if p.ok else f"failed ({p.check}{': ' + p.reason if p.reason else ''})"
        parts.append(f"last probe {p.time.isoformat()} {verdict}")
    return "; ".join(parts)
