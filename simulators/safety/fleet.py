"""A fleet of simulated safety devices in one asyncio process, on one MQTT connection.

Every device sends a heartbeat status every period (staggered over it), reports at once
when its state changes, and sends event messages when something happens: an e-bike in the
lift, an SOS press, a gate passage, an object thrown. Elevator controllers obey
`{"door_hold": bool}` on their set topic. Things happen from Python (the methods below),
from `scg-sim/safety/_control` (see `actions`), or from a scripted story. What the broker
acknowledged (PUBACK) is counted per device; a message it did not acknowledge is not.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from simulators.safety.actions import Action, parse_control
from simulators.safety.engine import FleetEngine
from simulators.safety.model import (
    CREDENTIALS,
    DIRECTIONS,
    SUBJECTS,
    AccessGate,
    EbikeDetector,
    ElevatorController,
    HazardSensor,
    HoldRecord,
    ManholeCover,
    PerimeterDetector,
    SosButton,
    ThrowDetector,
    parse_door_command,
)

log = logging.getLogger(__name__)


class SafetyFleet(FleetEngine):
    """Safety devices publishing to one broker. Start with `start()` or `async with`."""

    def elevator(self, controller_id: str) -> ElevatorController:
        return self._as(controller_id, ElevatorController)

    def holds(self, controller_id: str) -> list[HoldRecord]:
        """Every door-hold command the controller applied, oldest first."""
        return list(self._as(controller_id, ElevatorController).holds)

    # ------------------------------------------------------------ what can happen

    def ebike_enters(self, detector_id: str, confidence: float = 0.9, *, hits: int = 3,
                     interval: float = 0.5) -> None:
        """An e-bike is wheeled into the car: `hits` detections `interval` s apart, the
        first at once, as a camera re-detects an object while it stays in view."""
        cam = self._as(detector_id, EbikeDetector)
        if hits < 1 or interval < 0:
            raise ValueError(f"hits must be >= 1 and interval >= 0, got {hits}, {interval}")
        cam.present = True
        self._send(cam, "event", cam.detected(_now(), confidence))
        if hits > 1:
            self._spawn(self._more_hits(cam, confidence, hits - 1, interval))

    def ebike_leaves(self, detector_id: str) -> None:
        cam = self._as(detector_id, EbikeDetector)
        self._send(cam, "event", cam.left(_now()))

    def false_hit(self, detector_id: str, confidence: float = 0.35) -> None:
        """A single detection with nothing there (a pram, a shadow): one event, no follow-up."""
        cam = self._as(detector_id, EbikeDetector)
        self._send(cam, "event", cam.detected(_now(), confidence))

    def door_hold(self, controller_id: str, hold: bool = True) -> HoldRecord | None:
        """Apply a door-hold command as if it came on the set topic; the controller reports
        at once. None when the controller is silenced (it hears nothing)."""
        lift = self._as(controller_id, ElevatorController)
        if controller_id in self._silenced:
            return None
        at = _now()
        changed = lift.hold(hold)
        doc = self._report(lift, at)
        record = HoldRecord(at, hold, changed, doc["ts"])
        lift.holds.append(record)
        log.info("%s: door hold %s%s", controller_id, "on" if hold else "off",
                 "" if changed else " (unchanged)")
        return record

    def press_sos(self, button_id: str) -> None:
        button = self._as(button_id, SosButton)
        self._send(button, "event", button.press(_now()))

    def set_battery(self, button_id: str, pct: float) -> None:
        button = self._as(button_id, SosButton)
        button.battery_pct = pct
        self._report(button)

    def set_hazard(self, sensor_id: str, alarm: bool = True, value: float | None = None) -> None:
        """Raise or clear the sensor's alarm (with a typical value unless given); reported
        at once."""
        sensor = self._as(sensor_id, HazardSensor)
        sensor.set(alarm, value)
        self._report(sensor)

    def intrusion(self, detector_id: str, active: bool = True) -> None:
        zone = self._as(detector_id, PerimeterDetector)
        zone.intrusion = active
        self._report(zone)

    def tamper(self, detector_id: str, active: bool = True) -> None:
        zone = self._as(detector_id, PerimeterDetector)
        zone.tamper = active
        self._report(zone)

    def gate_pass(self, gate_id: str, direction: str = "in", subject: str = "person",
                  credential: str | None = None) -> None:
        """One passage; the credential defaults to a face for a person, a plate for a vehicle."""
        gate = self._as(gate_id, AccessGate)
        credential = credential or ("plate" if subject == "vehicle" else "face")
        for name, value, options in (("direction", direction, DIRECTIONS),
                                     ("subject", subject, SUBJECTS),
                                     ("credential", credential, CREDENTIALS)):
            if value not in options:
                raise ValueError(f"gate {gate_id}: {name} must be one of "
                                 f"{', '.join(options)}, got {value!r}")
        self._send(gate, "event", gate.passage(_now(), direction, subject, credential))

    def throw(self, camera_id: str, floor: int) -> None:
        cam = self._as(camera_id, ThrowDetector)
        floors = cam.spec.option("floors")
        if isinstance(floor, bool) or not isinstance(floor, int) or not 1 <= floor <= floors:
            raise ValueError(f"throw camera {camera_id}: floor must be 1..{floors}, got "
                             f"{floor!r}")
        self._send(cam, "event", cam.thrown(_now(), floor))

    def tilt(self, cover_id: str, degrees: float) -> None:
        cover = self._as(cover_id, ManholeCover)
        cover.tilt_deg = degrees
        self._report(cover)

    def open_cover(self, cover_id: str, open: bool = True) -> None:
        cover = self._as(cover_id, ManholeCover)
        cover.open = open
        self._report(cover)

    def set_water(self, cover_id: str, cm: float) -> None:
        cover = self._as(cover_id, ManholeCover)
        cover.water_level_cm = cm
        self._report(cover)

    def perform(self, action: Action) -> None:
        """Do a validated action (from the story or the control topic)."""
        d, a = action.devices, action.args
        match action.name:
            case "silence":
                self.silence(d)
            case "resume":
                self.resume(d)
            case "ebike_enters":
                self.ebike_enters(d[0], a.get("confidence", 0.9), hits=a.get("hits", 3),
                                  interval=a.get("interval", 0.5))
            case "ebike_leaves":
                self.ebike_leaves(d[0])
            case "false_hit":
                self.false_hit(d[0], a.get("confidence", 0.35))
            case "door_hold":
                self.door_hold(d[0], a.get("hold", True))
            case "press_sos":
                self.press_sos(d[0])
            case "set_battery":
                self.set_battery(d[0], a["pct"])
            case "set_hazard":
                self.set_hazard(d[0], a.get("alarm", True), a.get("value"))
            case "intrusion":
                self.intrusion(d[0], a.get("active", True))
            case "tamper":
                self.tamper(d[0], a.get("active", True))
            case "gate_pass":
                self.gate_pass(d[0], a.get("direction", "in"), a.get("subject", "person"),
                               a.get("credential"))
            case "throw":
                self.throw(d[0], a["floor"])
            case "tilt":
                self.tilt(d[0], a["degrees"])
            case "open_cover":
                self.open_cover(d[0], a.get("open", True))
            case "set_water":
                self.set_water(d[0], a["cm"])
            case _:
                raise ValueError(f"action {action.name!r} is not known to the fleet")
        self.performed.append((self.elapsed, action))

    # ------------------------------------------------------------ incoming

    def _on_message(self, topic: str, payload: bytes) -> None:
        if topic == self.control_topic:
            try:
                actions = parse_control(payload, self.kinds)
                for action in actions:
                    self.perform(action)
            except ValueError as exc:
                log.warning("ignored a control message: %s", exc)
            return
        parts = topic.rsplit("/", 2)
        if len(parts) != 3 or parts[2] != "set" \
                or parts[0] != self.prefixes["elevator_controller"]:
            return
        lift_id = parts[1]
        if self.kinds.get(lift_id) != "elevator_controller" or lift_id in self._silenced:
            return  # not ours, or a silenced controller: it hears nothing
        try:
            hold = parse_door_command(payload)
        except ValueError as exc:
            log.warning("elevator %s ignored a command on %s: %s", lift_id, topic, exc)
            return
        self.door_hold(lift_id, hold)

    async def _more_hits(self, cam: EbikeDetector, confidence: float, hits: int,
                         interval: float) -> None:
        for _ in range(hits):
            await asyncio.sleep(interval)
            if not cam.present:  # it left before the camera looked again
                return
            self._send(cam, "event", cam.detected(_now(), confidence))



def _now() -> datetime:
    return datetime.now(UTC)
