"""A community with cameras for the video tests: boundary, key positions, camera records."""

from __future__ import annotations

from datetime import datetime

from ingest_support import T0

from telemetry import Probe

GOOD_CODE = "37010200001320000001"

# cam-01 gate, compliant; cam-02 gate, factory name; cam-03 parking, code type 118 (NVR);
# cam-04 main road, at 0/0; cam-05 not public, not at a key position; cam-06 public, no
# protocol (unmonitored). kp-fire has no camera.
VIDEO_INVENTORY = """\
community:
  id: vid
  name: 视频社区
  district: "370102"
  boundary: {center: [117.0012, 36.6512], radius_m: 800}
compounds:
  - {id: north, name: 北苑, closed: true}
  - {id: south, name: 南苑}
key_positions:
  - {id: kp-gate-n, type: community_entrance, name: 北门, compound: north}
  - {id: kp-park, type: parking_entrance, name: 地库入口, compound: north}
  - {id: kp-road, type: main_road, name: 主干道}
  - {id: kp-fire, type: fire_lane, name: 消防通道, compound: south}
devices:
  - {id: cam-01, kind: camera, code: "37010200001320000001", name: 北苑北门入口,
     civil_code: "370102", longitude: 117.0011, latitude: 36.6515, key_position: kp-gate-n,
     compound: north, gateway: vid-gw1, protocol: onvif, address: "127.0.0.1:8081"}
  - {id: cam-02, kind: camera, code: "37010200001320000002", name: IPCamera,
     civil_code: "370102", longitude: 117.0013, latitude: 36.6516, key_position: kp-gate-n,
     gateway: vid-gw1, protocol: onvif}
  - {id: cam-03, kind: camera, code: "37010200001180000003", name: 地库入口,
     civil_code: "370102", longitude: 117.0020, latitude: 36.6500, key_position: kp-park,
     gateway: vid-gw1, protocol: onvif}
  - {id: cam-04, kind: camera, code: "37010200001310000004", name: 主干道东段,
     civil_code: "370102", longitude: 0, latitude: 0, key_position: kp-road,
     gateway: vid-gw1, protocol: onvif}
  - {id: cam-05, kind: camera, code: "37010200001320000005", name: 物业办公室门口,
     civil_code: "370102", longitude: 117.0005, latitude: 36.6510, public: false,
     gateway: vid-gw1, protocol: onvif}
  - {id: cam-06, kind: camera, code: "37010200001320000006", name: 南苑广场,
     civil_code: "370102", longitude: 117.0030, latitude: 36.6490, compound: south}
  - {id: light-01, kind: light, compound: south}
"""


def probe(device: str, t: datetime = T0, check: str = "ok", latency_ms: float = 420.0,
          reason: str = "") -> Probe:
    data = {"check": check, "latency_ms": latency_ms, "width": 640, "height": 360}
    return Probe(device, t, check == "ok", reason or ("" if check == "ok" else check), data)
