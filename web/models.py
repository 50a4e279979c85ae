"""Response shapes, for validation and for the OpenAPI page at /docs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Status = Literal["pass", "fail", "not_required", "not_applicable", "no_data"]
DeviceStateName = Literal["online", "degraded", "offline", "unknown", "unmonitored"]


class Health(BaseModel):
    status: Literal["ok", "error"]
    database: str = Field(description="'ok', or why the database cannot be used")
    storage: str = Field(description="timescaledb, postgresql, or unmigrated")
    storage_note: str = ""


class DeviceCounts(BaseModel):
    total: int
    by_kind: dict[str, int]
    by_state: dict[str, int]


class CommunityOut(BaseModel):
    id: str
    name: str
    district: str = Field(description="GB/T 2260 district code")
    households: int | None
    imported_at: datetime
    devices: DeviceCounts


class WindowOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    seconds: int


class TiersThresholds(BaseModel):
    basic: float | None = Field(description="percent required, null when not required")
    growth: float | None


class TiersStatus(BaseModel):
    basic: Status
    growth: Status


class IndicatorDevices(BaseModel):
    numerator: list[str]
    denominator: list[str]


class TierFigureOut(BaseModel):
    numerator: int = Field(description="this tier's numerator (its requirement differs)")
    denominator: int | None = Field(default=None, description=(
        "this tier's own denominator when the tiers count different things (high-rise "
        "buildings: >= 19 floors basic, >= 12 growth); absent when it is the headline one"))
    denominator_devices: list[str] | None = None
    none_eligible: bool | None = Field(default=None, description=(
        "this tier's own 'nothing eligible' when it differs from the headline's"))
    value: float | None
    requires: list[str] = Field(description="what the tier asks of each counted item")
    devices: list[str]
    breakdown: dict[str, list[str]]


class IndicatorOut(BaseModel):
    id: str = Field(description="stable indicator id, e.g. smart_lighting_rate")
    value: float | None = Field(description="percent, one decimal; null when the "
                                            "denominator is 0")
    numerator: int | float = Field(description=(
        "a count; kWh saved for lighting_energy_saving, online seconds for "
        "video_networked_time_rate"))
    denominator: int | float = Field(description=(
        "a count; baseline kWh for lighting_energy_saving, observed seconds for "
        "video_networked_time_rate"))
    none_eligible: bool = Field(default=False, description=(
        "the denominator is empty because nothing is eligible and the inventory says so "
        "(status not_applicable); absent when false"))
    unit: str
    as_of: datetime
    window: WindowOut
    thresholds: TiersThresholds
    status: TiersStatus
    devices: IndicatorDevices
    breakdown: dict[str, list[str]] = Field(description="devices left out of the "
                                                        "numerator, by reason")
    details: dict[str, Any] = Field(default_factory=dict, description=(
        "evidence particular to the indicator: per-device reasons, per-check counts; "
        "for video_key_coverage the devices are key-position ids"))
    tiers: dict[str, TierFigureOut] = Field(default_factory=dict, description=(
        "per-tier figures when the tiers require different things (smart_charging_compounds:"
        " basic auto power-off, growth three functions); status is judged on them and the "
        "headline numerator is the basic tier's"))


class DeviceOut(BaseModel):
    id: str
    kind: str
    name: str | None
    compound: str | None
    building: str | None
    public: bool
    gateway: str | None
    protocol: str | None
    address: str | None
    capabilities: list[str]
    state: DeviceStateName = Field(description="effective state: unknown while the gateway "
                                               "is offline; unmonitored without a protocol")
    edge_state: str | None = Field(description="the state last reported by the gateway")
    since: datetime | None
    reason: str | None
    last_seen: datetime | None


class RecordCheckOut(BaseModel):
    passed: bool
    problems: list[str] = Field(description="each names the field and why it fails")


class CameraRecordOut(BaseModel):
    id: str
    name: str | None
    code: str | None = Field(description="GB/T 28181 20-digit device code")
    civil_code: str | None = Field(description="GB/T 2260 district code (行政区划)")
    longitude: float | None
    latitude: float | None
    key_position: str | None
    public: bool
    compound: str | None
    origin: Literal["inventory", "sheet"] = Field(
        description="registered by the inventory YAML or imported from a camera sheet")
    passed: bool = Field(description="every record check passed (counts in "
                                     "video_record_compliance)")
    failed_checks: list[str]
    checks: dict[str, RecordCheckOut] = Field(
        description="code, civil_code, name, coordinates")
    notes: list[str] = Field(description="checks that could not be made, and why")


class ContactOut(BaseModel):
    name: str | None
    phone: str | None


class ResidentOut(BaseModel):
    """A registered resident (elderly care, SOS). Masked (张*华, 138****5678,
    3号楼2单元***室) unless `masked` is false: a whole read, recorded in the operation log."""

    id: str = Field(description="the id SOS buttons name in `resident`")
    name: str | None
    phone: str | None
    room: str | None
    emergency_contact: ContactOut | None
    lone_elderly: bool = Field(description="counted against the community's declared lone "
                                           "elderly residents")
    sos_button: str | None = Field(description="the SOS button registered to the resident")
    masked: bool
    problem: str | None = Field(description="why the stored values could not be opened "
                                            "(they are then null); null when they could")


class AlarmOut(BaseModel):
    id: int
    community: str
    gateway: str
    device: str
    device_kind: str | None = Field(description="the device's kind in the inventory; null "
                                                "when the inventory does not list it")
    device_name: str | None
    compound: str | None
    building: str | None
    type: str = Field(description="the event type, e.g. sos_pressed, zone_fire")
    key: str = Field(description="what tells apart conditions of one device and type, "
                                 "e.g. zone=3; empty when nothing does")
    severity: Literal["alarm", "critical"]
    momentary: bool = Field(description="one alarm per event (an SOS press) rather than "
                                        "a condition that clears")
    active: bool | None = Field(description="a condition still raised (not cleared); null "
                                            "for a momentary alarm")
    raised_at: datetime = Field(description="the event's time")
    received_at: datetime = Field(description="when ingest stored it")
    cleared_at: datetime | None
    data: dict[str, Any]
    state: Literal["open", "acknowledged", "closed"]
    acknowledged_at: datetime | None = Field(description="server time of the acknowledgement")
    acknowledged_by: str | None
    acknowledged_note: str | None
    closed_at: datetime | None
    closed_by: str | None
    closed_note: str | None
    resident: str | None = Field(default=None, description=(
        "the resident the device is registered to (an SOS button's `resident`)"))
    resident_contact: ResidentOut | None = Field(default=None, description=(
        "that resident's name, phone, room and emergency contact, masked unless the list "
        "was asked for with unmasked=true; only in the alarm list (null in the stream and "
        "in the answers of acknowledge and close)"))


class AlarmActionIn(BaseModel):
    """A note on acknowledging or closing an alarm. Who acts is the signed-in user and the
    time is the server's: a client sets neither."""

    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class EvidenceOut(BaseModel):
    name: str = Field(description="the file's name at its first upload")
    sha256: str
    size: int = Field(description="bytes")
    content_type: str
    url: str = Field(description="where to download it: /api/evidence/{sha256}")


class DeclarationOut(BaseModel):
    """A stored entry for a declared row, with how many entries the row has now."""

    id: int
    community: str
    tier: str
    row_id: str
    values: dict[str, Any] = Field(description="one value per field of the row")
    text: str
    entered_by: str
    entered_at: datetime = Field(description="the server's time of the entry")
    evidence: list[EvidenceOut]
    entries: int
