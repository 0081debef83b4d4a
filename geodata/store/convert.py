"""``python -m geodata convert IN OUT.parquet``: any supported input to a store file.

``IN`` is a YAML dataset, a GeoParquet store, a CSV / GeoJSON / GeoPackage /
zipped Shapefile (read by the importer, as an upload is), or a folder of
YAML, GeoParquet and CSV files (as ``CMF_ATLAS_DATA`` names). Every record
is validated; the output is written only when all are valid, atomically.

Example
-------
>>> import tempfile, pathlib
>>> from geodata.store.load import DATASET_DIR
>>> out = pathlib.Path(tempfile.mkdtemp()) / "atlas.parquet"
>>> convert(DATASET_DIR, out) > 0
True
"""

from __future__ import annotations

from pathlib import Path

from geodata.store.geoparquet import write_store
from geodata.store.load import DatasetError, Problem
from geodata.store.sources import PARQUET_SUFFIXES, load_source_frame, source_paths


def input_paths(source: Path) -> list[Path]:
    """The files ``source`` names: itself, or a folder's data files.

    Raises
    ------
    DatasetError
        If ``source`` does not exist, or is a folder without data files.
    """
    if source.is_dir():
        paths = source_paths(source)
        if not paths:
            raise DatasetError([Problem(
                str(source), None, "-", "-",
                "folder holds no .yaml, .parquet or .csv files",
            )])
        return paths
    if not source.exists():
        raise DatasetError([Problem(str(source), None, "-", "-", "no such file or folder")])
    return [source]


def convert(source: str | Path, out: str | Path) -> int:
    """Validate every record of ``source`` and write them to the GeoParquet store ``out``.

    Returns
    -------
    int
        How many records were written.

    Raises
    ------
    ValueError
        If ``out`` is not a ``.parquet`` / ``.geoparquet`` path, or is an input.
    DatasetError
        With every problem in the input; nothing is written.
    """
    source, out = Path(source), Path(out)
    if out.suffix.lower() not in PARQUET_SUFFIXES:
        raise ValueError(
            f"output {out} should end in one of {list(PARQUET_SUFFIXES)}, got {out.suffix!r}"
        )
    paths = input_paths(source)
    if any(p.resolve() == out.resolve() for p in paths):
        raise ValueError(f"output {out} is also an input; choose another output file")
    frame = load_source_frame(paths)
    write_store(frame, out)
    return len(frame)
