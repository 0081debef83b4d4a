"""Read a user's file, whatever its format, into one table of rows.

:func:`read_file` is the boundary where untrusted bytes come in. It caps the
size, decides the format from the *content* (magic bytes) and checks the
extension agrees, then normalises CSV, GeoJSON, GeoPackage and zipped
Shapefile into one :class:`Table`: column names, and per row its cells and,
for formats with geometry, a WGS84 point (or why it has none). Anything
wrong with the file as a whole raises :class:`RejectedFileError` with a message
that says what was found and what was expected. Binary formats are read by
GDAL from a private temporary directory, under names of our choosing, which
is removed before returning.

Mapping columns to record fields and validating rows is
:mod:`geodata.io.importer`'s job; this module only reads.

Example
-------
>>> table = read_file(b"name,lat\\nA,39\\n", "a.csv", max_rows=10)
>>> table.format, table.headers, table.rows[0].values
('csv', ('name', 'lat'), {'name': 'A', 'lat': '39'})
>>> read_file(b"\\x89PNG\\r\\n\\x1a\\n", "a.csv")
Traceback (most recent call last):
...
geodata.io.readers.RejectedFileError: a.csv is a PNG image, not a data file; expected CSV \
(UTF-8 text), GeoJSON, a GeoPackage (.gpkg), a zipped Shapefile (.zip) or a CMF Atlas YAML \
file (.yaml)
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import numbers
import os
import re
import sqlite3
import tempfile
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pyogrio
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError

from geodata.io.quoting import quote_input
from geodata.io.safe_zip import ArchiveError, ZipLimits, inspect_zip, read_members
from geodata.model.limits import MAX_COLUMNS, MAX_CSV_CELL_CHARS, NUMBER_MAX_CHARS, UPLOAD_MAX_BYTES

DEFAULT_MAX_BYTES = UPLOAD_MAX_BYTES
DEFAULT_MAX_ROWS = 50_000
DEFAULT_CRS = "EPSG:4326"

#: Supported formats and their labels.
FORMATS: dict[str, str] = {
    "csv": "CSV",
    "geojson": "GeoJSON",
    "gpkg": "GeoPackage",
    "shapefile": "zipped Shapefile",
    "yaml": "CMF Atlas YAML",  # the datasets' format, as Save to disk writes it
}
#: Extensions of files in the datasets' own YAML format: read as records, not as a table.
SAVED_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")
_EXTENSION_TO_FORMAT: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
    ".zip": "shapefile",
}
#: Content signatures of files people upload by mistake, for a message that names them.
_FOREIGN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a Microsoft Office 97-2003 file (e.g. .xls)"),
    (b"\x7fELF", "a Linux executable"),
    (b"RIFF", "a RIFF media file"),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_SQLITE_MAGIC = b"SQLite format 3\x00"
EXPECTED_FILE = (
    "expected CSV (UTF-8 text), GeoJSON, a GeoPackage (.gpkg), a zipped Shapefile (.zip) "
    "or a CMF Atlas YAML file (.yaml)"
)
#: Errors GDAL (through pyogrio) raises on a hostile or broken file.
_OGR_ERRORS = (RuntimeError, ValueError, OSError)


class RejectedFileError(ValueError):
    """The file as a whole cannot be imported; ``field`` names the part at fault, if any."""

    def __init__(self, message: str, field: str = "-"):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class Row:
    """One data row or feature: its label ("row 7", "feature 3"), line, cells and point.

    ``point`` is a WGS84 ``(lon, lat)`` for formats with geometry; ``error``
    is a ``(field, message)`` found while reading, which rejects the row.
    """

    label: str
    line: int | None
    values: dict[str, Any]
    point: tuple[float, float] | None = None
    error: tuple[str, str] | None = None


@dataclass
class Table:
    """Every row of one file, its columns, format (a key of :data:`FORMATS`) and CRS."""

    format: str
    headers: tuple[str, ...]
    rows: list[Row]
    crs: str | None
    has_geometry: bool
    warnings: list[str] = field(default_factory=list)


def read_file(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    name: str,
    *,
    crs: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
    zip_limits: ZipLimits | None = None,
) -> Table:
    """Read a path, bytes or binary file object into a :class:`Table`.

    Parameters
    ----------
    source
        The file.
    name
        Its name, for messages and for the extension check.
    crs
        CRS of a GeoPackage or shapefile that declares none; a GeoJSON is
        always WGS84, and a CSV's coordinates are columns the caller reprojects.
    max_bytes, max_rows
        Caps; a file over either is refused without being parsed further.
    zip_limits
        Zip-bomb limits for a zipped shapefile.

    Raises
    ------
    RejectedFileError
        For anything wrong with the file as a whole.
    TypeError
        If ``source`` is none of the accepted types.
    """
    data = _read_source(source, max_bytes)
    fmt = _detect_format(data, name)
    with tempfile.TemporaryDirectory(prefix="cmf-import-") as tmp:
        return _read_table(fmt, data, name, Path(tmp), crs, max_rows, zip_limits)


def read_text_file(source: str | os.PathLike[str] | bytes | BinaryIO, max_bytes: int) -> bytes:
    """The bytes of a text file, checked: within ``max_bytes``, not empty, UTF-8, not binary.

    Raises
    ------
    RejectedFileError
        Saying what is wrong and what was expected.
    """
    data = _read_source(source, max_bytes)
    _decode_text(data)
    return data


def _fmt_size(n: int) -> str:
    return f"{n / 2**20:.4g} MB" if n >= 2**20 else f"{n:,} bytes"


def _read_source(source: Any, max_bytes: int) -> bytes:
    size: int | None = None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        size = len(data)
    elif isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size or None
                data = fh.read(max_bytes + 1)
        except OSError as exc:
            raise RejectedFileError(f"cannot read file: {exc.strerror or exc}") from None
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
        if not isinstance(data, bytes):
            raise TypeError(f"source should be opened in binary mode, got {type(data).__name__}")
    else:
        raise TypeError(
            f"source should be a path, bytes or a binary file, got {type(source).__name__}"
        )
    if len(data) > max_bytes:
        got = f"is {_fmt_size(size)}" if size and size > max_bytes else "is larger than that"
        raise RejectedFileError(
            f"file {got}; the limit is {_fmt_size(max_bytes)} per import (max_bytes)"
        )
    if not data:
        raise RejectedFileError("file is empty; " + EXPECTED_FILE)
    return data


def _detect_format(data: bytes, name: str) -> str:
    """Decide the format from the content, and check the extension agrees."""
    ext = Path(name).suffix.lower()
    for magic, description in _FOREIGN_MAGIC:
        if data.startswith(magic):
            raise RejectedFileError(f"{name} is {description}, not a data file; {EXPECTED_FILE}")
    if data[:2] == b"MZ" and b"\x00" in data[:64]:
        raise RejectedFileError(f"{name} is a Windows executable, not a data file; {EXPECTED_FILE}")
    if ext in (".shp", ".shx", ".dbf", ".prj"):
        raise RejectedFileError(
            f"{name} is one part of a shapefile; expected the .shp, .shx, .dbf and .prj "
            "together in one .zip"
        )
    if data.startswith(_ZIP_MAGIC):
        content = "shapefile"
        office = _office_document(data)
        if office:
            raise RejectedFileError(
                f"{name} is {office}, not a data file; {EXPECTED_FILE} "
                "(in a spreadsheet, use Save As 'CSV UTF-8')"
            )
    elif data.startswith(_SQLITE_MAGIC):
        content = "gpkg"
    else:
        content = "text"
    expected = _EXTENSION_TO_FORMAT.get(ext)
    if ext and expected is None:
        raise RejectedFileError(f"unsupported file type {ext!r}; {EXPECTED_FILE}")
    if content == "text":
        if expected in ("gpkg", "shapefile"):
            raise RejectedFileError(
                f"{name} should be a {FORMATS[expected]} but its content is not; "
                f"expected a binary {FORMATS[expected]} file"
            )
        return expected or "text"
    if expected is not None and expected != content:
        raise RejectedFileError(
            f"{name} has the extension {ext!r} but its content is a "
            f"{'zip archive' if content == 'shapefile' else 'SQLite/GeoPackage database'}; "
            f"expected {FORMATS[expected]} content, or rename the file"
        )
    return content


def _office_document(data: bytes) -> str | None:
    """What office document a zip is (xlsx, docx, ods ...), judged by its member names."""
    try:
        # Reads only the central directory; nothing is decompressed.
        names = {m.name for m in inspect_zip(data)}
    except ArchiveError:
        return None  # reported, with its reason, when the archive is read
    if "[Content_Types].xml" in names:
        if any(n.startswith("xl/") for n in names):
            return "an Excel workbook"
        return "a Microsoft Office document"
    if "mimetype" in names:
        return "an OpenDocument file"
    return None


def _decode_text(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise RejectedFileError("file is UTF-16 text; expected UTF-8 (save it as 'CSV UTF-8')")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise RejectedFileError(
            f"file contains a NUL byte at offset {nul}; expected UTF-8 text, not binary data "
            "or UTF-16"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        hint = ""
        with contextlib.suppress(UnicodeDecodeError):
            data.decode("gb18030")
            hint = " (it may be GBK/GB18030-encoded)"
        raise RejectedFileError(
            f"file is not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} "
            f"(line {line}) cannot be decoded{hint}; expected UTF-8 text (save it as 'CSV UTF-8')"
        ) from None
    if not text.strip():
        raise RejectedFileError("file is empty (only whitespace); " + EXPECTED_FILE)
    start = text.lstrip()[:15].lower()
    if start.startswith(("<!doctype", "<html", "<?xml", "<kml", "<svg")):
        raise RejectedFileError(f"file looks like HTML or XML (KML?), not data; {EXPECTED_FILE}")
    return text


def _read_table(
    fmt: str,
    data: bytes,
    name: str,
    tmp: Path,
    crs: str | None,
    max_rows: int,
    zip_limits: ZipLimits | None,
) -> Table:
    if fmt == "gpkg":
        path = tmp / "upload.gpkg"
        path.write_bytes(data)
        check_geopackage(path)
        return _read_ogr(path, "GeoPackage", crs, max_rows, crs_hint="")
    if fmt == "shapefile":
        return _read_shapefile_zip(data, tmp, crs, max_rows, zip_limits)
    text = _decode_text(data)
    if fmt == "text":
        fmt = "geojson" if text.lstrip()[:1] in ("{", "[") else "csv"
    elif fmt == "csv" and _looks_like_geojson(text):
        stem = Path(name).stem or "data"
        raise RejectedFileError(
            f"{name} looks like GeoJSON (it is a JSON object with a \"type\" member), not "
            f"CSV; rename it to {stem}.geojson and upload it again"
        )
    if fmt == "geojson":
        return _read_geojson(text, crs, max_rows)
    return _read_csv(text, crs, max_rows, tab=Path(name).suffix.lower() == ".tsv")


def _too_many_rows(max_rows: int, what: str = "data rows") -> RejectedFileError:
    return RejectedFileError(
        f"file has more than {max_rows:,} {what}; the limit is {max_rows:,} per import "
        "(max_rows) — split the file"
    )


def _looks_like_geojson(text: str) -> bool:
    """Whether a file named .csv is really a JSON object such as a FeatureCollection."""
    head = text.lstrip()[:4096]
    return head.startswith("{") and re.search(r'"type"\s*:', head) is not None


def _too_many_columns(count: int, what: str = "columns") -> RejectedFileError:
    return RejectedFileError(
        f"file has {count:,} {what}; the limit is {MAX_COLUMNS:,} per import (MAX_COLUMNS) — "
        "keep only the columns you need (name, coordinates, year and a few more)"
    )


def check_headers(headers: tuple[str, ...], what: str = "columns") -> None:
    """Refuse too many columns, then repeated names: both in time linear in the header.

    Raises
    ------
    RejectedFileError
        Naming the count and the limit, or the repeated names.
    """
    if len(headers) > MAX_COLUMNS:
        raise _too_many_columns(len(headers), what)
    counts = Counter(h for h in headers if h)
    repeated = sorted(h for h, n in counts.items() if n > 1)
    if repeated:
        shown = ", ".join(quote_input(h) for h in repeated[:10])
        more = f" and {len(repeated) - 10:,} more" if len(repeated) > 10 else ""
        raise RejectedFileError(
            f"duplicate column name(s) [{shown}{more}] in the header; expected each column once"
        )


#: Excel's first-line hint naming a CSV's delimiter, e.g. ``sep=;``.
_EXCEL_SEP_LINE = re.compile(r"^sep=(.)\r?$")


def _excel_separator(text: str) -> tuple[str, str | None]:
    """The text without Excel's ``sep=X`` first line, and X (``None`` when there is none)."""
    newline = text.find("\n", 0, 16)
    first = text[:newline] if newline >= 0 else text[:16]
    found = _EXCEL_SEP_LINE.match(first)
    if not found:
        return text, None
    return (text[newline + 1:] if newline >= 0 else ""), found[1]


