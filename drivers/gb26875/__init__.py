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

How severe each report is (the profiles in `profiles/` hold it as data; ingest opens an
alarm for `alarm` and `critical`, see `ingest.alarms`):

- a fire (火警) on a detector is `zone_fire`, **critical**: the duty officer must verify it
  at once and pass it on, so it is the alarm. A panel's or the device's own fire flag only
  sums up fires it already reported and is stored as a `warning` while such a fire is open;
  it is critical only when it comes with no detector behind it, so no fire goes unalarmed.
  A device that sends the panel's flag before the detector's state gives two critical
  alarms for that fire: a second alarm is the price of never holding a fire back. A manual
  alarm (手动报警) recorded as an operation is critical too;
- a fault (故障) is **alarm**: someone has to mend it, and a zone in fault no longer counts in
  `fire_alarm_coverage`; power and bus faults of a panel or device likewise. The panel's own
  fault flag sums up its zones' faults as the fire flag does;
- supervisory (监管) and shielded (屏蔽) are **warning**: a supervised input (a valve, a
  pump's state) changed, or someone took a point out of service on purpose; they are kept
  and shown, and shielding takes the zone out of coverage, but they open no alarm — the
  same as the Modbus fire-alarm gateway profile, so a building reads alike whichever way its
  panel is reached. A broken line from the device to its panels is an alarm (its panels
  fall silent); a broken line to the centre is only a warning (the centre hears it anyway);
- start, feedback, delay, resets, silencing and self-tests are **info**: they record what
  the equipment and the people at it did.

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
