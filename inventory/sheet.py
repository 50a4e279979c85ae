"""Read a platform's camera sheet (一机一档, CSV or XLSX) into camera rows, each kept with its
line number. A row is refused only when it cannot be used at all (no id and no code, a
number that is not one, a reference to something the community lacks); a non-compliant
record (bad code, factory name) is imported as it is, since compliance is measured later.
"""

from __future__ import annotations

import csv
import math
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from inventory.video import key_position_type, type_choices

#: Our field -> the headers platforms export (compared without case, spaces, _ and -,
#: and without a trailing unit in brackets such as 经度(°)).
HEADERS: Final[dict[str, tuple[str, ...]]] = {
    "id": ("id", "device id", "设备ID", "设备标识"),
    "code": ("code", "设备编码", "国标编码", "国标ID", "国标编号", "设备国标编码", "GB28181编码",
             "编码"),
    "name": ("name", "设备名称", "点位名称", "摄像机名称", "名称"),
    "civil_code": ("civil code", "civil_code", "行政区划", "行政区划代码", "行政区域",
                   "所属行政区划"),
    "longitude": ("longitude", "lon", "lng", "经度"),
    "latitude": ("latitude", "lat", "纬度"),
    "position_type": ("position type", "position_type", "点位类型", "位置类型"),
    "key_position": ("key position", "key_position", "key-position id", "key position id",
                     "重点点位", "重点点位编号", "重点点位ID"),
    "public": ("public", "public flag", "是否公共", "是否公共视频", "公共"),
    "compound": ("compound", "小区", "所属小区"),
}
_TRUE: Final = {"1", "true", "yes", "y", "是", "公共", "公共视频"}
_FALSE: Final = {"0", "false", "no", "n", "否", "非公共", "内部"}
_HEADER_SEARCH: Final = 5  # rows at the top that may hold titles before the header
_UNIT_RE: Final = re.compile(r"[（(][^）)]*[）)]$")


def _norm(header: str) -> str:
    text = _UNIT_RE.sub("", header.strip())
    return re.sub(r"[\s_\-]+", "", text).casefold()


_LOOKUP: Final = {_norm(h): key for key, names in HEADERS.items() for h in names}


class SheetError(ValueError):
    """The whole file is unusable (unreadable, no header, no code or id column)."""


@dataclass(frozen=True, slots=True)
class SheetCamera:
    line: int
    id: str
    code: str | None
    name: str | None
    civil_code: str | None
    longitude: float | None
    latitude: float | None
    key_position: str | None
    public: bool
    compound: str | None
    position_type: str | None = None


@dataclass(slots=True)
class SheetResult:
    cameras: list[SheetCamera] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)


def read_rows(path: Path) -> list[tuple[int, list[Any]]]:
    """Non-empty rows of the first sheet (XLSX) or of the file (CSV), with line numbers."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix in (".csv", ".txt"):
        return _csv_rows(path)
    raise SheetError(f"{path}: unknown sheet type {suffix or '(none)'}; give a .csv or .xlsx "
                     "file (save .xls sheets as .xlsx first)")


def _csv_rows(path: Path) -> list[tuple[int, list[Any]]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SheetError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030", errors="replace")  # Chinese Excel saves CSV as GBK
    first = text.split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count)
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter)
    out = []
    line = 1
    for row in reader:
        if any(cell.strip() for cell in row):
            out.append((line, list(row)))
        line = reader.line_num + 1
    return out


def _xlsx_rows(path: Path) -> list[tuple[int, list[Any]]]:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SheetError(f"{path}: cannot be read as an XLSX workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        return [(n, list(row)) for n, row in enumerate(sheet.iter_rows(min_row=1,
                                                                       values_only=True), 1)
                if any(v is not None and str(v).strip() for v in row)]
    finally:
        book.close()


def parse_sheet(path: Path, compounds: set[str],
                key_positions: dict[str, str]) -> SheetResult:
    """Camera rows of the sheet at `path` for a community with these compound ids and key
    positions (id -> type). Raises SheetError when the file as a whole is unusable."""
    rows = read_rows(path)
    if not rows:
        raise SheetError(f"{path}: has no rows; the first row must be the header "
                         "(设备编码, 设备名称, 行政区划, 经度, 纬度, …)")
    # Exports often put a title row (e.g. 一机一档) above the header: take the first of the
    # top rows that names a code or id column.
    at = next((i for i, (_, row) in enumerate(rows[:_HEADER_SEARCH])
               if {"code", "id"} & {_LOOKUP.get(_norm(str(c))) for c in row if c is not None}),
              0)
    header_line, header = rows[at]
    columns: dict[str, int] = {}
    result = SheetResult()
    for i, cell in enumerate(header):
        name = "" if cell is None else str(cell)
        key = _LOOKUP.get(_norm(name))
        if key is None:
            if name.strip():
                result.warnings.append((header_line, f"column {name.strip()!r} is not used"))
        elif key in columns:
            raise SheetError(f"{path}: line {header_line}: columns {columns[key] + 1} and "
                             f"{i + 1} both hold {key}; keep one")
        else:
            columns[key] = i
    if "code" not in columns and "id" not in columns:
        raise SheetError(f"{path}: line {header_line}: no code column (设备编码 / 国标编码) "
                         "and no id column, so no row can be tied to a camera; found "
                         f"{', '.join(str(h) for h in header if h is not None) or 'nothing'}")
    seen: dict[str, int] = {}
    for line, row in rows[at + 1:]:
        cells = {key: _cell(row, i) for key, i in columns.items()}
        try:
            cam = _camera(line, cells, compounds, key_positions, result)
        except _Refused as exc:
            result.refused.append((line, str(exc)))
            continue
        if cam.id in seen:
            result.refused.append((line, f"id {cam.id!r} is already on line {seen[cam.id]}; "
                                         "each camera once"))
            continue
        seen[cam.id] = line
        result.cameras.append(cam)
    return result


class _Refused(ValueError):
    pass


def _cell(row: list[Any], i: int) -> Any:
    value = row[i] if i < len(row) else None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _text(value: Any, key: str) -> str | None:
    """A code-like text; whole numbers from a numeric cell become their digits."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Refused(f"{key}: {value!r} is not text")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if key in ("code", "id") and abs(value) >= 1e15:
            raise _Refused(f"{key}: is a number in the sheet ({value:g}), and a spreadsheet "
                           "keeps only 15 digits of a number, so the code is damaged; format "
                           "the column as text and enter the codes again")
        if value.is_integer():
            return str(int(value))
        raise _Refused(f"{key}: {value!r} is a decimal number, expected text")
    return str(value)


