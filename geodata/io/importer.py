"""Bring your own data: read a user's file into validated records, safely.

:func:`preview_import` is the one entry point. It takes a path or the bytes
of an upload and normalises every supported format into one table of rows,
maps the user's columns onto record fields (:func:`suggest_mapping`,
:class:`ColumnMapping`), reprojects to WGS84 and validates every row against
the one schema, :class:`geodata.model.schema.Record`. It never raises for anything
*in* the file: every problem comes back in the :class:`ImportPreview`, located
like the curated loader's (:class:`geodata.store.load.Problem`: file, line, row,
field, what is wrong and what was expected). It raises only ``ValueError`` or
``TypeError`` for invalid *arguments* (an unknown ``kind``, a non-positive
limit, a mapping to an unknown field). :func:`save_user_records` then writes
the accepted records atomically in the datasets' YAML format and
:func:`load_user_records` reads them back.

Formats
-------
========================  ===================================================
CSV (UTF-8)               ``lat``/``lon`` columns (``latitude``, ``y``, ``纬度``,
                          ``lng``, ``x``, ``经度`` ... are recognised); in the CRS
                          given by ``crs`` (default EPSG:4326). In a projected
                          CRS the ``lon`` column holds x (easting) and ``lat``
                          holds y (northing).
GeoJSON                   A FeatureCollection of Point features; WGS84 as
                          RFC 7946 requires (a legacy ``crs`` member is
                          honoured).
GeoPackage (.gpkg)        The first layer with geometry, in the CRS it declares.
Shapefile (.zip)          One ``.shp`` with its ``.shx``, ``.dbf`` and ``.prj``;
                          a shapefile without ``.prj`` is refused unless
                          ``crs`` names its CRS.
========================  ===================================================

The format is decided by the file's *content* (magic bytes) and must agree
with its extension, so a PNG renamed ``.csv`` is refused by name.

Fields
------
A row needs a name (``name_en`` or ``name_zh``; each fills in for the other),
coordinates and a ``year``: the map filters by year, so a guessed year would
put the point in the wrong place in time. Everything else has a default:
``kind`` from a kind column or the ``kind`` argument (``"cluster"``),
``category`` the kind's :data:`DEFAULT_CATEGORY`, ``province`` found from the
point with the offline basemap, ``location_precision`` ``"site"``,
``domains`` ``["general"]``, a description naming the file and row, and one
source naming the file. Ids are ``user-`` plus the slug of the id column (or
of the English name, or of the row) and are made unique; two rows with the
same value in the id column are an error.

Points outside China
--------------------
The curated schema refuses a point outside :data:`geodata.model.schema.CHINA_BOUNDS`
as a typo. A user's own data may hold such points on purpose, so the importer
validates with the schema's :data:`~geodata.model.schema.ALLOW_OUTSIDE_CHINA`
context (every other rule still applies), keeps the record, lists its id in
:attr:`ImportPreview.flagged` and reports a *warning* the user can act on.
The province must then come from a column, as none can be found from the
point.

Geometry
--------
Only points are imported. A line, polygon, multi-point, empty or missing
geometry rejects *that row* with "expected Point geometry, got Polygon"
rather than silently taking a representative point, which would invent a
location the user never gave.

Limits
------
Files over ``max_bytes`` (default 20 MB) and tables over ``max_rows``
(default 50,000) are refused; rows are counted while parsing so a huge file
is refused without being processed. Reading is :mod:`geodata.io.readers`'
job: zip archives are checked with :mod:`geodata.io.safe_zip` before anything
is decompressed, and binary formats are read from a private temporary
directory that is always removed.

Example
-------
>>> csv_text = "名称,纬度,经度,year\\n天津创新中心,39.0,117.7,2018\\n"
>>> preview = preview_import(csv_text.encode(), "centres.csv")
>>> preview.ok, preview.records[0].id, preview.records[0].province
(True, 'user-row-1', 'Tianjin')
>>> print(preview.summary())
centres.csv (CSV, EPSG:4326): 1 row read, 1 accepted, 0 rejected, 0 warnings.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import shapely
import yaml
from pydantic import ValidationError

from geodata.io.quoting import quote_input
from geodata.io.readers import (
    DEFAULT_CRS,
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_ROWS,
    FORMATS,
    SAVED_SUFFIXES,
    RejectedFileError,
    Row,
    Table,
    crs_label,
    is_wgs84,
    parse_crs,
    read_file,
    read_text_file,
    short_repr,
    to_wgs84,
)
from geodata.io.safe_write import write_text_atomic
from geodata.io.safe_zip import ZipLimits
from geodata.model.schema import (
    ALLOW_OUTSIDE_CHINA,
    CATEGORIES,
    CHINA_BOUNDS,
    COLUMN_LABELS,
    DOMAINS,
    KINDS,
    LAT_MAX,
    LAT_MIN,
    LOCATION_PRECISIONS,
    LON_MAX,
    LON_MIN,
    PROVINCE_OFFICIAL_NAMES,
    PROVINCES,
    RECORD_COLUMNS,
    Record,
)
from geodata.store.load import (
    DatasetError,
    Problem,
    bounded_message,
    load_records,
    load_records_text,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "IMPORT_FIELDS",
    "ColumnMapping",
    "ImportPreview",
    "apply_mapping",
    "load_user_records",
    "preview_import",
    "save_user_records",
    "suggest_mapping",
]

DEFAULT_KIND = "cluster"
#: Longest text accepted in one cell; longer is surely not a name or a note.
MAX_CELL_CHARS = 10_000
USER_ID_PREFIX = "user-"
#: Category given to a row of each kind when no category column is mapped.
DEFAULT_CATEGORY: dict[str, str] = {
    "cluster": "industrial_cluster",
    "fund": "industry_fund",
    "zone": "demonstration_zone",
}
DEFAULT_LOCATION_PRECISION = "site"
DEFAULT_DOMAINS: tuple[str, ...] = ("general",)
DEFAULT_PUBLISHER = "User-supplied data"
#: A point this close (degrees) to a province but in none (a port just
#: offshore of the simplified coastline) is given that province.
PROVINCE_SNAP_DEGREES = 0.5

#: Mappable fields that make up the record's one source.
SOURCE_FIELDS: dict[str, str] = {
    "source_publisher": "publisher",
    "source_title": "title",
    "source_url": "url",
    "source_date": "date",
}

#: Every field a user column can be mapped to, with its label.
IMPORT_FIELDS: dict[str, str] = {
    **{c: COLUMN_LABELS[c] for c in RECORD_COLUMNS if c != "sources"},
    "source_publisher": "Source publisher",
    "source_title": "Source title",
    "source_url": "Source URL",
    "source_date": "Source date",
}

#: Header spellings recognised for each field (compared casefolded, letters
#: and digits only, so "Latitude (WGS84)" and "lat_wgs84" both work).
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "identifier", "uid", "code", "编号", "代码", "标识"),
    "kind": ("kind", "layer", "图层"),
    "category": ("category", "type", "类别", "类型", "分类"),
    "name_en": ("name", "name en", "english name", "name english", "英文名", "英文名称"),
    "name_zh": (
        "name zh", "name cn", "chinese name", "name chinese", "名称", "名字", "中文名",
        "中文名称", "机构名称", "单位名称",
    ),
    "province": ("province", "prov", "省", "省份", "所在省份", "省区"),
    "city": ("city", "town", "城市", "市", "所在城市"),
    "lat": ("lat", "latitude", "y", "y coord", "northing", "纬度", "緯度"),
    "lon": ("lon", "lng", "long", "longitude", "x", "x coord", "easting", "经度", "經度"),
    "location_precision": ("location precision", "precision", "精度", "定位精度"),
    "year": (
        "year", "established", "year established", "founded", "年份", "年", "成立年份",
        "成立时间", "设立年份",
    ),
    "date_as_published": ("date", "date as published", "日期"),
    "fund_size_rmb_bn": ("fund size", "fund size rmb bn", "size rmb bn", "基金规模", "规模"),
    "fund_size_as_published": ("fund size as published",),
    "region_as_published": ("region", "region as published", "地区"),
    "domains": ("domains", "domain", "sector", "sectors", "领域", "技术领域", "行业"),
    "status": ("status", "状态"),
    "description": ("description", "desc", "summary", "details", "描述", "简介", "说明", "介绍"),
    "notes": ("notes", "note", "comment", "comments", "remarks", "备注"),
    "source_publisher": ("source", "publisher", "source publisher", "来源", "出处", "发布者"),
    "source_title": ("source title", "来源标题"),
    "source_url": ("url", "link", "source url", "website", "href", "链接", "网址", "来源链接"),
    "source_date": ("source date", "publication date", "发布日期"),
}


_DECIMAL = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
_NON_FINITE = re.compile(r"^[+-]?(?:nan|inf|infinity)$", re.IGNORECASE)
_YEAR = re.compile(r"^\d{1,4}(?:\.0*)?$")
_BRACKETED = re.compile(r"[(（\[【].*?[)）\]】]")
_LIST_SPLIT = re.compile(r"[;,|、，；]")
_PROVINCE_SUFFIXES = ("省", "市", "自治区", "特别行政区")
_PROVINCE_WORDS = re.compile(
    r"\s+(province|municipality|autonomous region|special administrative region|sar)$",
    re.IGNORECASE,
)


def _norm_header(header: str) -> str:
    return "".join(ch for ch in header.casefold() if ch.isalnum())


_SYNONYM_LOOKUP: dict[str, str] = {
    _norm_header(s): f for f, names in _SYNONYMS.items() for s in (f, *names)
}


# --------------------------------------------------------------------- mapping


@dataclass(frozen=True)
class ColumnMapping:
    """Which user column feeds which record field, as ``(header, field)`` pairs.

    Frozen and hashable, so it can key a cache. Fields must be in
    :data:`IMPORT_FIELDS`; a column feeds one field and a field is fed by
    one column. Columns not in the mapping are ignored.

    Example
    -------
    >>> m = ColumnMapping.from_dict({"纬度": "lat", "Lng": "lon"})
    >>> m.header_for("lat")
    '纬度'
    >>> m.with_overrides({"Lng": "-"}).as_dict()
    {'纬度': 'lat'}
    """

    pairs: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        unknown = [f for _, f in self.pairs if f not in IMPORT_FIELDS]
        if unknown:
            raise ValueError(
                f"unknown field(s) {unknown} in the column mapping; "
                f"expected any of {list(IMPORT_FIELDS)}"
            )
        for position in (0, 1):
            values = [pair[position] for pair in self.pairs]
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                what = "column" if position == 0 else "field"
                raise ValueError(
                    f"{what}(s) {repeated} appear more than once in the column mapping; "
                    "expected each column to feed one field and each field one column"
                )

    @classmethod
    def from_dict(cls, mapping: Mapping[str, str]) -> ColumnMapping:
        """A mapping from ``{header: field}``."""
        return cls(tuple((str(h), str(f)) for h, f in mapping.items()))

    def as_dict(self) -> dict[str, str]:
        """``{header: field}``, in mapping order."""
        return dict(self.pairs)

    def header_for(self, field: str) -> str | None:
        """The column that feeds ``field``, or ``None``."""
        return next((h for h, f in self.pairs if f == field), None)

    def with_overrides(self, overrides: Mapping[str, str]) -> ColumnMapping:
        """This mapping with ``{header: field}`` pairs replaced; field ``""`` or ``"-"`` unmaps.

        An override takes its field away from whichever column had it.
        """
        new_fields = {f for f in overrides.values() if f not in ("", "-")}
        kept = [(h, f) for h, f in self.pairs if h not in overrides and f not in new_fields]
        added = [(h, f) for h, f in overrides.items() if f not in ("", "-")]
        return ColumnMapping(tuple(kept + added))


def suggest_mapping(headers: Iterable[str]) -> ColumnMapping:
    """Guess the field of each header: exact field names first, then synonyms.

    Matching ignores case, spaces, punctuation and a bracketed suffix, and
    knows Chinese headers (名称, 纬度, 经度, 省份, 年份 ...). Each field is
    taken by the first header that matches it.

    Example
    -------
    >>> suggest_mapping(["名称", "Latitude (WGS84)", "LNG", "成立年份", "Remarks"]).as_dict()
    {'名称': 'name_zh', 'Latitude (WGS84)': 'lat', 'LNG': 'lon', '成立年份': 'year', \
'Remarks': 'notes'}
    """
    headers = [h for h in headers if isinstance(h, str) and h.strip()]
    found: dict[str, str] = {}
    taken: set[str] = set()
    for h in headers:
        f = h.strip().casefold()
        if f in IMPORT_FIELDS and f not in taken:
            found[h] = f
            taken.add(f)
    for h in headers:
        if h in found:
            continue
        f = _SYNONYM_LOOKUP.get(_norm_header(h)) or _SYNONYM_LOOKUP.get(
            _norm_header(_BRACKETED.sub("", h))
        )
        if f and f not in taken:
            found[h] = f
            taken.add(f)
    return ColumnMapping(tuple((h, found[h]) for h in headers if h in found))


def apply_mapping(row: Mapping[str, Any], mapping: ColumnMapping) -> dict[str, Any]:
    """One row keyed by field instead of by column; unmapped columns are dropped.

    Example
    -------
    >>> apply_mapping({"纬度": "39.1", "x": 1}, ColumnMapping.from_dict({"纬度": "lat"}))
    {'lat': '39.1'}
    """
    return {f: row[h] for h, f in mapping.pairs if h in row}


# --------------------------------------------------------------------- preview


@dataclass(frozen=True)
class ImportPreview:
    """What importing a file would give, before anything is saved.

    Attributes
    ----------
    filename
        The name problems are reported under.
    format
        A key of :data:`FORMATS`, or ``None`` when the file was not recognised.
    crs
        The CRS the coordinates were read in (they are now WGS84).
    headers
        The file's columns (attribute names for GeoJSON/GPKG/SHP).
    mapping
        The mapping that was applied (the suggestion when none was given).
    rows_read
        Data rows or features read.
    records
        Accepted records, in file order.
    problems
        Per-row errors; a row with any problem is rejected.
    warnings
        Things the user should check; the rows are kept.
    errors
        File-level errors; when present nothing was imported.
    flagged
        Ids of accepted records whose point is outside China.
    """

    filename: str
    format: str | None = None
    crs: str | None = None
    headers: tuple[str, ...] = ()
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    rows_read: int = 0
    records: tuple[Record, ...] = ()
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    errors: tuple[Problem, ...] = ()
    flagged: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        """True when every row was accepted (warnings allowed)."""
        return not self.errors and not self.problems and bool(self.records)

    @property
    def rejected(self) -> int:
        """How many rows were rejected."""
        return len({p.record for p in self.problems})

    def summary(self) -> str:
        """One line: format, CRS, rows read, accepted, rejected, warnings."""
        what = FORMATS.get(self.format or "", "unrecognised")
        crs = f", {self.crs}" if self.crs else ""
        if self.errors:
            return f"{self.filename} ({what}{crs}): not imported, {len(self.errors)} error(s)."
        rows = f"{self.rows_read:,} row{'s' if self.rows_read != 1 else ''} read"
        return (
            f"{self.filename} ({what}{crs}): {rows}, {len(self.records):,} accepted, "
            f"{self.rejected:,} rejected, {len(self.warnings):,} warning"
            f"{'s' if len(self.warnings) != 1 else ''}."
        )


def preview_import(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    filename: str | None = None,
    mapping: ColumnMapping | Mapping[str, str] | None = None,
    *,
    kind: str = DEFAULT_KIND,
    crs: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
    zip_limits: ZipLimits | None = None,
) -> ImportPreview:
    """Read a user's file into validated records plus a report of every problem.

    Nothing is written outside a private temporary directory, which is removed.

    Parameters
    ----------
    source
        A path, the file's bytes, or a binary file object (e.g. an upload).
    filename
        The name to report and whose extension is checked against the
        content; default the path's name.
    mapping
        Column -> field; default :func:`suggest_mapping` of the headers.
    kind
        Layer for rows without a kind column; one of :data:`geodata.model.schema.KINDS`.
    crs
        CRS of a CSV's coordinates (default EPSG:4326), or of a GeoPackage or
        shapefile that declares none. Ignored, with a warning, when the file
        declares its own.
    max_bytes, max_rows
        Size and row caps; a file over either is refused as a whole.
    zip_limits
        Zip-bomb limits for a zipped shapefile; default :class:`ZipLimits`.

    Raises
    ------
    ValueError, TypeError
        Only for invalid arguments; never for the file's content.

    Example
    -------
    >>> p = preview_import(b"name,lat,lon,year\\nLab,95,116,2018\\n", "labs.csv")
    >>> print(p.problems[0])
    labs.csv:2: record row 1, field 'lat': latitude 95.0 is out of range; expected -90..90 \
