"""The five video indicators as pure functions over a mixed set of cameras: exact counts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from indicators import Thresholds, load_thresholds
from indicators.video import (
    video_intact_rate,
    video_key_coverage,
    video_networked_rate,
    video_picture_out_rate,
    video_record_compliance,
)
from indicators.video_facts import (
    CameraFact,
    KeyPositionFact,
    ProbeFact,
    network_status,
)

AS_OF = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SINCE = AS_OF - timedelta(hours=3)


def probe(check: str = "ok", minutes_ago: float = 5, latency_ms: float = 400) -> ProbeFact:
    return ProbeFact(AS_OF - timedelta(minutes=minutes_ago), check == "ok", check,
                     "" if check == "ok" else f"{check} picture", latency_ms)


def cam(ident: str, kp: str | None, state: str, reason: str = "", p: ProbeFact | None = None,
        open_faults: tuple[str, ...] = ()) -> CameraFact:
    return CameraFact(ident, kp, state=state, since=SINCE, reason=reason, probe=p,
                      open_faults=open_faults)


CAMERAS = [
    cam("c01", "A", "online", p=probe()),
    cam("c02", "A", "degraded", "wrong credentials: camera answered NotAuthorized",
        probe("auth")),
    cam("c03", "B", "degraded", "picture black (mean 12.0)", probe("black")),
    cam("c04", "B", "degraded", "", probe("auth")),  # told by the probe alone
    cam("c05", "C", "degraded", "tamper open", probe(), open_faults=("tamper",)),
    cam("c06", "C", "offline", "no answer for 3 periods", probe("timeout", minutes_ago=120)),
    cam("c07", "D", "unknown", "gateway gw is offline (last will)", probe()),
    cam("c08", "D", "unmonitored"),
    cam("c09", "E", "online"),
    cam("c10", "F", "degraded", "clock skew of 300 s cannot be corrected", probe("auth")),
    # An auth failure from before the current state began says nothing about it now.
    cam("c11", "F", "degraded", "picture frozen", ProbeFact(SINCE - timedelta(minutes=1),
                                                            False, "auth")),
    cam("c12", "G", "unknown"),
    cam("p13", None, "online", p=probe(latency_ms=12_000)),
    CameraFact("p14", None, public=False, state="online", probe=probe()),
]
POSITIONS = [KeyPositionFact(k, "main_road") for k in "ABCDEFGH"]
KEYED = [f"c{n:02d}" for n in range(1, 13)]


def test_networked_counts_degraded_cameras_unless_they_refuse_our_credentials() -> None:
    r = video_networked_rate(CAMERAS, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (5, 12, 41.6)
    assert r.numerator_devices == ("c01", "c03", "c05", "c09", "c11")
    assert r.denominator_devices == tuple(KEYED)
    assert r.breakdown == {"no_access": ("c02", "c04", "c10"), "offline": ("c06",),
                           "unknown": ("c07", "c12"), "unmonitored": ("c08",)}
    assert r.details["degraded_counted"] == ["c03", "c05", "c11"]
    assert r.details["reasons"]["c02"].startswith(
        "degraded: wrong credentials: camera answered NotAuthorized; last probe ")
    assert r.status == {"basic": "fail", "growth": "fail"}


def test_intact_needs_networked_a_passing_probe_and_no_open_fault() -> None:
    r = video_intact_rate(CAMERAS, AS_OF)
    assert (r.numerator, r.denominator) == (1, 12)
    assert r.numerator_devices == ("c01",)
    assert r.breakdown == {
        "no_access": ("c02", "c04", "c10"), "offline": ("c06",), "unknown": ("c07", "c12"),
        "unmonitored": ("c08",), "open_fault": ("c05",), "never_probed": ("c09",),
        "bad_picture": ("c03", "c11")}
    # Every key-position camera is counted or in exactly one reason.
    assert sorted(r.numerator_devices + sum(r.breakdown.values(), ())) == KEYED


def test_coverage_counts_positions_with_an_intact_camera() -> None:
    r = video_key_coverage(POSITIONS, CAMERAS, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (1, 8, 12.5)
    assert r.numerator_devices == ("A",)
    assert r.denominator_devices == tuple("ABCDEFGH")
    assert r.breakdown == {"no_camera": ("H",), "unknown": ("G",),
                           "not_intact": ("B", "C", "D", "E", "F")}
    assert r.details["cameras"]["A"] == ["c01", "c02"]
    assert r.details["cameras"]["H"] == []
    assert r.details["covered_by"] == {"A": ["c01"]}


def test_picture_out_uses_the_last_probe_within_the_period() -> None:
    r = video_picture_out_rate(CAMERAS, AS_OF)
    assert (r.numerator, r.denominator, r.value) == (2, 13, 15.3)
    assert r.numerator_devices == ("c01", "c05")
    assert r.window.seconds == 3600
    got = {k: v for k, v in r.breakdown.items() if v}
    assert got == {"unknown": ("c07", "c12"), "never_probed": ("c08", "c09"),
                   "stale": ("c06", "c11"), "slow": ("p13",), "auth": ("c02", "c04", "c10"),
                   "black": ("c03",), "not_public": ("p14",)}
    assert set(r.breakdown) >= {"timeout", "unreachable", "http_error", "not_jpeg", "corrupt",
                                "white", "blank", "frozen", "failed"}
    assert (r.details["probe_period_s"], r.details["probe_timeout_s"]) == (3600, 10.0)


def test_picture_out_period_and_timeout_are_parameters() -> None:
    r = video_picture_out_rate(CAMERAS, AS_OF, probe_period=timedelta(hours=3),
                               probe_timeout=timedelta(seconds=15))
    assert r.numerator_devices == ("c01", "c05", "p13")
    assert r.breakdown["timeout"] == ("c06",)  # within 3 h the old probe counts, and failed


def test_record_compliance_counts_cameras_passing_every_check() -> None:
    problems = {"c02": {"name": ("name: 'IPCamera' is a factory default",)},
                "c03": {"code": ("code: digits 11-13 are 118",),
                        "civil_code": ("civil_code: 370103 differs",)}}
    cams = [CameraFact(c.id, c.key_position, c.public, c.state,
                       record_problems=problems.get(c.id, {"code": (), "name": ()}))
            for c in CAMERAS]
    r = video_record_compliance(cams, AS_OF, notes=["coordinates: no boundary"])
    assert (r.numerator, r.denominator, r.value) == (12, 14, 85.7)
    assert r.breakdown == {"code": ("c03",), "civil_code": ("c03",), "name": ("c02",),
                           "coordinates": ()}
    assert r.details["failed_checks"] == {"code": 1, "civil_code": 1, "name": 1,
                                          "coordinates": 0}
    assert r.details["problems"] == {
        "c02": ["name: 'IPCamera' is a factory default"],
        "c03": ["code: digits 11-13 are 118", "civil_code: 370103 differs"]}
    assert r.details["notes"] == ["coordinates: no boundary"]
    assert r.status == {"basic": "fail", "growth": "fail"}


def test_an_empty_community_has_no_data_and_results_serialise() -> None:
    r = video_networked_rate([], AS_OF)
    assert (r.numerator, r.denominator, r.value) == (0, 0, None)
    assert r.status == {"basic": "no_data", "growth": "no_data"}
    doc = json.loads(json.dumps(video_key_coverage(POSITIONS[:1], CAMERAS[:1],
                                                   AS_OF).to_dict()))
    assert doc["details"] == {"counts": "key_positions", "types": {"A": "main_road"},
                              "cameras": {"A": ["c01"]}, "covered_by": {"A": ["c01"]}}
    assert doc["status"] == {"basic": "pass", "growth": "pass"}


@pytest.mark.parametrize(("reason", "check", "networked"), [
    ("wrong credentials: camera answered NotAuthorized", "ok", False),
    ("HTTP 401 on snapshot", "ok", False),
    ("authentication failed", "ok", False),
    ("clock skew 120 s could not be corrected: the camera's clock is 120 s ahead", "auth",
     False),
    ("camera clock 300 s ahead of the gateway's (more than the 10 s allowed)", "ok", True),
    ("picture blank (std 1.2)", "blank", True),
    ("video_loss open", "ok", True),
    ("", "auth", False),
    ("", "http_error", True),
])
def test_degraded_is_split_by_reason_and_probe(reason: str, check: str,
                                               networked: bool) -> None:
    c = cam("x", "A", "degraded", reason, probe(check))
    assert network_status(c)[0] is networked


def test_shipped_video_thresholds_follow_the_seeds() -> None:
    t = load_thresholds()
    assert t["video_key_coverage"] == Thresholds(90, 95)
    assert t["video_networked_rate"] == Thresholds(90, 95)
    assert t["video_intact_rate"] == Thresholds(90, 95)
    assert t["video_picture_out_rate"] == Thresholds(80, 85)
    assert t["video_record_compliance"] == Thresholds(90, 95)
