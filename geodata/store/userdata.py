"""A session's own datasets: the records a user imported, kept apart from the curated ones.

The dashboard holds a tuple of :class:`UserDataset` in each browser session's
state (never in a global), so one session never sees another's uploads. This
module is the pure part of that: turn an accepted
:class:`~geodata.io.importer.ImportPreview` into a dataset whose ids do not clash
with the session's other datasets (:func:`add_dataset`), combine them into one
frame for the map (:func:`user_frame`), apply the sidebar's filters
(:func:`filter_user_records`), lay out problems as a table
(:func:`problems_table`), and save a dataset atomically under a name derived
from the upload, never over an existing file (:func:`save_dataset`).

Example
-------
>>> from geodata.io.importer import preview_import
>>> data = b"name,lat,lon,year\\nLab,39,117,2018\\n"
>>> p = preview_import(data, "labs.csv")
>>> sets = add_dataset((), p, file_digest(data))
>>> sets = add_dataset(sets, preview_import(data, "copy.csv"), "other")
>>> [r.id for d in sets for r in d.records]
['user-lab', 'user-lab-2']
>>> len(user_frame(sets))
2
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, replace
from pathlib import Path, PurePath

import geopandas as gpd
import pandas as pd

from geodata.io.export import neutralise_formula
from geodata.io.importer import (
    IMPORT_FIELDS,
    USER_ID_PREFIX,
    ColumnMapping,
    ImportPreview,
    save_user_records,
)
from geodata.io.quoting import quote_input
from geodata.model.frame import records_to_frame
from geodata.model.schema import KINDS, Record
from geodata.query.filters import RecordFilter, filter_records
from geodata.store.load import Problem

#: The "field" of a column the user chose to ignore.
IGNORE = "-"
#: The CRS choice that means "as the file declares; WGS84 for a CSV".
AUTO_CRS = "auto"
#: Coordinate systems offered for a CSV (or a GeoPackage/shapefile that declares
#: none); any other EPSG code can be typed in.
COMMON_CRS: dict[str, str] = {
    AUTO_CRS: "As the file declares (WGS 84 for a CSV)",
    "EPSG:4326": "WGS 84, GPS latitude/longitude (EPSG:4326)",
    "EPSG:4490": "CGCS2000, China Geodetic 2000 (EPSG:4490)",
    "EPSG:4214": "Beijing 1954 (EPSG:4214)",
    "EPSG:4610": "Xian 1980 (EPSG:4610)",
    "EPSG:3857": "Web Mercator, metres (EPSG:3857)",
    "EPSG:32649": "UTM zone 49N, metres (EPSG:32649)",
    "EPSG:32650": "UTM zone 50N, metres (EPSG:32650)",
    "EPSG:32651": "UTM zone 51N, metres (EPSG:32651)",
}
#: Columns of :func:`problems_table`.
PROBLEM_COLUMNS: tuple[str, ...] = ("File", "Line", "Row", "Field", "Problem")
#: Longest file-name stem used when saving.
MAX_STEM_CHARS = 60
_UNSAFE_NAME = re.compile(r"[^\w\-]+")
_MAX_SAVE_ATTEMPTS = 1000


@dataclass(frozen=True)
class UserDataset:
    """One file's accepted records, as added to a session.

    Attributes
    ----------
    name
        The uploaded file's name, for display only.
    digest
        SHA-256 of the file's bytes: the same file is not added twice.
    records
        Accepted records, ids unique across the session's datasets.
    flagged
        Ids of records whose point is outside China (kept, flagged on import).
    saved_to
        Where the dataset was saved, once the user asked.
    """

    name: str
    digest: str
    records: tuple[Record, ...]
    flagged: frozenset[str] = frozenset()
    saved_to: str | None = None


def file_digest(data: bytes) -> str:
    """SHA-256 of an upload, hex.

    >>> file_digest(b"")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(data).hexdigest()