decimal degrees (column 'lat')
    """
    name = filename or (
        Path(os.fspath(source)).name if isinstance(source, (str, os.PathLike)) else "upload"
    )
    if kind not in KINDS:
        raise ValueError(f"kind should be one of {list(KINDS)}, got {kind!r}")
    for label, limit in (("max_bytes", max_bytes), ("max_rows", max_rows)):
        if not isinstance(limit, int) or limit <= 0:
            raise ValueError(f"{label} should be a positive integer, got {limit!r}")
    if mapping is not None and not isinstance(mapping, ColumnMapping):
        if not isinstance(mapping, Mapping):
            raise TypeError(
                f"mapping should be a ColumnMapping or a dict, got {type(mapping).__name__}"
            )
        mapping = ColumnMapping.from_dict(mapping)
    if Path(name).suffix.lower() in SAVED_SUFFIXES:
        return _preview_saved(source, name, max_bytes, max_rows)
    try:
        table = read_file(
            source, name, crs=crs, max_bytes=max_bytes, max_rows=max_rows, zip_limits=zip_limits
        )
    except RejectedFileError as exc:
        return ImportPreview(name, errors=(Problem(name, None, "-", exc.field, exc.message),))
    return _preview_from_table(table, name, mapping, kind, crs)


def _preview_saved(
    source: str | os.PathLike[str] | bytes | BinaryIO, name: str, max_bytes: int, max_rows: int
) -> ImportPreview:
    """A file in the datasets' YAML format, such as one written by *Save to disk*.

    Its records are complete (ids, kinds, sources), so there is no column
    matching: they are validated exactly as curated data is (by the one YAML
    reader, :mod:`geodata.io.safe_yaml`), except that points outside China are
    kept and flagged. Any invalid record refuses the file, with every problem
    listed under the user's file name. The record count is checked while
    reading, before anything is validated. Ids are given the ``user-`` prefix
    when they lack it (:func:`_prefix_ids`), so a user's record can never be
    taken for a curated one.
    """
    def refused(*problems: Problem) -> ImportPreview:
        return ImportPreview(name, "yaml", errors=problems)

    try:
        data = read_text_file(source, max_bytes)
    except RejectedFileError as exc:
        return refused(Problem(name, None, "-", exc.field, exc.message))
    try:
        records = load_records_text(
            data.decode("utf-8-sig"), name, allow_outside_china=True, max_records=max_rows
        )
    except DatasetError as exc:
        return refused(*exc.problems)
    records, renamed = _prefix_ids(records, name)
    outside = _outside_china_warnings(records, name)
    return ImportPreview(
        name, "yaml", rows_read=len(records), records=tuple(records),
        warnings=tuple(renamed + outside), flagged=frozenset(w.record for w in outside),
    )


def _prefix_ids(records: Sequence[Record], name: str) -> tuple[list[Record], list[Problem]]:
    """Records whose ids all start with :data:`USER_ID_PREFIX`, and one note if any were renamed.

    The importer gives every row a ``user-`` id; a saved file edited by hand,
    or a copy of a curated dataset, may not have them. Without the prefix a
    user's record could share a curated record's id, and a click on the map
    would open the curated one.
    """
    taken = {r.id for r in records}
    out: list[Record] = []
    renamed: list[tuple[str, str]] = []
    for rec in records:
        if rec.id.startswith(USER_ID_PREFIX):
            out.append(rec)
            continue
        new_id = USER_ID_PREFIX + rec.id
        n = 1
        while new_id in taken:
            n += 1
            new_id = f"{USER_ID_PREFIX}{rec.id}-{n}"
        taken.add(new_id)
        renamed.append((rec.id, new_id))
        out.append(rec.model_copy(update={"id": new_id}))
    if not renamed:
        return out, []
    examples = ", ".join(f"{quote_input(a)} → {quote_input(b)}" for a, b in renamed[:3])
    more = f" and {len(renamed) - 3:,} more" if len(renamed) > 3 else ""
    note = Problem(
        name, None, "-", "id",
        f"{len(renamed):,} record id(s) did not start with {USER_ID_PREFIX!r} and were renamed "
        f"({examples}{more}), so your records are never mistaken for the curated ones",
    )
    return out, [note]


def _outside_china_warnings(records: Sequence[Record], name: str) -> list[Problem]:
    b = CHINA_BOUNDS
    return [
        Problem(
            name, None, rec.id, "lat/lon",
            f"point (lat {rec.lat}, lon {rec.lon}) is outside China",
        )
        for rec in records
        if not (
            b["lat_min"] <= rec.lat <= b["lat_max"] and b["lon_min"] <= rec.lon <= b["lon_max"]
        )
    ]


def _preview_from_table(
    table: Table, name: str, mapping: ColumnMapping | None, kind: str, crs: str | None
) -> ImportPreview:
    file_warnings = [Problem(name, None, "-", "-", w) for w in table.warnings]
    if mapping is None:
        mapping = suggest_mapping(table.headers)
        if table.has_geometry:
            mapping = ColumnMapping(tuple(p for p in mapping.pairs if p[1] not in ("lat", "lon")))
    base = ImportPreview(
        name, table.format, table.crs, table.headers, mapping, rows_read=len(table.rows)
    )
    errors = _mapping_errors(table, mapping)
    if errors:
        return replace(base, errors=tuple(Problem(name, None, "-", f, m) for f, m in errors))
    if table.has_geometry:
        for field_ in ("lat", "lon"):
            header = mapping.header_for(field_)
            if header:
                file_warnings.append(Problem(
                    name, None, "-", field_,
                    f"column {quote_input(header)} is ignored: coordinates come from the "
                    "geometry",
                ))
    builder = _RecordBuilder(name, mapping, kind, table)
    try:
        builder.run(crs)
    except RejectedFileError as exc:  # e.g. a CRS that cannot be converted to WGS 84
        return replace(base, errors=(Problem(name, None, "-", exc.field, exc.message),))
    return replace(
        base,
        records=tuple(builder.records),
        problems=tuple(builder.problems),
        warnings=tuple(file_warnings + builder.warnings),
        flagged=frozenset(builder.flagged),
    )


def _mapping_errors(table: Table, mapping: ColumnMapping) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    columns = f"the file's columns are {quote_input(list(table.headers), 200)}"
    for header, field_ in mapping.pairs:
        if header not in table.headers:
            errors.append(
                (field_, f"the mapping names column {quote_input(header)}, which the file does "
                         "not have; "
                         f"{columns}")
            )
    fields = {f for _, f in mapping.pairs}
    needed = [
        ("name_en", "name", "name, name_en, name_zh or 名称"),
        ("lat", "latitude", "lat, latitude, y or 纬度"),
        ("lon", "longitude", "lon, lng, longitude, x or 经度"),
        ("year", "year", "year, established or 年份"),
    ]
    if table.has_geometry:
        needed = [n for n in needed if n[0] not in ("lat", "lon")]
    if table.format == "geojson":
        # Each feature has its own properties, so a missing name or year is per feature.
        needed = [n for n in needed if n[0] not in ("name_en", "year")]
    for field_, what, examples in needed:
        present = field_ in fields or (field_ == "name_en" and "name_zh" in fields)
        if not present:
            errors.append(
                (field_, f"no {what} column: expected a column named {examples}, or a column "
                         f"mapped to '{field_}'; {columns}")
            )
    return errors


# -------------------------------------------------------------- rows -> records


class _CellError(Exception):
    pass


def _text(value: Any) -> str | None:
    """A cell as stripped text; ``None`` when empty. A GeoJSON object, list or NaN is refused."""
    if value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        raise _CellError(f"must be a finite number, got {value}")
    if isinstance(value, (list, dict)):
        what = "an object" if isinstance(value, dict) else "a list"
        raise _CellError(
            f"expected text or a number, got {what} ({quote_input(value)})"
        )
    text = str(value).strip()
    if len(text) > MAX_CELL_CHARS:
        raise _CellError(f"is {len(text):,} characters long; expected at most {MAX_CELL_CHARS:,}")
    return text or None


def _number(value: Any, expected: str) -> float:
    if isinstance(value, bool):
        raise _CellError(f"expected {expected}, got {quote_input(value)}")
    if isinstance(value, numbers.Real):
        text = quote_input(value)
        try:
            number = float(value)
        except OverflowError:
            raise _CellError(f"must be a finite number, got {text}; expected {expected}") from None
    else:
        text = str(value).strip()
        if _NON_FINITE.match(text):
            raise _CellError(
                f"must be a finite number, got {quote_input(text)}; expected {expected}"
            )
        if not _DECIMAL.match(text):
            raise _CellError(f"is not a number: got {short_repr(text)}; expected {expected}")
        number = float(text)
    if not math.isfinite(number):
        raise _CellError(f"must be a finite number, got {text}; expected {expected}")
    return number


def _year(value: Any) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not _YEAR.match(text):
        raise _CellError(f"expected a whole year such as 2018, got {short_repr(value)}")
    return int(float(text))


def _slug(text: str | None) -> str:
    if not text:
        return ""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")
    return slug[:60].strip("-")


def _lookup(value: str, vocabulary: Mapping[str, str]) -> str:
    """A vocabulary key for a key or label typed loosely; the input itself if none."""
    key = re.sub(r"[\s\-]+", "_", value.strip().lower())
    if key in vocabulary:
        return key
    for k, label in vocabulary.items():
        if label.casefold() == value.strip().casefold():
            return k
    return value.strip()


def _province_key(name: str) -> str:
    """A province name compared loosely: NFKC, case and spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


