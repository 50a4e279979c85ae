"""The five video indicators, measured from 44 simulated cameras through the whole chain.

Expected figures, derived from `scg.camera_plan` by hand:

key-position cameras cam-001 … cam-024 (two per key position kp-01 … kp-12):
  not networked: cam-001 (unreachable), cam-003 (wrong password)            -> 22 / 24
  not intact: those two, cam-004 black, cam-007 blank, cam-009 frozen,
              cam-011 corrupt, cam-013 tamper open (cam-005's skewed clock
              degrades it but its picture is fine: intact)                  -> 17 / 24
  key positions covered (one networked, intact camera): all of kp-01 … kp-12
              but kp-02 (cam-003 and cam-004 both bad); kp-13, kp-14 empty  -> 11 / 14
public cameras cam-001 … cam-040:
  picture not out: cam-001, 003, 004, 007, 009, 011, 025 … 030             -> 28 / 40
records of all 44 cameras: code cam-015 (type 118), cam-031 / cam-032 (same code);
  name cam-016 (IPCamera); coordinates cam-017 (outside the boundary);
  civil code cam-018 (370103, not the code's prefix)                        -> 38 / 44
"""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import Community, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

VIDEO = ("video_key_coverage", "video_networked_rate", "video_intact_rate",
         "video_picture_out_rate", "video_record_compliance")


def video(c: Community) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in c.get("/api/communities/e2e/indicators") if i["id"] in VIDEO}


def figures(c: Community) -> dict[str, tuple[int, int]]:
    return {k: (v["numerator"], v["denominator"]) for k, v in video(c).items()}


def settle(c: Community, want: dict[str, tuple[int, int]], what: str) -> dict[str, Any]:
    wait_until(lambda: figures(c) == want, what, timeout=90, interval=0.5)
    return video(c)


def test_five_video_indicators_from_44_cameras_then_after_healing(
        camera_community: Community) -> None:
    c = camera_community
    result = settle(c, {
        "video_key_coverage": (11, 14),
        "video_networked_rate": (22, 24),
        "video_intact_rate": (17, 24),
        "video_picture_out_rate": (28, 40),
        "video_record_compliance": (38, 44),
    }, "the figures of the planned fault mix")

    networked = result["video_networked_rate"]
    assert sorted(networked["devices"]["denominator"]) == [f"cam-{n:03d}" for n in range(1, 25)]
    assert set(networked["devices"]["denominator"]) - set(networked["devices"]["numerator"]) \
        == {"cam-001", "cam-003"}
    intact = result["video_intact_rate"]
    assert set(intact["devices"]["denominator"]) - set(intact["devices"]["numerator"]) == {
        "cam-001", "cam-003", "cam-004", "cam-007", "cam-009", "cam-011", "cam-013"}
    out = result["video_picture_out_rate"]
    assert set(out["devices"]["denominator"]) - set(out["devices"]["numerator"]) == {
        f"cam-{n:03d}" for n in (1, 3, 4, 7, 9, 11, 25, 26, 27, 28, 29, 30)}
    coverage = result["video_key_coverage"]
    assert set(coverage["devices"]["denominator"]) - set(coverage["devices"]["numerator"]) \
        == {"kp-02", "kp-13", "kp-14"}
    records = result["video_record_compliance"]
    failed = {check: sorted(cams) for check, cams in records["breakdown"].items() if cams}
    assert failed == {"code": ["cam-015", "cam-031", "cam-032"], "name": ["cam-016"],
                      "coordinates": ["cam-017"], "civil_code": ["cam-018"]}
    # 22 / 24 = 91.7 %: at least 90 % (basic), short of 95 % (growth).
    assert networked["status"] == {"basic": "pass", "growth": "fail"}
    assert intact["value"] == 70.8 and out["value"] == 70.0

    # The figures settle as soon as the counted cameras are in; cam-003 (refusing our
    # login) is left out of them whether it is still unknown or already probed, so its own
    # state is waited for.
    def cameras() -> dict[str, dict[str, Any]]:
        return {d["id"]: d for d in c.get("/api/communities/e2e/devices", kind="camera")}

    wait_until(lambda: cameras()["cam-003"]["state"] == "degraded",
               "cam-003's first probe", timeout=60, interval=0.5)
    devices = cameras()
    assert devices["cam-003"]["state"] == "degraded"
    assert devices["cam-003"]["reason"].startswith("wrong credentials")
    assert devices["cam-005"]["state"] == "degraded"
    assert devices["cam-005"]["reason"].startswith("camera clock 300 s ahead")
    assert devices["cam-001"]["state"] == "offline"

    # Heal at run time: the password, the black picture, the unreachable camera, the tamper.
    farm = c.farm
    assert farm is not None
    farm.set_fault("cam-003", "wrong_password", False)
    farm.set_fault("cam-004", "black", False)
    farm.set_fault("cam-001", "unreachable", False)
    farm.raise_event("cam-013", "tamper", False)
    settle(c, {
        "video_key_coverage": (12, 14),
        "video_networked_rate": (24, 24),
        "video_intact_rate": (21, 24),
        "video_picture_out_rate": (31, 40),
        "video_record_compliance": (38, 44),
    }, "the figures after healing four cameras")