def _guess_delimiter(text: str) -> str:
    first = text[: text.find("\n")] if "\n" in text[:65536] else text[:65536]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(text: str, crs: str | None, max_rows: int, *, tab: bool) -> Table:
    notes: list[str] = []
    text, excel_sep = _excel_separator(text)
    line_offset = 0
    if excel_sep is not None:
        line_offset = 1
        notes.append(
            f"the first line 'sep={excel_sep}' (a hint Excel writes) was read as the "
            f"delimiter {excel_sep!r} and skipped"
        )
    delimiter = excel_sep or ("\t" if tab else _guess_delimiter(text))
    # The csv module's field limit is process-wide; set it to ours before every read.
    csv.field_size_limit(MAX_CSV_CELL_CHARS)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[Row] = []
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)
        if header is None:
            raise RejectedFileError(
                "file has no header row; expected a first line naming the columns"
            )
        headers = tuple(h.strip() for h in header)
        check_headers(headers)
        previous_line = reader.line_num
        for values in reader:
            line, previous_line = previous_line + 1 + line_offset, reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(rows) == max_rows:
                raise _too_many_rows(max_rows)
            cells = {h: v for h, v in zip(headers, values, strict=False) if h}
            row = Row(f"row {len(rows) + 1}", line, cells)
            if len(values) != len(headers):
                row.error = (
                    "-",
                    f"row has {len(values)} values but the header has {len(headers)} columns; "
                    "expected one value per column",
                )
            rows.append(row)
    except csv.Error as exc:
        line = reader.line_num + line_offset
        if "field larger than field limit" in str(exc):
            raise RejectedFileError(
                f"a cell that ends at line {line} is longer than {MAX_CSV_CELL_CHARS:,} "
                f"characters ({MAX_CSV_CELL_CHARS // 1024} KB), the limit per cell; expected "
                "names, numbers and short notes (a quote left open turns the rest of the file "
                "into one cell)"
            ) from None
        raise RejectedFileError(f"not valid CSV at line {line}: {exc}") from None
    if not rows:
        raise RejectedFileError("file has a header but no data rows; expected at least one row")
    table_crs = crs_label(crs or DEFAULT_CRS)
    return Table("csv", headers, rows, table_crs, has_geometry=False, warnings=notes)


