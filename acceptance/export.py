"""The report as files: HTML in the published table layout (prints to A4), CSV (UTF-8
with BOM so spreadsheet programs read the Chinese), XLSX (`acceptance.xlsx`), PDF
(`acceptance.pdf`, printed by chromium) and JSON.

Every format writes a rate the same way (`indicators.model.percent_text`: truncated to
one decimal) next to its exact numerator and denominator, and every time in Beijing time.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, Final

import jinja2
from markupsafe import Markup, escape

from acceptance.judge import MeasureOutcome
from acceptance.names import local_time
from acceptance.phrasing import INDICATOR_NAMES, SOURCE_WORDS, VERDICT_WORDS
from acceptance.report import OVERALL_WORDS, AcceptanceReport
from acceptance.report_row import RowReport
from acceptance.security_texts import CHECK_NAMES
from acceptance.texts import value_text

TEMPLATES: Final = Path(__file__).with_name("templates")
FORMATS: Final = ("html", "csv", "xlsx", "json", "pdf")
MEDIA_TYPES: Final = {
    "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json", "pdf": "application/pdf"}
COLUMNS: Final = ("一级指标", "序号", "二级指标", "指标释义", "标准要求", "本社区完成情况",
                  "判定", "测量值", "类型", "指标/申报项", "数据来源", "状态未知时", "备注")


def _lines(text: str) -> Markup:
    return Markup("<br>").join(escape(line) for line in str(text).splitlines())


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                             autoescape=jinja2.select_autoescape(["html"]),
                             undefined=jinja2.StrictUndefined)
    env.filters["lines"] = _lines
    return env


def _rest(row: RowReport) -> str:
    """The completion text after its verdict word (the page shows the word as a badge)."""
    word = row.verdict_word
    return row.text[len(word):] if row.text.startswith(word) else row.text


def group_spans(report: AcceptanceReport) -> list[int]:
    """The number of rows of each group at the row that starts it, 0 elsewhere."""
    spans = [0] * len(report.rows)
    start = 0
    for i in range(1, len(report.rows) + 1):
        if i == len(report.rows) or report.rows[i].row.group != report.rows[start].row.group:
            spans[start] = i - start
            start = i
    return spans


def when(report: AcceptanceReport, which: str) -> str:
    t = report.as_of if which == "as_of" else report.generated_at
    return local_time(t) + "（北京时间）"


def _entered_on(row: RowReport) -> str:
    entered = (row.entry or {}).get("entered_at", "")
    try:
        return local_time(datetime.fromisoformat(str(entered)), "%Y-%m-%d")
    except ValueError:
        return str(entered)[:10]


def _item_names(report: AcceptanceReport) -> Callable[[str, Sequence[str]], list[str]]:
    def names(indicator: str, items: Sequence[str]) -> list[str]:
        name = report.names.namer(indicator)
        return [name(i) for i in items]
    return names


def render_html(report: AcceptanceReport, *, paged: bool = False,
                chrome: Markup | None = None) -> str:
    """The report page; `paged` lays it out as printed on A4 and marks the rows that
    start a page (for the PDF). `chrome`: the console's top bar, shown on screen above the
    table (never printed), with the console's style sheet."""
    cat = report.catalogue
    notes = [n for n in report.notes if n != cat.note]
    return _environment().get_template("report.html").render(
        report=report, cat=cat, counts=report.counts,
        overall_word=OVERALL_WORDS[report.verdict],
        overall_if_online=OVERALL_WORDS[report.verdict_if_online],
        changes=report.changes_if_online, verdict_words=VERDICT_WORDS,
        source_words=SOURCE_WORDS,
        indicator_names=INDICATOR_NAMES, item_names=_item_names(report),
        spans=group_spans(report), rest=_rest, entered_on=_entered_on, remarks=remarks,
        other_notes=notes,
        as_of=when(report, "as_of"), generated=when(report, "generated"), paged=paged,
        chrome=chrome)


def _sources(row: RowReport) -> str:
    parts = [f.words() for f in row.figures]
    if row.entry:
        parts.append(f"申报人{row.entry['entered_by']}（{_entered_on(row)}），"
                     f"证明材料{len(row.entry['evidence'])}份")
    return "；".join(parts)


def _unknown(row: RowReport) -> str:
    if not row.unknown:
        return ""
    listed = "；".join(f"{INDICATOR_NAMES.get(ind, ind)}状态未知{len(items)}项"
                      for ind, items in row.unknown.items())
    listed = f"{row.unknown_words}：{listed}"
    if row.changes_if_online and row.verdict_if_online is not None:
        listed += f"；若在线可能为{VERDICT_WORDS[row.verdict_if_online]}"
    return listed


