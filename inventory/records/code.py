"""GB/T 28181 device codes (国标编码): parse the 20 digits into their fields and check a
camera's code and civil code (行政区划) against the community's GB/T 2260 district.

Layout (1-based digit positions): 1–8 centre code (1–6 the GB/T 2260 district, 7–8 the
grassroots unit), 9–10 industry, 11–13 type, 14 network, 15–20 serial number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from inventory.records.districts import DistrictTable

CODE_LENGTH: Final = 20
#: The centre code of the example device codes (34020000001320000001, …) that many
#: GB/T 28181 platforms and cameras come configured with: 340200 is 芜湖市, 安徽省.
SAMPLE_CENTRE: Final = "34020000"
#: Types that are cameras: 131 camera (摄像机), 132 network camera (网络摄像机, IPC).
CAMERA_TYPES: Final = {"131": "camera", "132": "IPC"}
#: Other well-known types, named in messages so a person sees what the code says it is.
OTHER_TYPES: Final = {
    "111": "a DVR", "112": "a video server", "113": "an encoder", "114": "a decoder",
    "117": "an alarm controller", "118": "an NVR", "133": "a display",
    "134": "an alarm input", "135": "an alarm output", "200": "a central signalling server",
    "215": "a business group", "216": "a virtual organisation",
}


@dataclass(frozen=True, slots=True)
class DeviceCode:
    """The fields of a well-formed 20-digit code."""

    text: str

    @property
    def centre(self) -> str:
        return self.text[0:8]

    @property
    def district(self) -> str:
        return self.text[0:6]

    @property
    def unit(self) -> str:
        return self.text[6:8]

    @property
    def industry(self) -> str:
        return self.text[8:10]

    @property
    def type(self) -> str:
        return self.text[10:13]

    @property
    def network(self) -> str:
        return self.text[13]

    @property
    def serial(self) -> str:
        return self.text[14:20]

    @property
    def is_camera(self) -> bool:
        return self.type in CAMERA_TYPES


def parse_code(text: str | None) -> tuple[DeviceCode | None, list[str]]:
    """The code's fields when it is 20 digits, else None; plus its form problems."""
    if text is None or not text.strip():
        return None, ["code: missing; assign the camera its 20-digit GB/T 28181 code"]
    if text != text.strip():
        return None, [f"code: {text!r} has spaces around it; remove them"]
    problems = []
    if len(text) != CODE_LENGTH:
        problems.append(f"code: {text!r} has {len(text)} characters, expected {CODE_LENGTH} "
                        "digits (GB/T 28181)")
    bad = [(i, c) for i, c in enumerate(text, 1) if not "0" <= c <= "9"]
    if bad:
        i, c = bad[0]
        more = f" and {len(bad) - 1} more" if len(bad) > 1 else ""
        problems.append(f"code: character {i} is {c!r}{more}; a GB/T 28181 code has digits only")
    return (None, problems) if problems else (DeviceCode(text), [])


def check_code(text: str | None, district: str, districts: DistrictTable) -> list[str]:
    """Problems with one camera's code in a community of GB/T 2260 `district` (uniqueness
    is checked over the whole community by `duplicate_codes`)."""
    code, problems = parse_code(text)
    if code is None:
        return problems
    why = districts.unusable_suffix(code.district)
    if why is not None:
        sample = (f"; {code.text[:8]}… is the example centre code many GB/T 28181 platforms "
                  "and cameras ship with: give the camera the code assigned to it in "
                  f"{districts.label(district)}" if code.centre == SAMPLE_CENTRE else "")
        problems.append(f"code: digits 1-6 are {code.district}{why}{sample}")
    elif code.district != district:
        problems.append(f"code: digits 1-6 are {districts.label(code.district)}, expected "
                        f"{districts.label(district)}, the community's district")
    if not code.is_camera:
        known = OTHER_TYPES.get(code.type)
        what = f"; {code.type} is the type of {known}, not a camera" if known else ""
        problems.append(f"code: digits 11-13 are {code.type}, expected 131 (camera) or "
                        f"132 (IPC){what}")
    return problems


def duplicate_codes(codes: Iterable[tuple[str, str | None]]) -> Mapping[str, list[str]]:
    """For (camera id, code) pairs: each camera whose code another camera also uses, mapped
    to the other cameras' ids. Missing codes are not duplicates of each other."""
    by_code: dict[str, list[str]] = {}
    for camera, code in codes:
        if code is not None and code.strip():
            by_code.setdefault(code.strip(), []).append(camera)
    return {cam: [other for other in cams if other != cam]
            for cams in by_code.values() if len(cams) > 1 for cam in cams}


def check_civil_code(civil_code: str | None, code: str | None,
                     districts: DistrictTable) -> list[str]:
    """Problems with the civil code (行政区划): a current GB/T 2260 code (6 digits, or 8
    with the grassroots unit) equal to the same leading digits of the device code."""
    if civil_code is None or not civil_code.strip():
        return ["civil_code: missing; enter the 6-digit GB/T 2260 code of the camera's "
                "district, e.g. 370102"]
    value = civil_code.strip()
    if len(value) not in (6, 8) or not value.isdigit():
        return [f"civil_code: {civil_code!r} is not a GB/T 2260 code: expected 6 digits (or 8 "
                "with the grassroots unit)"]
    why = districts.why_unusable(value[:6])
    if why is not None:
        return [f"civil_code: {why}"]
    prefix = (code or "").strip()[: len(value)]
    if len(prefix) == len(value) and prefix.isdigit() and prefix != value:
        return [f"civil_code: {value} differs from digits 1-{len(value)} of the code "
                f"({prefix}); they must be equal"]
    return []
