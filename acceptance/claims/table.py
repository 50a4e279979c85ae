"""Reading published acceptance tables out of plain text: the six columns 一级指标 / 序号 /
二级指标 / 指标释义 / 标准要求 / 本社区完成情况, in either of the two layouts county web pages
copy into text — one row per line with tab-separated cells (cells split across page breaks
continue on a row with an empty 序号), or one cell per line, each cell starting with a tab
and running over the untabbed lines after it.

The community is the nearest preceding line outside a table that names a 社区 (the heading
`后陈庄社区建设验收结果公示`, or the announcement `经…偕园（东阳城）社区申请`); the tier is the
nearest preceding 基础型 / 成长型 / 标杆型.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final

HEADER: Final = ("一级指标", "序号", "二级指标", "指标释义", "标准要求", "本社区完成情况")
TIER_WORDS: Final = {"基础型": "basic", "成长型": "growth", "标杆型": "benchmark"}
TIER_NAMES: Final = {v: k for k, v in TIER_WORDS.items()}

#: Lines that end a table: the publication's footer (公示期, 如有异议, 联系…), a Markdown
#: heading, or another announcement heading.
_FOOTER: Final = re.compile(r"^\s*(?:#|公示期|如有异议|联系单位|联系人|联系电话|附件|特此公示)")
_TIER: Final = re.compile("|".join(TIER_WORDS))
#: A community named in running text: CJK letters, digits and brackets ending in 社区.
_COMMUNITY: Final = re.compile(r"[\u4e00-\u9fff0-9A-Za-z（）()·]{1,30}?社区")
_ADMIN_PREFIX: Final = re.compile(r"^.*?(?:街道办事处|街道|镇|乡)(?=.{2,}社区$)")
_NOT_A_NAME: Final = ("智慧社区", "本社区", "该社区", "各社区", "全社区", "试点社区", "示范社区")
_TAG_BREAK: Final = re.compile(r"<\s*(?:br\s*/?|/p|/li|/div|/tr)\s*>", re.IGNORECASE)
_TAG: Final = re.compile(r"<[^>]*>")
_NUMBER: Final = re.compile(r"[0-9]{1,4}")
#: A paragraph the page break closed and reopened: joined without a line break.
_OPEN_END: Final = re.compile(r"\s*</p>\s*$", re.IGNORECASE)
_OPEN_START: Final = re.compile(r"^\s*<p>", re.IGNORECASE)


class TableError(ValueError):
    """No table could be read; the message says what a table must start with."""


@dataclass(frozen=True, slots=True)
class PublishedRow:
    """One row as published, markup removed; `line` is where it starts (1-based)."""

    number: int
    group: str
    name: str
    definition: str
    requirement: str
    claim: str
    line: int


@dataclass(frozen=True, slots=True)
class PublishedTable:
    """One table with the community and tier its preceding text names (None: not named)."""

    community: str | None
    tier: str | None
    line: int
    rows: tuple[PublishedRow, ...]
    problems: tuple[str, ...] = ()


def community_named(line: str) -> str | None:
    """The last community a line names (`偕园（东阳城）社区` from `…经王府街道偕园（东阳城）社区
    申请…偕园（东阳城）社区已满足《山东省智慧社区建设指标》…`), None when it names none."""
    found: str | None = None
    for m in _COMMUNITY.finditer(line):
        name = m.group(0).removeprefix("经").removeprefix("由")
        name = _ADMIN_PREFIX.sub("", name)
        if len(name) > 2 and not any(name.endswith(w) for w in _NOT_A_NAME):
            found = name
    return found


def tier_named(line: str) -> str | None:
    m = _TIER.search(line)
    return TIER_WORDS[m.group(0)] if m else None


def clean_cell(text: str) -> str:
    """A cell's text without HTML markup, lines stripped, blank lines dropped."""
    text = html.unescape(_TAG.sub("", _TAG_BREAK.sub("\n", text)))
    lines = (ln.strip() for ln in text.replace("\u3000", " ").splitlines())
    return "\n".join(ln for ln in lines if ln)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.split("\t")]


def _is_row_header(line: str) -> bool:
    return "\t" in line and tuple(c for c in _cells(line) if c) == HEADER


def _cell_header_at(lines: Sequence[str], i: int) -> int | None:
    """The index after a one-cell-per-line header starting at line i, else None."""
    if lines[i].strip() != HEADER[0] or "\t" in lines[i].strip():
        return None
    j, k = i + 1, 1
    while k < len(HEADER):
        if j >= len(lines):
            return None
        if lines[j].strip():
            if lines[j].strip() != HEADER[k]:
                return None
            k += 1
        j += 1
    return j