#: Every accepted spelling of each province (short, Chinese, official long forms).
_PROVINCE_NAMES: dict[str, str] = {
    _province_key(name): en
    for en, zh in PROVINCES.items()
    for name in (en, zh, *PROVINCE_OFFICIAL_NAMES[en])
}


def _province(value: str) -> str:
    """The schema's name for a province as typed: 'Guangdong', '广东省', 'Guangxi Zhuang
    Autonomous Region', '香港特别行政区' ...

    (:data:`geodata.model.schema.PROVINCE_OFFICIAL_NAMES`).
    """
    known = _PROVINCE_NAMES.get(_province_key(value))
    if known:
        return known
    english = _PROVINCE_WORDS.sub("", value).casefold()
    for en, zh in PROVINCES.items():
        if english == en.casefold():
            return en
        if value == zh or (value.startswith(zh) and value.endswith(_PROVINCE_SUFFIXES)):
            return en
    return value


_KIND_ALIASES: dict[str, str] = {
    **{k: k for k in KINDS},
    **{label.casefold(): k for k, label in KINDS.items()},
    "clusters": "cluster", "funds": "fund", "zones": "zone",
    "集群": "cluster", "基金": "fund", "示范区": "zone",
}

#: Valid stand-ins for fields already reported, so schema validation can
#: still report every *other* problem of the row.
_PLACEHOLDERS: dict[str, Any] = {
    "lat": 35.0, "lon": 105.0, "year": 2000, "province": "Beijing", "name_en": "x",
    "name_zh": "x", "domains": ["general"], "fund_size_rmb_bn": None, "id": "user-x",
    "city": None, "notes": None, "date_as_published": None, "fund_size_as_published": None,
    "region_as_published": None, "kind": "cluster", "category": "industrial_cluster",
    "status": None, "location_precision": "site", "description": "x" * 20,
}

