"""A large selection's download written part by part into a zip file, never whole in memory.

The ordinary downloads (:mod:`geodata.io.export`) build the file in memory:
fine for thousands of records, not for a million (every description and
source, about a gigabyte of CSV text, plus the frame it came from). Here the
rows arrive in parts (the dashboard reads each part's detail columns from the
store), each part is formatted exactly as :func:`geodata.io.export.to_csv_text`
or :func:`geodata.io.export.to_geojson` would format it, and streamed into one
deflated zip member: server memory holds one part at a time, and the file a
user downloads is a fifth of the text's size.

The zip is written under a temporary name beside its target and renamed into
place, so a reader never sees half a file and a failure leaves none.

Example
-------
>>> import io, tempfile, pathlib, zipfile
>>> import pandas as pd
>>> from geodata.model.schema import RECORD_COLUMNS
>>> path = pathlib.Path(tempfile.mkdtemp()) / "out.csv.zip"
>>> part = pd.DataFrame(columns=RECORD_COLUMNS)
>>> write_zipped_export([part], path, "csv", "out.csv").name
'out.csv.zip'
>>> zipfile.ZipFile(path).read("out.csv")[:3]
b'\\xef\\xbb\\xbf'
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from geodata.io.export import UTF8_BOM, to_csv_frame, to_geojson

#: The formats a large selection can be downloaded in.
LARGE_EXPORT_FORMATS: dict[str, str] = {"csv": "CSV", "geojson": "GeoJSON"}


def write_zipped_export(
    parts: Iterable[pd.DataFrame], path: str | os.PathLike[str], fmt: str, member: str,
    on_part: Callable[[int], None] | None = None,
) -> Path:
    """Write the rows of ``parts``, in order, as one ``fmt`` file ``member`` zipped at ``path``.

    Parameters
    ----------
    parts
        Record frames (as :func:`geodata.io.export.to_csv_text` takes them),
        read one at a time.
    fmt
        ``"csv"`` (UTF-8 with a byte-order mark, one header row) or ``"geojson"``.
    on_part
        Called with the number of rows written after each part (for a progress bar).

    Returns
    -------
    Path
        ``path``. Unzipped, the member equals ``to_csv_bytes`` of all the parts
        concatenated (CSV) or a FeatureCollection of the same features (GeoJSON).
    """
    if fmt not in LARGE_EXPORT_FORMATS:
        raise ValueError(f"'fmt' should be one of {list(LARGE_EXPORT_FORMATS)}, got {fmt!r}")
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf, \
                zf.open(member, "w", force_zip64=True) as raw, \
                io.TextIOWrapper(raw, encoding="utf-8", newline="") as out:
            written = 0
            if fmt == "csv":
                out.write(UTF8_BOM)
            else:
                out.write('{"type": "FeatureCollection", "features": [\n')
            for i, part in enumerate(parts):
                if fmt == "csv":
                    to_csv_frame(part).to_csv(out, index=False, header=i == 0)
                else:
                    for j, feature in enumerate(to_geojson(part)["features"]):
                        separator = ",\n" if written or j else ""
                        out.write(separator + json.dumps(feature, ensure_ascii=False))
                written += len(part)
                if on_part is not None:
                    on_part(written)
            if fmt == "geojson":
                out.write("\n]}\n")
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


__all__ = ["LARGE_EXPORT_FORMATS", "write_zipped_export"]
