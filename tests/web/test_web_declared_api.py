"""Declared values over HTTP: an entry with evidence survives a restart of the API, keeps its
history (latest wins), and its evidence downloads byte for byte under its SHA-256."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from auth_support import user_headers
from declared_support import PDF, PNG, T1, Clock, api, iso

from acceptance.declared import declaration_history, latest_declarations

pytestmark = pytest.mark.asyncio

PDF_SHA = hashlib.sha256(PDF).hexdigest()
PNG_SHA = hashlib.sha256(PNG).hexdigest()


async def test_an_entry_with_evidence_survives_a_restart_and_keeps_its_history(
        loaded: str, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    clock = Clock(T1)
    li = await user_headers(loaded, "李强", "operator", ["demo"])
    async with api(loaded, evidence, clock) as (_, client):
        r = await client.post(
            "/api/communities/demo/declared/growth-01",
            data={"fibre_households": "3700", "total_households": "3,790".replace(",", ""),
                  "text": "运营商出具的覆盖证明"},
            files=[("evidence", ("光纤覆盖证明.pdf", PDF, "application/pdf"))])
        assert r.status_code == 201, r.text
        first = r.json()
        assert {k: first[k] for k in ("row_id", "tier", "values", "text", "entered_by",
                                      "entered_at", "entries")} == {
            "row_id": "growth-01", "tier": "growth",
            "values": {"fibre_households": 3700, "total_households": 3790},
            "text": "运营商出具的覆盖证明", "entered_by": "王芳", "entered_at": iso(T1),
            "entries": 1}
        assert first["evidence"] == [{
            "name": "光纤覆盖证明.pdf", "sha256": PDF_SHA, "size": len(PDF),
            "content_type": "application/pdf", "url": f"/api/evidence/{PDF_SHA}"}]

        # A correction a day later: values as JSON, a new photo, the certificate kept.
        clock.now = T1 + timedelta(days=1)
        r = await client.post(
            "/api/communities/demo/declared/growth-01",
            data={"values": json.dumps({"fibre_households": 3790, "total_households": 3790}),
                  "evidence_sha256": PDF_SHA},
            files=[("evidence", ("机房照片.png", PNG, "image/png"))], headers=li)
        assert r.status_code == 201, r.text
        assert (r.json()["entries"], [e["name"] for e in r.json()["evidence"]]) == (
            2, ["光纤覆盖证明.pdf", "机房照片.png"])

    # The files are stored once each, content-addressed and read-only.
    stored = evidence / "sha256" / PDF_SHA[:2] / PDF_SHA
    assert stored.read_bytes() == PDF
    assert stored.stat().st_mode & 0o222 == 0
    assert sorted(p.name for p in (evidence / "sha256").rglob("*") if p.is_file()) == sorted(
        [PDF_SHA, PNG_SHA])

    # A new app over the same database and directory: as after a restart.
    async with api(loaded, evidence, Clock(T1 + timedelta(days=2))) as (_, client):
        r = await client.get("/api/communities/demo/declared", params={"tier": "growth"})
        assert r.status_code == 200
        rows = {row["row_id"]: row for row in r.json()["rows"]}
        fibre = rows["growth-01"]
        assert (fibre["entries"], fibre["latest"]["values"], fibre["latest"]["entered_by"],
                fibre["latest"]["entered_at"]) == (
            2, {"fibre_households": 3790, "total_households": 3790}, "李强",
            iso(T1 + timedelta(days=1)))
        assert fibre["ratio"] == {"numerator": "fibre_households",
                                  "denominator": "total_households", "threshold_pct": 80.0}
        assert (rows["growth-02"]["latest"], rows["growth-02"]["entries"]) == (None, 0)
        assert "growth-05" not in rows  # measured: not a declared row

        r = await client.get("/api/communities/demo/declared/growth-01/history")
        assert r.status_code == 200
        history = r.json()
        assert history["count"] == 2
        assert [(e["entered_by"], e["values"]["fibre_households"],
                 [x["sha256"] for x in e["evidence"]]) for e in history["entries"]] == [
            ("李强", 3790, [PDF_SHA, PNG_SHA]), ("王芳", 3700, [PDF_SHA])]

        r = await client.get(f"/api/evidence/{PDF_SHA}")
        assert r.status_code == 200
        assert r.content == PDF
        assert hashlib.sha256(r.content).hexdigest() == PDF_SHA
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["content-disposition"] == (
            "inline; filename*=UTF-8''%E5%85%89%E7%BA%A4%E8%A6%86%E7%9B%96%E8%AF%81%E6%98%8E.pdf")
        assert (await client.get(f"/api/evidence/{PNG_SHA}")).content == PNG

        # Entered before the correction: the first entry was the value then.
        r = await client.get("/api/communities/demo/declared",
                             params={"tier": "growth", "as_of": iso(T1 + timedelta(hours=1))})
        fibre = {row["row_id"]: row for row in r.json()["rows"]}["growth-01"]
        assert (fibre["latest"]["entered_by"], fibre["entries"]) == ("王芳", 1)

    conn = await asyncpg.connect(loaded)
    try:
        latest = await latest_declarations(conn, "demo", "growth")
        assert list(latest) == ["growth-01"]
        assert latest["growth-01"].values == {"fibre_households": 3790,
                                              "total_households": 3790}
        assert [e.sha256 for e in latest["growth-01"].evidence] == [PDF_SHA, PNG_SHA]
        past = await latest_declarations(conn, "demo", "growth", as_of=T1 + timedelta(hours=1))
        assert past["growth-01"].entered_by == "王芳"
        assert await latest_declarations(conn, "demo", "growth",
                                         as_of=T1 - timedelta(seconds=1)) == {}
        assert await latest_declarations(conn, "demo", "basic") == {}
        assert len(await declaration_history(conn, "demo", "growth-01")) == 2
        log = await conn.fetch("SELECT actor, action, target FROM operation_log ORDER BY id")
        assert [tuple(r) for r in log] == [("王芳", "declared.enter", "declared:growth-01"),
                                           ("李强", "declared.enter", "declared:growth-01")]
    finally:
        await conn.close()


async def test_yes_no_rows_take_form_words_and_the_same_bytes_are_stored_once(
        loaded: str, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    async with api(loaded, evidence, Clock(T1)) as (_, client):
        r = await client.post(
            "/api/communities/demo/declared/growth-08",
            data={"data_aggregation": "是", "property_platform_linked": "true",
                  "scenarios": "12", "scenario_names": "养老服务、出入管理"},
            files=[("evidence", ("平台截图.pdf", PDF, "application/pdf")),
                   ("evidence", ("same-again.pdf", PDF, "application/pdf"))])
        assert r.status_code == 201, r.text
        assert r.json()["values"] == {"data_aggregation": True,
                                      "property_platform_linked": True, "scenarios": 12,
                                      "scenario_names": "养老服务、出入管理"}
        assert [e["name"] for e in r.json()["evidence"]] == ["平台截图.pdf", "same-again.pdf"]
    assert [p.name for p in (evidence / "sha256").rglob("*") if p.is_file()] == [PDF_SHA]


async def test_an_uploaded_html_file_downloads_as_an_attachment_not_a_page(
        loaded: str, tmp_path: Path) -> None:
    page = b"<script>alert(1)</script>"
    sha = hashlib.sha256(page).hexdigest()
    async with api(loaded, tmp_path / "ev", Clock(T1)) as (_, client):
        r = await client.post("/api/communities/demo/declared/growth-09",
                              data={"one_stop_service": "yes"},
                              files=[("evidence", ("x.html", page, "text/html"))])
        assert r.status_code == 201, r.text
        r = await client.get(f"/api/evidence/{sha}")
        assert (r.content, r.headers["content-type"]) == (page, "application/octet-stream")
        assert r.headers["content-disposition"].startswith("attachment;")
        assert r.headers["x-content-type-options"] == "nosniff"


async def test_evidence_downloads_refuse_bad_and_unknown_hashes_and_report_lost_files(
        loaded: str, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    async with api(loaded, evidence, Clock(T1)) as (_, client):
        r = await client.get("/api/evidence/not-a-hash")
        assert (r.status_code, r.json()["detail"]) == (
            422, "'not-a-hash' is not a SHA-256 (64 lower-case hex digits)")
        r = await client.get(f"/api/evidence/{'0' * 64}")
        assert r.status_code == 404
        assert r.json()["detail"].startswith(f"no evidence file has SHA-256 {'0' * 64}")
        await client.post("/api/communities/demo/declared/growth-09",
                          data={"one_stop_service": "yes"},
                          files=[("evidence", ("a.pdf", PDF, "application/pdf"))])
    # The same database with an empty evidence directory (a wrong SCG_EVIDENCE_DIR).
    async with api(loaded, tmp_path / "elsewhere", Clock(T1)) as (_, client):
        r = await client.get(f"/api/evidence/{PDF_SHA}")
        assert r.status_code == 500
        assert r.json()["detail"] == (
            f"evidence {PDF_SHA} is recorded but {tmp_path}/elsewhere/sha256/{PDF_SHA[:2]}/"
            f"{PDF_SHA} does not exist; is SCG_EVIDENCE_DIR pointing at the right directory "
            f"({tmp_path}/elsewhere)? Restore the file from a backup")
