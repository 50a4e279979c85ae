"""The claims report as text for a terminal or a letter: per table (community and tier),
each flag with its row's 序号 and 二级指标, the quoted claim, what is wrong and the
arithmetic."""

from __future__ import annotations

from acceptance.claims.model import ClaimsReport, Flag, TableClaims


def _flag_lines(flag: Flag) -> list[str]:
    lines = [f"  第{flag.row}行 {flag.name} [{flag.kind}] {flag.kind_word}",
             f"    原文：“{flag.claim}”",
             f"    问题：{flag.problem}"]
    if flag.arithmetic:
        lines.append(f"    算式：{flag.arithmetic}")
    if flag.measured is not None:
        lines.append(f"    实测：{' '.join(flag.measured.split())}")
    return lines


def _table_lines(table: TableClaims) -> list[str]:
    found = f"{len(table.flags)}处存疑" if table.flags else "未发现问题"
    compared = f"，已与设备台账社区 {table.community_id} 的实测比对" if table.community_id else ""
    lines = [f"{table.title}，第{table.line}行起，共{table.rows}行：{found}{compared}"]
    for flag in table.flags:
        lines += _flag_lines(flag)
    lines += [f"  注：{note}" for note in table.notes]
    lines += [f"  读表问题：{problem}" for problem in table.problems]
    return lines


def render_text(report: ClaimsReport) -> str:
    lines: list[str] = []
    for table in report.tables:
        if lines:
            lines.append("")
        lines += _table_lines(table)
    total = len(report.flags)
    lines += ["", f"{report.source + '：' if report.source else ''}{len(report.tables)}张表，"
              f"共{total}处存疑" if total else
              f"{report.source + '：' if report.source else ''}{len(report.tables)}张表，"
              "所有数字相互吻合"]
    return "\n".join(lines) + "\n"
