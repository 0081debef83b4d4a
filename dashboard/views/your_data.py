"""Your data page: upload a file, match its columns, check every problem, add it to the map.

Steps, numbered as shown: upload; options (layer, coordinate system); match the columns;
the preview (per-row problems, warnings, the accepted records) and *Add to
the map for this session*; then the session's datasets, each with *Save to
disk* and *Remove*. The work is done by :mod:`geodata.io.importer`,
:mod:`geodata.store.userdata` and :mod:`dashboard.user_layer`; this page draws
widgets and shows results. Text from a file is only ever shown as text:
Markdown-escaped, or in a table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from dashboard import cache
from dashboard.tables import EMPTY_CELL, RECORD_COLUMN_CONFIG
from dashboard.user_layer import (
    add_to_session,
    remove_from_session,
    save_from_session,
    session_datasets,
    upload_cap_mb,
)
from geodata.io.importer import IMPORT_FIELDS, ColumnMapping, ImportPreview
from geodata.io.quoting import quote_input
from geodata.io.readers import FORMATS, SAVED_SUFFIXES
from geodata.model.frame import records_to_frame
from geodata.model.limits import MAX_COLUMNS, PROBLEMS_SHOWN
from geodata.model.schema import KINDS
from geodata.render.detail import escape_markdown
from geodata.render.style import USER_LAYER_LABEL
from geodata.render.table import display_table
from geodata.store.load import Problem
from geodata.store.userdata import (
    AUTO_CRS,
    COMMON_CRS,
    IGNORE,
    avoid_reserved_ids,
    file_digest,
    mapping_from_choices,
    problems_csv_text,
    problems_table,
    save_stem,
)

if TYPE_CHECKING:
    from streamlit.runtime.uploaded_file_manager import UploadedFile

UPLOAD_TYPES = ["csv", "tsv", "txt", "geojson", "json", "gpkg", "zip", "yaml", "yml"]
GEOJSON_SUFFIXES = (".geojson", ".json")
#: Bumped after a file is added, which gives the uploader a new key and so empties it.
UPLOAD_COUNTER_KEY = "_user_upload_n"
#: A message for the next run: (level, Markdown text, show a link to the map).
FLASH_KEY = "_user_flash"
KIND_KEY = "user_kind"
CRS_KEY = "user_crs"
MAPPING_COLUMNS = 3
#: Where "Save to disk" writes, in words: the server's own folder path is never shown
#: (it tells a user nothing they can use, and tells anyone how the server is laid out).
SAVE_FOLDER = "the atlas's folder for saved data"
#: Longer headers are cut in the column-matching labels.
MAX_LABEL_CHARS = 60
#: Up to this many file-level errors are shown as a list; more as a table.
FEW_ERRORS = 5
#: The accepted records are listed in full up to this many rows.
PREVIEW_ROWS = 1000
PROBLEM_CONFIG = {
    "File": st.column_config.TextColumn(width="small"),
    "Line": st.column_config.NumberColumn(width="small", format="%d"),
    "Row": st.column_config.TextColumn(width="small"),
    "Field": st.column_config.TextColumn(width="small"),
    "Problem": st.column_config.TextColumn(width="large"),
}

ss = st.session_state
#: Steps drawn so far in this run, so the headings number only the steps shown.
_steps: list[str] = []


def _md(text: object) -> str:
    return escape_markdown(str(text))


def _bullets(problems: tuple[Problem, ...] | list[str]) -> str:
    return "\n".join(f"- {_md(p)}" for p in problems)


def _step(title: str) -> None:
    _steps.append(title)
    st.markdown(f"#### {len(_steps)}. {title}")


def _field_label(field: str) -> str:
    return "— ignore this column —" if field == IGNORE else f"{IMPORT_FIELDS[field]} ({field})"


def _problems(problems: tuple[Problem, ...], what: str, key: str) -> None:
    """The first problems as a sortable table, and every one of them as a CSV download.

    Bounded, whatever the file: a table of at most :data:`PROBLEMS_SHOWN`
    rows, never one Markdown line per problem (50,000 of those took minutes
    to draw and a million crashed the tab).
    """
    shown = problems[:PROBLEMS_SHOWN]
    # The count and the download first, where they are seen without scrolling.
    left, right = st.columns([3, 2], vertical_alignment="center")
    plural = "s" if len(problems) != 1 else ""
    left.caption(
        f"The first {len(shown):,} of {len(problems):,} {what}s are listed below; the "
        "download has them all."
        if len(problems) > len(shown)
        else f"{len(problems):,} {what}{plural}, listed below."
    )
    right.download_button(
        f"Download all {len(problems):,} {what}s (CSV)" if plural
        else f"Download the {what} (CSV)",
        data=problems_csv_text(problems).encode("utf-8-sig"),
        file_name=f"{save_stem(problems[0].file)}-{what}s.csv", mime="text/csv",
        key=f"user_{what}_csv_{key}", icon=":material/download:", width="stretch",
    )
    st.dataframe(
        problems_table(shown), hide_index=True, width="stretch", column_config=PROBLEM_CONFIG
    )
    label = (
        f"Every {what} in full, as text" if len(shown) == len(problems)
        else f"The first {len(shown):,} {what}s in full, as text"
    )
    with st.expander(label):
        st.code("\n".join(str(p) for p in shown), language=None, wrap_lines=True)


def _flash(level: str, text: str, map_link: bool = False) -> None:
    ss[FLASH_KEY] = (level, text, map_link)


# ----------------------------------------------------------------- callbacks


def _add(preview: ImportPreview, digest: str, reserved: frozenset[str]) -> None:
    dataset = add_to_session(preview, digest, reserved)
    ss[UPLOAD_COUNTER_KEY] = ss.get(UPLOAD_COUNTER_KEY, 0) + 1
    _flash(
        "success",
        f"Added {len(dataset.records):,} record(s) from **{_md(dataset.name)}** to the map, "
        f"as the layer *{_md(USER_LAYER_LABEL)}*.",
        map_link=True,
    )


def _remove(digest: str, name: str) -> None:
    remove_from_session(digest)
    _flash("info", f"Removed **{_md(name)}** from this session's map.")


def _save(digest: str, name: str) -> None:
    try:
        path = save_from_session(digest)
    except OSError as exc:
        _flash(
            "error",
            f"**{_md(name)}** could not be saved to {SAVE_FOLDER}: "
            f"{_md(exc.strerror or type(exc).__name__)}. Nothing was written. Ask whoever "
            "runs the atlas to check that folder.",
        )
        return
    _flash("success", f"Saved **{_md(name)}** as **{_md(path.name)}** in {SAVE_FOLDER}.")


# ----------------------------------------------------------------- steps


def _options(name: str) -> tuple[str, str | None]:
    """Step 2: the default layer, and the coordinate system (not for GeoJSON)."""
    _step("Options")
    is_geojson = Path(name).suffix.lower() in GEOJSON_SUFFIXES
    left, right = st.columns(2)
    kind = left.selectbox(
        "Layer for rows without a kind column", options=list(KINDS),
        format_func=KINDS.__getitem__, key=KIND_KEY,
        help="A column mapped to 'kind' (cluster, fund or zone) overrides this row by row.",
    )
    choice = right.selectbox(
        "Coordinate system of the coordinates", options=list(COMMON_CRS),
        format_func=lambda c: COMMON_CRS.get(c, c), key=CRS_KEY, accept_new_options=True,
        disabled=is_geojson,
        help="For a CSV's latitude/longitude (or x/y) columns, or a GeoPackage or shapefile "
        "that declares none; points are converted to WGS 84. Type another code, such as "
        "EPSG:2385, if yours is not listed. GeoJSON is always WGS 84.",
    )
    crs = None if is_geojson or not choice or choice == AUTO_CRS else str(choice).strip()
    return kind, crs


def _match_columns(first: ImportPreview, digest: str) -> tuple[ColumnMapping | None, list[str]]:
    """Step 3: one selectbox per column, starting from the suggested mapping."""
    _step("Match the columns")
    st.caption(
        "Each column of the file feeds one field of a record. The guesses come from the "
        "headers; change any that is wrong, or ignore the column. A record needs a name, "
        "a year and, unless the file has point geometry, latitude and longitude."
    )
    suggested = first.mapping.as_dict()
    options = [IGNORE, *IMPORT_FIELDS]
    grid = st.columns(MAPPING_COLUMNS)
    choices: dict[str, str] = {}
    # The reader refuses wider files; the cap holds here too, whatever the preview says.
    for i, header in enumerate(first.headers[:MAX_COLUMNS]):
        default = suggested.get(header, IGNORE)
        short = header if len(header) <= MAX_LABEL_CHARS else header[:MAX_LABEL_CHARS] + "…"
        label = _md(short) if header.strip() else f"(column {i + 1}, no header)"
        choices[header] = grid[i % MAPPING_COLUMNS].selectbox(
            label, options=options, index=options.index(default), format_func=_field_label,
            key=f"user_map_{digest[:16]}_{i}",
        )
    return mapping_from_choices(choices)


def _preview(preview: ImportPreview, digest: str, reserved: frozenset[str]) -> None:
    """Step 4: what importing would give, every problem, and the button to add it."""
    _step("Check the preview")
    name = _md(preview.filename)
    if preview.errors:
        if len(preview.errors) <= FEW_ERRORS:
            st.error(
                f"**{name} was not imported**; nothing was added.\n\n{_bullets(preview.errors)}"
            )
        else:
            st.error(
                f"**{name} was not imported**; nothing was added. {len(preview.errors):,} "
                "problems, each naming the line, the record and the field:"
            )
            _problems(preview.errors, "problem", digest[:16])
        return
    m = st.columns(4)
    m[0].metric("Rows read", f"{preview.rows_read:,}")
    m[1].metric("Accepted", f"{len(preview.records):,}")
    m[2].metric("Rejected", f"{preview.rejected:,}")
    m[3].metric("Warnings", f"{len(preview.warnings):,}")
    st.caption(
        _md(f"{FORMATS.get(preview.format or '', 'Unrecognised format')}; coordinates read in "
            f"{preview.crs or 'WGS 84'} and converted to WGS 84.")
    )
    if preview.problems:
        st.error(
            f"**{preview.rejected:,} row(s) rejected.** Each problem names the row, the field, "
            "what is wrong and what was expected. Fix them in the file (or change the column "
            "matching) and upload it again; the accepted rows can be added without them."
        )
        _problems(preview.problems, "problem", digest[:16])
    if preview.warnings:
        st.warning(
            f"**{len(preview.warnings):,} warning(s).** These rows are kept; check them."
        )
        _problems(preview.warnings, "warning", digest[:16])
    if not preview.records:
        st.info("No row was accepted, so there is nothing to add.")
        return
    st.markdown(f"**Accepted records ({len(preview.records):,})**")
    if len(preview.records) > PREVIEW_ROWS:
        st.caption(f"The first {PREVIEW_ROWS:,} are listed; all are added.")
    st.dataframe(
        display_table(records_to_frame(preview.records[:PREVIEW_ROWS])),
        hide_index=True, width="stretch", column_config=RECORD_COLUMN_CONFIG,
        placeholder=EMPTY_CELL,
    )
    if any(d.digest == digest for d in session_datasets()):
        st.info("This file is already on the map: see *Your datasets in this session* below.")
        return
    st.button(
        f"Add {len(preview.records):,} record(s) to the map for this session",
        type="primary", on_click=_add, args=(preview, digest, reserved), key="user_add",
    )


def _import(uploaded: UploadedFile, cap_mb: int) -> None:
    """Steps 2 to 4 for one uploaded file; any failure is a message, never a traceback."""
    data = uploaded.getvalue()
    name = uploaded.name
    digest = file_digest(data)
    # A saved YAML file's records carry their own layer and WGS 84 points: no options.
    saved = Path(name).suffix.lower() in SAVED_SUFFIXES
    kind, crs = (next(iter(KINDS)), None) if saved else _options(name)
    max_bytes = cap_mb * 2**20
    try:
        first = cache.import_preview(data, name, None, kind, crs, max_bytes)
        preview = first
        if first.headers:
            mapping, errors = _match_columns(first, digest)
            if errors:
                st.error("**Choose each field for one column only.**\n\n" + _bullets(errors))
                return
            if mapping != first.mapping:
                preview = cache.import_preview(data, name, mapping, kind, crs, max_bytes)
    except Exception as exc:  # the importer reports file problems; this is a last resort
        st.error(
            f"**{_md(name)}** could not be read: {_md(quote_input(str(exc), 300))}. "
            "Nothing was added."
        )
        return
    # The map's own ids: a user's record that takes one is renamed, and the preview says so.
    reserved = frozenset(cache.atlas_frame()["id"])
    _preview(avoid_reserved_ids(preview, reserved), digest, reserved)


def _session_list() -> None:
    st.markdown("#### Your datasets in this session")
    datasets = session_datasets()
    if not datasets:
        st.caption(
            "None yet. Records you add stay in this browser tab's session only: no one else "
            "sees them, and they are gone when you close the tab unless you save them."
        )
        return
    for d in datasets:
        with st.container(border=True):
            text, save, remove = st.columns([5, 1.4, 1], vertical_alignment="center")
            outside = f" · {len(d.flagged):,} outside China" if d.flagged else ""
            text.markdown(f"**{_md(d.name)}** · {len(d.records):,} record(s){outside}")
            if d.saved_to:
                text.caption(f"Saved as {_md(Path(d.saved_to).name)} in {SAVE_FOLDER}")
            save.button(
                "Saved" if d.saved_to else "Save to disk", key=f"user_save_{d.digest[:16]}",
                on_click=_save, args=(d.digest, d.name), disabled=bool(d.saved_to),
                width="stretch",
                help=f"Writes {save_stem(d.name)}.yaml (in the datasets' format) to "
                f"{SAVE_FOLDER}; a new name is chosen if that one is taken, never over "
                "another file.",
            )
            remove.button(
                "Remove", key=f"user_remove_{d.digest[:16]}", on_click=_remove,
                args=(d.digest, d.name), width="stretch",
                help="Takes the records off this session's map; a saved file stays on disk.",
            )
    st.page_link("views/map.py", label="Show them on the map", icon=":material/map:")


# ----------------------------------------------------------------- layout

cache.start_file_reader()
cap = upload_cap_mb()
st.markdown("## Your data")
st.caption(
    "Put your own points on the map, beside the curated records. Your records stay in this "
    "browser session only and are drawn as their own layer, "
    f"*{_md(USER_LAYER_LABEL)}*; nothing is kept unless you press *Save to disk*."
)
flash = ss.pop(FLASH_KEY, None)
if flash:
    level, text, map_link = flash
    getattr(st, level)(text)
    if map_link:
        st.page_link("views/map.py", label="Open the map", icon=":material/map:")

_step("Upload a file")
uploaded = st.file_uploader(
    f"CSV, GeoJSON, GeoPackage, zipped Shapefile or a saved .yaml file, up to {cap} MB",
    type=UPLOAD_TYPES, key=f"user_upload_{ss.get(UPLOAD_COUNTER_KEY, 0)}",
    max_upload_size=cap,
    help=f"Files over {cap} MB are refused. CSV: UTF-8 text with "
    "latitude and longitude columns. GeoJSON: a FeatureCollection of points. Shapefile: "
    "the .shp, .shx, .dbf and .prj together in one .zip. YAML: a file saved from this page.",
)
st.caption(
    f"A file over {cap} MB is refused before it is sent and marked in red: point at it "
    "for the reason."
)
with st.expander("What files work, and what a row needs"):
    st.markdown(
        f"- **Size**: up to {cap} MB, 50,000 rows and {MAX_COLUMNS} columns per file.\n"
        "- **CSV** (UTF-8): columns for latitude and longitude (`lat`, `latitude`, `y`, "
        "`纬度`, `lon`, `lng`, `x`, `经度` … are recognised), in WGS 84 or the coordinate "
        "system you choose.\n"
        "- **GeoJSON**: a FeatureCollection of Point features (WGS 84).\n"
        "- **GeoPackage** (`.gpkg`): the first layer with points (the preview says which), "
        "in its own CRS; plain tables only, not SQL views.\n"
        "- **Shapefile**: the `.shp`, `.shx`, `.dbf` and `.prj` zipped together.\n"
        "- **A file saved here before** (`.yaml`, the datasets' format): its records come "
        "back as they were saved, checked like the curated data.\n"
        "- **Every row** needs a name (English or Chinese), a point and a year. The rest "
        "has defaults: the layer you choose, the province found from the point, the domain "
        "*General*, and the file as the source.\n"
        "- Points outside China are kept and flagged; every rejected row is listed with "
        "its field and what was expected."
    )
if uploaded is not None:
    _import(uploaded, cap)
_session_list()
st.caption(
    f"Saved files go to {SAVE_FOLDER} on the machine that runs it, in the datasets' format; "
    "upload one here to bring its records back."
)