#: Why a CRS that is neither geographic nor projected cannot place a point, by its kind.
_NOT_HORIZONTAL: dict[str, str] = {
    "Vertical CRS": "a vertical CRS: it measures heights or depths, not positions",
    "Geocentric CRS": (
        "a geocentric CRS: its X, Y and Z are metres from the Earth's centre, not "
        "latitude and longitude or map x/y"
    ),
    "Engineering CRS": "a local engineering CRS, not tied to a place on the Earth",
}


def parse_crs(crs: str) -> CRS:
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        raise RejectedFileError(
            f"unknown CRS {quote_input(crs)}; expected a coordinate reference system such as "
            "'EPSG:4326' or 'EPSG:4547'",
            field="crs",
        ) from None
    check_horizontal_crs(parsed, crs)
    return parsed


def check_horizontal_crs(parsed: CRS, given: object) -> None:
    """Refuse a CRS that cannot place a point on a map: vertical, geocentric, engineering.

    Raises
    ------
    RejectedFileError
        Saying what kind of CRS it is and what was expected.
    """
    if parsed.is_geographic or parsed.is_projected:
        return
    kind = _NOT_HORIZONTAL.get(parsed.type_name, f"a {parsed.type_name}")
    raise RejectedFileError(
        f"the CRS {quote_input(given)} ({quote_input(parsed.name)}) is {kind}; expected a "
        "geographic CRS (latitude and longitude, e.g. EPSG:4326) or a projected one (x and "
        "y in metres, e.g. EPSG:4547)",
        field="crs",
    )


