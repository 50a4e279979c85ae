"""The claims check over published text: read every table, run every rule on every row,
and collect the flags per table. Pure (no database): the API, the console and
`scg claims check` call `check_claims`; `measured.check_claims_measured` adds the
devices."""

from __future__ import annotations

from acceptance.claims.figures import read_figures, verdict_of
from acceptance.claims.model import ClaimsReport, Flag, TableClaims
from acceptance.claims.requirement import catalogue_row, formula, targets_of
from acceptance.claims.row import RowClaim
from acceptance.claims.rules import RULES
from acceptance.claims.table import HEADER, PublishedRow, PublishedTable, read_tables

HEADER_WORDS = " / ".join(HEADER)


class ClaimsError(ValueError):
    """The text holds no table to check; the message says what a table starts with."""


def row_claim(row: PublishedRow, tier: str | None) -> RowClaim:
    """What the rules read of one published row (the tier's catalogue row, when it is the
    same row, fills in requirement figures and the rate formula the text leaves out)."""
    catalogue = catalogue_row(tier, row.number, row.name)
    found = formula(row.definition) or (formula(catalogue.definition) if catalogue else None)
    return RowClaim(row=row, claim=read_figures(row.claim), verdict=verdict_of(row.claim),
                    targets=targets_of(row.requirement, catalogue), formula=found,
                    catalogue=catalogue)


def check_row(row: PublishedRow, tier: str | None) -> list[Flag]:
    rc = row_claim(row, tier)
    return [flag for rule in RULES for flag in rule.check(rc)]


def check_table(table: PublishedTable) -> TableClaims:
    flags = [flag for row in table.rows for flag in check_row(row, table.tier)]
    notes: list[str] = []
    if table.tier is None:
        notes.append("表前文字未写明星级（基础型/成长型/标杆型）：标准要求只按公示原文读取，"
                     "不能与设备实测比对")
    elif table.rows:
        unknown = [r.number for r in table.rows
                   if catalogue_row(table.tier, r.number, r.name) is None]
        if unknown:
            notes.append(f"第{'、'.join(map(str, unknown))}行的序号与二级指标和本系统的指标表"
                         "不一致：这些行只按公示原文检查")
    return TableClaims(community=table.community, tier=table.tier, line=table.line,
                       rows=len(table.rows), flags=tuple(flags), problems=table.problems,
                       notes=tuple(notes))


def no_table(source: str, found: list[PublishedTable] | None = None) -> ClaimsError:
    """The error for text without a readable table; `found` are header rows with no row
    read after them, whose problems are named."""
    problems = [p for t in found or () for p in t.problems]
    return ClaimsError(
        f"no acceptance table found{f' in {source}' if source else ''}: a table starts "
        f"at its header row {HEADER_WORDS} (the six column names on one line separated "
        "by tabs, or each on its own line starting with a tab), followed by rows whose "
        "序号 is a number" + (f"; {'; '.join(problems)}" if problems else ""))


def check_claims(text: str, source: str = "") -> ClaimsReport:
    """Every published table in `text` with the claims that do not add up.

    ClaimsError when `text` holds no table (a table starts at its header row
    一级指标 / 序号 / 二级指标 / 指标释义 / 标准要求 / 本社区完成情况).
    """
    found = read_tables(text)
    tables = [t for t in found if t.rows]
    if not tables:
        raise no_table(source, found)
    return ClaimsReport(source=source, tables=tuple(check_table(t) for t in tables))
