"""Every Streamlit cache of the app, in one place.

Caches are keyed on hashable inputs (file paths and modification stamps),
so an edited dataset is reloaded and a different one never returns stale data.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Container
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import streamlit as st

from geodata.db import team
from geodata.model.places import CHINA_VIEW_BOUNDS
from geodata.model.relations import (
    attach_relations,
    group_options,
    load_atlas,
    relation_paths,
)
from geodata.query.engine import AtlasStore, open_store
from geodata.query.filters import RecordFilter, bounds_rows, filter_bounds, filter_records
from geodata.query.source_index import SourcesPage
from geodata.render.assets import (
    STATIC_URL_FROM_COMPONENT,
    install_basemap,
    install_offline_assets,
)
from geodata.render.basemap import BASEMAP_PATH, basemap_geojson, load_basemap
from geodata.render.layers import BasemapURL
from geodata.screening.match import Screener
from geodata.screening.name_index import ensure_name_index
from geodata.screening.run import build_screener, store_screener
from geodata.store.cache import cache_dir, compiled_store
from geodata.store.geoparquet import is_lean, read_lean_frame
from geodata.store.load import DATASET_DIR, default_dataset_paths
from geodata.store.sources import YAML_SUFFIXES, source_paths

if TYPE_CHECKING:
    import altair as alt

    from geodata.io.importer import ColumnMapping, ImportPreview

STATIC_DIR = Path(__file__).resolve().parent / "static"

#: Set to a folder of YAML files to map your own data instead of datasets/.
DATA_DIR_ENV = "CMF_ATLAS_DATA"


def dataset_paths() -> tuple[str, ...]:
    """The record files in use: ``$CMF_ATLAS_DATA/*.yaml`` or ``datasets/*.yaml``, or
    in team mode (``CMF_ATLAS_DB`` set) the published atlas exported from the database.

    ``links.yaml`` and ``designations.yaml`` in the same folder are read with them.
    A ``CMF_ATLAS_DATA`` folder that also holds GeoParquet or CSV files gives
    all its data files (:func:`geodata.store.sources.source_paths`), read
    through the compiled store (issue 13).
    """
    dsn = team.team_dsn()
    if dsn:
        directory = _published_folder(dsn, _team_stamp(dsn))
        return tuple(str(p) for p in default_dataset_paths(directory))
    directory = Path(os.environ.get(DATA_DIR_ENV, DATASET_DIR))
    sources = source_paths(directory) if directory.is_dir() else []
    if any(p.suffix.lower() not in YAML_SUFFIXES for p in sources):
        return tuple(str(p) for p in sources)
    return tuple(str(p) for p in default_dataset_paths(directory))


# Team mode: a short TTL, so an approval made on another app server shows here within
# seconds; this server's own approvals clear it at once (refresh_team_data).
@st.cache_data(ttl=3, show_spinner=False)
def _team_stamp(dsn: str) -> tuple:
    return team.current_stamp(dsn)


# One export per published state of the database; a new approval is a new stamp, so a
# new folder, loaded by the ordinary (validated) YAML loader.
@st.cache_resource(show_spinner="Loading the published atlas…", max_entries=4)
def _published_folder(dsn: str, stamp: tuple) -> Path:
    return team.published_snapshot(dsn=dsn)


def refresh_team_data() -> None:
    """After an approval on this server: read the database's new state at once."""
    _team_stamp.clear()


def _all_yaml(paths: tuple[str, ...]) -> bool:
    return all(Path(p).suffix.lower() in YAML_SUFFIXES for p in paths)


def _stamps(paths: tuple[str, ...]) -> tuple[int, ...]:
    # The relation files count too: an edited links.yaml reloads the frame.
    directory = Path(paths[0]).parent if paths else DATASET_DIR
    extra = [p for p in relation_paths(directory) if p.is_file()]
    return tuple(os.stat(p).st_mtime_ns for p in (*paths, *extra))


# A resource, not data: one frame shared by every session and rerun, never changed
# (pandas' copy-on-write keeps filtered frames from writing into it; a test runs
# every page and compares it with a fresh load). st.cache_data would unpickle a
# copy on every rerun: 0.7 s at 100,000 records.
@st.cache_resource(show_spinner="Loading the datasets…", max_entries=4)
def _load_frame(paths: tuple[str, ...], stamps: tuple[int, ...]) -> gpd.GeoDataFrame:
    if _all_yaml(paths):
        return load_atlas([Path(p) for p in paths]).frame
    # GeoParquet / CSV: validated once when compiled to the store (cached on disk,
    # rebuilt when a file changes), then read back columnar. Links and
    # designations are read from YAML folders only.
    # Only the columns the map, filters and charts read are held (a lean frame);
    # descriptions, sources and the rest are read per row when shown
    # (with_details).
    frame = read_lean_frame(compiled_store([Path(p) for p in paths]))
    return attach_relations(frame, [], [])


# One DuckDB connection per store, shared by every session (each query has its own
# cursor; nothing is written).
@st.cache_resource(show_spinner=False, max_entries=4)
def _atlas_store(paths: tuple[str, ...], stamps: tuple[int, ...]) -> AtlasStore:
    return open_store(compiled_store([Path(p) for p in paths]))


def with_details(part: pd.DataFrame, columns: tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
    """``part`` of :func:`atlas_frame` with every record column (descriptions,
    sources, dates …) and its point geometry.

    A large dataset's frame is lean (:func:`geodata.store.geoparquet.read_lean_frame`):
    the detail columns are read from the store for these rows only. A YAML
    atlas's frame already has them and is returned as it is.
    """
    if "name_en" not in part.columns and "id" in part.columns:
        # A narrow selection of the atlas (the map page's, MAP_COLUMNS): its rows
        # of the atlas frame first, by index.
        part = atlas_frame().loc[part.index]
    if not is_lean(part):
        return part
    paths = dataset_paths()
    return _atlas_store(paths, _stamps(paths)).with_details(part, columns)


@st.cache_data(show_spinner="Collecting the sources…", max_entries=16)
def _sources_page(paths: tuple[str, ...], stamps: tuple[int, ...], flt: RecordFilter,
                  search: str, limit: int, offset: int) -> SourcesPage:
    return _atlas_store(paths, stamps).sources_page(flt, search, limit=limit, offset=offset)


def sources_page(flt: RecordFilter, search: str, limit: int, offset: int) -> SourcesPage | None:
    """A page of the sources index of a large (GeoParquet/CSV) atlas, from the store
    (:func:`geodata.query.source_index.sources_page`); ``None`` for a YAML atlas,
    whose frame already holds every source."""
    paths = dataset_paths()
    if _all_yaml(paths):
        return None
    return _sources_page(paths, _stamps(paths), flt, search, limit, offset)


class RecordIds(Container[str]):
    """Membership in a column of record ids without a set of them: at 1,000,000
    records building ``set(frame["id"])`` costs 0.5 s and 100 MB on every rerun,
    and a link or a click only ever asks about a handful of ids."""

    def __init__(self, *ids: pd.Series):
        self._ids = ids

    def __contains__(self, record_id: object) -> bool:
        return isinstance(record_id, str) and any(
            bool((ids == record_id).any()) for ids in self._ids)


# Facts of the whole atlas that each rerun would otherwise recompute over every record.
@st.cache_resource(show_spinner=False, max_entries=4)
def _atlas_facts(paths: tuple[str, ...], stamps: tuple[int, ...]) -> dict:
    frame = _load_frame(paths, stamps)
    has_links = frame["links"].map(bool).astype(bool) if "links" in frame.columns else None
    return {
        "groups": group_options(frame),
        "zone_statuses": frozenset(frame["status"].dropna().unique()),
        "bounds_rows": bounds_rows(frame),
        "linked": frame.iloc[:0] if has_links is None else frame[has_links],
    }


def group_choices() -> dict[str, str]:
    """The organisation-group filter's choices (:func:`geodata.model.relations.group_options`)."""
    paths = dataset_paths()
    return _atlas_facts(paths, _stamps(paths))["groups"]


def atlas_bounds_rows() -> pd.DataFrame:
    """The atlas rows that decide the sliders' extent (see `bounds_rows`)."""
    paths = dataset_paths()
    return _atlas_facts(paths, _stamps(paths))["bounds_rows"]


def zone_statuses() -> frozenset[str]:
    """The statuses some record of the atlas has (the legend lists only these)."""
    paths = dataset_paths()
    return _atlas_facts(paths, _stamps(paths))["zone_statuses"]


def linked_records() -> pd.DataFrame:
    """The atlas records that have links (for :func:`geodata.model.relations.link_lines`)."""
    paths = dataset_paths()
    return _atlas_facts(paths, _stamps(paths))["linked"]


def atlas_frame() -> gpd.GeoDataFrame:
    """All records with their links and designations, validated.

    Raises ``DatasetError`` naming every problem (records, links, designations).
    """
    paths = dataset_paths()
    return _load_frame(paths, _stamps(paths))


@st.cache_data(show_spinner=False, max_entries=4)
def _review_counts(paths: tuple[str, ...], stamps: tuple[int, ...]) -> dict[str, int]:
    out = {"accepted": 0, "rejected": 0, "records": 0}
    if not _all_yaml(paths):
        return out  # designations come with YAML folders only
    atlas = load_atlas([Path(p) for p in paths])
    for d in atlas.designations:
        out[d.review] += 1
    out["records"] = len({d.record for d in atlas.designations if d.in_force})
    return out


def designation_review_counts() -> dict[str, int]:
    """How many designation candidates were accepted and rejected, and records on a list."""
    paths = dataset_paths()
    return _review_counts(paths, _stamps(paths))


@st.cache_resource(show_spinner="Loading the basemap…")
def _basemap_url(path: str, stamp: int) -> BasemapURL:
    rel = install_basemap(STATIC_DIR, basemap_geojson(Path(path)))
    return BasemapURL(f"{STATIC_URL_FROM_COMPONENT}/{rel.as_posix()}")


def basemap_url() -> BasemapURL:
    """Where the map page's browser fetches the basemap: a static file, written once.

    See :class:`geodata.render.layers.BasemapURL`.
    """
    return _basemap_url(str(BASEMAP_PATH), os.stat(BASEMAP_PATH).st_mtime_ns)


@st.cache_resource
def offline_assets() -> str:
    """Copy Leaflet into the static folder once per server process."""
    return str(install_offline_assets(STATIC_DIR))


@st.cache_data(show_spinner=False)
def _load_basemap_frame(path: str, stamp: int) -> gpd.GeoDataFrame:
    return load_basemap(Path(path))


def basemap_frame() -> gpd.GeoDataFrame:
    """The basemap as a GeoDataFrame (for the province choropleth)."""
    return _load_basemap_frame(str(BASEMAP_PATH), os.stat(BASEMAP_PATH).st_mtime_ns)


@st.cache_data(show_spinner="Drawing the figure…", max_entries=24)
def _figure_bytes(
    flt: RecordFilter, fmt: str, paths: tuple[str, ...], stamps: tuple[int, ...],
    title: str | None, caption: str | None, width_in: float,
    bounds: tuple[tuple[float, float], tuple[float, float]], text_as: str,
    user_points: tuple[tuple[float, float], ...] | None, links: bool = False,
) -> bytes:
    import pandas as pd

    from geodata.render.figure import dataset_date, figure_bytes

    frame = with_details(filter_records(_load_frame(paths, stamps), flt), ("sources",))
    user = None if user_points is None else pd.DataFrame(list(user_points) or None,
                                                         columns=["lon", "lat"])
    return figure_bytes(
        frame, flt, fmt, dpi=300, data_as_of=dataset_date(paths), title=title,
        caption=caption, width_in=width_in, bounds=bounds, text_as=text_as, user_frame=user,
        links=links,
    )


def report_figure(
    flt: RecordFilter, fmt: str, *, title: str | None = None, caption: str | None = None,
    width_in: float = 7.5,
    bounds: tuple[tuple[float, float], tuple[float, float]] = CHINA_VIEW_BOUNDS,
    text_as: str = "text", user_points: tuple[tuple[float, float], ...] | None = None,
    links: bool = False,
) -> bytes:
    """The report figure of the current selection as PNG (300 dpi), SVG or PDF bytes.

    Cached on every input: the filter, the title, caption, width and frame,
    how SVG text is written, the user's own points (``None`` when their
    layer is hidden; only positions are drawn, so only they are passed and
    hashed, never a session's records themselves) and ``links``, which draws
    the links among the records shown.
    """
    paths = dataset_paths()
    return _figure_bytes(flt, fmt, paths, _stamps(paths), title, caption, width_in, bounds,
                         text_as, user_points, links)


def _view_chart(
    frame: gpd.GeoDataFrame, flt: RecordFilter, view: str, measure: str
) -> alt.TopLevelMixin:
    # Imported here: Altair takes 0.4 s to import and only the charts page needs it.
    from geodata.render.charts import build_view_chart

    bounds = filter_bounds(frame)
    # The year axis spans the filter's years, so it holds still while other filters change.
    years = (
        bounds.year_min if flt.year_min is None else flt.year_min,
        bounds.year_max if flt.year_max is None else flt.year_max,
    )
    return build_view_chart(filter_records(frame, flt), view, measure, years=years)


def view_chart(flt: RecordFilter, view: str, measure: str) -> alt.TopLevelMixin:
    """One analyst view (``geodata.render.charts.CHART_VIEWS``) of the records ``flt`` keeps.

    Not cached (building the spec takes milliseconds); :func:`chart_bytes`
    exports the very same chart. Sized to fit the page's width only: Streamlit
    otherwise fits a layered chart's title, legend and bars into its set
    height, which squeezes the bars of a long list flat.
    """
    chart = _view_chart(atlas_frame(), flt, view, measure)
    return chart.properties(autosize={"type": "fit-x", "contains": "padding"})


@st.cache_data(show_spinner=False, max_entries=128)
def _chart_bytes(
    paths: tuple[str, ...], stamps: tuple[int, ...], flt: RecordFilter, view: str,
    measure: str, fmt: str,
) -> bytes:
    from geodata.render.charts import chart_to_bytes

    return chart_to_bytes(_view_chart(_load_frame(paths, stamps), flt, view, measure), fmt)


def chart_bytes(flt: RecordFilter, view: str, measure: str, fmt: str) -> bytes:
    """:func:`view_chart` as PNG or SVG bytes, made by vl-convert (0.1–0.8 s), then cached."""
    paths = dataset_paths()
    return _chart_bytes(paths, _stamps(paths), flt, view, measure, fmt)


@st.cache_data(show_spinner="Drawing the map…", max_entries=32)
def _figure_png(
    paths: tuple[str, ...], stamps: tuple[int, ...], flt: RecordFilter, title: str,
    width_in: float, dpi: int,
) -> bytes:
    # Imported here: matplotlib is only needed by the pages that draw a figure.
    from geodata.render.figure import dataset_date, figure_bytes

    frame = with_details(filter_records(_load_frame(paths, stamps), flt), ("sources",))
    return figure_bytes(
        frame, flt, "png", title=title, width_in=width_in, dpi=dpi,
        data_as_of=dataset_date(paths),
    )


def figure_png(flt: RecordFilter, title: str, *, width_in: float = 7.5, dpi: int = 120) -> bytes:
    """The static report map (``geodata.render.figure``) of the records ``flt`` keeps, as PNG.

    About 0.5 s to draw, so cached per filter and title. Raises
    ``geodata.render.figure.FigureFontError`` when no CJK font is installed.
    """
    paths = dataset_paths()
    return _figure_png(paths, _stamps(paths), flt, title, width_in, dpi)


@st.cache_resource(show_spinner=False)
def start_file_reader() -> threading.Thread:
    """Start the bounded file reader's fork server in the background, once per server.

    Its start-up (about 2 s) is then paid before the first upload, not by it.
    """
    from geodata.io.bounded import start_reader

    thread = threading.Thread(target=start_reader, name="cmf-reader-start", daemon=True)
    thread.start()
    return thread


# Few entries: a preview of a 20 MB file can take tens of MB in memory.
@st.cache_data(show_spinner="Reading your file…", max_entries=8, ttl=3600)
def _import_preview(
    data: bytes, filename: str, mapping: ColumnMapping | None, kind: str, crs: str | None,
    max_bytes: int,
) -> ImportPreview:
    from geodata.io.bounded import run_bounded
    from geodata.io.importer import preview_import

    return run_bounded(
        preview_import, data, filename, mapping, kind=kind, crs=crs, max_bytes=max_bytes
    ).value


def import_preview(
    data: bytes, filename: str, mapping: ColumnMapping | None, kind: str, crs: str | None,
    max_bytes: int,
) -> ImportPreview:
    """:func:`geodata.io.importer.preview_import` of an upload's bytes, cached on its content.

    Read in a child process within the time and memory bounds of
    :mod:`geodata.model.limits` (:func:`geodata.io.bounded.run_bounded`), so a file
    that makes reading endless is refused, and its reader killed, when the
    bound passes, even if the browser tab was closed. That refusal is not
    cached (an exception is not): on a busy server the next try may finish.

    Keyed on the bytes themselves (Streamlit hashes them), the name, the
    column mapping, the default kind, the CRS and the cap, so a widget change
    that leaves them alone does not read the file again. Shared by every
    session, which is safe: a session gets a preview only by uploading the
    very same bytes. Raises only what ``preview_import`` raises for invalid
    arguments.
    """
    from geodata.io.bounded import BoundExceededError, refused_preview

    try:
        return _import_preview(data, filename, mapping, kind, crs, max_bytes)
    except BoundExceededError as exc:
        return refused_preview(filename, exc)


# A resource: the screener indexes every name once (about a second with both US
# lists) and is only read afterwards, by every session.
@st.cache_resource(show_spinner="Indexing names for screening…", max_entries=2)
def _screener(paths: tuple[str, ...], stamps: tuple[int, ...]) -> Screener:
    if not _all_yaml(paths):
        # A large atlas: its names are read from the index file beside the
        # store that `screener` has built (a million records: seconds to open,
        # not minutes and gigabytes).
        return store_screener(_atlas_store(paths, stamps))
    # Names, aliases and a source link per record (not every detail column).
    frame = with_details(atlas_frame(), ("aliases", "sources"))
    return build_screener(frame.itertuples(index=False))


#: One build of a name index at a time in this server (two sessions opening the
#: Screen page of a new large atlas together wait for one build, not two).
_NAME_INDEX_LOCK = threading.Lock()


def screener(progress: Callable[[int, int], None] | None = None) -> Screener:
    """The screener over the atlas records in use and both US lists.

    ``progress(done, total)`` hears of a large atlas's records as their names
    are indexed (the first time only). The index is built here, outside the
    cached function: Streamlit replays the elements a cached function draws,
    and a progress bar of an earlier run cannot be replayed.
    """
    paths = dataset_paths()
    stamps = _stamps(paths)
    if not _all_yaml(paths):
        with _NAME_INDEX_LOCK:
            ensure_name_index(_atlas_store(paths, stamps), cache_dir(), progress)
    return _screener(paths, stamps)