def crs_label(crs: str) -> str:
    parsed = parse_crs(crs)
    auth = parsed.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else parsed.name


def is_wgs84(crs: CRS) -> bool:
    return crs.equals(CRS.from_epsg(4326), ignore_axis_order=True) or crs.equals(
        CRS.from_user_input("OGC:CRS84")
    )


def to_wgs84(crs: CRS, label: str) -> Transformer:
    """A transformer from ``crs`` to WGS 84 (x, y order), or why there is none.

    An engineering (local) CRS, such as ``LOCAL_CS[...]`` or a site grid, has
    no known relation to the Earth, and PROJ refuses it; that is the file's
    (or the option's) fault, so it is a :class:`RejectedFileError`.
    """
    try:
        return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    except ProjError:
        raise RejectedFileError(
            f"cannot convert coordinates from {quote_input(label)} ({crs.type_name}) to WGS 84: "
            "PROJ knows no relation between the two; expected a geographic or projected CRS "
            "such as 'EPSG:4326' or 'EPSG:4547'",
            field="crs",
        ) from None


def short_repr(value: Any, limit: int = 60) -> str:
    """``value`` quoted for a message, at most about ``limit`` characters (:func:`quote_input`)."""
    return quote_input(value, limit)


def _geojson_point(geometry: Any) -> tuple[tuple[float, float] | None, str | None]:
    if geometry is None:
        return None, "geometry is missing (null); expected a Point"
    if not isinstance(geometry, dict):
        return None, f"expected a geometry object, got {short_repr(geometry)}"
    gtype = geometry.get("type")
    if gtype != "Point":
        return None, (
            f"expected Point geometry, got {gtype}; only points can be imported — convert "
            "lines and polygons to points (e.g. their centroids) first"
        )
    coords = geometry.get("coordinates")
    valid = (
        isinstance(coords, list)
        and len(coords) in (2, 3)
        and all(isinstance(c, numbers.Real) and not isinstance(c, bool) for c in coords)
    )
    if not valid:
        return None, (
            f"expected coordinates [longitude, latitude] as numbers, got {short_repr(coords)}"
        )
    return (float(coords[0]), float(coords[1])), None


