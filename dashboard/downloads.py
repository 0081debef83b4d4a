"""The map page's downloads: the selection as CSV and GeoJSON, and the report figure.

Each file is made only when its button is pressed (``data`` is a callable),
named by what it holds (:func:`geodata.io.export.export_filename`), and carries
the user's own layer when it is shown, marked as theirs. The figure follows
the map: its preset view, or the records when a filter leaves one region
(:func:`geodata.render.figure.figure_extent`), with the title, caption and width
typed in the page.
"""

from __future__ import annotations

import geopandas as gpd
import streamlit as st

from dashboard import cache
from dashboard.large_downloads import render_large_downloads
from geodata.io.export import (
    export_filename,
    to_csv_bytes,
    to_geojson_text,
    with_user_records,
)
from geodata.model import limits
from geodata.model.places import CHINA_VIEW_BOUNDS, PRESET_VIEWS
from geodata.query.filters import RecordFilter, filter_records
from geodata.render.figure_options import DEFAULT_TITLE, TEXT_MODES, WIDTHS_IN, figure_extent

TITLE_KEY = "figure_title"
CAPTION_KEY = "figure_caption"
WIDTH_KEY = "figure_width"
FRAME_KEY = "figure_frame"
TEXT_KEY = "figure_text_as"
LINKS_KEY = "figure_links"
#: What the figure frames: the map's preset view (or the records, when regional),
#: all of China, or exactly the records shown.
FRAMES: dict[str, str] = {
    "map": "Follow the map",
    "china": "All China",
    "records": "Fit the records shown",
}
MAX_TITLE_CHARS = 120
MAX_CAPTION_CHARS = 600

_MIMES = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


def figure_bounds(
    frame_choice: str, view: str, shown: list[gpd.GeoDataFrame]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The figure's frame for the choice in :data:`FRAMES` and the map's preset ``view``."""
    if frame_choice == "china":
        return CHINA_VIEW_BOUNDS
    if frame_choice == "records":
        return figure_extent(shown) if any(len(f) for f in shown) else CHINA_VIEW_BOUNDS
    preset = PRESET_VIEWS.get(view, PRESET_VIEWS["china"]).bounds
    return figure_extent(shown, preset)


def _user_points(user: gpd.GeoDataFrame | None) -> tuple[tuple[float, float], ...] | None:
    if user is None:
        return None
    return tuple(zip(user["lon"].astype(float), user["lat"].astype(float), strict=True))


def render_downloads(
    selected: gpd.GeoDataFrame, flt: RecordFilter, user: gpd.GeoDataFrame | None, view: str
) -> None:
    """The download buttons and the figure's options, under the records table.

    ``user``: the user's records shown on the map, or ``None`` when their layer
    is hidden; ``view``: the map's preset view key.
    """
    ss = st.session_state
    with_user = user is not None
    st.markdown("**Download the selection**")
    _figure_options()
    row = st.columns(5)

    def records() -> gpd.GeoDataFrame:
        # Every column, read when a download is asked for. The selection is found
        # again from the filter, not kept: Streamlit holds this function until the
        # file is asked for, and a kept selection of 900,000 records is 160 MB.
        chosen = filter_records(cache.atlas_frame(), flt)
        return with_user_records(cache.with_details(chosen), user)

    user_note = " Your own records are included, marked as user data." if with_user else ""
    shown = len(selected) + (len(user) if with_user else 0)
    if shown > limits.LARGE_EXPORT_MIN_RECORDS:
        # Too many to build in memory: prepared part by part into a zip file.
        render_large_downloads(row[:2], selected, flt, user)
    else:
        row[0].download_button(
            "Data (CSV)", data=lambda: to_csv_bytes(records()),
            file_name=export_filename(flt, "csv", user_data=with_user), mime="text/csv",
            on_click="ignore", key="dl_csv", width="stretch",
            help="UTF-8 with a byte-order mark, so Excel shows Chinese correctly." + user_note,
        )
        row[1].download_button(
            "Data (GeoJSON)", data=lambda: to_geojson_text(records()),
            file_name=export_filename(flt, "geojson", user_data=with_user),
            mime="application/geo+json", on_click="ignore", key="dl_geojson", width="stretch",
            help="Points in WGS 84 with every field and source." + user_note,
        )
    title = (ss.get(TITLE_KEY) or "").strip()[:MAX_TITLE_CHARS] or DEFAULT_TITLE
    caption = (ss.get(CAPTION_KEY) or "").strip()[:MAX_CAPTION_CHARS]
    width_in = float(ss.get(WIDTH_KEY) or next(iter(WIDTHS_IN)))
    frame_choice = ss.get(FRAME_KEY) or "map"
    text_as = ss.get(TEXT_KEY) or "text"
    links = bool(ss.get(LINKS_KEY, False))
    bounds = figure_bounds(frame_choice, view, [selected, *([user] if with_user else [])])
    points = _user_points(user)
    for col, fmt in zip(row[2:], ("png", "svg", "pdf"), strict=True):
        col.download_button(
            f"Figure ({fmt.upper()})",
            data=lambda fmt=fmt: cache.report_figure(
                flt, fmt, title=title, caption=caption, width_in=width_in, bounds=bounds,
                text_as=text_as, user_points=points, links=links,
            ),
            file_name=export_filename(flt, fmt, what="map", user_data=with_user),
            mime=_MIMES[fmt], on_click="ignore", key=f"dl_{fmt}", width="stretch",
            help="A captioned map of the current selection for reports"
            + (", 300 dpi." if fmt == "png" else ", as vectors.")
            + " Set its title, caption, width and frame under Figure options.",
        )


def _figure_options() -> None:
    """Title, caption, width, frame and SVG text of the report figure, set before downloading."""
    with st.expander("Figure options: title, caption, width, frame, links"):
        left, right = st.columns(2)
        left.text_input(
            "Title", key=TITLE_KEY, placeholder=DEFAULT_TITLE, max_chars=MAX_TITLE_CHARS,
            help="Printed at the top of the figure; empty for the default.",
        )
        left.text_area(
            "Caption", key=CAPTION_KEY, max_chars=MAX_CAPTION_CHARS, height=90,
            placeholder="e.g. Figure 2. Military-civil fusion funds by size, 2016–2018.",
            help="Printed under the map and legend, above the sources.",
        )
        right.selectbox(
            "Width", options=list(WIDTHS_IN), format_func=WIDTHS_IN.__getitem__,
            key=WIDTH_KEY, help="The figure's printed width; text and symbols keep their size.",
        )
        right.selectbox(
            "Frame", options=list(FRAMES), format_func=FRAMES.__getitem__, key=FRAME_KEY,
            help="What the figure shows. Following the map: the preset view chosen above "
            "the map; on All China, a filter that leaves one region (a province, a city) "
            "frames that region.",
        )
        right.radio(
            "SVG text", options=list(TEXT_MODES), format_func=TEXT_MODES.__getitem__,
            key=TEXT_KEY, horizontal=True,
            help="Text stays editable and names Noto Sans CJK with fallbacks (Microsoft "
            "YaHei, PingFang SC …); outlines look the same on any machine.",
        )
        left.checkbox(
            "Show the links among the records shown", key=LINKS_KEY,
            help="Draw the links whose two ends are both in the selection as lines, with a "
            "legend of link types.",
        )
