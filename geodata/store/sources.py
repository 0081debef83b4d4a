"""The files a store is compiled from: YAML, GeoParquet and CSV, validated alike.

A data folder (``datasets/`` or the one ``CMF_ATLAS_DATA`` names) may hold

- ``*.yaml`` / ``*.yml``: curated records, read by :func:`geodata.store.load.load_records`;
- ``*.parquet`` / ``*.geoparquet``: records in the store's GeoParquet layout
  (as written by ``python -m geodata convert``), each row validated against
  :class:`geodata.model.schema.Record` exactly as a YAML record is;
- ``*.csv``: a table read by the importer (:func:`geodata.io.importer.preview_import`),
  with its column guessing and checks; any rejected row refuses the file.

``python -m geodata convert`` also reads the importer's other formats
(GeoJSON, GeoPackage, zipped Shapefile) the same way as CSV.

Every problem in every file is collected before failing, and ids must be
unique across all the files, as for the curated YAML.

Example
-------
>>> from geodata.store.load import DATASET_DIR
>>> [p.suffix for p in source_paths(DATASET_DIR)][:1]
['.yaml']
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pydantic import ValidationError

from geodata.model.frame import records_to_frame
from geodata.model.limits import SOURCE_TABLE_MAX_BYTES, SOURCE_TABLE_MAX_ROWS
from geodata.model.schema import ALLOW_OUTSIDE_CHINA, RECORD_COLUMNS, Record
from geodata.store.geoparquet import read_store_frame
from geodata.store.load import RELATION_FILES, DatasetError, Problem, load_records

YAML_SUFFIXES: tuple[str, ...] = (".yaml", ".yml")
PARQUET_SUFFIXES: tuple[str, ...] = (".parquet", ".geoparquet")
CSV_SUFFIXES: tuple[str, ...] = (".csv",)
#: What a data folder may hold; other files in it are ignored.
FOLDER_SUFFIXES: tuple[str, ...] = (*YAML_SUFFIXES, *PARQUET_SUFFIXES, *CSV_SUFFIXES)
#: Tables the importer reads (column guessing, CRS, checks), as for an upload.
IMPORT_SUFFIXES: tuple[str, ...] = (*CSV_SUFFIXES, ".tsv", ".txt", ".geojson", ".json",
                                    ".gpkg", ".zip")
#: Every file :func:`load_source_records` reads.
SOURCE_SUFFIXES: tuple[str, ...] = (*YAML_SUFFIXES, *PARQUET_SUFFIXES, *IMPORT_SUFFIXES)


def source_paths(directory: str | Path) -> list[Path]:
    """The data files directly in ``directory`` (:data:`FOLDER_SUFFIXES`), sorted by name.

    Hidden files (a leading ``.``) are skipped.
    """
    directory = Path(directory)
    return sorted(
        p for p in directory.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in FOLDER_SUFFIXES
        # links.yaml and designations.yaml sit beside the records but are not records.
        and p.name not in RELATION_FILES
    )


def _plain(value: Any) -> Any:
    """A frame cell as the plain value a YAML record would hold."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, tuple):
        return list(value)
    if hasattr(value, "tolist"):  # numpy scalars and arrays read from Parquet
        return value.tolist()
    return value


