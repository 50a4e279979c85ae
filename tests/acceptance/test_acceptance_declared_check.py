"""What a declared entry may hold, without a database: form text becomes typed values, every
problem is reported at once, and evidence files are stored by their SHA-256."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from acceptance.catalogue import load_catalogue
from acceptance.declared_check import (
    DeclarationRefused,
    check_entry,
    check_values,
    declarable_row,
)
from acceptance.evidence import EvidenceError, EvidenceMissing, EvidenceStore


def test_form_text_becomes_the_fields_types() -> None:
    growth = load_catalogue("growth")
    assert check_values(growth.row("growth-02"), {"covered_area": "0.4",
                                                  "total_area": " 0.40 "}) == {
        "covered_area": 0.4, "total_area": 0.4}
    values = check_values(growth.row("growth-08"), {
        "data_aggregation": "是", "property_platform_linked": False, "scenarios": 5.0,
        "scenario_names": "  养老服务  "})
    assert values == {"data_aggregation": True, "property_platform_linked": False,
                      "scenarios": 5, "scenario_names": "养老服务"}
    assert type(values["scenarios"]) is int
    # Optional fields may be left empty; an empty string is "not given".
    assert check_values(growth.row("growth-09"), {"one_stop_service": "否",
                                                  "service_forms": ""}) == {
        "one_stop_service": False}


def test_every_problem_of_an_entry_is_reported_at_once() -> None:
    row = declarable_row("growth-01")
    with pytest.raises(DeclarationRefused) as caught:
        check_entry(row, {"fibre_households": "-3", "total_households": "abc",
                          "households": "1"}, files=0, by="", text="x" * 20_001)
    assert caught.value.status == 422
    assert caught.value.problems == [
        "growth-01 has no field 'households' (did you mean total_households?); its fields "
        "are fibre_households (ratio_part, required), total_households (ratio_part, "
        "required)",
        "growth-01: fibre_households (具备千兆接入能力的家庭数) = -3 is below the least "
        "allowed, 0 户",
        "growth-01: total_households (社区家庭总数) must be a whole number such as 3790, got "
        "'abc'",
        "growth-01 (有线宽带网络) needs evidence: attach at least one file (field `evidence`), "
        "e.g. the operator's coverage certificate or a signed statement",
        "who entered it is missing: give your name (field `by`)",
        "the text is 20001 characters long; at most 20000 (attach longer documents as "
        "evidence)"]


def test_households_and_other_counted_parts_must_be_whole_numbers_areas_need_not() -> None:
    with pytest.raises(DeclarationRefused) as caught:
        check_values(declarable_row("growth-01"), {"fibre_households": "12.5",
                                                   "total_households": 3790.5})
    assert caught.value.problems == [
        "growth-01: fibre_households (具备千兆接入能力的家庭数) must be a whole number such as "
        "3790, got '12.5'",
        "growth-01: total_households (社区家庭总数) must be a whole number such as 3790, got "
        "3790.5"]
    assert check_values(declarable_row("growth-01"), {"fibre_households": "3790",
                                                      "total_households": 3790.0}) == {
        "fibre_households": 3790, "total_households": 3790}
    compounds = load_catalogue("growth").row("growth-13").field("compounds")
    assert compounds.whole and compounds.unit == "个"
    assert not load_catalogue("growth").row("growth-02").field("total_area").whole


def test_a_rate_of_zero_households_and_infinite_numbers_are_refused() -> None:
    row = declarable_row("growth-02")
    with pytest.raises(DeclarationRefused) as caught:
        check_values(row, {"covered_area": "inf", "total_area": "0.00001"})
    assert caught.value.problems == [
        "growth-02: covered_area (5G信号覆盖的区域面积) must be a number such as 0.4, got 'inf'",
        "growth-02: total_area (社区总面积) = 1e-05 is below the least allowed, 0.0001 平方公里"]
    assert check_values(row, {"covered_area": 0.4, "total_area": 0.4}) == {
        "covered_area": 0.4, "total_area": 0.4}


def test_every_declared_row_of_every_catalogue_can_be_looked_up_and_no_measured_one() -> None:
    for tier in ("basic", "growth"):
        for row in load_catalogue(tier).rows:
            if row.kind == "declared":
                assert declarable_row(row.id) is row
                assert not {f.name for f in row.fields} & {"values", "text", "by", "evidence",
                                                          "evidence_sha256"}
            else:
                source = "scg itself" if row.kind == "system" else "the devices"
                with pytest.raises(DeclarationRefused, match=f"is measured from {source}"):
                    declarable_row(row.id)


@pytest.mark.parametrize("row_id", ["basic-21", "growth-26"])
def test_information_security_cannot_be_declared_it_is_measured(row_id: str) -> None:
    with pytest.raises(DeclarationRefused) as refused:
        declarable_row(row_id)
    assert refused.value.status == 422
    [problem] = refused.value.problems
    assert problem.startswith(f"row {row_id} (信息安全) is measured from scg itself and "
                              "cannot be declared: its verdict comes from the platform's "
                              "own state (residents' data and device credentials sealed "
                              "with SM4-GCM, users in more than one role")
    assert row_id not in problem.partition("Declared rows of")[2]


def test_evidence_is_stored_once_under_its_sha256_and_checked_when_read(
        tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_bytes=100)
    data = b"signed statement"
    sha = hashlib.sha256(data).hexdigest()
    a = store.put(io.BytesIO(data), "a.pdf", "application/pdf")
    b = store.put(io.BytesIO(data), "b.pdf", "application/pdf")
    assert (a.sha256, a.size, b.sha256) == (sha, len(data), sha)
    assert store.path(sha) == tmp_path / "sha256" / sha[:2] / sha
    assert store.read(sha) == data
    assert list((tmp_path / "incoming").iterdir()) == []
    with pytest.raises(EvidenceError, match="larger than 100 bytes"):
        store.put(io.BytesIO(b"x" * 101), "big.pdf", "application/pdf")
    assert list((tmp_path / "incoming").iterdir()) == []
    path = store.path(sha)
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    with pytest.raises(EvidenceMissing, match="was altered on disk"):
        store.read(sha)
    with pytest.raises(ValueError, match="is not a SHA-256"):
        store.path("../../etc/passwd")