def _number(value: Any, key: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        try:
            number = float(str(value).strip().rstrip("°"))
        except ValueError:
            raise _Refused(f"{key}: {value!r} is not a number; give decimal degrees "
                           "such as 117.0011") from None
    if not math.isfinite(number):
        raise _Refused(f"{key}: {value!r} is not a number")
    return number


def _camera(line: int, cells: dict[str, Any], compounds: set[str],
            key_positions: dict[str, str], result: SheetResult) -> SheetCamera:
    code = _text(cells.get("code"), "code")
    ident = _text(cells.get("id"), "id") or code
    if ident is None:
        raise _Refused("no id and no code: the row cannot be tied to a camera")
    if any(c in ident for c in "/+#") or len(ident) > 128:
        raise _Refused(f"id {ident!r} cannot be a device id: use at most 128 characters and "
                       "no '/', '+' or '#'")
    public_raw = cells.get("public")
    public = True
    if public_raw is not None:
        flag = str(public_raw).strip().casefold()
        if flag not in _TRUE | _FALSE:
            raise _Refused(f"public: {public_raw!r} is not yes/no; use 是/否, 1/0 or "
                           "true/false")
        public = flag in _TRUE
    compound = _text(cells.get("compound"), "compound")
    if compound is not None and compound not in compounds:
        raise _Refused(f"compound: {compound!r} is not a compound of the community (known: "
                       f"{', '.join(sorted(compounds)) or 'none'}); add it to the inventory")
    kp = _text(cells.get("key_position"), "key_position")
    if kp is not None and kp not in key_positions:
        raise _Refused(f"key_position: {kp!r} is not a key position of the community (known: "
                       f"{', '.join(sorted(key_positions)) or 'none'}); add it under "
                       "key_positions in the inventory")
    ptype_raw = _text(cells.get("position_type"), "position_type")
    ptype = key_position_type(ptype_raw) if ptype_raw else None
    if kp is not None and ptype_raw is not None and ptype != key_positions[kp]:
        result.warnings.append((line, f"position type {ptype_raw!r} differs from key position "
                                      f"{kp!r}, a {key_positions[kp]}; the key position wins"))
    elif kp is None and ptype is not None:
        result.warnings.append((line, f"position type {ptype_raw!r} is a key-position type but "
                                      "no key position is named; the camera counts for none "
                                      f"(types: {type_choices()})"))
    name = cells.get("name")
    return SheetCamera(
        line=line, id=ident, code=code, name=None if name is None else str(name),
        civil_code=_text(cells.get("civil_code"), "civil_code"),
        longitude=_number(cells.get("longitude"), "longitude"),
        latitude=_number(cells.get("latitude"), "latitude"),
        key_position=kp, public=public, compound=compound, position_type=ptype_raw)
