"""The report as files: HTML in the published table layout (prints to A4), CSV (UTF-8
with BOM so spreadsheet programs read the Chinese), XLSX (openpyxl) and JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import Any, Final

import jinja2
from markupsafe import Markup, escape

from acceptance.phrasing import SOURCE_WORDS, VERDICT_WORDS
from acceptance.report import OVERALL_WORDS, AcceptanceReport, RowReport

TEMPLATES: Final = Path(__file__).with_name("templates")
FORMATS: Final = ("html", "csv", "xlsx", "json")
MEDIA_TYPES: Final = {
    "html": "text/html; charset=utf-8", "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json"}
COLUMNS: Final = ("一级指标", "序号", "二级指标", "指标释义", "标准要求", "本社区完成情况",
                  "判定", "类型", "指标/申报项", "数据来源", "状态未知时")


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


def _group_spans(report: AcceptanceReport) -> list[int]:
    """The number of rows of each group at the row that starts it, 0 elsewhere."""
    spans = [0] * len(report.rows)
    start = 0
    for i in range(1, len(report.rows) + 1):
        if i == len(report.rows) or report.rows[i].row.group != report.rows[start].row.group:
            spans[start] = i - start
            start = i
    return spans


def _when(report: AcceptanceReport, which: str) -> str:
    t = report.as_of if which == "as_of" else report.generated_at
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def render_html(report: AcceptanceReport) -> str:
    cat = report.catalogue
    notes = [n for n in report.notes if n != cat.note]
    return _environment().get_template("report.html").render(
        report=report, cat=cat, counts=report.counts,
        overall_word=OVERALL_WORDS[report.verdict],
        overall_if_online=OVERALL_WORDS[report.verdict_if_online],
        changes=report.changes_if_online, verdict_words=VERDICT_WORDS,
        spans=_group_spans(report), rest=_rest, other_notes=notes,
        as_of=_when(report, "as_of"), generated=_when(report, "generated"))


def _sources(row: RowReport) -> str:
    parts = [f.words() for f in row.figures]
    if row.entry:
        parts.append(f"申报人{row.entry['entered_by']}（{str(row.entry['entered_at'])[:10]}），"
                     f"证明材料{len(row.entry['evidence'])}份")
    return "；".join(parts)


def _unknown(row: RowReport) -> str:
    if not row.unknown:
        return ""
    listed = "；".join(f"{ind}状态未知{len(items)}项" for ind, items in row.unknown.items())
    if row.changes_if_online and row.verdict_if_online is not None:
        listed += f"；若在线可能为{VERDICT_WORDS[row.verdict_if_online]}"
    return listed


def table_rows(report: AcceptanceReport) -> list[list[Any]]:
    """The report's rows in COLUMNS order (the group on every row, for sorting)."""
    out: list[list[Any]] = []
    for r in report.rows:
        what = ", ".join(r.row.indicators) if r.row.kind == "measured" else ", ".join(
            f.name for f in r.row.fields)
        out.append([r.row.group, r.row.code or r.row.number, r.row.name, r.row.definition,
                    r.row.requirement, r.text, r.verdict_word,
                    SOURCE_WORDS["measured"] if r.row.kind == "measured" else
                    SOURCE_WORDS["declared"], what, _sources(r), _unknown(r)])
    return out


def _summary(report: AcceptanceReport) -> list[tuple[str, Any]]:
    counts = report.counts
    lines: list[tuple[str, Any]] = [
        ("指标表", report.catalogue.title),
        ("社区", f"{report.community_name}（{report.community}）"),
        ("数据时间", _when(report, "as_of")), ("生成时间", _when(report, "generated")),
        ("总体判定", OVERALL_WORDS[report.verdict]),
        ("达标/未达标/无数据", f"{counts['pass']}/{counts['fail']}/{counts['no_data']}")]
    if report.score is not None:
        lines.append(("得分（满分100）", report.score))
    if report.changes_if_online:
        lines.append(("状态未知设备在线时可能改变的项",
                      "、".join(f"{r.row.number}.{r.row.name}" for r in report.changes_if_online)))
    if report.catalogue.provisional:
        lines.append(("说明", report.catalogue.note or "暂定指标表"))
    return lines


def to_csv(report: AcceptanceReport) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(table_rows(report))
    writer.writerow([])   # the summary follows the table, so the table starts at line 1
    for key, value in _summary(report):
        writer.writerow([key, value])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(report: AcceptanceReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    book = Workbook()
    sheet = book.active
    sheet.title = "验收表"
    sheet.append(list(COLUMNS))
    for row in table_rows(report):
        sheet.append(row)
    widths = (10, 7, 14, 36, 40, 60, 8, 9, 26, 40, 24)
    for i, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    wrap = Alignment(wrap_text=True, vertical="top")
    fills = {"达标": "DDF2E2", "未达标": "F9D9D6", "无数据": "FFF1CC"}
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = wrap
        verdict = cells[6]
        if verdict.value in fills:
            verdict.fill = PatternFill("solid", fgColor=fills[str(verdict.value)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8ECF2")
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    summary = book.create_sheet("汇总")
    for key, value in _summary(report):
        summary.append([key, value])
    summary.column_dimensions["A"].width = 30
    summary.column_dimensions["B"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_json(report: AcceptanceReport) -> bytes:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2).encode("utf-8")


def export(report: AcceptanceReport, fmt: str) -> bytes:
    """The report in `fmt` (html | csv | xlsx | json) as bytes."""
    if fmt == "html":
        return render_html(report).encode("utf-8")
    if fmt == "csv":
        return to_csv(report)
    if fmt == "xlsx":
        return to_xlsx(report)
    if fmt == "json":
        return to_json(report)
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")
