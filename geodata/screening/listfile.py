"""Read the user's list (CSV or XLSX) safely: bounded size, rows, columns and cells.

A list to screen is a table of names, perhaps with aliases and addresses. It
comes from outside, so it is read with the same care as a map upload: the
size, row, column and cell limits of :mod:`geodata.model.limits` are checked before
the expensive work, an XLSX archive's expansion is checked from its central
directory before openpyxl opens it (:mod:`geodata.io.safe_zip`), and every
problem is a :class:`ListFileError` naming the file, and the row or column.

CSV may be UTF-8 (with or without BOM) or GB18030/GBK, as Excel saves it on a
Chinese system; an Excel ``sep=;`` first line is honoured.

Example
-------
>>> table = read_list("名称,地址\\n中国电子科技集团公司,北京市海淀区\\n".encode(), "suppliers.csv")
>>> table.headers, table.rows[0]["名称"]
(['名称', '地址'], '中国电子科技集团公司')
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from geodata.io.quoting import quote_input
from geodata.io.safe_zip import ArchiveError, ZipLimits, inspect_zip
from geodata.model.limits import (
    SCREEN_MAX_CELL_CHARS,
    SCREEN_MAX_COLUMNS,
    SCREEN_MAX_ROWS,
    UPLOAD_MAX_BYTES,
)

LIST_FORMATS = {
    ".csv": "CSV (UTF-8 or GBK)", ".txt": "CSV (UTF-8 or GBK)", ".xlsx": "Excel workbook",
}
#: An XLSX is a zip of XML; a list's sheet expands far less than this.
XLSX_ZIP_LIMITS = ZipLimits(max_total_bytes=100 * 1024 * 1024, max_ratio=100.0,
                            max_entries=1000)


class ListFileError(ValueError):
    """The list cannot be read; the message names the file and what was expected."""


@dataclass
class NameList:
    """The rows of a list, each a mapping header -> text, and where they came from."""

    file: str
    headers: list[str]
    rows: list[dict[str, str]]
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)
    #: Where each row is in the file, for messages: "line 7" (CSV), "row 7" (sheet).
    places: list[str] = field(default_factory=list)


def read_list(data: bytes, file: str, *, max_bytes: int = UPLOAD_MAX_BYTES,
              max_rows: int = SCREEN_MAX_ROWS) -> NameList:
    """Read a list from the bytes of ``file`` (its name decides CSV or XLSX)."""
    name = Path(file).name
    if len(data) > max_bytes:
        raise ListFileError(f"{name}: file is {len(data):,} bytes; the limit is {max_bytes:,}")
    suffix = Path(file).suffix.lower()
    is_zip = data[:4] == b"PK\x03\x04"
    if suffix == ".xlsx" or is_zip:
        if not is_zip:
            raise ListFileError(f"{name}: not an Excel workbook (.xlsx); expected "
                                f"one of {', '.join(sorted(LIST_FORMATS))}")
        return _read_xlsx(data, name, max_rows)
    if suffix not in LIST_FORMATS:
        raise ListFileError(f"{name}: unsupported file type {quote_input(suffix or '(none)')}; "
                            f"expected one of {', '.join(sorted(LIST_FORMATS))}")
    return _read_csv(data, name, max_rows)


def _decode(data: bytes, name: str) -> tuple[str, str]:
    if b"\x00" in data[:4096]:
        raise ListFileError(f"{name}: file holds binary data or UTF-16 text; expected CSV "
                            "saved as UTF-8 or GBK")
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030 (GBK)"
    except UnicodeDecodeError as exc:
        raise ListFileError(f"{name}: byte {exc.start:,} is neither UTF-8 nor GBK text; save "
                            "the list as 'CSV UTF-8'") from None


def _read_csv(data: bytes, name: str, max_rows: int) -> NameList:
    text, encoding = _decode(data, name)
    notes = [] if encoding == "UTF-8" else [f"read as {encoding} text"]
    delimiter = None
    first, _, rest = text.partition("\n")
    sep = re.fullmatch(r"\s*sep=(.)\s*", first)
    if sep:
        delimiter, text = sep.group(1), rest
        notes.append(f"used the separator {delimiter!r} that the file's first line names")
    if not text.strip():
        raise ListFileError(f"{name}: file has no rows; expected a header row and names")
    if delimiter is None:
        head = text[:4096]
        delimiter = max(",;\t", key=head.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    csv.field_size_limit(SCREEN_MAX_CELL_CHARS * 4 + 16)
    try:
        header = next(reader)
    except csv.Error as exc:
        raise ListFileError(f"{name}: line 1: {exc}") from None
    headers = _headers(header, name)
    rows: list[dict[str, str]] = []
    places: list[str] = []
    try:
        for line_no, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= max_rows:
                raise ListFileError(f"{name}: more than {max_rows:,} rows; the limit is "
                                    f"{max_rows:,} per list")
            rows.append(_row(cells, headers, name, f"line {line_no}"))
            places.append(f"line {line_no}")
    except csv.Error as exc:
        raise ListFileError(f"{name}: line {reader.line_num}: a cell is longer than "
                            f"{SCREEN_MAX_CELL_CHARS:,} characters or malformed ({exc})") from None
    return NameList(name, headers, rows, notes=notes, places=places)


def _read_xlsx(data: bytes, name: str, max_rows: int) -> NameList:
    try:
        inspect_zip(data, XLSX_ZIP_LIMITS)
    except ArchiveError as exc:
        raise ListFileError(f"{name}: {exc}") from None
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it ignores
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise ListFileError(f"{name}: not a readable Excel workbook "
                            f"({quote_input(type(exc).__name__)})") from None
    try:
        sheet = next((ws for ws in book.worksheets if _has_cells(ws)), None)
        if sheet is None:
            raise ListFileError(f"{name}: the workbook has no sheet with rows")
        if (sheet.max_column or 0) > SCREEN_MAX_COLUMNS:
            raise ListFileError(f"{name}: sheet {quote_input(sheet.title)} has "
                                f"{sheet.max_column:,} columns; the limit is {SCREEN_MAX_COLUMNS}")
        width = min(sheet.max_column or 1, SCREEN_MAX_COLUMNS)
        rows_iter = sheet.iter_rows(values_only=True, max_col=width)
        header = next(rows_iter, None)
        if header is None:
            raise ListFileError(f"{name}: sheet {quote_input(sheet.title)} is empty")
        cells = ["" if h is None else str(h) for h in header]
        while cells and not cells[-1].strip():
            cells.pop()  # a sheet's used range often runs past its last real column
        headers = _headers(cells, name)
        rows: list[dict[str, str]] = []
        places: list[str] = []
        for row_no, values in enumerate(rows_iter, start=2):
            cells = ["" if v is None else str(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= max_rows:
                raise ListFileError(f"{name}: more than {max_rows:,} rows; the limit is "
                                    f"{max_rows:,} per list")
            rows.append(_row(cells, headers, name, f"row {row_no}"))
            places.append(f"sheet row {row_no}")
        notes = [f"read sheet {quote_input(sheet.title)}"] if len(book.worksheets) > 1 else []
        return NameList(name, headers, rows, sheet=sheet.title, notes=notes, places=places)
    finally:
        book.close()


def _has_cells(sheet: object) -> bool:
    """Whether a sheet has any non-empty cell in its first rows (a blank sheet says max_row 1)."""
    for values in sheet.iter_rows(values_only=True, max_row=50, max_col=SCREEN_MAX_COLUMNS):
        if any(v not in (None, "") for v in values):
            return True
    return False


def _headers(header: list[str], name: str) -> list[str]:
    if len(header) > SCREEN_MAX_COLUMNS:
        raise ListFileError(f"{name}: {len(header):,} columns; the limit is {SCREEN_MAX_COLUMNS}")
    out: list[str] = []
    seen: set[str] = set()
    for i, h in enumerate(header, start=1):
        h = (h or "").strip().lstrip("\ufeff") or f"column {i}"
        if len(h) > 200:
            raise ListFileError(f"{name}: header of column {i} is {len(h):,} characters long; "
                                "expected a short column name")
        base, n = h, 2
        while h in seen:
            h, n = f"{base} ({n})", n + 1
        seen.add(h)
        out.append(h)
    if not out:
        raise ListFileError(f"{name}: no header row; expected column names in the first row")
    return out


def _row(cells: list[str], headers: list[str], name: str, where: str) -> dict[str, str]:
    for i, c in enumerate(cells[: len(headers)]):
        if len(c) > SCREEN_MAX_CELL_CHARS:
            raise ListFileError(f"{name}: {where}, column {quote_input(headers[i])}: cell is "
                                f"{len(c):,} characters; the limit is {SCREEN_MAX_CELL_CHARS:,}")
    return {h: (cells[i].strip() if i < len(cells) else "") for i, h in enumerate(headers)}


#: Header words that suggest which column holds what (English and Chinese).
_ROLE_HINTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "名称", "单位", "公司", "机构", "organisation", "organization", "company",
             "supplier", "entity", "affiliation", "institution", "供应商", "企业"),
    "alias": ("alias", "aka", "别名", "简称", "other name", "english", "英文"),
    "address": ("address", "地址", "location", "所在地", "城市", "city", "province", "省"),
}


def suggest_columns(headers: list[str]) -> dict[str, str | None]:
    """The most likely name, alias and address columns, from the headers' words.

    >>> suggest_columns(["序号", "单位名称", "地址"])
    {'name': '单位名称', 'alias': None, 'address': '地址'}
    """
    out: dict[str, str | None] = {}
    taken: set[str] = set()
    for role, hints in _ROLE_HINTS.items():
        pick = next((h for h in headers if h not in taken
                     and any(k in h.casefold() for k in hints)), None)
        if pick is None and role == "name":
            pick = next((h for h in headers if h not in taken), None)
        if pick:
            taken.add(pick)
        out[role] = pick
    return out
