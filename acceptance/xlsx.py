"""The report as an XLSX workbook (openpyxl) laid out like the published table: a title row,
the data time and verdict, the header, then the rows with 一级指标 merged over its group
and 序号 as a number; a second sheet sums up."""

from __future__ import annotations

import io
from typing import Final

from acceptance.export import COLUMNS, group_spans, summary, table_rows, when
from acceptance.report import OVERALL_WORDS, AcceptanceReport

#: Column widths in characters, in COLUMNS order.
WIDTHS: Final = (10, 6, 14, 36, 40, 60, 8, 16, 9, 26, 40, 24, 40)
VERDICT_FILLS: Final = {"达标": "DDF2E2", "未达标": "F9D9D6", "无数据": "FFF1CC",
                        "未判定": "E6E6E6"}
#: Rows above the table: title, data time and verdict, header.
HEADER_ROW: Final = 3


def to_xlsx(report: AcceptanceReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = "验收表"
    last = get_column_letter(len(COLUMNS))
    sheet.append([f"{report.catalogue.title}——{report.community_name}建设验收表"])
    counts = report.counts
    sheet.append([f"数据时间：{when(report, 'as_of')}；总体判定："
                  f"{OVERALL_WORDS[report.verdict]}（达标{counts['pass']}项，未达标"
                  f"{counts['fail']}项，无数据{counts['no_data']}项，未判定"
                  f"{counts['not_judged']}项）"])
    sheet.append(list(COLUMNS))
    for row in table_rows(report):
        sheet.append(row)
    sheet.merge_cells(f"A1:{last}1")
    sheet.merge_cells(f"A2:{last}2")
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center", vertical="center")
    sheet.row_dimensions[1].height = 24
    wrap = Alignment(wrap_text=True, vertical="top")
    for cells in sheet.iter_rows(min_row=HEADER_ROW + 1):
        for cell in cells:
            cell.alignment = wrap
        verdict = cells[COLUMNS.index("判定")]
        if verdict.value in VERDICT_FILLS:
            verdict.fill = PatternFill("solid", fgColor=VERDICT_FILLS[str(verdict.value)])
        number = cells[COLUMNS.index("序号")]
        number.alignment = Alignment(horizontal="center", vertical="top")
    first = HEADER_ROW + 1
    for i, span in enumerate(group_spans(report)):
        if span > 1:
            sheet.merge_cells(start_row=first + i, end_row=first + i + span - 1,
                              start_column=1, end_column=1)
        if span:
            sheet.cell(row=first + i, column=1).alignment = Alignment(
                horizontal="center", vertical="center", wrap_text=True)
            sheet.cell(row=first + i, column=1).font = Font(bold=True)
    for i, width in enumerate(WIDTHS, 1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8ECF2")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape"
    sums = book.create_sheet("汇总")
    for key, value in summary(report):
        sums.append([key, value])
    sums.column_dimensions["A"].width = 30
    sums.column_dimensions["B"].width = 80
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