def _validation_problems(file: str, label: str, exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "-"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "required field is missing"
        out.append(Problem(file, None, label, field, message))
    return out


def records_from_frame(
    frame: pd.DataFrame, file: str, *, allow_outside_china: bool = False
) -> list[Record]:
    """Validate every row of a records frame, as :func:`geodata.store.load.load_records` does YAML.

    Rows are labelled ``row N (id '...')`` (1-based) in problems, since a
    Parquet file has no lines.

    Raises
    ------
    DatasetError
        With every problem: missing columns, invalid fields, duplicate ids.
    """
    missing = [c for c in ("id", "kind", "lat", "lon") if c not in frame.columns]
    if missing:
        raise DatasetError([Problem(
            file, None, "-", "-",
            f"missing column(s) {missing}; expected the record columns {RECORD_COLUMNS}",
        )])
    columns = [c for c in RECORD_COLUMNS if c in frame.columns]
    extra = [c for c in frame.columns if c not in RECORD_COLUMNS and c != "geometry"
             and not str(c).startswith("_")]
    problems: list[Problem] = []
    if extra:
        problems.append(Problem(
            file, None, "-", "-",
            f"unexpected column(s) {extra}; expected only the record columns {RECORD_COLUMNS}",
        ))
    records: list[Record] = []
    seen: dict[str, int] = {}
    context = {ALLOW_OUTSIDE_CHINA: allow_outside_china}
    for index, raw in enumerate(frame[columns].to_dict("records")):
        row = {k: _plain(v) for k, v in raw.items()}
        row = {k: v for k, v in row.items() if v is not None}
        label = f"row {index + 1} (id {row.get('id')!r})" if row.get("id") else f"row {index + 1}"
        try:
            rec = Record.model_validate(row, context=context)
        except ValidationError as exc:
            problems.extend(_validation_problems(file, label, exc))
            continue
        if rec.id in seen:
            problems.append(Problem(
                file, None, label, "id",
                f"duplicate id {rec.id!r}, first used in row {seen[rec.id]}",
            ))
            continue
        seen[rec.id] = index + 1
        records.append(rec)
    if problems:
        raise DatasetError(problems)
    return records


def _read_parquet(path: Path) -> list[Record]:
    try:
        frame = read_store_frame(path)
    except (OSError, ValueError) as exc:
        raise DatasetError([Problem(
            str(path), None, "-", "-", f"not a readable GeoParquet file ({exc})"
        )]) from None
    return records_from_frame(frame, str(path))


def _read_table(path: Path) -> list[Record]:
    # Imported here: the importer pulls in the readers (pyogrio, zip handling),
    # which a folder of YAML alone never needs.
    from geodata.io.importer import preview_import

    preview = preview_import(path, max_bytes=SOURCE_TABLE_MAX_BYTES, max_rows=SOURCE_TABLE_MAX_ROWS)
    problems = [*preview.errors, *preview.problems]
    if problems:
        raise DatasetError([
            p if p.file == str(path) else Problem(str(path), p.line, p.record, p.field, p.message)
            for p in problems
        ])
    return list(preview.records)


def load_source_records(paths: Sequence[Path | str]) -> list[Record]:
    """Every record in ``paths`` (:data:`SOURCE_SUFFIXES`), validated, ids unique across all.

    Raises
    ------
    DatasetError
        With every problem in every file; ``no dataset files`` when ``paths`` is empty.
    """
    paths = [Path(p) for p in paths]
    if not paths:
        raise DatasetError([Problem("-", None, "-", "-", "no dataset files found")])
    unknown = [p for p in paths if p.suffix.lower() not in SOURCE_SUFFIXES]
    if unknown:
        raise DatasetError([
            Problem(str(p), None, "-", "-",
                    f"unsupported file type {p.suffix!r}; expected one of {list(SOURCE_SUFFIXES)}")
            for p in unknown
        ])
    problems: list[Problem] = []
    batches: list[tuple[str, list[Record]]] = []
    yaml_paths = [p for p in paths if p.suffix.lower() in YAML_SUFFIXES]
    if yaml_paths:
        try:
            batches.append(("YAML", load_records(yaml_paths)))
        except DatasetError as exc:
            problems.extend(exc.problems)
    for path in paths:
        suffix = path.suffix.lower()
        if suffix in YAML_SUFFIXES:
            continue
        reader = _read_parquet if suffix in PARQUET_SUFFIXES else _read_table
        try:
            batches.append((str(path), reader(path)))
        except DatasetError as exc:
            problems.extend(exc.problems)
    records = _unique_across(batches, problems)
    if problems:
        raise DatasetError(problems)
    return records


def _unique_across(
    batches: Iterable[tuple[str, list[Record]]], problems: list[Problem]
) -> list[Record]:
    seen: dict[str, str] = {}
    out: list[Record] = []
    for where, records in batches:
        for rec in records:
            if rec.id in seen and seen[rec.id] != where:
                problems.append(Problem(
                    where, None, f"id {rec.id!r}", "id",
                    f"duplicate id {rec.id!r}, also used in {seen[rec.id]}",
                ))
                continue
            seen.setdefault(rec.id, where)
            out.append(rec)
    return out


def load_source_frame(paths: Sequence[Path | str]) -> gpd.GeoDataFrame:
    """The records of ``paths`` as one frame (see :func:`load_source_records`)."""
    return records_to_frame(load_source_records(paths))