_OPTIONAL_TEXT = (
    "city", "notes", "date_as_published", "fund_size_as_published", "region_as_published",
)


class _RecordBuilder:
    """Turns the rows of one table into records, problems and warnings."""

    def __init__(self, filename: str, mapping: ColumnMapping, kind: str, table: Table):
        self.filename = filename
        self.kind = kind
        self.table = table
        self.mapping = mapping
        self.header_of = {f: h for h, f in mapping.pairs}
        self.records: list[Record] = []
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.flagged: list[str] = []

    def _column(self, field_: str) -> str:
        root = field_.split(".")[0]
        if root == "sources":
            part = field_.split(".")[-1]
            root = next((f for f, p in SOURCE_FIELDS.items() if p == part), root)
        header = self.header_of.get(root)
        return f" (column {quote_input(header)})" if header else ""

    def run(self, crs: str | None) -> None:
        rows = self.table.rows
        issues: list[dict[str, str]] = [{} for _ in rows]
        mapped = [apply_mapping(r.values, self.mapping) for r in rows]
        points = self._points(rows, mapped, issues, crs)
        datas = [
            self._data(row, values, problems)
            for row, values, problems in zip(rows, mapped, issues, strict=True)
        ]
        self._fill_provinces(datas, points, issues)
        used: set[str] = set()
        seen_raw: dict[str, str] = {}
        for i, row in enumerate(rows):
            data, problems = datas[i], issues[i]
            if row.error and row.error[0] in ("-", "properties"):
                # The row's shape is wrong, so its fields are not worth checking.
                self.problems.append(
                    Problem(self.filename, row.line, row.label, *row.error)
                )
                continue
            raw_id = data.pop("_raw_id")
            if raw_id is not None:
                if raw_id in seen_raw:
                    problems.setdefault("id", (
                        f"duplicate id {quote_input(raw_id)}, first used in {seen_raw[raw_id]}; "
                        "expected every row to have its own id"
                    ))
                else:
                    seen_raw[raw_id] = row.label
            data["id"] = self._unique_id(raw_id, data, row, used)
            suppress = set(problems)
            if "name_en" in suppress:
                suppress.add("name_zh")
            if points[i] is None:
                suppress |= {"lat", "lon", "province"}
            else:
                data["lon"], data["lat"] = points[i]
            record = self._validate(row, data, problems, suppress)
            if record is not None:
                self.records.append(record)
                self._check_bounds(row, record)

    # -- coordinates
    def _points(
        self, rows: list[Row], mapped: list[dict[str, Any]], issues: list[dict[str, str]],
        crs: str | None,
    ) -> list[tuple[float, float] | None]:
        for row, problems in zip(rows, issues, strict=True):
            if row.error:
                problems[row.error[0]] = row.error[1]
        if self.table.has_geometry:
            points = [row.point for row in rows]
        else:
            points = self._csv_points(mapped, issues, crs)
        out: list[tuple[float, float] | None] = []
        for point, problems in zip(points, issues, strict=True):
            if point is not None:
                lon, lat = point
                for field_, value, lo, hi, what in (
                    ("lat", lat, LAT_MIN, LAT_MAX, "latitude"),
                    ("lon", lon, LON_MIN, LON_MAX, "longitude"),
                ):
                    if not math.isfinite(value):
                        problems[field_] = (
                            f"{what} must be a finite number, got {value}; "
                            f"expected {lo:g}..{hi:g} decimal degrees"
                        )
                    elif not lo <= value <= hi:
                        problems[field_] = (
                            f"{what} {value} is out of range; "
                            f"expected {lo:g}..{hi:g} decimal degrees{_swap_hint(lon, lat)}"
                        )
                if "lat" in problems or "lon" in problems:
                    point = None
            out.append(point)
        return out

    def _csv_points(
        self, mapped: list[dict[str, Any]], issues: list[dict[str, str]], crs: str | None
    ) -> list[tuple[float, float] | None]:
        source = parse_crs(crs or DEFAULT_CRS)
        geographic = is_wgs84(source)
        label = crs_label(crs or DEFAULT_CRS)
        expected = {
            "lat": "decimal degrees such as 31.23" if geographic else f"y (northing) in {label}",
            "lon": "decimal degrees such as 121.47" if geographic else f"x (easting) in {label}",
        }
        points: list[tuple[float, float] | None] = []
        for values, problems in zip(mapped, issues, strict=True):
            xy: dict[str, float] = {}
            for field_ in ("lon", "lat"):
                value = values.get(field_)
                if value is None or (isinstance(value, str) and not value.strip()):
                    problems[field_] = f"required value is missing; expected {expected[field_]}"
                    continue
                try:
                    xy[field_] = _number(value, expected[field_])
                except _CellError as exc:
                    problems[field_] = str(exc)
            points.append((xy["lon"], xy["lat"]) if len(xy) == 2 else None)
        if geographic:
            return points
        transformer = to_wgs84(source, label)
        todo = [i for i, p in enumerate(points) if p is not None]
        if todo:
            x0s = np.array([points[i][0] for i in todo])
            y0s = np.array([points[i][1] for i in todo])
            xs, ys = transformer.transform(x0s, y0s)
            # A point outside the projection's domain can come back finite but wrong
            # (clamped to a pole); a round trip that does not return it exposes that.
            with np.errstate(invalid="ignore", over="ignore"):
                xb, yb = transformer.transform(xs, ys, direction="INVERSE")
            back = np.isclose(xb, x0s, rtol=1e-9, atol=1e-3) & np.isclose(
                yb, y0s, rtol=1e-9, atol=1e-3
            )
            for i, x, y, ok in zip(todo, xs, ys, back, strict=True):
                if ok and math.isfinite(x) and math.isfinite(y):
                    points[i] = (float(x), float(y))
                else:
                    x0, y0 = points[i]
                    issues[i]["lon"] = (
                        f"coordinates (x {x0}, y {y0}) cannot be transformed from {label} to "
                        f"WGS84; expected coordinates in {label}"
                    )
                    points[i] = None
        return points

    # -- fields
    def _data(self, row: Row, values: dict[str, Any], problems: dict[str, str]) -> dict[str, Any]:
        data: dict[str, Any] = {}

        def text(field_: str) -> str | None:
            try:
                return _text(values.get(field_))
            except _CellError as exc:
                problems[field_] = str(exc)
                return None

        kind_text = text("kind")
        kind = _KIND_ALIASES.get(kind_text.casefold(), kind_text) if kind_text else self.kind
        data["kind"] = kind
        category = text("category")
        data["category"] = (
            _lookup(category, CATEGORIES.get(kind, {})) if category
            else DEFAULT_CATEGORY.get(kind, DEFAULT_CATEGORY[DEFAULT_KIND])
        )
        name_en, name_zh = text("name_en"), text("name_zh")
        if not (name_en or name_zh) and "name_en" not in problems and "name_zh" not in problems:
            problems["name_en"] = "a name is required; expected a name_en or name_zh value"
        data["name_en"] = name_en or name_zh
        data["name_zh"] = name_zh or name_en
        province = text("province")
        data["province"] = _province(province) if province else None
        for field_ in _OPTIONAL_TEXT:
            data[field_] = text(field_)
        precision = text("location_precision")
        data["location_precision"] = (
            _lookup(precision, LOCATION_PRECISIONS) if precision else DEFAULT_LOCATION_PRECISION
        )
        year = values.get("year")
        try:
            if _text(year) is None:
                problems["year"] = "required value is missing; expected a whole year such as 2018"
            else:
                data["year"] = _year(year)
        except _CellError as exc:
            problems["year"] = str(exc)
        size = text("fund_size_rmb_bn")
        if size is not None:
            try:
                data["fund_size_rmb_bn"] = _number(size, "a fund size in RMB billion, e.g. 20")
            except _CellError as exc:
                problems["fund_size_rmb_bn"] = str(exc)
        data["domains"] = self._domains(values.get("domains"), problems)
        status = text("status")
        data["status"] = re.sub(r"[\s\-]+", "_", status.lower()) if status else None
        data["description"] = text("description") or (
            f"Imported from {self.filename}, {row.label}."
        )
        source = {part: text(f) for f, part in SOURCE_FIELDS.items()}
        source["publisher"] = source["publisher"] or DEFAULT_PUBLISHER
        source["title"] = source["title"] or self.filename
        data["sources"] = [{k: v for k, v in source.items() if v is not None}]
        data["_raw_id"] = text("id")
        return data

    @staticmethod
    def _domains(value: Any, problems: dict[str, str]) -> list[str]:
        if isinstance(value, (list, tuple)):
            items = [str(v) for v in value]
        else:
            try:
                text = _text(value)
            except _CellError as exc:
                problems["domains"] = str(exc)
                return list(DEFAULT_DOMAINS)
            items = _LIST_SPLIT.split(text) if text else []
        domains = [_lookup(item, DOMAINS) for item in items if item.strip()]
        return list(dict.fromkeys(domains)) or list(DEFAULT_DOMAINS)

    def _fill_provinces(
        self, datas: list[dict[str, Any]], points: list[tuple[float, float] | None],
        issues: list[dict[str, str]],
    ) -> None:
        todo = [i for i, d in enumerate(datas) if d["province"] is None and points[i] is not None]
        found = _infer_provinces([points[i] for i in todo]) if todo else []
        for i, province in zip(todo, found, strict=True):
            if province is None:
                lon, lat = points[i]
                issues[i]["province"] = (
                    f"no province given, and none can be found from the point (lat {lat}, "
                    f"lon {lon}), which is not in or near a Chinese province; expected a "
                    f"province column (a point outside China is kept only with its province) "
                    f"with one of {list(PROVINCES)}"
                )
            datas[i]["province"] = province

    def _unique_id(
        self, raw_id: str | None, data: dict[str, Any], row: Row, used: set[str]
    ) -> str:
        base = _slug(raw_id) or _slug(data.get("name_en")) or _slug(row.label)
        base = base.removeprefix(USER_ID_PREFIX) or _slug(row.label)
        candidate = USER_ID_PREFIX + base
        n = 1
        while candidate in used:
            n += 1
            candidate = f"{USER_ID_PREFIX}{base}-{n}"
        used.add(candidate)
        return candidate

    def _validate(
        self, row: Row, data: dict[str, Any], problems: dict[str, str], suppress: set[str]
    ) -> Record | None:
        """Validate with the schema; fields in ``suppress`` get valid stand-ins."""
        candidate = {k: v for k, v in data.items() if v is not None}
        candidate.update({k: _PLACEHOLDERS[k] for k in suppress if k in _PLACEHOLDERS})
        found = [
            Problem(self.filename, row.line, row.label, f, m + self._column(f))
            for f, m in problems.items()
        ]
        try:
            record = Record.model_validate(candidate, context={ALLOW_OUTSIDE_CHINA: True})
        except ValidationError as exc:
            found.extend(
                Problem(self.filename, row.line, row.label, f, m + self._column(f))
                for f, m in _schema_errors(exc)
                if f.split(".")[0] not in suppress
            )
            record = None
        self.problems.extend(found)
        return None if found else record

    def _check_bounds(self, row: Row, record: Record) -> None:
        b = CHINA_BOUNDS
        inside = (
            b["lat_min"] <= record.lat <= b["lat_max"]
            and b["lon_min"] <= record.lon <= b["lon_max"]
        )
        if inside:
            return
        self.flagged.append(record.id)
        self.warnings.append(Problem(
            self.filename, row.line, row.label, "lat/lon",
            f"point (lat {record.lat}, lon {record.lon}) is outside China "
            f"(lat {b['lat_min']}..{b['lat_max']}, lon {b['lon_min']}..{b['lon_max']}); "
            f"kept and flagged — check the coordinates or drop the row"
            f"{_swap_hint(record.lon, record.lat)}",
        ))


