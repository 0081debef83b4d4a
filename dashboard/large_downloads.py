"""Downloads of a large selection: prepared part by part, then offered as a link.

Above :data:`geodata.model.limits.LARGE_EXPORT_MIN_RECORDS` records the CSV
and GeoJSON buttons become *Prepare* buttons. Pressing one writes the
selection into a zip file (:func:`geodata.io.large_export.write_zipped_export`)
with a progress bar, reading each part's descriptions and sources from the
store (:func:`dashboard.cache.with_details`), in the app's static folder under
an unguessable name; the link that appears is served from disk by the server,
so neither the file nor the selection is ever whole in memory. Prepared files
are deleted after :data:`geodata.model.limits.LARGE_EXPORT_KEEP_SECONDS`.
"""

from __future__ import annotations

import html
import secrets
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import cache
from geodata.io.export import ORIGIN_COLUMN, ORIGIN_CURATED, ORIGIN_USER, export_filename
from geodata.io.large_export import LARGE_EXPORT_FORMATS, write_zipped_export
from geodata.model import limits
from geodata.query.filters import RecordFilter

#: Where prepared files go, inside the static folder (served at app/static/).
EXPORTS_DIR = cache.STATIC_DIR / "exports"
#: The same folder as a URL relative to the app's page.
EXPORTS_URL = "app/static/exports"
#: Session key of the last prepared download: {"fmt", "filter", "url", "name", "bytes"}.
READY_KEY = "large_download_ready"


def _parts(selected: pd.DataFrame, user: pd.DataFrame | None) -> Iterator[pd.DataFrame]:
    """The selection with every column, a part at a time; the user's records last."""
    step = limits.LARGE_EXPORT_PART_ROWS
    for start in range(0, len(selected), step):
        part = cache.with_details(selected.iloc[start:start + step])
        yield part if user is None else part.assign(**{ORIGIN_COLUMN: ORIGIN_CURATED})
    if user is not None and len(user):
        yield user.assign(**{ORIGIN_COLUMN: ORIGIN_USER})


def remove_old_exports(folder: Path, keep_seconds: float, now: float | None = None) -> int:
    """Delete prepared downloads older than ``keep_seconds``; how many were removed."""
    now = time.time() if now is None else now
    removed = 0
    for entry in folder.glob("*") if folder.is_dir() else []:
        try:
            if entry.is_dir() and now - entry.stat().st_mtime > keep_seconds:
                shutil.rmtree(entry, ignore_errors=True)
                removed += 1
        except OSError:
            continue
    return removed


def _size_text(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e5 else f"{n / 1e3:,.0f} KB"


def _prepare(selected: pd.DataFrame, flt: RecordFilter, user: pd.DataFrame | None,
             fmt: str) -> None:
    """Write the zip with a progress bar; remember its link in the session."""
    total = len(selected) + (0 if user is None else len(user))
    name = export_filename(flt, fmt, user_data=user is not None)
    remove_old_exports(EXPORTS_DIR, limits.LARGE_EXPORT_KEEP_SECONDS)
    token = secrets.token_urlsafe(16)
    folder = EXPORTS_DIR / token
    bar = st.progress(0.0, text=f"Preparing {total:,} records as {LARGE_EXPORT_FORMATS[fmt]}…")

    def progress(done: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0),
                     text=f"Preparing {LARGE_EXPORT_FORMATS[fmt]}: {done:,} of {total:,} records")

    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = write_zipped_export(_parts(selected, user), folder / f"{name}.zip", fmt, name,
                                   on_part=progress)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        bar.empty()
        st.warning(f"The download could not be prepared: {exc.strerror or exc}. "
                   "Free some disk space or narrow the filters, and try again.")
        return
    bar.empty()
    st.session_state[READY_KEY] = {
        "fmt": fmt, "filter": flt, "url": f"{EXPORTS_URL}/{token}/{path.name}",
        "name": path.name, "bytes": path.stat().st_size, "records": total, "path": str(path),
    }


def ready_link(ready: dict[str, Any]) -> str:
    """The HTML link to a prepared file (its name and size; escaped)."""
    return (
        f'<a href="{html.escape(ready["url"], quote=True)}" '
        f'download="{html.escape(ready["name"], quote=True)}">'
        f"Download {html.escape(ready['name'])}</a> "
        f"({_size_text(int(ready['bytes']))}, {int(ready['records']):,} records; "
        "unzip it to open the file)"
    )


def render_large_downloads(
    cols: Sequence[Any], selected: pd.DataFrame, flt: RecordFilter, user: pd.DataFrame | None
) -> None:
    """The two *Prepare* buttons (CSV, GeoJSON) and, once prepared, the file's link."""
    total = len(selected) + (0 if user is None else len(user))
    for col, fmt in zip(cols, LARGE_EXPORT_FORMATS, strict=True):
        if col.button(
            f"Prepare data ({LARGE_EXPORT_FORMATS[fmt]})", key=f"prepare_{fmt}",
            width="stretch",
            help=f"{total:,} records are too many to build in the page: the file is written "
            "part by part into a zip (a fifth of the size), then offered as a link. "
            + ("UTF-8 with a byte-order mark, so Excel shows Chinese correctly."
               if fmt == "csv" else "Points in WGS 84 with every field and source."),
        ):
            _prepare(selected, flt, user, fmt)
    ready = st.session_state.get(READY_KEY)
    if ready and ready.get("filter") == flt:
        if Path(ready["path"]).is_file():
            st.html(f"<p>{ready_link(ready)}</p>")
        else:
            st.caption("The file prepared earlier has been removed: prepare it again.")