def _free_id(base: str, taken: set[str]) -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def avoid_reserved_ids(preview: ImportPreview, reserved: Set[str]) -> ImportPreview:
    """``preview`` with every record whose id is in ``reserved`` renamed, and a warning.

    ``reserved`` is the ids of the map's own datasets. A user's record with
    a curated record's id would hide behind it (a click on the map would open
    the curated one), so it becomes ``user-<id>`` (or, if the id already has
    that prefix, as a data folder of saved files may, ``<id>-2`` ...). The
    warning says which, so the preview tells the user before anything is added.

    >>> from geodata.io.importer import preview_import
    >>> p = preview_import(b"id,name,lat,lon,year\\nlab,Lab,39,117,2018\\n", "labs.csv")
    >>> fixed = avoid_reserved_ids(p, {"user-lab"})
    >>> [r.id for r in fixed.records], fixed.warnings[0].field
    (['user-lab-2'], 'id')
    """
    clashes = [r.id for r in preview.records if r.id in reserved]
    if not clashes:
        return preview
    taken = set(reserved) | {r.id for r in preview.records}
    new_ids: dict[str, str] = {}
    for old in clashes:
        base = old if old.startswith(USER_ID_PREFIX) else USER_ID_PREFIX + old
        new_ids[old] = _free_id(base, taken)
        taken.add(new_ids[old])
    records = tuple(
        r.model_copy(update={"id": new_ids[r.id]}) if r.id in new_ids else r
        for r in preview.records
    )
    pairs = list(new_ids.items())[:3]
    examples = ", ".join(f"{quote_input(a)} → {quote_input(b)}" for a, b in pairs)
    more = f" and {len(new_ids) - 3:,} more" if len(new_ids) > 3 else ""
    note = Problem(
        preview.filename, None, "-", "id",
        f"{len(new_ids):,} record id(s) are also used by the map's own datasets and will be "
        f"renamed when added ({examples}{more}), so the map never confuses your record with "
        "another",
    )
    return replace(
        preview, records=records, warnings=(*preview.warnings, note),
        flagged=frozenset(new_ids.get(i, i) for i in preview.flagged),
    )


def add_dataset(
    datasets: Sequence[UserDataset], preview: ImportPreview, digest: str,
    reserved: Set[str] = frozenset(),
) -> tuple[UserDataset, ...]:
    """``datasets`` plus the accepted records of ``preview`` as a new dataset.

    A record whose id another dataset of the session, or ``reserved`` (the
    map's own records), already uses gets the next free ``-2``, ``-3`` ...
    suffix, so a click on the map or a selected id always names one record
    (:func:`avoid_reserved_ids` renames curated clashes first, and says so).
    A file already added (same ``digest``) is not added again.

    Raises
    ------
    ValueError
        If ``preview`` has no accepted records.
    """
    if not preview.records:
        raise ValueError(f"{preview.filename} has no accepted records to add")
    if any(d.digest == digest for d in datasets):
        return tuple(datasets)
    taken = {r.id for d in datasets for r in d.records} | set(reserved)
    records, flagged = [], set()
    for rec in preview.records:
        new_id = _free_id(rec.id, taken)
        taken.add(new_id)
        records.append(rec if new_id == rec.id else rec.model_copy(update={"id": new_id}))
        if rec.id in preview.flagged:
            flagged.add(new_id)
    added = UserDataset(preview.filename, digest, tuple(records), frozenset(flagged))
    return (*datasets, added)


def remove_dataset(datasets: Sequence[UserDataset], digest: str) -> tuple[UserDataset, ...]:
    """``datasets`` without the one whose digest is ``digest``."""
    return tuple(d for d in datasets if d.digest != digest)


def mark_saved(
    datasets: Sequence[UserDataset], digest: str, path: str | os.PathLike[str]
) -> tuple[UserDataset, ...]:
    """``datasets`` with the one named by ``digest`` marked as saved to ``path``."""
    return tuple(
        replace(d, saved_to=str(path)) if d.digest == digest else d for d in datasets
    )


def user_frame(datasets: Iterable[UserDataset]) -> gpd.GeoDataFrame:
    """Every record of ``datasets`` as one frame, the form the map and filters use."""
    return records_to_frame([r for d in datasets for r in d.records])


def filter_user_records(frame: gpd.GeoDataFrame, flt: RecordFilter) -> gpd.GeoDataFrame:
    """The user's records that ``flt`` keeps: every filter except the layer checkboxes.

    The user's records are their own layer with their own checkbox ("Your
    data"), so the Clusters/Funds/Zones checkboxes, which choose curated
    layers, do not hide them; years, fund size, domains, provinces and the
    name search apply exactly as to curated records.

    >>> from geodata.model.frame import records_to_frame
    >>> flt = RecordFilter(kinds=frozenset())
    >>> len(filter_user_records(records_to_frame([]), flt))
    0
    """
    return filter_records(frame, replace(flt, kinds=frozenset(KINDS)))


