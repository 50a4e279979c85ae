"""Measured indicators: pure evaluators over device facts, thresholds as data, SQL loaders.

Every result carries its numerator, denominator, window and the devices behind it, so an
assessor can check a figure by hand (see docs/indicators.md for the definitions).
"""

from indicators.charging import (
    TIER_FUNCTIONS,
    CompoundFact,
    StationEvent,
    StationFact,
    smart_charging_compounds,
)
from indicators.elderly import (
    ELDERLY_INDICATORS,
    SosDeviceFact,
    SosPress,
    elderly_sos_coverage,
    elderly_sos_response_rate,
)
from indicators.elevator import (
    DetectorAlarm,
    EbikeDetectorFact,
    ElevatorFact,
    LockoutFact,
    ebike_elevator_compounds,
)
from indicators.energy import MeterFact, energy_collection_rate
from indicators.fire import (
    FIRE_INDICATORS,
    BuildingFact,
    HazardDeviceFact,
    ZoneFact,
    fire_alarm_coverage,
    fire_hazard_compounds,
)
from indicators.lighting import (
    SMART_FUNCTIONS,
    LightFact,
    has_smart_controller,
    smart_lighting_rate,
)
from indicators.model import (
    DEFAULT_WINDOW,
    IndicatorResult,
    Status,
    Thresholds,
    TierFigure,
    Window,
    status_for,
)
from indicators.security import (
    SiteDeviceFact,
    access_control_compounds,
    perimeter_compounds,
)
from indicators.states import EffectiveState
from indicators.thresholds import ThresholdError, load_thresholds, thresholds_for
from indicators.throw import ThrowCameraFact, highrise_throw_coverage
from indicators.video import (
    VIDEO_INDICATORS,
    video_intact_rate,
    video_key_coverage,
    video_networked_rate,
    video_picture_out_rate,
    video_record_compliance,
)
from indicators.video_facts import CameraFact, KeyPositionFact, ProbeFact

__all__ = [
    "DEFAULT_WINDOW", "ELDERLY_INDICATORS", "FIRE_INDICATORS", "SMART_FUNCTIONS",
    "TIER_FUNCTIONS", "VIDEO_INDICATORS", "BuildingFact", "CameraFact", "CompoundFact",
    "DetectorAlarm", "EbikeDetectorFact", "EffectiveState", "ElevatorFact",
    "HazardDeviceFact", "IndicatorResult", "KeyPositionFact", "LightFact", "LockoutFact",
    "MeterFact", "ProbeFact", "SiteDeviceFact", "SosDeviceFact", "SosPress", "StationEvent",
    "StationFact", "Status", "ThresholdError", "Thresholds", "ThrowCameraFact",
    "TierFigure", "Window", "ZoneFact", "access_control_compounds",
    "ebike_elevator_compounds", "elderly_sos_coverage", "elderly_sos_response_rate",
    "energy_collection_rate", "fire_alarm_coverage", "fire_hazard_compounds",
    "has_smart_controller", "highrise_throw_coverage", "load_thresholds",
    "perimeter_compounds", "smart_charging_compounds", "smart_lighting_rate", "status_for",
    "thresholds_for", "video_intact_rate", "video_key_coverage", "video_networked_rate",
    "video_picture_out_rate", "video_record_compliance",
]