def _swap_hint(lon: float, lat: float) -> str:
    b = CHINA_BOUNDS
    swapped_inside = (
        b["lat_min"] <= lon <= b["lat_max"] and b["lon_min"] <= lat <= b["lon_max"]
    )
    return "; latitude and longitude look swapped" if swapped_inside else ""


def _schema_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """(field, message) for each schema error, saying what was got when pydantic does not."""
    out = []
    for err in exc.errors():
        field_ = ".".join(str(p) for p in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if not field_:
            field_ = _model_error_field(message)
        elif err["type"] == "missing":
            message = "required value is missing"
        elif "got " not in message and not isinstance(err.get("input"), dict):
            message += f" (got {short_repr(err.get('input'))})"
        out.append((field_, bounded_message(message)))
    return out


def _model_error_field(message: str) -> str:
    for field_ in ("category", "fund_size_rmb_bn", "status", "lat", "lon"):
        if field_ in message:
            return field_
    return "-"


@lru_cache(maxsize=1)
def _province_index() -> tuple[shapely.STRtree, list[str]]:
    from geodata.render.basemap import load_basemap  # only when a file has no province column

    basemap = load_basemap()
    provinces = basemap[basemap["role"] == "province"]
    return shapely.STRtree(list(provinces.geometry)), [str(n) for n in provinces["name_en"]]


def _infer_provinces(points: Sequence[tuple[float, float]]) -> list[str | None]:
    """The province each (lon, lat) point lies in or, failing that, is nearest (if close)."""
    tree, names = _province_index()
    geoms = shapely.points(np.asarray(points, dtype=float))
    found: list[str | None] = [None] * len(points)
    for i, t in zip(*tree.query(geoms, predicate="within"), strict=True):
        found[i] = found[i] or names[t]
    missing = [i for i, f in enumerate(found) if f is None]
    if missing:
        near = tree.query_nearest(geoms[missing], max_distance=PROVINCE_SNAP_DEGREES)
        for j, t in zip(*near, strict=True):
            found[missing[j]] = found[missing[j]] or names[t]
    return found


# ------------------------------------------------------------ saving, loading


def records_to_yaml(records: Sequence[Record]) -> str:
    """Records as datasets-format YAML text: a list of mappings, empty fields left out.

    Example
    -------
    >>> records_to_yaml([])
    '[]\\n'
    """
    items = [rec.model_dump(mode="json", exclude_none=True) for rec in records]
    # libyaml's dumper writes the same text as the pure-Python one, several times faster.
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(items, Dumper=dumper, allow_unicode=True, sort_keys=False, width=100)


def save_user_records(
    records: Iterable[Record], path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write records as a datasets-format YAML file, atomically, never over the unexpected.

    Written by :func:`geodata.io.safe_write.write_text_atomic`: the text goes to
    a temporary file beside ``path``, is fsynced, and only then takes its
    name, so a crash, a kill or a full disk mid-save leaves the previous state.
    An existing ``path`` is refused unless ``overwrite``, and a folder, a device
    (``/dev/full``) or a link always is.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    geodata.io.safe_write.TargetError
        If ``path`` may not be written: it exists (without ``overwrite``), is
        not a regular file, or its folder does not exist.
    OSError
        If writing fails; nothing is left behind.

    Example
    -------
    >>> import tempfile
    >>> p = preview_import(b"name,lat,lon,year\\nLab,39,117,2018\\n", "labs.csv")
    >>> out = Path(tempfile.mkdtemp()) / "mine.yaml"
    >>> [r.id for r in load_user_records(save_user_records(p.records, out))[0]]
    ['user-lab']
    """
    return write_text_atomic(path, records_to_yaml(list(records)), overwrite=overwrite)


def load_user_records(path: str | os.PathLike[str]) -> tuple[list[Record], list[Problem]]:
    """Read back a file written by :func:`save_user_records`.

    Validated like the curated data, except that points outside China are
    returned as warnings instead of errors, as on import.

    Returns
    -------
    (records, warnings)

    Raises
    ------
    geodata.store.load.DatasetError
        With every problem, as :func:`geodata.store.load.load_records`.
    """
    records = load_records([path], allow_outside_china=True)
    return records, _outside_china_warnings(records, str(path))