def problems_table(problems: Iterable[Problem]) -> pd.DataFrame:
    """Problems as rows of :data:`PROBLEM_COLUMNS`: file, line, row, field, message.

    >>> t = problems_table([Problem("a.csv", 2, "row 1", "lat", "bad")])
    >>> t.loc[0, "Row"], t.loc[0, "Field"], int(t.loc[0, "Line"])
    ('row 1', 'lat', 2)
    """
    rows = [
        (p.file, p.line, "" if p.record == "-" else p.record,
         "" if p.field == "-" else p.field, p.message)
        for p in problems
    ]
    table = pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS))
    table["Line"] = table["Line"].astype("Int64")
    return table


def problems_csv_text(problems: Iterable[Problem]) -> str:
    """Every problem as CSV text with the :data:`PROBLEM_COLUMNS`, safe to open in Excel.

    The full list behind the first few shown on screen (the page's download,
    the CLI's ``--report``). Cells a spreadsheet would run as a formula are
    neutralised. Encode as ``utf-8-sig`` so Excel reads the Chinese.

    >>> print(problems_csv_text([Problem("a.csv", 2, "row 1", "lat", "=bad")]).strip())
    File,Line,Row,Field,Problem
    a.csv,2,row 1,lat,'=bad
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(PROBLEM_COLUMNS)
    for p in problems:
        writer.writerow([
            neutralise_formula(p.file), "" if p.line is None else p.line,
            "" if p.record == "-" else neutralise_formula(p.record),
            "" if p.field == "-" else neutralise_formula(p.field), neutralise_formula(p.message),
        ])
    return buf.getvalue()


def mapping_from_choices(choices: Mapping[str, str]) -> tuple[ColumnMapping | None, list[str]]:
    """The mapping that ``{header: field}`` choices describe, or why there is none.

    :data:`IGNORE` drops a column. A field chosen for two columns is refused
    with a message naming both, rather than silently keeping one.

    >>> mapping_from_choices({"lat": "lat", "y": "lat", "n": "name_en"})[1]
    ["'Latitude' is chosen for the columns 'lat' and 'y'; choose it for one column"]
    >>> mapping_from_choices({"a": "-", "n": "name_en"})[0].as_dict()
    {'n': 'name_en'}
    """
    by_field: dict[str, list[str]] = {}
    for header, field_ in choices.items():
        if field_ != IGNORE:
            by_field.setdefault(field_, []).append(header)
    errors = [
        f"{IMPORT_FIELDS.get(f, f)!r} is chosen for the columns "
        + " and ".join(repr(h) for h in headers)
        + "; choose it for one column"
        for f, headers in by_field.items()
        if len(headers) > 1
    ]
    if errors:
        return None, errors
    return ColumnMapping(tuple((h, f) for h, f in choices.items() if f != IGNORE)), []


def save_stem(filename: str) -> str:
    """A safe file-name stem from an upload's name: letters, digits, ``_`` and ``-``.

    No path, no leading dot, at most :data:`MAX_STEM_CHARS` characters;
    Chinese letters are kept.

    >>> save_stem("../../My Sites (2024).csv")
    'My-Sites-2024'
    >>> save_stem("天津 园区.geojson"), save_stem("..")
    ('天津-园区', 'my-data')
    """
    stem = PurePath(PurePath(filename.replace("\\", "/")).name).stem
    safe = _UNSAFE_NAME.sub("-", stem).strip("-_")[:MAX_STEM_CHARS].strip("-_")
    return safe or "my-data"


def save_dataset(dataset: UserDataset, directory: str | os.PathLike[str]) -> Path:
    """Save ``dataset`` as datasets-format YAML in ``directory``; never over another file.

    The name derives from the upload (``sites.csv`` -> ``sites.yaml``, then
    ``sites-2.yaml`` ... when taken). The name is claimed with an exclusive
    create, so two sessions saving at once never pick the same file, and the
    text is then written by :func:`geodata.io.importer.save_user_records`,
    atomically (temporary file, fsync, rename).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OSError
        If the folder cannot be created or written; nothing is left behind.
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    stem = save_stem(dataset.name)
    for n in range(1, _MAX_SAVE_ATTEMPTS + 1):
        path = folder / (f"{stem}.yaml" if n == 1 else f"{stem}-{n}.yaml")
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            continue
        os.close(fd)
        try:
            return save_user_records(dataset.records, path, overwrite=True)  # our claim
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    raise FileExistsError(
        f"{folder} already holds {stem}.yaml to {stem}-{_MAX_SAVE_ATTEMPTS}.yaml; "
        "expected a free name: move or delete some of them"
    )
