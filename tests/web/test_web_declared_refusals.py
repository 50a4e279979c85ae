"""Malformed declared entries are refused with a message naming the row, the field, what was
expected and what came; nothing of a refused entry is stored, and stored entries cannot be
altered or deleted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from declared_support import PDF, T1, Clock, api

pytestmark = pytest.mark.asyncio

CERT = [("evidence", ("证明.pdf", PDF, "application/pdf"))]
GROWTH_DECLARED = ("growth-01, growth-02, growth-03, growth-08, growth-09, growth-11, "
                   "growth-12, growth-13, growth-14, growth-18, growth-21, growth-22, "
                   "growth-23, growth-24, growth-25, growth-27, growth-28")
BASIC_DECLARED = ("basic-01, basic-02, basic-03, basic-06, basic-07, basic-08, basic-09, "
                  "basic-10, basic-11, basic-17, basic-18, basic-19, basic-20, basic-22")

#: (row, form data, files) -> (status, problems)
CASES: list[tuple[str, dict[str, Any], list[Any], int, list[str]]] = [
    ("growth-99", {}, CERT, 404, [
        f"row 'growth-99' is not in the growth catalogue (growth-01 … growth-28); its "
        f"declared rows are "
        f"{GROWTH_DECLARED}"]),
    ("growth-1", {}, CERT, 404, [
        f"row 'growth-1' is not in the growth catalogue (growth-01 … growth-28); did you mean "
        f"growth-01? its declared rows are {GROWTH_DECLARED}"]),
    ("gold-01", {}, CERT, 404, [
        "row 'gold-01' is not a catalogue row: row ids are <tier>-<number>, e.g. growth-01, "
        "with tier one of basic, growth, benchmark, db37"]),
    ("growth-05", {"values": json.dumps({"smart_lights": 112})}, CERT, 422, [
        "row growth-05 (智能照明设施) is measured from the devices (smart_lighting_rate) and "
        f"cannot be declared; its figure comes from the inventory and telemetry. Declared "
        f"rows of growth: {GROWTH_DECLARED}"]),
    # 信息安全 is measured from scg itself: three yeses and a file do not make it 达标.
    ("basic-21", {"personal_data_encrypted": "true", "tiered_roles": "true",
                  "tamper_proof_records": "true"},
     [("evidence", ("fake.html", b"<p>ok</p>", "text/html"))], 422, [
        "row basic-21 (信息安全) is measured from scg itself and cannot be declared: its "
        "verdict comes from the platform's own state (residents' data and device credentials "
        "sealed with SM4-GCM, users in more than one role, the records' SM3 hash chains "
        "verified and append-only for the services), shown with its evidence in the "
        f"acceptance report. Declared rows of basic: {BASIC_DECLARED}"]),
    ("growth-01", {"fibre_households": "3700", "total_households": "0"}, CERT,
     422, ["growth-01: total_households (社区家庭总数) = 0 is below the least allowed, 1 户"]),
    ("basic-08", {"elderly_share_pct": "120", "services": "2", "requirement_met": "是"},
     CERT, 422, [
        "basic-08: elderly_share_pct (60岁及以上常住老年人占比) = 120 is above the most "
        "allowed, 100 %"]),
    ("growth-01", {"fibre_households": "3790", "total_households": "3790"}, [],
     422, ["growth-01 (有线宽带网络) needs evidence: attach at least one file (field "
           "`evidence`), e.g. the operator's coverage certificate or a signed statement"]),
    ("growth-01", {"fibre_households": "4000", "total_households": "3790"}, CERT,
     422, ["growth-01: fibre_households (具备千兆接入能力的家庭数) = 4000 exceeds "
           "total_households (社区家庭总数) = 3790; a part cannot be more than the whole"]),
    ("growth-01", {"fiber_households": "3790", "total_households": "3790"},
     CERT, 422, [
        "growth-01 has no field 'fiber_households' (did you mean fibre_households?); its "
        "fields are fibre_households (ratio_part, required), total_households (ratio_part, "
        "required)",
        "growth-01: fibre_households (具备千兆接入能力的家庭数) is required"]),
    ("growth-08", {"data_aggregation": "maybe", "property_platform_linked": "是",
                   "scenarios": "5.5"}, CERT, 422, [
        "growth-08: data_aggregation (社区人、地、事、物、情、组织等信息集中汇聚、整合管理、动态"
        "更新) must be yes or no (true/false, 是/否), got 'maybe'",
        "growth-08: scenarios (整合或新建的智慧社区应用场景数) must be a whole number such as "
        "3790, got '5.5'"]),
    ("growth-02", {"covered_area": "lots", "total_area": "0.4"}, CERT, 422, [
        "growth-02: covered_area (5G信号覆盖的区域面积) must be a number such as 0.4, got "
        "'lots'"]),
    # Who enters it is the signed-in user: a name typed into the form is refused.
    ("growth-01", {"fibre_households": "3790", "total_households": "3790", "by": "王芳"},
     CERT, 422, ["`by` is not taken any more: an entry is recorded in the name of the "
                 "signed-in user; leave the field out"]),
    ("growth-01", {"values": json.dumps({"fibre_households": 3700}),
                   "fibre_households": "3790", "total_households": "3790"}, CERT,
     422, ["'fibre_households' is given twice with different values: 3700 and '3790'; send "
           "it once"]),
    ("growth-01", {"values": "{fibre: 1}"}, CERT, 422, [
        "`values` is not JSON (Expecting property name enclosed in double quotes at "
        "character 1); send an object such as {\"fibre_households\": 3790}"]),
]


async def test_every_malformed_entry_is_refused_with_its_reasons_and_nothing_is_stored(
        loaded: str, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    async with api(loaded, evidence, Clock(T1)) as (_, client):
        for row, data, files, status, problems in CASES:
            r = await client.post(f"/api/communities/demo/declared/{row}", data=data,
                                  files=files or None)
            assert (r.status_code, r.json()["problems"]) == (status, problems), (row, data)
            assert r.json()["detail"] == "; ".join(problems)
        r = await client.post("/api/communities/nowhere/declared/growth-01",
                              data={"text": "x"})
        assert r.status_code == 404
        assert r.json()["detail"].startswith("community 'nowhere' is not in the inventory")
        r = await client.post("/api/communities/demo/declared/growth-01",
                              json={"values": {"fibre_households": 1, "total_households": 2},
                                    "by": "王芳", "at": "2020-01-01T00:00:00Z"})
        assert (r.status_code, r.json()["problems"]) == (422, [
            "unknown key 'at'; a JSON entry has values, text and evidence_sha256 (new files "
            "need a multipart form)",
            "`by` is not taken any more: an entry is recorded in the name of the signed-in "
            "user; leave the field out"])
        r = await client.get("/api/communities/demo/declared", params={"tier": "gold"})
        assert (r.status_code, r.json()["detail"]) == (
            422, "tier 'gold' is not a catalogue; use one of basic, growth, benchmark, db37")
        r = await client.get("/api/communities/demo/declared/growth-05/history")
        assert r.status_code == 422
        assert r.json()["detail"].startswith("row growth-05 (智能照明设施) is measured")
    conn = await asyncpg.connect(loaded)
    try:
        assert await conn.fetchval("SELECT count(*) FROM declarations") == 0
        assert await conn.fetchval("SELECT count(*) FROM evidence_files") == 0
    finally:
        await conn.close()
    # Files are stored only once the rest of the entry is valid.
    assert not (evidence / "sha256").exists()


async def test_a_file_above_the_limit_is_413_and_an_empty_file_is_refused(
        loaded: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCG_EVIDENCE_MAX_BYTES", "1000")
    form = {"fibre_households": "3790", "total_households": "3790"}
    async with api(loaded, tmp_path / "ev", Clock(T1)) as (_, client):
        r = await client.post("/api/communities/demo/declared/growth-01", data=form,
                              files=[("evidence", ("big.pdf", b"x" * 1001, "application/pdf"))])
        assert (r.status_code, r.json()["detail"]) == (413, (
            "evidence file 'big.pdf' is larger than 1000 bytes, the most accepted "
            "(SCG_EVIDENCE_MAX_BYTES); attach a smaller scan or split the document"))
        r = await client.post("/api/communities/demo/declared/growth-01", data=form,
                              files=[("evidence", ("empty.pdf", b"", "application/pdf"))])
        assert (r.status_code, r.json()["detail"]) == (
            422, "evidence file 'empty.pdf' is empty; attach the document itself")
        r = await client.post("/api/communities/demo/declared/growth-01",
                              data={**form, "evidence_sha256": "ab" * 32})
        assert (r.status_code, r.json()["detail"]) == (422, (
            f"evidence_sha256 '{'ab' * 32}' is not a stored evidence file; upload the file "
            "itself (field `evidence`)"))
    assert not list((tmp_path / "ev").rglob("upload-*"))  # no partial upload left behind


async def test_stored_entries_and_evidence_cannot_be_altered_or_deleted(
        loaded: str, tmp_path: Path) -> None:
    async with api(loaded, tmp_path / "ev", Clock(T1)) as (_, client):
        r = await client.post("/api/communities/demo/declared/growth-01",
                              data={"fibre_households": "3790", "total_households": "3790"},
                              files=CERT)
        assert r.status_code == 201
    conn = await asyncpg.connect(loaded)
    try:
        for statement in ("UPDATE declarations SET field_values = '{}'",
                          "UPDATE declarations SET entered_by = 'someone else'",
                          "DELETE FROM declarations",
                          "TRUNCATE declarations CASCADE",
                          "UPDATE declaration_evidence SET name = 'other.pdf'",
                          "DELETE FROM declaration_evidence",
                          "UPDATE evidence_files SET size = 1",
                          "DELETE FROM evidence_files",
                          "TRUNCATE evidence_files CASCADE"):
            with pytest.raises(asyncpg.RaiseError, match="cannot be altered or deleted"):
                await conn.execute(statement)
        assert await conn.fetchval("SELECT field_values FROM declarations") == json.dumps(
            {"fibre_households": 3790, "total_households": 3790})
        assert await conn.fetchval("SELECT count(*) FROM declaration_evidence") == 1
    finally:
        await conn.close()
