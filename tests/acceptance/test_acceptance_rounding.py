"""One figure per ratio: for any numerator and denominator, the API's value, the report
sentence, the JSON row, the CSV cell and the XLSX cell show the same truncated figure, and
the exact numerator and denominator travel with it."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from acceptance.catalogue import load_catalogue
from acceptance.export import COLUMNS, to_csv
from acceptance.report import assemble
from acceptance.xlsx import HEADER_ROW, to_xlsx
from indicators.model import IndicatorResult, Thresholds, Window

AS_OF = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
GROWTH = load_catalogue("growth")
LIGHTING_ROW = 4                      # growth-05, the 5th row
_SENTENCE = re.compile(r"智能照明设施安装率(?:达到|为)(-?[0-9.]+)%")
_CELL = re.compile(r"^(-?[0-9.]+)%（([0-9]+)/([0-9]+)）$")


def lighting(numerator: int, denominator: int) -> IndicatorResult:
    return IndicatorResult(
        id="smart_lighting_rate", numerator=numerator, denominator=denominator,
        as_of=AS_OF, window=Window.ending(AS_OF, timedelta(hours=24)),
        thresholds=Thresholds(None, 80.0))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=200_000).flatmap(
    lambda d: st.tuples(st.integers(min_value=0, max_value=d), st.just(d))))
@example((5, 13))          # 38.46 %: 38.4, never 38.5
@example((817, 1000))      # 81.7 exactly
@example((8166, 10000))    # 81.66 %: 81.6 everywhere, never 81.7
@example((3999, 5000))     # 79.98 %: reads 79.9, below the 80 % it misses
@example((1, 6))           # 16.66 %: 16.6
def test_every_format_shows_the_same_figure(parts: tuple[int, int]) -> None:
    numerator, denominator = parts
    result = lighting(numerator, denominator)
    report = assemble(GROWTH, [result], {}, {}, community="x", community_name="某社区",
                      as_of=AS_OF, live=True, generated_at=AS_OF)
    api = result.to_dict()["value"]
    row = report.to_dict()["rows"][LIGHTING_ROW]
    sentence = _SENTENCE.search(row["text"])
    assert sentence is not None, row["text"]
    lines = list(csv.reader(io.StringIO(to_csv(report).decode("utf-8-sig"))))
    csv_cell = lines[1 + LIGHTING_ROW][COLUMNS.index("测量值")]
    sheet = load_workbook(io.BytesIO(to_xlsx(report)))["验收表"]
    xlsx_cell = sheet.cell(row=HEADER_ROW + 1 + LIGHTING_ROW,
                           column=COLUMNS.index("测量值") + 1).value
    figures = {Decimal(str(api)), Decimal(str(row["indicators"][0]["value"])),
               Decimal(sentence.group(1))}
    for cell in (csv_cell, xlsx_cell):
        m = _CELL.match(str(cell))
        assert m is not None, cell
        figures.add(Decimal(m.group(1)))
        assert (int(m.group(2)), int(m.group(3))) == (numerator, denominator)
    assert len(figures) == 1, (parts, figures, row["text"], csv_cell, xlsx_cell)
    shown = figures.pop()
    # Truncated to one decimal: never above the exact rate, less than 0.1 below it.
    exact = Fraction(100 * numerator, denominator)
    assert Fraction(shown) <= exact < Fraction(shown) + Fraction(1, 10)
    # The exact figures are in the JSON too.
    indicator = json.loads(json.dumps(row))["indicators"][0]
    assert (indicator["numerator"], indicator["denominator"]) == (numerator, denominator)
    assert (indicator["status"] == "pass") == (numerator * 100 >= 80 * denominator)
