"""Declared rows say only what their declared parts give: a rate in the entrant's text that
the parts do not give is flagged, not appended; a value whose threshold nobody published
is not judged unless the county settings give one, and those settings are checked."""

from __future__ import annotations

from pathlib import Path

import pytest
from acceptance_support import Entry

from acceptance.catalogue import load_catalogue
from acceptance.county import (
    CountySettings,
    CountySettingsError,
    county_settings_from_env,
    load_county_settings,
)
from acceptance.declared_texts import declared_text

GROWTH = load_catalogue("growth")


def test_a_5g_text_that_contradicts_the_declared_parts_is_flagged_not_appended() -> None:
    entry = Entry("growth-02", {"covered_area": 3.84, "total_area": 4},
                  text="达标。5G网络覆盖率达到80%，其中5G信号覆盖的区域面积是3.2平方公里。")
    out = declared_text(GROWTH.row("growth-02"), entry, {})
    assert out.verdict == "pass"
    assert out.text == ("达标。5G网络覆盖率达到96%，其中5G信号覆盖的区域面积3.84平方公里，"
                        "社区总面积4平方公里。")
    assert out.notes == ("申报文字中的80%与申报数据计算的96%不一致",)


def test_an_agreeing_text_is_appended_without_its_own_verdict_word() -> None:
    entry = Entry("growth-02", {"covered_area": 3.84, "total_area": 4},
                  text="达标。5G网络覆盖率达到90%以上，运营商已出具覆盖证明")
    out = declared_text(GROWTH.row("growth-02"), entry, {})
    assert out.notes == ()
    assert out.text == ("达标。5G网络覆盖率达到96%，其中5G信号覆盖的区域面积3.84平方公里，"
                        "社区总面积4平方公里。5G网络覆盖率达到90%以上，运营商已出具覆盖证明。")
    # A figure rounded half up (96.25 % written 96.3 %) is a fair way to write it.
    rounded = Entry("growth-02", {"covered_area": 3.85, "total_area": 4},
                    text="覆盖率为96.3%")
    assert declared_text(GROWTH.row("growth-02"), rounded, {}).notes == ()


def test_satisfaction_without_a_published_threshold_is_not_judged() -> None:
    row = GROWTH.row("growth-28")
    assert row.field("satisfaction_pct").target_unpublished
    entry = Entry("growth-28", {"survey_done": True, "satisfaction_pct": 12})
    out = declared_text(row, entry, {})
    assert out.verdict == "not_judged"
    assert out.text == ("未判定。已通过调查问卷等方式评价居民的切身感受：是；居民满意度12%"
                        "（标准要求未公布此项阈值，未作判定）。")
    county = CountySettings(thresholds={"growth-28": {"satisfaction_pct": 90}})
    judged = declared_text(row, entry, {}, county)
    assert judged.verdict == "fail"
    assert "居民满意度12%（县级要求不少于90%）" in judged.text
    high = Entry("growth-28", {"survey_done": True, "satisfaction_pct": 95})
    assert declared_text(row, high, {}, county).verdict == "pass"
    # No survey fails whatever the satisfaction.
    none = Entry("growth-28", {"survey_done": False, "satisfaction_pct": 95})
    assert declared_text(row, none, {}).verdict == "fail"


def test_county_settings_load_and_every_mistake_names_the_key_and_the_fix(
        tmp_path: Path) -> None:
    good = tmp_path / "county.yaml"
    good.write_text("county: 青州市\nthresholds:\n  growth-28: {satisfaction_pct: 90}\n"
                    "wording:\n  not_applicable:\n"
                    "    highrise_throw_coverage: 社区内{floors}层及以上住宅0栋。\n",
                    encoding="utf-8")
    settings = load_county_settings(good)
    assert settings.county == "青州市"
    assert settings.threshold("growth-28", "satisfaction_pct") == 90.0
    assert settings.not_applicable == {"highrise_throw_coverage": "社区内{floors}层及以上住宅0栋"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("""\
counties: x
thresholds:
  growth-01: {fibre_households: 50}
  growth-28: {satisfaction_pct: 120, happiness: 3}
  gold-01: {x: 1}
wording:
  not_applicable:
    highrise_throw_coverage: 社区内{storeys}层及以上住宅0栋
    smart_lighting_rate: 无路灯
""", encoding="utf-8")
    with pytest.raises(CountySettingsError) as err:
        load_county_settings(bad)
    assert str(err.value).splitlines() == [
        f"{bad}:",
        "  counties: is not a setting; use county, thresholds, wording",
        "  thresholds.growth-01.fibre_households: the published table fixes this value's "
        "requirement (or asks nothing of it); a county sets only thresholds the standard "
        "leaves unpublished — remove the key",
        "  thresholds.growth-28.satisfaction_pct: must be 0..100 (居民满意度), got 120",
        "  thresholds.growth-28.happiness: growth-28 has no field 'happiness'; its fields are "
        "survey_done, satisfaction_pct",
        "  thresholds.gold-01: is not a catalogue row; row ids are <tier>-<number>, e.g. "
        "growth-28, with tier one of basic, growth, benchmark, db37",
        "  wording.not_applicable.highrise_throw_coverage: unknown placeholder {storeys}; "
        "this sentence may use {floors}",
        "  wording.not_applicable.smart_lighting_rate: is not an indicator that can have "
        "nothing eligible; use one of highrise_throw_coverage, access_control_compounds, "
        "perimeter_compounds, smart_charging_compounds, ebike_elevator_compounds, "
        "elderly_sos_coverage, elderly_sos_response_rate"]


def test_the_environment_names_the_settings_file(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCG_COUNTY_SETTINGS", raising=False)
    assert county_settings_from_env() is None
    monkeypatch.setenv("SCG_COUNTY_SETTINGS", str(tmp_path / "missing.yaml"))
    with pytest.raises(CountySettingsError, match=r"missing\.yaml: no such file"):
        county_settings_from_env()
    (tmp_path / "c.yaml").write_text("county: 成武县\n", encoding="utf-8")
    monkeypatch.setenv("SCG_COUNTY_SETTINGS", str(tmp_path / "c.yaml"))
    found = county_settings_from_env()
    assert found is not None and found.county == "成武县"


def test_scg_report_refuses_a_broken_county_settings_file_before_anything_else(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scg.cli import main

    bad = tmp_path / "county.yaml"
    bad.write_text("thresholds:\n  growth-28: {satisfaction_pct: high}\n", encoding="utf-8")
    code = main(["report", "--database-url", "postgresql://nobody@127.0.0.1:1/none",
                 "--community", "x", "--tier", "growth", "--out", str(tmp_path / "r.html"),
                 "--county-settings", str(bad)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"scg report: {bad}:\n  thresholds.growth-28.satisfaction_pct: must be 0..100 "
        "(居民满意度), got 'high'\n")
    assert not (tmp_path / "r.html").exists()