def _read_geojson(text: str, crs: str | None, max_rows: int) -> Table:
    expected = "expected a GeoJSON FeatureCollection of Point features"
    duplicates: list[str] = []
    try:
        doc = json.loads(
            text, object_pairs_hook=_json_object(duplicates), parse_int=_json_int,
            parse_float=_json_float,
        )
    except json.JSONDecodeError as exc:
        raise RejectedFileError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; {expected}"
        ) from None
    except RecursionError:
        raise RejectedFileError(f"JSON is nested too deeply; {expected}") from None
    except ValueError as exc:
        detail = str(exc).split(";")[0]
        raise RejectedFileError(f"not valid JSON ({detail}); {expected}") from None
    if not isinstance(doc, dict):
        raise RejectedFileError(f"{expected}, got a JSON {type(doc).__name__}")
    if isinstance(doc, _DuplicateKeys):
        raise RejectedFileError(
            f"the key {quote_input(doc.duplicates[0])} appears more than once at the top level; "
            f"expected each key once (JSON readers silently keep the last); {expected}"
        )
    if doc.get("type") != "FeatureCollection":
        raise RejectedFileError(f"{expected}, got type {short_repr(doc.get('type'))}", field="type")
    features = doc.get("features")
    if not isinstance(features, list):
        raise RejectedFileError(
            f"'features' is missing or not a list; {expected}", field="features"
        )
    if not features:
        raise RejectedFileError(
            f"the FeatureCollection has no features; {expected}", field="features"
        )
    if len(features) > max_rows:
        raise _too_many_rows(max_rows, "features")
    warnings_: list[str] = []
    transformer, crs_label = _legacy_geojson_crs(doc.get("crs"))
    if crs and not is_wgs84(parse_crs(crs)):
        warnings_.append(
            f"GeoJSON is WGS84 (RFC 7946); the given CRS {quote_input(crs)} was ignored"
        )
    headers: dict[str, None] = {}
    rows: list[Row] = []
    for i, feature in enumerate(features, 1):
        row = Row(f"feature {i}", None, {})
        rows.append(row)
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            row.error = ("-", f"expected a GeoJSON Feature object, got {short_repr(feature)}")
            continue
        props = feature.get("properties")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            row.error = ("properties", f"expected an object of properties, got {short_repr(props)}")
            continue
        duplicate = _first_duplicate(feature) if duplicates else None
        if duplicate:
            row.error = ("-", (
                f"the key {quote_input(duplicate)} appears more than once in one object of this "
                "feature; expected each key once (JSON readers silently keep the last)"
            ))
            continue
        row.values = {str(k): v for k, v in props.items()}
        headers.update(dict.fromkeys(row.values))
        if len(headers) > MAX_COLUMNS:
            raise _too_many_columns(len(headers), "distinct property names")
        point, error = _geojson_point(feature.get("geometry"))
        if error:
            row.error = ("geometry", error)
        elif point is not None and transformer is not None:
            x, y = transformer.transform(*point)
            point = (float(x), float(y))
        row.point = point
    return Table("geojson", tuple(headers), rows, crs_label, True, warnings_)


