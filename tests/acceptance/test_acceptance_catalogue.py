"""The tier catalogues: each loads, has the published rows, links only known indicators,
and a broken file is refused with the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from acceptance.catalogue import (
    CatalogueError,
    Ratio,
    load_catalogue,
)
from indicators.load import INDICATOR_IDS
from indicators.thresholds import thresholds_for

PUBLISHED_ROWS = {"basic": 22, "growth": 28, "benchmark": 12, "db37": 24}


@pytest.mark.parametrize(("name", "rows"), PUBLISHED_ROWS.items())
def test_every_catalogue_loads_with_its_row_count_and_row_ids(name: str, rows: int) -> None:
    cat = load_catalogue(name)
    assert cat.tier == name
    assert len(cat.rows) == rows
    assert [r.id for r in cat.rows] == [f"{name}-{n:02d}" for n in range(1, rows + 1)]
    # The published document the rows were transcribed from, cited by title (no file path).
    assert "《" in cat.source and "/" not in cat.source.replace("DB37/T", "")
    for row in cat.rows:
        assert row.group and row.name and row.definition and row.requirement
        if row.kind == "measured":
            assert row.indicators and not row.fields
        elif row.kind == "system":
            assert row.checks and not row.fields and not row.indicators
        else:
            assert row.fields and not row.indicators


def test_measured_rows_link_indicators_of_the_registry() -> None:
    linked = {m for name in PUBLISHED_ROWS for r in load_catalogue(name).rows
              for m in r.indicators}
    # Energy saving (DB37/T 3890.3 L1P8) is one of the live indicators like the others.
    assert linked <= set(INDICATOR_IDS)
    assert "lighting_energy_saving" in linked
    # Every computed indicator is used by the growth table, but for DB37's energy saving
    # and the windowed networked rate served beside the live one.
    assert {m for r in load_catalogue("growth").rows for m in r.indicators} == \
        set(INDICATOR_IDS) - {"lighting_energy_saving", "video_networked_time_rate"}


def test_growth_rows_carry_the_published_text_and_kinds() -> None:
    cat = load_catalogue("growth")
    assert cat.groups == ("基础设施", "社区服务", "社区安全", "社区治理", "保障措施",
                          "创新应用和做法")
    lighting = cat.row("growth-05")
    assert (lighting.group, lighting.name, lighting.requirement) == (
        "基础设施", "智能照明设施", "智能照明设施安装率达到80%")
    assert lighting.indicators == ("smart_lighting_rate",)
    video = cat.row("growth-04")
    assert video.indicators == ("video_key_coverage", "video_networked_rate",
                                "video_intact_rate", "video_picture_out_rate",
                                "video_record_compliance")
    assert video.requirement.splitlines()[1] == "2.公共视频资源出图率达到85%；"
    fibre = cat.row("growth-01")
    assert fibre.kind == "declared" and fibre.evidence_required
    assert fibre.ratio == Ratio("fibre_households", "total_households", 80.0)
    assert fibre.field("fibre_households").label == "具备千兆接入能力的家庭数"
    assert cat.row("growth-26").kind == "system"            # information security
    assert cat.row("growth-19").indicators == ("fire_hazard_compounds",
                                               "ebike_elevator_compounds")
    kinds = {r.number for r in cat.rows if r.kind == "measured"}
    assert kinds == {4, 5, 6, 7, 10, 15, 16, 17, 19, 20}


def test_basic_rows_measure_what_the_basic_thresholds_require() -> None:
    cat = load_catalogue("basic")
    assert {r.number for r in cat.rows if r.kind == "measured"} == {4, 5, 12, 13, 14, 15, 16}
    assert cat.row("basic-01").ratio == Ratio("fibre_households", "total_households", 70.0)
    for row in cat.rows:
        for m in row.measures:
            assert m.basis == "basic" and m.threshold is None
            assert thresholds_for(m.indicator).basic is not None, m.indicator


def test_benchmark_is_provisional_and_db37_weights_add_up_to_100() -> None:
    bench = load_catalogue("benchmark")
    assert bench.provisional and bench.note
    parking = next(r for r in bench.rows if r.ratio and r.ratio.threshold_pct == 5)
    assert parking.ratio == Ratio("shared_spaces", "total_spaces", 5.0)
    db37 = load_catalogue("db37")
    assert not db37.provisional and db37.scoring == "weighted"
    assert sum(r.weight or 0 for r in db37.rows) == pytest.approx(100)
    groups: dict[str, float] = {}
    for r in db37.rows:
        groups[r.group] = groups.get(r.group, 0) + (r.weight or 0)
    assert groups == {"基础设施": 29, "社区服务": 39, "社区安全": 22, "服务创新": 10}
    lighting = db37.row("db37-08")
    assert (lighting.code, lighting.weight, lighting.kind) == ("L1P8", 5.0, "measured")
    assert [(m.indicator, m.threshold) for m in lighting.measures] == [
        ("smart_lighting_rate", 60.0), ("lighting_energy_saving", 20.0)]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "growth.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_broken_catalogue_is_refused_naming_every_problem(tmp_path: Path) -> None:
    path = _write(tmp_path, """