def read_tables(text: str) -> list[PublishedTable]:
    """Every table in `text`, in order. Lines between tables update the community and tier
    the next table belongs to."""
    lines = text.splitlines()
    tables: list[PublishedTable] = []
    community: str | None = None
    tier: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        after_cells = _cell_header_at(lines, i)
        if _is_row_header(line):
            end, rows, problems = _RowLayout(lines, i).read()
        elif after_cells is not None:
            end, rows, problems = _read_cell_layout(lines, after_cells)
        else:
            community = community_named(line) or community
            tier = tier_named(line) or tier
            i += 1
            continue
        tables.append(PublishedTable(community, tier, i + 1, _fill_groups(rows),
                                     tuple(problems)))
        i = end
    return tables


def _fill_groups(rows: Sequence[PublishedRow]) -> tuple[PublishedRow, ...]:
    """A merged 一级指标 cell is published once, on the group's first row."""
    out: list[PublishedRow] = []
    for row in rows:
        if not row.group and out:
            row = replace(row, group=out[-1].group)
        out.append(row)
    return tuple(out)


def _make_row(cells: Sequence[str], line: int) -> PublishedRow:
    return PublishedRow(number=int(cells[1]), group=re.sub(r"\s+", "", clean_cell(cells[0])),
                        name=re.sub(r"\s+", "", clean_cell(cells[2])),
                        definition=clean_cell(cells[3]), requirement=clean_cell(cells[4]),
                        claim=clean_cell(cells[5]), line=line)


class _RowLayout:
    """One row per line, cells separated by tabs. A row whose 序号 is empty continues the
    row before it (a page break split its cells: `推动` + `政务服务办理向社区延伸`); a line
    with fewer cells than the header continues on the next line (a cell holding a line
    break); an untabbed line right after a row continues its last cell."""

    def __init__(self, lines: Sequence[str], header: int) -> None:
        self.lines = lines
        self.offset = _cells(lines[header]).index(HEADER[0])
        self.width = self.offset + len(HEADER)
        self.i = header + 1
        self.start = self.i
        self.rows: list[list[str]] = []
        self.starts: list[int] = []
        self.problems: list[str] = []

    def read(self) -> tuple[int, list[PublishedRow], list[str]]:
        pending: list[str] = []
        gap = False
        while self.i < len(self.lines):
            line = self.lines[self.i]
            if not line.strip():
                gap = True
            elif _is_row_header(line):
                gap = False
            elif "\t" in line:
                parts = line.split("\t")
                if pending and len(pending) < self.width:
                    pending[-1] += "\n" + parts[0]
                    pending.extend(parts[1:])
                else:
                    pending = parts
                    self.start = self.i
                if len(pending) >= self.width:
                    self._physical_row(pending[self.offset:self.width])
                gap = False
            elif gap or _FOOTER.match(line) or not self.rows:
                break
            elif pending and len(pending) < self.width:
                pending[-1] += "\n" + line
            else:
                self.rows[-1][5] += "\n" + line
            self.i += 1
        if pending and len(pending) < self.width:
            self.problems.append(f"line {self.start + 1}: the row has {len(pending) - self.offset}"
                                 f" of {len(HEADER)} cells; it was skipped")
        out = [_make_row(cells, start + 1) for cells, start in zip(self.rows, self.starts,
                                                                     strict=True)]
        return self.i, out, self.problems

    def _physical_row(self, cells: list[str]) -> None:
        number = cells[1].strip()
        if _NUMBER.fullmatch(number):
            self.rows.append([c.strip() for c in cells])
            self.starts.append(self.start)
        elif not number and self.rows:
            # A page break split the row: its cells continue where they stopped.
            row = self.rows[-1]
            for k, extra in enumerate(cells):
                if extra.strip():
                    row[k] = _OPEN_END.sub("", row[k]) + _OPEN_START.sub("", extra.strip())
        else:
            self.problems.append(f"line {self.start + 1}: 序号 {number!r} is not a number; "
                                 "the line was skipped")


def _read_cell_layout(lines: Sequence[str], start: int
                      ) -> tuple[int, list[PublishedRow], list[str]]:
    """One cell per line: a line starting with a tab starts a cell, the lines after it
    (blank lines too) belong to that cell; six cells make a row."""
    cells: list[str] = []
    starts: list[int] = []
    i = start
    while i < len(lines):
        line = lines[i]
        if line.startswith("\t"):
            if _cell_header_at(lines, i) is not None:
                break
            cells.append(line[1:])
            starts.append(i)
        elif _FOOTER.match(line):
            break
        elif cells:
            cells[-1] += "\n" + line
        elif line.strip():
            break
        i += 1
    rows: list[PublishedRow] = []
    problems: list[str] = []
    width = len(HEADER)
    for k in range(0, len(cells) - width + 1, width):
        group = cells[k:k + width]
        if not _NUMBER.fullmatch(group[1].strip()):
            problems.append(f"line {starts[k + 1] + 1}: 序号 {group[1].strip()!r} is not a "
                            "number; the table could not be read past it")
            break
        rows.append(_make_row(group, starts[k] + 1))
    else:
        if len(cells) % width:
            problems.append(f"line {starts[-(len(cells) % width)] + 1}: the last row has "
                            f"{len(cells) % width} of {width} cells")
    return i, rows, problems