class _DuplicateKeys(dict):
    """A JSON object that had a key more than once (``duplicates`` says which)."""

    duplicates: list[str]


def _json_object(found: list[str]) -> Any:
    """An ``object_pairs_hook`` that marks objects with repeated keys and notes the keys."""

    def build(pairs: list[tuple[str, Any]]) -> dict:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        seen: set[str] = set()
        repeated = [k for k, _ in pairs if k in seen or seen.add(k)]
        marked = _DuplicateKeys(obj)
        marked.duplicates = repeated
        found.extend(repeated)
        return marked

    return build


def _first_duplicate(value: Any) -> str | None:
    """The first repeated key in any object inside ``value`` (iterative: JSON nests deep)."""
    todo = [value]
    while todo:
        item = todo.pop()
        if isinstance(item, _DuplicateKeys):
            return item.duplicates[0]
        if isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, list):
            todo.extend(item)
    return None


def _json_number_text(text: str) -> str:
    if len(text) > NUMBER_MAX_CHARS:
        raise ValueError(
            f"a number {len(text):,} characters long; expected at most {NUMBER_MAX_CHARS}"
        )
    return text


def _json_int(text: str) -> int:
    return int(_json_number_text(text))


def _json_float(text: str) -> float:
    return float(_json_number_text(text))


def _legacy_geojson_crs(member: Any) -> tuple[Transformer | None, str]:
    """Honour a pre-RFC 7946 ``crs`` member; RFC 7946 GeoJSON is WGS84."""
    if member is None:
        return None, "EPSG:4326"
    name = member.get("properties", {}).get("name") if isinstance(member, dict) else None
    if not isinstance(name, str):
        raise RejectedFileError(
            f"the 'crs' member is not understood ({short_repr(member)}); expected none (RFC 7946 "
            "GeoJSON is WGS84) or {'type': 'name', 'properties': {'name': 'EPSG:...'}}",
            field="crs",
        )
    parsed = parse_crs(name)
    if is_wgs84(parsed):
        return None, "EPSG:4326"
    label = crs_label(name)
    return to_wgs84(parsed, label), label


def _read_shapefile_zip(
    data: bytes, tmp: Path, crs: str | None, max_rows: int, limits: ZipLimits | None
) -> Table:
    try:
        members = inspect_zip(data, limits)
    except ArchiveError as exc:
        raise RejectedFileError(str(exc)) from None
    names = [
        m.name for m in members
        if not m.name.startswith("__MACOSX/") and not Path(m.name).name.startswith("._")
    ]
    shps = [n for n in names if n.lower().endswith(".shp")]
    if not shps:
        raise RejectedFileError(
            f"the zip holds no .shp file (it holds {names[:10]}); expected a zipped Shapefile: "
            ".shp, .shx, .dbf and .prj"
        )
    if len(shps) > 1:
        raise RejectedFileError(
            f"the zip holds {len(shps)} shapefiles ({shps[:10]}); expected exactly one"
        )
    # Compared in one Unicode normal form: macOS writes names decomposed (NFD), so
    # "café.shp" beside "café.dbf" may spell the é two ways.
    stem = _member_key(shps[0])[:-4]
    parts = {
        ext: n for n in names for ext in (".shp", ".shx", ".dbf", ".prj", ".cpg")
        if _member_key(n) == stem + ext
    }
    missing = [ext for ext in (".shx", ".dbf") if ext not in parts]
    if missing:
        raise RejectedFileError(
            f"the shapefile {shps[0]!r} is missing its {' and '.join(missing)} file; "
            "expected .shp, .shx, .dbf and .prj together in the zip"
        )
    if ".prj" not in parts and not crs:
        raise RejectedFileError(
            f"the shapefile {shps[0]!r} has no .prj file, so its coordinate reference system "
            "is unknown; add the .prj, or give the CRS it uses, e.g. crs='EPSG:4547' "
            "(CLI: --crs EPSG:4547)",
            field="crs",
        )
    try:
        blobs = read_members(data, parts.values(), limits)
    except ArchiveError as exc:
        raise RejectedFileError(str(exc)) from None
    for ext, member in parts.items():
        # Our own names, never the archive's: nothing lands outside ``tmp``.
        (tmp / f"layer{ext}").write_bytes(blobs[member])
    hint = "" if ".prj" not in parts else "; its .prj file could not be understood"
    return _read_ogr(tmp / "layer.shp", "shapefile", crs, max_rows, crs_hint=hint)