def remarks(row: RowReport) -> str:
    """The row's notes as the HTML report prints them under its text."""
    out = "".join(f"{note}。" for note in row.notes)
    if row.ignored_declaration:
        out += (f"本行由{SOURCE_WORDS[row.row.kind]}判定，已忽略对本行的申报"
                f"（{row.ignored_declaration['entered_by']}）。")
    return out


def figure_cell(row: RowReport) -> str:
    """The row's rates as every format writes them: `27.9%（279/1000）`, each measure
    named when there are several; a declared rate from its declared parts."""
    if row.row.kind == "measured":
        shown = [(INDICATOR_NAMES.get(m.indicator, m.indicator), value_text(m))
                 for m in row.measures]
        if len(shown) == 1:
            return shown[0][1]
        return "；".join(f"{name} {text}" for name, text in shown)
    ratio, entry = row.row.ratio, row.entry
    if ratio is None or not entry:
        return ""
    num, den = entry["values"].get(ratio.numerator), entry["values"].get(ratio.denominator)
    if not isinstance(num, int | float) or not isinstance(den, int | float) or den <= 0:
        return ""
    return value_text(MeasureOutcome("", "", ratio.threshold_pct, num, den, "pass"))


def _what(row: RowReport) -> str:
    """What the row is judged on: its indicators, its checks, or its declared values."""
    if row.row.kind == "measured":
        return "、".join(f"{INDICATOR_NAMES.get(i, i)}（{i}）" for i in row.row.indicators)
    if row.row.kind == "system":
        return "、".join(f"{CHECK_NAMES.get(c, c)}（{c}）" for c in row.row.checks)
    return "、".join(f.label for f in row.row.fields)


def table_rows(report: AcceptanceReport) -> list[list[Any]]:
    """The report's rows in COLUMNS order (the group on every row, for sorting); 序号 is
    a number, the DB37 code goes with the 二级指标."""
    out: list[list[Any]] = []
    for r in report.rows:
        name = f"{r.row.code} {r.row.name}" if r.row.code else r.row.name
        out.append([r.row.group, r.row.number, name, r.row.definition, r.row.requirement,
                    r.text, r.verdict_word, figure_cell(r), SOURCE_WORDS[r.row.kind],
                    _what(r), _sources(r), _unknown(r), remarks(r)])
    return out


def summary(report: AcceptanceReport) -> list[tuple[str, Any]]:
    counts = report.counts
    lines: list[tuple[str, Any]] = [
        ("指标表", report.catalogue.title), ("社区", report.community_name),
        ("数据时间", when(report, "as_of")), ("生成时间", when(report, "generated")),
        ("总体判定", OVERALL_WORDS[report.verdict]),
        ("达标/未达标/无数据/未判定", f"{counts['pass']}/{counts['fail']}/"
                                     f"{counts['no_data']}/{counts['not_judged']}")]
    if report.county:
        lines.append(("县（市、区）", report.county))
    if report.score is not None:
        lines.append(("得分（满分100）", report.score))
    if report.changes_if_online:
        lines.append(("状态未知设备在线时可能改变的项",
                      "、".join(f"{r.row.number}.{r.row.name}" for r in report.changes_if_online)))
    if report.catalogue.provisional:
        lines.append(("说明", report.catalogue.note or "暂定指标表"))
    lines += [("说明", note) for note in report.notes if note != report.catalogue.note]
    return lines


def to_csv(report: AcceptanceReport) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(table_rows(report))
    writer.writerow([])   # the summary follows the table, so the table starts at line 1
    for key, value in summary(report):
        writer.writerow([key, value])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_json(report: AcceptanceReport) -> bytes:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")


def export(report: AcceptanceReport, fmt: str) -> bytes:
    """The report in `fmt` (html | csv | xlsx | json | pdf) as bytes. PDF runs chromium
    (`acceptance.pdf`): call it off the event loop."""
    if fmt == "html":
        return render_html(report).encode("utf-8")
    if fmt == "csv":
        return to_csv(report)
    if fmt == "xlsx":
        from acceptance.xlsx import to_xlsx
        return to_xlsx(report)
    if fmt == "json":
        return to_json(report)
    if fmt == "pdf":
        from acceptance.pdf import to_pdf
        return to_pdf(report)
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
