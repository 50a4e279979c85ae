"""The GB/T 2260 district-code tables shipped as data, looked up by code: Shandong's
(`gb2260_shandong.csv`) and the rest of China's (`gb2260_other_provinces.csv`).

The tables are facts, not logic: update the CSVs when the Ministry of Civil Affairs
publishes a new edition. Abolished codes are kept so that a camera coded before a reform is
told what replaced its district instead of just "unknown"; the rest of China is there so
that a real district elsewhere (340200, 芜湖市, the district of many platforms' example
code) is told apart from digits that are no district code at all.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final, Literal, cast

DEFAULT_PATH: Final = Path(__file__).with_name("gb2260_shandong.csv")
OTHER_PROVINCES_PATH: Final = Path(__file__).with_name("gb2260_other_provinces.csv")

Level = Literal["province", "prefecture", "county"]
_LEVELS: Final = ("province", "prefecture", "county")
_COLUMNS: Final = ["code", "name", "level", "status", "abolished", "successor"]


class DistrictTableError(ValueError):
    """The district table file is unusable; the message names the file, the line and the fix."""


@dataclass(frozen=True, slots=True)
class District:
    code: str
    name: str
    level: Level
    abolished: int | None = None    # the year the code went out of use; None while current
    successor: str | None = None    # the code that took over, when there is a single one

    @property
    def current(self) -> bool:
        return self.abolished is None


class DistrictTable:
    """Districts by 6-digit code. `source` names the file, for messages; `elsewhere` is the
    table of the rest of the country (codes outside `region`), when known."""

    def __init__(self, districts: Iterable[District], source: str = "<districts>", *,
                 elsewhere: DistrictTable | None = None, region: str = "Shandong") -> None:
        self._by_code = {d.code: d for d in districts}
        self.source = source
        self.elsewhere = elsewhere
        self.region = region
        self._provinces = {d.code[:2] for d in self._by_code.values() if d.level == "province"}

    def get(self, code: str) -> District | None:
        return self._by_code.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[District]:
        return iter(sorted(self._by_code.values(), key=lambda d: d.code))

    def label(self, code: str) -> str:
        """`370102 (历下区)`, `340200 (安徽省芜湖市)` for a district elsewhere, or the bare
        code when no table has it."""
        d = self._by_code.get(code)
        if d is not None:
            return f"{code} ({d.name})"
        if self.elsewhere is not None and code in self.elsewhere:
            return f"{code} ({self.elsewhere.full_name(code)})"
        return code

    def full_name(self, code: str) -> str:
        """The name with its province and prefecture in front: `安徽省芜湖市镜湖区`."""
        d = self._by_code[code]
        parents = [code[:2] + "0000", code[:4] + "00"][: {"province": 0, "prefecture": 1,
                                                           "county": 2}[d.level]]
        names = [self._by_code[p].name for p in parents if p != code and p in self._by_code]
        return "".join(names) + d.name

    def why_unusable(self, code: str) -> str | None:
        """None for a current code of the region; otherwise why it cannot be used, with
        the fix if known: `379999 is not a GB/T 2260 district code (…)`, `340200
        (安徽省芜湖市) is a district outside Shandong`, `370181 (章丘市) was abolished …`."""
        verdict = self._verdict(code)
        return None if verdict is None else f"{verdict[0]} {verdict[1]}"

    def unusable_suffix(self, code: str) -> str | None:
        """The same as a phrase to put after the code: `, not a GB/T 2260 …`,
        ` (安徽省芜湖市), a district outside Shandong` or ` (章丘市), abolished in 2016; now …`."""
        verdict = self._verdict(code)
        return None if verdict is None else f"{verdict[0].removeprefix(code)}, {verdict[2]}"

    def _verdict(self, code: str) -> tuple[str, str, str] | None:
        """(the code as labelled, the predicate as a sentence, the same as a phrase)."""
        d = self._by_code.get(code)
        if d is not None:
            if d.abolished is None:
                return None
            gone = f"abolished in {d.abolished}{self._now(d)}"
            return self.label(code), f"was {gone}", gone
        other = self.elsewhere.get(code) if self.elsewhere is not None else None
        if other is None:
            tables = [self.source] + ([self.elsewhere.source] if self.elsewhere is not None
                                      and code[:2] not in self._provinces else [])
            names = ", ".join(Path(t).name for t in tables)
            what = (f"not a GB/T 2260 district code (table{'s' if len(tables) > 1 else ''} "
                    f"{names})")
            return code, f"is {what}", what
        outside = f"a district outside {self.region}"
        if other.abolished is not None:
            outside += f", abolished in {other.abolished}{self._now(other)}"
        return self.label(code), f"is {outside}", outside

    def _now(self, d: District) -> str:
        return f"; now {self.label(d.successor)}" if d.successor else ""


def load_districts(path: Path = DEFAULT_PATH) -> DistrictTable:
    """Read a district table: CSV with the header `code,name,level,status,abolished,successor`,
    lines starting with `#` are comments. Raises DistrictTableError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DistrictTableError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1)
                if line.strip() and not line.startswith("#")]
    if not numbered or next(csv.reader([numbered[0][1]])) != _COLUMNS:
        raise DistrictTableError(f"{path}: the first non-comment line must be the header "
                                 f"{','.join(_COLUMNS)}")
    out: list[District] = []
    for (n, _), row in zip(numbered[1:], csv.reader(line for _, line in numbered[1:]),
                           strict=True):
        out.append(_district(path, n, row))
    return DistrictTable(out, str(path))


def _district(path: Path, n: int, row: list[str]) -> District:
    where = f"{path}:{n}"
    if len(row) != len(_COLUMNS):
        raise DistrictTableError(f"{where}: expected {len(_COLUMNS)} fields "
                                 f"({','.join(_COLUMNS)}), got {len(row)}")
    code, name, level, status, abolished, successor = (x.strip() for x in row)
    if len(code) != 6 or not code.isdigit():
        raise DistrictTableError(f"{where}: code {code!r} is not 6 digits")
    if not name:
        raise DistrictTableError(f"{where}: code {code} has no name")
    if level not in _LEVELS:
        raise DistrictTableError(f"{where}: level {level!r} is not one of {', '.join(_LEVELS)}")
    if status == "current":
        if abolished or successor:
            raise DistrictTableError(f"{where}: a current code has no abolished year or "
                                     "successor; leave those fields empty")
        return District(code, name, cast(Level, level))
    if status != "abolished" or not abolished.isdigit():
        raise DistrictTableError(f"{where}: status must be 'current', or 'abolished' with the "
                                 f"year in the abolished field; got {status!r}, {abolished!r}")
    if successor and (len(successor) != 6 or not successor.isdigit()):
        raise DistrictTableError(f"{where}: successor {successor!r} is not a 6-digit code")
    return District(code, name, cast(Level, level), int(abolished), successor or None)


@cache
def shandong() -> DistrictTable:
    """The shipped table of Shandong, knowing the rest of China's codes (read once)."""
    table = load_districts()
    table.elsewhere = load_districts(OTHER_PROVINCES_PATH)
    return table