def _member_key(name: str) -> str:
    """A zip member's name for matching the parts of a shapefile: NFC, lower case."""
    return unicodedata.normalize("NFC", name).lower()


#: GeoPackage tables GDAL reads to list and describe the layers.
_GPKG_METADATA = (
    "gpkg_contents", "gpkg_geometry_columns", "gpkg_spatial_ref_sys", "gpkg_ogr_contents",
    "gpkg_extensions",
)


def check_geopackage(path: Path) -> None:
    """Refuse a GeoPackage that could make reading it endless, before GDAL opens it.

    A view runs a query of the author's choosing on every read (recursive, a
    huge cross join, a slow function), and so does a virtual table or a
    computed (generated) column; GDAL would run it with no bound. So any view,
    and any layer that is a virtual table or has a computed column, refuses
    the file. Only SQLite's own catalogue is read, with ``trusted_schema`` off.

    Raises
    ------
    RejectedFileError
        Naming the view, table or column, and what to do instead.
    """
    how = (
        "CMF Atlas reads only plain tables, because a view or computed column can run an "
        "endless query; save the layer as a plain table (e.g. QGIS: Export > Save Features "
        "As…) and upload that"
    )
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise RejectedFileError(f"not a readable GeoPackage ({exc})") from None
    # A damaged file can hold bytes that are not UTF-8 in its catalogue: read
    # them with replacement characters rather than fail on them.
    con.text_factory = lambda raw: raw.decode("utf-8", "replace")
    try:
        con.execute("PRAGMA trusted_schema = OFF")
        objects = con.execute("SELECT type, name, sql FROM sqlite_master").fetchall()
        kinds = {str(name): (str(kind), str(sql or "")) for kind, name, sql in objects}
        views = [name for name, (kind, _) in kinds.items() if kind == "view"]
        if views:
            shown = ", ".join(quote_input(v) for v in views[:5])
            raise RejectedFileError(
                f"the GeoPackage holds {len(views)} SQL view(s) ({shown}); {how}"
            )
        if kinds.get("gpkg_contents", ("",))[0] != "table":
            return  # not a GeoPackage; GDAL reports that
        layers = [
            str(name) for (name,) in
            con.execute("SELECT table_name FROM gpkg_contents LIMIT ?", (MAX_COLUMNS,))
        ]
        for layer in layers:
            kind, sql = kinds.get(layer, ("", ""))
            if kind == "table" and sql.lstrip().upper().startswith("CREATE VIRTUAL"):
                raise RejectedFileError(
                    f"the GeoPackage's layer {quote_input(layer)} is a virtual table; {how}"
                )
            if kind != "table":
                continue
            computed = [
                str(row[1]) for row in con.execute(
                    f"PRAGMA table_xinfo({_sql_quote(layer)})"
                ) if row[6] in (2, 3)
            ]
            if computed:
                raise RejectedFileError(
                    f"the GeoPackage's layer {quote_input(layer)} has computed column(s) "
                    f"{', '.join(quote_input(c) for c in computed[:5])}; {how}"
                )
    except sqlite3.Error as exc:
        raise RejectedFileError(f"not a readable GeoPackage ({str(exc)[:200]})") from None
    except UnicodeDecodeError:
        # SQLite's own error message quoted bytes of the damaged catalogue.
        raise RejectedFileError("not a readable GeoPackage (its catalogue is damaged)") from None
    finally:
        con.close()


