"""Modbus device profiles are data: shipped ones load; bad ones are refused at load with the
file, the key path and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivers.modbus import ProfileError, find_profile, load_profile, shipped_profiles
from drivers.modbus.model import BitRef, PointRef

GOOD_POINT = "  - {address: 0x0000, type: f32, unit: V, metric: voltage_v}\n"


def write(tmp_path: Path, body: str, name: str = "site_meter") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\nfunction: 4\n{body}", encoding="utf-8")
    return path


def refusal(tmp_path: Path, body: str) -> str:
    path = write(tmp_path, body)
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    return message


def test_every_shipped_profile_loads() -> None:
    assert shipped_profiles() == [
        "acrel_adw300", "chint_ddsu666", "chint_dtsu666", "eastron_sdm120", "eastron_sdm630",
        "ebike_charger_10p", "fire_alarm_gateway", "street_light_controller"]
    for name in shipped_profiles():
        profile = find_profile(name)
        assert profile.name == name and profile.points and profile.source


def test_a_wrong_type_is_refused_with_the_key_path(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n" + GOOD_POINT
                      + "  - {address: 0x0006, type: float, metric: current_a}\n")
    assert "points[1].type: must be one of u16, i16, u32, i32, f32, bool, got the string " \
           "'float'" in message


def test_overlapping_registers_are_refused_naming_both_points(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n" + GOOD_POINT
                      + "  - {address: 0x0001, type: u16, metric: current_a}\n")
    assert ("points[1]: input registers 0x0001..0x0001 overlap points[0] at "
            "0x0000..0x0001; each register belongs to one point") in message


def test_same_address_under_different_function_codes_does_not_overlap(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, "points:\n" + GOOD_POINT
                                 + "  - {address: 0x0000, function: 3, type: f32, "
                                   "metric: current_a}\n"))
    assert [(p.function, p.address) for p in profile.points] == [(4, 0), (3, 0)]


def test_unknown_keys_are_refused_with_the_allowed_ones(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - {address: 0, type: u16, metric: x_w, "
                                "scal: 0.1}\n")
    assert "points[0]: unknown key 'scal'; allowed keys: address, bits," in message
    assert "(check the spelling)" in message


def test_a_bad_function_code_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - {address: 0, function: 5, type: u16, "
                                "metric: x_w}\n")
    assert "points[0].function: must be one of 1, 2, 3, 4, got the number 5" in message


def test_bit_tables_need_bool_and_registers_refuse_it(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - {address: 0, function: 2, type: u16, "
                                "metric: door_open}\n")
    assert "points[0].type: discrete inputs (function 2) hold single bits; use type bool" \
           in message
    message = refusal(tmp_path, "points:\n  - {address: 0, type: bool, metric: door_open}\n")
    assert "points[0].type: input registers hold 16-bit registers" in message


def test_yaml_octal_looking_addresses_are_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - {address: 0100, type: u16, metric: x_w}\n")
    assert "0100 has a leading zero, which YAML reads as an octal number; write it as hex " \
           "(0x100)" in message


def test_the_name_must_match_the_file(tmp_path: Path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text("name: site_meter\npoints:\n" + GOOD_POINT, encoding="utf-8")
    with pytest.raises(ProfileError, match="name: 'site_meter' differs from the file name "
                                           "'other'"):
        load_profile(path)


def test_an_address_past_the_end_of_the_table_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - {address: 0xFFFF, type: u32, metric: x_kwh}\n")
    assert "points[0].address: 65535 is out of range; use 0 .. 65534" in message


def test_input_registers_cannot_be_written(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - {name: dim, address: 0, type: u16, "
                                "metric: dim_pct, write: true}\n")
    assert "points[0].write: input registers are read-only in Modbus" in message


def test_a_point_that_produces_nothing_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - {address: 0, type: u16}\n")
    assert "points[0]: the point produces nothing" in message


def test_bits_of_a_float_are_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - address: 0\n    type: f32\n    bits: "
                                "[{bit: 0, event: smoke, severity: alarm}]\n")
    assert "points[0].bits[0]: bits of a f32 mean nothing" in message


def test_a_bit_beyond_the_register_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - address: 0\n    type: u16\n    bits: "
                                "[{bit: 16, event: smoke, severity: alarm}]\n")
    assert "points[0].bits[0].bit: 16 is out of range; use 0 .. 15" in message


def test_two_sources_of_one_condition_are_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n"
                      "  - {address: 0, type: u16, bits: [{bit: 0, event: smoke, "
                      "severity: alarm}]}\n"
                      "  - {address: 1, type: u16, bits: [{bit: 3, event: smoke, "
                      "severity: alarm}]}\n")
    assert "points[1]: condition 'smoke' with data {} is also raised by points[0]" in message


def test_event_data_must_name_an_existing_point(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n"
                      "  - address: 0\n    type: u16\n    on_change:\n"
                      "      event: charge_stopped\n      data: {energy_kwh: {point: nope}}\n")
    assert "points[0].on_change.data.energy_kwh: refers to point 'nope'" in message


def test_derived_metrics_must_come_from_the_profile(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n" + GOOD_POINT
                      + "derived:\n  - {metric: voltage_avg_v, mean: [voltage_v, volts_l2]}\n")
    assert "derived[0].mean: unknown metric(s) volts_l2" in message


def test_a_placeholder_outside_a_repeat_group_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - {address: 0, type: u16, "
                                "metric: \"port{n}_power_w\"}\n")
    assert "points[0].metric: 'port{n}_power_w' has a placeholder outside a repeat group" \
           in message


def test_a_repeat_group_whose_stride_overlaps_is_refused(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - repeat: {count: 3, stride: 1}\n    points:\n"
                                "      - {address: 0, type: u32, metric: \"port{n}_kwh\"}\n")
    assert "points[0].points[0] (n=2): input registers 0x0001..0x0002 overlap " \
           "points[0].points[0] (n=1) at 0x0000..0x0001" in message


def test_enum_changes_need_an_integer_register(tmp_path: Path) -> None:
    message = refusal(tmp_path, "points:\n  - address: 0\n    type: f32\n    on_change: "
                                "{event: changed}\n")
    assert "points[0].on_change: on_change needs an integer (enum) register, not f32" in message


def test_templated_ports_expand_at_a_fixed_stride() -> None:
    charger = find_profile("ebike_charger_10p")
    states = [p for p in charger.points if p.metric and p.metric.endswith("_state")]
    assert [(p.metric, p.address) for p in states] == [
        (f"port{n}_state", 0x0100 + 0x10 * (n - 1)) for n in range(1, 11)]
    end = charger.point("port7_end_reason")
    assert end is not None and end.on_change is not None and end.on_change.cases is not None
    spec = end.on_change.event_for(2)
    assert spec is not None and spec.type == "charge_stopped"
    assert dict(spec.data) == {"port": 7, "energy_kwh": PointRef("port7_energy"),
                               "reason": "timer"}
    assert end.on_change.event_for(0) is None
    self_test = charger.point("self_test")
    assert self_test is not None and self_test.on_change is not None
    assert self_test.on_change.default is not None
    assert dict(self_test.on_change.default.data) == {
        "auto_power_off": BitRef(0), "timed_charging": BitRef(1), "fault_alarm": BitRef(2)}
    assert charger.writable() == [name for n in range(1, 11)
                                  for name in (f"port{n}_timer_min", f"port{n}_stop")]


def test_energy_counters_are_plausible_only_from_zero(tmp_path: Path) -> None:
    profile = load_profile(write(tmp_path, "points:\n  - {address: 0, type: f32, "
                                           "metric: energy_import_kwh}\n"))
    assert profile.points[0].low == 0.0


def test_site_profile_folders_are_searched_first(tmp_path: Path) -> None:
    write(tmp_path, "points:\n" + GOOD_POINT, name="eastron_sdm120")
    assert find_profile("eastron_sdm120", [tmp_path]).path == str(tmp_path /
                                                                  "eastron_sdm120.yaml")
    with pytest.raises(ProfileError, match="unknown Modbus device profile 'sdm999'; known "
                                           "profiles: acrel_adw300, "):
        find_profile("sdm999", [tmp_path])
