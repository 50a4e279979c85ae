"""Every refusal a declared-value form can meet reads in Chinese on the console's page:
for every declared row of every tier, the checks are fed what people mistype (nothing,
words for numbers, negatives, too much, a part above its whole, an unknown field, no
evidence, a novel for a note) and each problem they give must match a Chinese shape that
names the field by its label."""

from __future__ import annotations

import re
from typing import Any

import pytest

from acceptance.catalogue import FILES, Row, load_catalogue
from acceptance.declared_check import MAX_TEXT, DeclarationRefused, check_entry
from web.console.declared_words import chinese
from web.declared_entry import NO_BY

#: Words of the English refusals that must not survive into the Chinese page.
ENGLISH = re.compile(r"\b(must|required|below|above|exceeds|evidence|negative|number|"
                     r"whole|field|text|given|file|catalogue)\b")


def declared_rows() -> list[Row]:
    rows: dict[str, Row] = {}
    for tier in FILES:
        for row in load_catalogue(tier).rows:
            if row.kind == "declared":
                rows[row.id] = row
    return list(rows.values())


def mistakes(row: Row) -> list[dict[str, Any]]:
    """Entries people get wrong, each refused for one or more reasons."""
    out: list[dict[str, Any]] = [{}, {"no_such_field": "1"}]
    for f in row.fields:
        if f.type == "boolean":
            out.append({f.name: "maybe"})
        elif f.type != "text":
            out += [{f.name: "three thousand"}, {f.name: "-5"}, {f.name: "12.5"},
                    {f.name: "1e12"}]
    if row.ratio is not None:
        out += [{row.ratio.numerator: "10", row.ratio.denominator: "0"},
                {row.ratio.numerator: "4000", row.ratio.denominator: "3790"}]
    return out


def problems_of(row: Row, raw: dict[str, Any], *, text: str = "") -> list[str]:
    try:
        check_entry(row, raw, files=0, by="王芳", text=text)
    except DeclarationRefused as exc:
        return list(exc.problems)
    return []


@pytest.mark.parametrize("row", declared_rows(), ids=lambda r: r.id)
def test_every_refusal_of_a_declared_row_reads_in_chinese(row: Row) -> None:
    seen = 0
    for raw in mistakes(row):
        for problem in problems_of(row, raw, text="说" * (MAX_TEXT + 1)):
            said = chinese(problem, row)
            assert said != problem and not ENGLISH.search(said), (problem, said)
            seen += 1
    assert seen >= 3


def test_the_chinese_names_fields_by_their_labels() -> None:
    [fibre] = [r for r in declared_rows() if r.id == "growth-01"]
    said = [chinese(p, fibre) for p in problems_of(
        fibre, {"fibre_households": "4000", "total_households": "3790"})]
    assert said == [
        "“具备千兆接入能力的家庭数” = 4000，超过“社区家庭总数” = 3790：部分不能大于总数",
        "本行须附证明材料：请至少上传一个文件，如运营商出具的覆盖证明或签字的书面说明"]


@pytest.mark.parametrize(("problem", "words"), [
    ("'fibre_households' is a file; only `evidence` takes files",
     "“具备千兆接入能力的家庭数”不能上传文件：文件请放在“证明材料”中"),
    ("'fibre_households' is given twice with different values: '1' and '2'; send it once",
     "“具备千兆接入能力的家庭数”填写了两个不同的值：请只填一个"),
    ("`evidence` must be a file upload, not text", "“证明材料”须为上传的文件"),
    (NO_BY, "填报人不需填写：记录以当前登录的用户署名"),
    ("evidence file 'x.pdf' is larger than 20971520 bytes; scan it smaller",
     "证明材料“x.pdf”超过 20 MiB 的上限：请上传较小的扫描件，或拆分为几个文件"),
])
def test_the_form_s_own_refusals_read_in_chinese(problem: str, words: str) -> None:
    [fibre] = [r for r in declared_rows() if r.id == "growth-01"]
    assert chinese(problem, fibre) == words