tier: growth
title: t
source: s
rows:
  - {number: 1, group: g, name: n, definition: d, requirement: r, kind: measured,
     measures: [{indicator: smart_lightin_rate}]}
  - {number: 3, group: g, name: n, definition: d, requirement: r, kind: declared,
     fields: [{name: a, label: A, type: count}], ratio: [a, b, 80], colour: red}
""")
    with pytest.raises(CatalogueError) as err:
        load_catalogue("growth", path)
    message = str(err.value)
    assert str(path) in message
    assert "'smart_lightin_rate' is not an indicator id" in message
    assert "ratio: must be [numerator_field, denominator_field, threshold_pct]" in message
    assert "colour: is not a row key" in message
    assert "numbers (序号) must run 1..2 in order, got [1, 3]" in message


def test_a_catalogue_loaded_under_another_name_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, """
tier: basic
title: t
source: s
rows:
  - {number: 1, group: g, name: n, definition: d, requirement: r, kind: declared,
     fields: [{name: ok, label: OK, type: boolean, target: true}]}
""")
    with pytest.raises(CatalogueError, match="is 'basic' but the file is loaded as "
                       "catalogue 'growth'"):
        load_catalogue("growth", path)
    with pytest.raises(CatalogueError, match="unknown catalogue 'gold'"):
        load_catalogue("gold")


def test_information_security_is_checked_of_scg_itself_in_both_tiers() -> None:
    for row_id in ("basic-21", "growth-26"):
        row = load_catalogue(row_id.split("-")[0]).row(row_id)
        assert (row.name, row.kind, row.evidence_required) == ("信息安全", "system", False)
        assert row.checks == ("personal_data_encrypted", "tiered_roles",
                              "tamper_proof_records")
        assert row.fields == () and row.measures == ()


def test_a_system_row_names_only_known_checks_and_takes_no_fields(tmp_path: Path) -> None:
    path = _write(tmp_path, """
tier: growth
title: t
source: s
rows:
  - {number: 1, group: g, name: n, definition: d, requirement: r, kind: system,
     checks: [personal_data_encrypted, firewall],
     fields: [{name: ok, label: OK, type: boolean, target: true}]}
  - {number: 2, group: g, name: n, definition: d, requirement: r, kind: declared,
     checks: [tiered_roles], fields: [{name: ok, label: OK, type: boolean}]}
""")
    with pytest.raises(CatalogueError) as err:
        load_catalogue("growth", path)
    message = str(err.value)
    assert ("rows[0] (序号 1) checks: a system row lists what it checks, each once, from "
            "personal_data_encrypted, tiered_roles, tamper_proof_records; got "
            "['personal_data_encrypted', 'firewall']") in message
    assert ("rows[0] (序号 1) fields: a system row takes no declared fields or measures: "
            "it is judged from scg's own state (its checks)") in message
    assert ("rows[1] (序号 2) checks: only a system row has checks; make it kind: system "
            "or drop the checks") in message
