"""The HTML page for declared values: it lists a tier's declared rows with their latest
values and evidence, its plain form stores an entry and redirects back, and a refused entry
comes back with the reasons at its row, in Chinese, and what was typed. The page is one
of the console's (its frame, Chinese words, local times)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from declared_support import PDF, T1, Clock, api

pytestmark = pytest.mark.asyncio

PDF_SHA = hashlib.sha256(PDF).hexdigest()


def section(html: str, row_id: str) -> str:
    m = re.search(rf'<section class="row panel" id="{row_id}">(.*?)</section>', html, re.S)
    assert m, f"no section for {row_id}"
    return m.group(1)


async def test_the_page_lists_declared_rows_and_its_form_stores_an_entry(
        loaded: str, tmp_path: Path) -> None:
    async with api(loaded, tmp_path / "ev", Clock(T1)) as (_, client):
        r = await client.get("/communities/demo/declared.html", params={"tier": "growth"})
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/html")
        html = r.text
        assert "演示社区（demo）· 山东省智慧社区建设指标（成长型）" in html
        assert len(re.findall(r'<section class="row panel"', html)) == 17  # declared rows
        fibre = section(html, "growth-01")
        assert "尚未填报" in fibre
        assert ('<form class="declared" method="post" '
                'action="/communities/demo/declared/growth-01" '
                'enctype="multipart/form-data">') in fibre
        assert 'name="fibre_households" type="number"' in fibre
        assert 'name="evidence" type="file" multiple' in fibre
        assert '<select id="growth-08-data_aggregation" name="data_aggregation" required>' \
            in section(html, "growth-08")
        assert 'id="growth-05"' not in html  # measured rows have no form

        r = await client.post("/communities/demo/declared/growth-01",
                              data={"fibre_households": "3790", "total_households": "3790",
                                    "text": "运营商证明"},
                              files=[("evidence", ("证明.pdf", PDF, "application/pdf")),
                                     ("evidence", ("", b"", "application/octet-stream"))])
        assert r.status_code == 303, r.text
        assert r.headers["location"] == (
            "/communities/demo/declared.html?tier=growth&saved=growth-01#growth-01")
        page = (await client.get(r.headers["location"])).text
        fibre = section(page, "growth-01")
        assert "已保存：growth-01" in page
        assert "<dt>具备千兆接入能力的家庭数</dt><dd>3790 户</dd>" in fibre
        assert "<dt>比率</dt><dd>100.0%（要求 ≥ 80%）</dd>" in fibre
        assert f'<a href="/api/evidence/{PDF_SHA}">证明.pdf</a>' in fibre
        assert "填报人 王芳 · 2026-11-23 17:30:00" in fibre   # Beijing time
        assert ">共 1 次填报（历史）</a>" in fibre
        # The form starts from the latest values and keeps the evidence unless unticked.
        assert 'name="fibre_households" type="number" value="3790"' in fibre
        assert f'name="evidence_sha256" value="{PDF_SHA}" checked' in fibre


async def test_a_refused_form_shows_the_reasons_at_its_row_and_keeps_what_was_typed(
        loaded: str, tmp_path: Path) -> None:
    async with api(loaded, tmp_path / "ev", Clock(T1)) as (_, client):
        r = await client.post("/communities/demo/declared/growth-01",
                              data={"fibre_households": "4000", "total_households": "3790",
                                    "text": "核对中"})
        assert r.status_code == 422
        fibre = section(r.text, "growth-01")
        assert "<details open>" in fibre
        assert ("<li>“具备千兆接入能力的家庭数” = 4000，超过“社区家庭总数” = 3790：部分不能"
                "大于总数</li>") in fibre
        assert "<li>本行须附证明材料：请至少上传一个文件" in fibre
        assert 'name="fibre_households" type="number" value="4000"' in fibre
        assert ">核对中</textarea>" in fibre
        assert "填报人：王芳" in fibre   # who enters it: the signed-in user
        assert "尚未填报" in fibre
        assert "<li>" not in section(r.text, "growth-02")
        r = await client.post("/communities/demo/declared/growth-05",
                              data={"text": "x"})
        assert r.status_code == 422
        assert "“智能照明设施”由设备实测，不能申报" in r.text
        r = await client.post("/communities/demo/declared/growth-77", data={"text": "x"})
        assert r.status_code == 404
        assert "“growth-77”不在成长型指标表中" in r.text
        r = await client.get("/communities/demo/declared.html", params={"tier": "gold"})
        assert r.status_code == 422