def _sql_quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _gdal(what: str, path: Path, func: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a pyogrio reader; any exception from it means GDAL could not read the file."""
    try:
        return func(path, *args, **kwargs)
    except Exception as exc:
        # Deliberately broad: fed hostile files, pyogrio raised RuntimeError and
        # ValueError subclasses, UnicodeDecodeError and even UnboundLocalError.
        # GDAL names our private temporary copy; the user knows only their file.
        detail = str(exc).replace(str(path), path.name).split("; It might help")[0][:200]
        raise RejectedFileError(f"not a readable {what} ({detail})") from None


def _read_ogr(path: Path, what: str, crs: str | None, max_rows: int, *, crs_hint: str) -> Table:
    fmt = "gpkg" if what == "GeoPackage" else "shapefile"
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layers = [(str(n), g) for n, g in _gdal(what, path, pyogrio.list_layers)]
        spatial = [n for n, g in layers if g is not None]
        if not spatial:
            raise RejectedFileError(
                f"the {what} has no layer with geometry (layers: {[n for n, _ in layers]}); "
                "expected a layer of points"
            )
        layer, info, note = _choose_layer(what, path, [(n, g) for n, g in layers if g])
        if note:
            notes.append(note)
        if info.get("features", -1) > max_rows:
            raise _too_many_rows(max_rows, "features")
        check_headers(tuple(str(f) for f in info.get("fields", ())), "attribute columns")
        frame = _gdal(
            what, path, pyogrio.read_dataframe, layer=layer, max_features=max_rows + 1
        )
    notes.extend(str(w.message) for w in caught)
    if len(frame) > max_rows:
        raise _too_many_rows(max_rows, "features")
    if frame.empty:
        raise RejectedFileError(f"the {what} has no features; expected at least one point")
    if frame.crs is None:
        if not crs:
            raise RejectedFileError(
                f"the {what} has no coordinate reference system{crs_hint}; give the CRS it "
                "uses, e.g. crs='EPSG:4547' (CLI: --crs EPSG:4547)",
                field="crs",
            )
        frame = frame.set_crs(parse_crs(crs))
    elif crs and not frame.crs.equals(parse_crs(crs)):
        notes.append(
            f"the {what} declares its own CRS; the given CRS {quote_input(crs)} was ignored"
        )
    source_crs = frame.crs
    check_horizontal_crs(source_crs, source_crs.name)
    auth = source_crs.to_authority()
    label = f"{auth[0]}:{auth[1]}" if auth else source_crs.name
    try:
        frame = frame.to_crs("EPSG:4326")
    except _OGR_ERRORS as exc:
        raise RejectedFileError(
            f"cannot reproject from {label} to WGS84: {exc}", field="crs"
        ) from None
    geometry_column = frame.geometry.name
    attributes = frame.drop(columns=[geometry_column])
    headers = tuple(str(c) for c in attributes.columns)
    rows: list[Row] = []
    for i, (geom, values) in enumerate(
        zip(frame.geometry, attributes.itertuples(index=False, name=None), strict=True), 1
    ):
        row = Row(
            f"feature {i}", None, {h: _plain(v) for h, v in zip(headers, values, strict=True)}
        )
        if geom is None or geom.is_empty:
            row.error = ("geometry", "geometry is missing or empty; expected a Point")
        elif geom.geom_type != "Point":
            row.error = ("geometry", (
                f"expected Point geometry, got {geom.geom_type}; only points can be imported — "
                "convert lines and polygons to points (e.g. their centroids) first"
            ))
        else:
            row.point = (float(geom.x), float(geom.y))
        rows.append(row)
    return Table(fmt, headers, rows, label, True, notes)


def _choose_layer(
    what: str, path: Path, spatial: list[tuple[str, str]]
) -> tuple[str, dict[str, Any], str | None]:
    """The first layer with point features (else the first with any), its info, and a note.

    A GeoPackage often holds an empty template layer or a layer of lines
    before the points; reading the first layer blindly said "no features".
    """
    if len(spatial) == 1:
        name = spatial[0][0]
        return name, _gdal(what, path, pyogrio.read_info, layer=name), None
    described: list[tuple[str, str, dict[str, Any]]] = []
    for name, geometry in spatial[:MAX_COLUMNS]:
        described.append((name, geometry, _gdal(what, path, pyogrio.read_info, layer=name)))
    non_empty = [d for d in described if d[2].get("features", 0) != 0]
    points = [d for d in non_empty if d[1].upper().startswith("POINT")]
    name, geometry, info = (points or non_empty or described)[0]
    others = "; ".join(
        f"{quote_input(n)}: {_layer_summary(g, i)}" for n, g, i in described if n != name
    )
    note = (
        f"the {what} has {len(described)} layers with geometry; read {quote_input(name)} "
        f"({_layer_summary(geometry, info)}), the first with points. Not read: {others}"
    )
    return name, info, note


def _layer_summary(geometry: str, info: dict[str, Any]) -> str:
    count = info.get("features", -1)
    size = (
        "no features" if count == 0 else "1 feature" if count == 1
        else f"{count:,} features" if count > 0 else "features"
    )
    return f"{size}, {geometry.lower()}"


def _plain(value: Any) -> Any:
    """A cell from pandas as a plain Python value; missing is ``None``."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        try:
            return value.isoformat()
        except ValueError:  # NaT
            return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value
