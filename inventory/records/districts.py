"""The GB/T 2260 district-code table shipped as data (`gb2260_shandong.csv`), looked up by code.

The table is facts, not logic: update the CSV when the Ministry of Civil Affairs publishes a
new edition. Abolished codes are kept so that a camera coded before a reform is told what
replaced its district instead of just "unknown".
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final, Literal, cast

DEFAULT_PATH: Final = Path(__file__).with_name("gb2260_shandong.csv")

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
    """Districts by 6-digit code. `source` names the file, for messages."""

    def __init__(self, districts: Iterable[District], source: str = "<districts>") -> None:
        self._by_code = {d.code: d for d in districts}
        self.source = source

    def get(self, code: str) -> District | None:
        return self._by_code.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[District]:
        return iter(sorted(self._by_code.values(), key=lambda d: d.code))

    def label(self, code: str) -> str:
        """`370102 (历下区)`, or the bare code when it is not in the table."""
        d = self._by_code.get(code)
        return f"{code} ({d.name})" if d else code

    def why_unusable(self, code: str) -> str | None:
        """None for a current code; otherwise why it cannot be used, with the fix if known:
        `379999 is not a GB/T 2260 district code (…)`, `370181 (章丘市) was abolished …`."""
        d = self._by_code.get(code)
        if d is None:
            return f"{code} is not a GB/T 2260 district code (table {Path(self.source).name})"
        if d.abolished is None:
            return None
        now = f"; now {self.label(d.successor)}" if d.successor else ""
        return f"{code} ({d.name}) was abolished in {d.abolished}{now}"

    def unusable_suffix(self, code: str) -> str | None:
        """The same as a phrase to put after the code: `, not a GB/T 2260 …` or
        ` (章丘市), abolished in 2016; now …`."""
        why = self.why_unusable(code)
        if why is None:
            return None
        return why.removeprefix(code).replace(" is not", ", not", 1).replace(
            " was abolished", ", abolished", 1)


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
    """The shipped table (read once)."""
    return load_districts()
