"""Fire alarm panels over GB 26875.3-2011 (城市消防远程监控系统 第3部分：报警传输网络通信协议):
the gateway is the monitoring centre that buildings' user information transmission devices
(用户信息传输装置) dial over TCP. `create(settings, devices)` gives the gateway a ready-to-run
driver; the frame codec, the data units and the code tables are usable on their own.

Where the frame layout and the code tables come from (read to learn; no code copied):

- github.com/shootingfans/codec_gb26875_3_2011 — `codec/codec.go` (frame: @@, serial,
  version, time, 6-byte source and destination, 2-byte length, command, data, sum checksum
  over bytes 2..end of data, ##), `utils/utils.go` (time label second..year−2000),
  `constant/action.go` (commands 1..6), `constant/apptype.go` (type flags 1..8, 21..28,
  61..68, 81..91), `constant/type.go` (state and operation bits of systems, components and
  the transmission device), `constant/controller.go` (system types), `constant/equipment.go`
  (component types), `constant/parameter.go` (analog types and resolutions);
- github.com/chengming0916/GB26875 — `FirePartStatus.cs` (component type codes and the
  reserved gaps), `GB26875Data.cs` (field order of the frame);
- the standard's clause numbers (§ 8.1 command byte, § 8.2.1.1 .. § 8.2.1.9 information
  objects) as those projects and vendor integration notes quote them. Event names, the
  zone mapping, link-state handling and everything else are scg's.

    drivers:
      gb26875: {listen: {host: 0.0.0.0, port: 5200}}
    devices:
      - {id: uitd-b, driver: gb26875, profile: transmission_device, address: "100000000001",
         period: 30s}
      - {id: panel-b, driver: gb26875, profile: fire_alarm_controller, address: uitd-b/1,
         period: 30s, options: {zones: [{zone: 1, loop: 1}]}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drivers.base import DeviceSpec
from drivers.gb26875.codec import (
    Frame,
    FrameError,
    FrameReader,
    decode_frame,
    parse_address,
    parse_time_label,
    time_label,
)
from drivers.gb26875.devices import Panel, TransmissionDevice, parse_devices
from drivers.gb26875.driver import Gb26875Driver
from drivers.gb26875.profile import Profile, ProfileError, find_profile, shipped_profiles
from drivers.gb26875.settings import Gb26875Settings, parse_settings
from drivers.gb26875.units import DataUnit, InfoObject, decode_unit, encode_unit

__all__ = ["DataUnit", "Frame", "FrameError", "FrameReader", "Gb26875Driver",
           "Gb26875Settings", "InfoObject", "Panel", "Profile", "ProfileError",
           "TransmissionDevice", "create", "decode_frame", "decode_unit", "encode_unit",
           "find_profile", "parse_address", "parse_time_label", "shipped_profiles",
           "time_label"]


def create(settings: Mapping[str, Any] | None, devices: Sequence[DeviceSpec]) -> Gb26875Driver:
    """Validate the settings, every device and its profile; DriverConfigError (ProfileError
    for a bad profile file) says what to fix."""
    parsed = parse_settings(settings)
    return Gb26875Driver(parsed, parse_devices(devices, parsed))
