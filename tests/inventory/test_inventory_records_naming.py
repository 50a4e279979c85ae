"""Camera naming rules: present, not the code, not a factory default, a place word; per district."""

from __future__ import annotations

from pathlib import Path

import pytest

from inventory.records import NamingRulesError, check_name, configured_naming, load_naming
from inventory.records.naming import ENV_VAR

CODE = "37010200001320000001"
FIX = "(e.g. 北苑北门入口)"


def name_problems(name: str | None, district: str = "370102") -> list[str]:
    return check_name(name, CODE, configured_naming().rules_for(district))


@pytest.mark.parametrize("name", ["北苑北门入口", "南苑2号楼3单元", "地下车库出入口",
                                  "中心广场东侧", "消防通道西段", "幸福路与和平街路口",
                                  "北苑东岗亭"])
def test_place_names_pass(name: str) -> None:
    assert name_problems(name) == []


@pytest.mark.parametrize("name", ["IPCamera", "ipcamera", "IP Camera 2", "Camera 01",
                                  "Camera01", "IPC", "IPC1", "HIKVISION", "Hikvision IPC",
                                  "DS-2CD2T47G2-L", "DH-IPC-HFW2431S", "摄像机1", "摄像头 02",
                                  "通道1", "Channel 3", "D2", "192.168.1.64", "未命名设备",
                                  "球机1"])
def test_factory_defaults_are_refused(name: str) -> None:
    assert name_problems(name) == [f"name: {name!r} is a factory default; rename it after "
                                   f"the place the camera watches {FIX}"]


def test_missing_code_and_placeless_names_say_what_to_do() -> None:
    assert name_problems(None) == [f"name: missing; name the place the camera watches {FIX}"]
    assert name_problems("  ") == [f"name: missing; name the place the camera watches {FIX}"]
    assert name_problems(CODE) == [f"name: {CODE!r} is the device code; name the place the "
                                   f"camera watches {FIX}"]
    assert name_problems("北苑一号") == [
        "name: '北苑一号' contains no place word (门, 口, 路, 道, 街, 巷, 楼, 栋 …); say where the "
        f"camera is {FIX}"]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "naming.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_overrides_apply_from_province_to_district(tmp_path: Path) -> None:
    naming = load_naming(write(tmp_path, """\
default:
  place_words: [门]
  factory_defaults: ['ipc']
districts:
  "370000": {extra_place_words: [舍]}
  "370100": {extra_factory_defaults: ['监控\\d+']}
  "370102": {place_words: [楼]}
"""))
    assert naming.rules_for("370102").place_words == ("楼",)
    assert naming.rules_for("370102").factory_defaults == ("ipc", "监控\\d+")
    assert naming.rules_for("370103").place_words == ("门", "舍")
    assert naming.rules_for("370203").factory_defaults == ("ipc",)
    assert naming.rules_for("110108") == naming.default
    rules = naming.rules_for("370103")
    assert check_name("宿舍", CODE, rules) == []
    assert check_name("监控12", CODE, rules)[0].endswith("is a factory default; rename it "
                                                        f"after the place the camera watches {FIX}")


def test_a_bad_rules_file_names_each_key(tmp_path: Path) -> None:
    with pytest.raises(NamingRulesError) as err:
        load_naming(write(tmp_path, """\
default:
  place_words: []
  factory_defaults: ['(unclosed']
  colour: red
districts:
  3701: {place_words: [门]}
  "370102": {more_words: [门]}
"""))
    path = tmp_path / "naming.yaml"
    assert str(err.value) == (
        f"{path}:\n"
        "  default.colour: unknown key; use place_words and factory_defaults\n"
        "  default.place_words: must be a non-empty list of words, got []\n"
        "  default.factory_defaults[0]: '(unclosed' is not a regular expression (missing ), "
        "unterminated subpattern at position 0); quote it in single quotes and escape "
        "special characters\n"
        "  districts.3701: the key must be a 6-digit GB/T 2260 code in quotes\n"
        "  districts.370102.more_words: unknown key; use place_words, extra_place_words, "
        "factory_defaults, extra_factory_defaults")


def test_the_rules_file_can_be_chosen_by_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "default: {place_words: [舍], factory_defaults: ['x']}\n")
    monkeypatch.setenv(ENV_VAR, str(path))
    assert configured_naming().rules_for("370102").place_words == ("舍",)
    monkeypatch.delenv(ENV_VAR)
    assert "门" in configured_naming().rules_for("370102").place_words
