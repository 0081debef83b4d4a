"""A static report figure of a selection: PNG, SVG or PDF, drawn on the server.

The figure carries what the web map shows — provinces and neighbours, the
three layers in the same symbols and colours, the named places — plus what a
printed map needs and a browser does not: a title, the filters in words,
counts, the sources of the records shown and the date of the data. It is
drawn with matplotlib's object API (no pyplot, so no global state and safe in
a Streamlit worker thread) and geopandas; no browser is involved.

Projection
----------
Albers equal-area conic with standard parallels 25°N and 47°N on central
meridian 105°E (:data:`CHINA_ALBERS`), the parameters commonly used for
national maps of China. It keeps China's familiar shape — the north-east
and Xinjiang are not stretched as in plate carrée or Web Mercator — and it is
equal-area, so provinces compare fairly by size. Symbol sizes are in points,
so the projection never changes how large a fund's circle is.

A conic projection turns the view's longitude/latitude box into a fan whose
corners bulge outwards, beyond the basemap's coverage. The frame is therefore
the rectangle around the box's *centre cross* (its middle parallel and
meridian, and the middle half of its north and south edges), padded by
:data:`FRAME_PAD`: for the default view that holds all of mainland China,
Hainan and Taiwan. The few far corners it still shows beyond the basemap are
painted as land west of 105°E (Kazakhstan) and as sea east of it (the Pacific).

Other choices: labels are placed by a small deterministic greedy placer (no
overlaps, the same layout every run); records at one exact position are
spread on a small ring so every counted record is visible; output carries no
timestamps, so the same data and filters give the same bytes.

Example
-------
>>> from geodata.model.frame import records_to_frame
>>> from geodata.query.filters import RecordFilter
>>> png = figure_bytes(records_to_frame([]), RecordFilter(), "png", dpi=20,
...                    data_as_of="2025-01-01")
>>> png[1:4]
b'PNG'
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.offsetbox import AnchoredOffsetbox, DrawingArea, HPacker, TextArea, VPacker
from matplotlib.patches import Circle, PathPatch, Polygon
from matplotlib.path import Path as Path_
from matplotlib.patheffects import Normal, Stroke
from matplotlib.text import Text
from matplotlib.textpath import TextToPath
from matplotlib.transforms import Bbox, ScaledTranslation
from pyproj import Transformer

from geodata.model.limits import MAX_FIGURE_PIXELS
from geodata.model.places import CHINA_VIEW_BOUNDS, NAMED_PLACES, NamedPlace
from geodata.model.schema import KINDS, LINK_FORWARD_LABELS, ZONE_STATUSES
from geodata.query.filters import RecordFilter, describe_filter
from geodata.query.summary import format_rmb_bn, summarize
from geodata.render.basemap import BASEMAP_PATH, load_basemap
from geodata.render.figure_options import (
    DEFAULT_TITLE,
    REGIONAL_SHARE,
    SVG_FONT_STACK,
    TEXT_MODES,
    WIDTHS_IN,
    check_bounds,
    figure_extent,
    records_bounds,
)
from geodata.render.layers import BASE_STYLES, SEA_COLOR
from geodata.render.style import (
    CLUSTER_RADIUS_PX,
    DESIGNATED_LABEL,
    DESIGNATED_STROKE,
    FUND_LEGEND_SIZES_BN,
    FUND_UNKNOWN_RADIUS_PX,
    LAYER_COLORS,
    LAYER_STROKES,
    LEGEND_CLUSTER_TEXT,
    LEGEND_FUND_UNKNOWN_TEXT,
    LEGEND_HEADINGS,
    LINK_DASHES,
    LINK_SELECTED_COLOR,
    ORG_SIZE_PX,
    USER_COLOR,
    USER_LAYER_LABEL,
    USER_SIZE_PX,
    USER_STROKE,
    ZONE_SIZE_PX,
    fund_radius_px,
    legend_fund_size_label,
    legend_zone_statuses,
)
from geodata.store.load import default_dataset_paths

__all__ = [
    "CHINA_ALBERS",
    "DEFAULT_TITLE",
    "FORMATS",
    "SVG_FONT_STACK",
    "TEXT_MODES",
    "WIDTHS_IN",
    "FigureFontError",
    "dataset_date",
    "export_figure",
    "figure_bytes",
    "figure_extent",
    "figure_format",
    "records_bounds",
    "render_figure",
    "save_figure",
    "source_line",
]

#: Albers equal-area conic for China (see the module docstring).
CHINA_ALBERS = (
    "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +x_0=0 +y_0=0 "
    "+datum=WGS84 +units=m +no_defs"
)
#: Output suffix -> matplotlib format.
FORMATS: dict[str, str] = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
BOUNDARIES_CREDIT = "Boundaries: Natural Earth (public domain), de facto view"
#: Fonts tried in order; all carry Latin and simplified Chinese glyphs.
CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Noto Sans CJK TC",
    "Noto Sans CJK JP",
)
#: Padding around the frame, as a fraction of its width and height.
FRAME_PAD = 0.015
#: Publishers named in the source line before "and N more".
MAX_PUBLISHERS = 6
_UNNAMED_PUBLISHER = "Publisher not named"
#: One CSS pixel (1/96 in) in points (1/72 in): web-map sizes become print sizes.
PX_TO_PT = 0.75
#: Figure symbols are the web map's, in points, times this factor: a 7.5-inch
#: map of China is smaller than a screen, and full-size symbols would crowd it.
SYMBOL_SCALE = 0.6

_INK = "#222222"
_MUTED = "#555555"
_COAST = "#6f6f6f"
_MARGIN_IN = 0.25
_TITLE_PT, _SUBTITLE_PT, _FOOT_PT, _LEGEND_PT, _PLACE_PT = 12.5, 8.0, 6.5, 6.8, 6.8
_CAPTION_PT = 7.5
_LINE_SPACING = 1.3
# CSS draws the zone diamond as an 18 px box rotated and scaled by 0.75.
_ZONE_SIDE_PX = ZONE_SIZE_PX * 0.75
_Z_BASE, _Z_PLACE_DOT, _Z_RECORDS, _Z_LABELS = 1, 3, 4, 6


class FigureFontError(RuntimeError):
    """No font with Chinese glyphs is installed, so names would render as boxes."""


class FigureSizeError(ValueError):
    """The figure would have more pixels than :data:`geodata.model.limits.MAX_FIGURE_PIXELS`."""


def check_figure_pixels(width_in: float, height_in: float, dpi: float) -> None:
    """Refuse a figure over :data:`~geodata.model.limits.MAX_FIGURE_PIXELS`, before drawing it.

    Matplotlib's canvas takes 4 bytes a pixel whatever the output format (the
    labels are placed on a raster renderer), so 40 in at 1200 dpi took 7.2 GB.

    Example
    -------
    >>> check_figure_pixels(7.5, 7.0, 300)
    >>> check_figure_pixels(40, 37, 1200)
    Traceback (most recent call last):
    ...
    geodata.render.figure.FigureSizeError: a figure 40 in wide at 1200 dpi would be \
48,000 × 44,400 pixels (2,131 million); the limit is 40 million pixels (MAX_FIGURE_PIXELS): \
at 40 in wide use at most 164 dpi, or make it narrower
    """
    w_px, h_px = width_in * dpi, height_in * dpi
    if w_px * h_px <= MAX_FIGURE_PIXELS:
        return
    max_dpi = math.floor(math.sqrt(MAX_FIGURE_PIXELS / (width_in * height_in)))
    raise FigureSizeError(
        f"a figure {width_in:g} in wide at {dpi:g} dpi would be {w_px:,.0f} × {h_px:,.0f} "
        f"pixels ({w_px * h_px / 1e6:,.0f} million); the limit is "
        f"{MAX_FIGURE_PIXELS / 1e6:,.0f} million pixels (MAX_FIGURE_PIXELS): at "
        f"{width_in:g} in wide use at most {max_dpi} dpi, or make it narrower"
    )


# --------------------------------------------------------------------------- fonts


@functools.cache
def _cjk_font_name() -> str:
    """The first installed font of :data:`CJK_FONTS`, registering it if need be."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in known:
            return name
    # Fonts installed after matplotlib built its cache are not in it yet.
    for path in font_manager.findSystemFonts():
        if "CJK" in Path(path).name or "SourceHanSans" in Path(path).name:
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    known = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in known:
            return name
    raise FigureFontError(
        "Chinese names need a CJK font and none was found (tried "
        f"{', '.join(CJK_FONTS)}). Install Noto Sans CJK, e.g. "
        "'apt-get install fonts-noto-cjk' on Debian or Ubuntu, then try again."
    )


def _rc() -> dict[str, Any]:
    """Settings applied while drawing and saving; never changed globally."""
    return {
        "font.family": [_cjk_font_name()],
        "svg.fonttype": "none",  # text stays text in SVG: searchable, editable
        "svg.hashsalt": "cmf-atlas",  # stable element ids, so output is reproducible
        "pdf.fonttype": 42,  # embed TrueType fonts (Type 3 breaks copy-paste of Chinese)
        "lines.scale_dashes": False,  # dash lengths in points, same on map and legend
        "axes.unicode_minus": False,
        # Titles, filters and source names are data: "$...$" in them is text, not TeX
        # (mathtext would draw it as a formula, or fail on "$\\frac{1$").
        "text.parse_math": False,
    }


@functools.cache
def _text_to_path() -> TextToPath:
    return TextToPath()


def _text_width_pt(text: str, size: float, weight: str = "normal") -> float:
    """Width of ``text`` in points, measured with the figure's font."""
    prop = font_manager.FontProperties(family=_cjk_font_name(), size=size, weight=weight)
    width, _, _ = _text_to_path().get_text_width_height_descent(text, prop, ismath=False)
    return float(width)


def _wrap(text: str, size: float, width_pt: float, weight: str = "normal") -> list[str]:
    """Greedy word wrap of ``text`` to ``width_pt``, measured, not estimated."""
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}" if current else word
        if current and _text_width_pt(trial, size, weight) > width_pt:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines or [""]


# --------------------------------------------------------------------------- text


def source_line(frame: pd.DataFrame, max_publishers: int = MAX_PUBLISHERS) -> str:
    """The publishers cited by the records in ``frame``, most-cited first.

    A publisher counts once per record that cites it; ties are alphabetical.
    Names are separated by semicolons because some contain commas. The
    datasets' placeholder for a reference whose publisher is unknown
    (datasets/README.md) is not a publisher and is left out.

    Example
    -------
    >>> df = pd.DataFrame({"sources": [[{"publisher": "B"}, {"publisher": "A, Journal"}],
    ...                                [{"publisher": "B"}], [{"publisher": "C"}]]})
    >>> source_line(df, max_publishers=2)
    'Sources: B; A, Journal; and 1 more.'
    """
    counts: Counter[str] = Counter()
    for sources in frame["sources"]:
        counts.update({
            s["publisher"] for s in sources or ()
            if s.get("publisher") and not s["publisher"].startswith(_UNNAMED_PUBLISHER)
        })
    if not counts:
        return "Sources: none named." if len(frame) else "Sources: none (no records shown)."
    ranked = sorted(counts, key=lambda p: (-counts[p], p.casefold()))
    shown, rest = ranked[:max_publishers], len(ranked) - max_publishers
    if rest > 0:
        return f"Sources: {'; '.join(shown)}; and {rest} more."
    return f"Sources: {'; '.join(shown)}."


#: File beside the datasets that declares the date the data is current to.
DATA_AS_OF_FILE = "DATA_AS_OF"


def dataset_date(paths: Iterable[Path | str] | None = None) -> dt.date | None:
    """The date the data is current to.

    A ``DATA_AS_OF`` file (one ISO date) beside the datasets is the curators'
    declaration and wins, since file times change with every checkout; without
    one, the UTC date of the newest file among ``paths`` (default: the curated
    datasets). ``None`` when there is no file, so a figure never claims a date
    it cannot back.
    """
    paths = list(paths) if paths is not None else default_dataset_paths()
    declared = []
    for folder in {Path(p).parent for p in paths}:
        marker = folder / DATA_AS_OF_FILE
        if marker.is_file():
            try:
                declared.append(dt.date.fromisoformat(marker.read_text(encoding="utf-8").strip()))
            except ValueError as exc:
                raise ValueError(
                    f"{marker}: expected one date as YYYY-MM-DD, got "
                    f"{marker.read_text(encoding='utf-8').strip()[:40]!r}"
                ) from exc
    if declared:
        return max(declared)
    times = [Path(p).stat().st_mtime for p in paths if Path(p).is_file()]
    if not times:
        return None
    return dt.datetime.fromtimestamp(max(times), tz=dt.UTC).date()


def _as_of_text(data_as_of: dt.date | str | None) -> str:
    if data_as_of is None:
        data_as_of = dataset_date()
    if data_as_of is None:
        return "Data as of: unknown"
    if isinstance(data_as_of, str):
        try:
            data_as_of = dt.date.fromisoformat(data_as_of)
        except ValueError:
            raise ValueError(
                f"data_as_of should be a date or 'YYYY-MM-DD', got {data_as_of!r}"
            ) from None
    if isinstance(data_as_of, dt.datetime):
        data_as_of = data_as_of.date()
    return f"Data as of {data_as_of.isoformat()}"


def _layer_count(n: int, kind: str) -> str:
    label = KINDS[kind].lower()
    return f"{n} {label[:-1] if n == 1 and label.endswith('s') else label}"


def _subtitle(
    frame: pd.DataFrame, flt: RecordFilter, outside: int, user_count: int | None = None,
    unplaced: int = 0,
) -> str:
    desc = describe_filter(flt)
    summary = summarize(frame)
    parts = []
    for kind in KINDS:
        if kind not in flt.kinds:
            continue
        text = _layer_count(summary.counts[kind], kind)
        if kind == "fund" and summary.counts["fund"]:
            known = summary.counts["fund"] - summary.funds_unknown_size
            extra = f"{format_rmb_bn(summary.fund_capital_rmb_bn)} in {known} of known size"
            text += f" ({extra})" if known else " (none of known size)"
        parts.append(text)
    if user_count is not None:
        parts.append(f"{user_count} of your own record{'' if user_count == 1 else 's'} "
                     "(not curated)")
    selected = ", ".join(parts) if parts else "no layer selected"
    out = f" ({outside} outside the map frame)" if outside else ""
    if unplaced:
        out += f" ({unplaced} organisation(s) without a known place are not drawn)"
    return f"{desc[:1].upper()}{desc[1:]}. Selected: {selected}{out}."


# --------------------------------------------------------------------------- geometry


@functools.cache
def _to_albers() -> Transformer:
    return Transformer.from_crs("EPSG:4326", CHINA_ALBERS, always_xy=True)


class _Base(NamedTuple):
    """The basemap ready to draw: projected matplotlib paths, built once per basemap.

    Drawing paths directly is several times faster than ``GeoDataFrame.plot``,
    which redraws the whole figure after every call.
    """

    coverage: shapely.Polygon
    neighbours: list[Path_]
    provinces: list[Path_]
    neighbour_borders: list[np.ndarray]
    outline: list[np.ndarray]
    #: (English name, Chinese name, label x, label y, shape) of each province, projected.
    province_labels: tuple[tuple[str, str, float, float, Any], ...] = ()


def _polygon_paths(geoms: Iterable[Any]) -> list[Path_]:
    paths = []
    for geom in geoms:
        rings = []
        # Exteriors counter-clockwise, holes clockwise: holes stay holes when filled.
        for poly in shapely.get_parts(shapely.orient_polygons(geom)):
            if poly.geom_type != "Polygon" or poly.is_empty:
                continue
            rings.append(Path_(np.asarray(poly.exterior.coords)[:, :2], closed=True))
            rings.extend(Path_(np.asarray(r.coords)[:, :2], closed=True) for r in poly.interiors)
        if rings:
            paths.append(Path_.make_compound_path(*rings))
    return paths


def _line_arrays(geoms: Iterable[Any]) -> list[np.ndarray]:
    return [
        np.asarray(part.coords)[:, :2]
        for geom in geoms
        for part in shapely.get_parts(geom)
        if part.geom_type in ("LineString", "LinearRing") and not part.is_empty
    ]


def _prepare_basemap(basemap: gpd.GeoDataFrame) -> _Base:
    if basemap.crs is None:
        basemap = basemap.set_crs("EPSG:4326")
    lonlat = basemap.to_crs("EPSG:4326")
    west, south, east, north = lonlat.total_bounds
    k = 64
    lons = np.r_[np.linspace(west, east, k), np.full(k, east), np.linspace(east, west, k),
                 np.full(k, west)]
    lats = np.r_[np.full(k, south), np.linspace(south, north, k), np.full(k, north),
                 np.linspace(north, south, k)]
    x, y = _to_albers().transform(lons, lats)
    coverage = shapely.Polygon(np.column_stack([x, y]))
    projected = lonlat.to_crs(CHINA_ALBERS)
    provinces = projected.geometry[projected["role"] == "province"]
    neighbours = projected.geometry[projected["role"] == "neighbour"]
    outline = provinces.union_all().boundary if len(provinces) else shapely.LineString()
    # Borders between countries, not the straight edges where the basemap was clipped.
    borders = neighbours.boundary.difference(coverage.exterior.buffer(2_000))
    return _Base(
        coverage, _polygon_paths(neighbours), _polygon_paths(provinces),
        _line_arrays(shapely.line_merge(borders.to_numpy())), _line_arrays([outline]),
        _province_label_points(projected[projected["role"] == "province"],
                               lonlat[lonlat["role"] == "province"]),
    )


def _province_label_points(
    projected: gpd.GeoDataFrame, lonlat: gpd.GeoDataFrame
) -> tuple[tuple[str, str, float, float, Any], ...]:
    if not {"name_en", "name_zh", "label_lon", "label_lat"} <= set(lonlat.columns):
        return ()
    lon = lonlat["label_lon"].fillna(lonlat.geometry.representative_point().x)
    lat = lonlat["label_lat"].fillna(lonlat.geometry.representative_point().y)
    x, y = _to_albers().transform(lon.to_numpy(float), lat.to_numpy(float))
    return tuple(zip(lonlat["name_en"], lonlat["name_zh"], map(float, x), map(float, y),
                     projected.geometry, strict=True))


@functools.cache
def _default_basemap(path: Path, mtime: float) -> _Base:
    # Keyed on the file's mtime so a rebuilt basemap is picked up.
    del mtime
    return _prepare_basemap(load_basemap(path))


def _basemap(basemap: gpd.GeoDataFrame | None) -> _Base:
    if basemap is None:
        path = Path(BASEMAP_PATH)
        mtime = path.stat().st_mtime if path.is_file() else 0.0
        return _default_basemap(path, mtime)
    if not isinstance(basemap, gpd.GeoDataFrame):
        raise TypeError(f"'basemap' should be a GeoDataFrame or None, got {type(basemap)}")
    missing = {"role", "geometry"} - set(basemap.columns)
    if missing:
        raise ValueError(f"'basemap' lacks column(s) {sorted(missing)}; see load_basemap()")
    return _prepare_basemap(basemap)


def _frame_extent(
    bounds: Sequence[Sequence[float]], pad: float = FRAME_PAD
) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) in the projection: the box's centre cross, padded.

    The cross is the middle parallel and meridian plus the middle half of the
    north and south edges; the outer quarters of those edges curve away in a
    conic projection and would only add empty corners.
    """
    south, west, north, east = check_bounds(bounds)
    k = 64
    mid_lon, quarter = (west + east) / 2, (east - west) / 4
    middle = np.linspace(mid_lon - quarter, mid_lon + quarter, k)
    lons = np.r_[np.linspace(west, east, k), np.full(k, mid_lon), middle, middle]
    lats = np.r_[np.full(k, (south + north) / 2), np.linspace(south, north, k),
                 np.full(k, north), np.full(k, south)]
    xs, ys = _to_albers().transform(lons, lats)
    x0, x1, y0, y1 = float(np.min(xs)), float(np.max(xs)), float(np.min(ys)), float(np.max(ys))
    dx, dy = (x1 - x0) * pad, (y1 - y0) * pad
    return x0 - dx, x1 + dx, y0 - dy, y1 + dy


# --------------------------------------------------------------------------- symbols


def _pt(px: float, scale: float) -> float:
    return px * PX_TO_PT * scale


def _fund_area_pt2(size_bn: np.ndarray, scale: float) -> np.ndarray:
    """Scatter sizes (diameter² in pt²): area ∝ fund size via style.fund_radius_px."""
    radii = np.array([_pt(fund_radius_px(float(s)), scale) for s in size_bn], dtype=float)
    return (2 * radii) ** 2


def _dodge(x: np.ndarray, y: np.ndarray, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Spread symbols that share one exact position on a small ring, ``gap`` apart.

    Records placed at the same city centre would otherwise hide each other and
    the map would show fewer symbols than the subtitle counts. Positions that
    differ at all are left alone.

    >>> x, y = _dodge(np.array([0.0, 0.0, 5.0]), np.array([0.0, 0.0, 5.0]), 2.0)
    >>> x.round(6).tolist(), y.round(6).tolist()
    ([1.0, -1.0, 5.0], [0.0, 0.0, 5.0])
    """
    x, y = x.astype(float), y.astype(float)
    groups = pd.DataFrame({"x": x.round(0), "y": y.round(0)}).groupby(["x", "y"]).indices
    for idx in groups.values():
        n = len(idx)
        if n < 2:
            continue
        radius = gap / (2 * math.sin(math.pi / n))
        angles = 2 * math.pi * np.arange(n) / n
        x[idx] += radius * np.cos(angles)
        y[idx] += radius * np.sin(angles)
    return x, y


def _draw_records(
    ax: Any, frame: pd.DataFrame, kinds: frozenset[str], scale: float, data_per_pt: float
) -> None:
    """One scatter collection per symbol variant, each tagged with a gid for tests and SVG."""
    x, y = _to_albers().transform(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
    x, y = np.asarray(x, float), np.asarray(y, float)
    kind = frame["kind"].to_numpy()
    size = frame["fund_size_rmb_bn"].to_numpy(float)
    status = frame["status"].to_numpy()
    # Small symbols of every layer that share a spot (a city centre) are spread on one
    # ring together, so a zone's diamond never hides the clusters under it.
    small = np.isin(kind, [k for k in ("cluster", "zone") if k in kinds])
    if "fund" in kinds:
        small |= (kind == "fund") & np.isnan(size)
    gap = max(2 * _pt(CLUSTER_RADIUS_PX, scale), 2 * _pt(FUND_UNKNOWN_RADIUS_PX, scale),
              _pt(_ZONE_SIDE_PX, scale) * math.sqrt(2))
    x, y = x.copy(), y.copy()
    x[small], y[small] = _dodge(x[small], y[small], gap * data_per_pt)

    # Big translucent fund circles go under the small solid symbols, which stay visible.
    if "fund" in kinds:
        lw = _pt(1.5, scale)
        known = np.flatnonzero((kind == "fund") & ~np.isnan(size))
        known = known[np.argsort(-size[known], kind="stable")]
        ax.scatter(
            x[known], y[known], s=_fund_area_pt2(size[known], scale), marker="o",
            facecolors=_rgba(LAYER_COLORS["fund"], 0.5), edgecolors=LAYER_STROKES["fund"],
            linewidths=lw, zorder=_Z_RECORDS, gid="cmf-fund-known",
        )
        unknown = (kind == "fund") & np.isnan(size)
        d = 2 * _pt(FUND_UNKNOWN_RADIUS_PX, scale)
        ax.scatter(
            x[unknown], y[unknown], s=d**2, marker="o",
            facecolors=_rgba(LAYER_COLORS["fund"], 0.08), edgecolors=LAYER_STROKES["fund"],
            linewidths=lw, linestyles=_dash(scale), zorder=_Z_RECORDS + 0.1,
            gid="cmf-fund-unknown",
        )
    if "cluster" in kinds:
        sel = kind == "cluster"
        d = 2 * _pt(CLUSTER_RADIUS_PX, scale)
        ax.scatter(
            x[sel], y[sel], s=d**2, marker="o",
            facecolors=_rgba(LAYER_COLORS["cluster"], 0.95), edgecolors="#ffffff",
            linewidths=_pt(1.2, scale), zorder=_Z_RECORDS + 0.2, gid="cmf-cluster",
        )
    if "organisation" in kinds:
        designated = (
            frame["designated"].fillna(False).to_numpy(bool) if "designated" in frame
            else np.zeros(len(frame), bool)
        )
        side = _pt(ORG_SIZE_PX, scale)
        for flag, gid in ((False, "cmf-org"), (True, "cmf-org-designated")):
            sel = (kind == "organisation") & (designated == flag)
            ox, oy = _dodge(x[sel], y[sel], side * 1.2 * data_per_pt)
            ax.scatter(
                ox, oy, s=side**2, marker="s",
                facecolors=LAYER_COLORS["organisation"],
                edgecolors=DESIGNATED_STROKE if flag else "#ffffff",
                linewidths=_pt(2.2 if flag else 1.0, scale), zorder=_Z_RECORDS + 0.25,
                gid=gid,
            )
    if "zone" in kinds:
        sel = kind == "zone"
        side = _pt(_ZONE_SIDE_PX, scale)
        zx, zy = x[sel], y[sel]
        zstatus = status[sel]
        for st in ZONE_STATUSES:
            part = zstatus == st
            ax.scatter(
                zx[part], zy[part], s=side**2, marker="D", zorder=_Z_RECORDS + 0.3,
                gid=f"cmf-zone-{st}", **_zone_style(st, scale),
            )


def _draw_user_records(ax: Any, frame: pd.DataFrame, scale: float, data_per_pt: float) -> None:
    """The user's records: the web map's black-outlined green triangles, above the rest."""
    x, y = _to_albers().transform(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
    side = _pt(USER_SIZE_PX, scale)
    ux, uy = _dodge(np.asarray(x, float), np.asarray(y, float), side * data_per_pt)
    ax.scatter(ux, uy, s=side**2, marker="^", facecolors=USER_COLOR, edgecolors=USER_STROKE,
               linewidths=_pt(1.5, scale), zorder=_Z_RECORDS + 0.5, gid="cmf-user")


def _link_segments(frame: pd.DataFrame) -> list[tuple[str, np.ndarray]]:
    """(type, 2x2 Albers coordinates) of every link whose two ends are in ``frame``."""
    from geodata.model.relations import link_lines

    lines = link_lines(frame, shown=frame["id"], network=True)["lines"]
    out = []
    for ln in lines:
        xs, ys = _to_albers().transform([ln["from"][1], ln["to"][1]], [ln["from"][0], ln["to"][0]])
        out.append((ln["type"], np.column_stack([xs, ys])))
    return out


def _draw_links(ax: Any, segments: list[tuple[str, np.ndarray]], scale: float) -> None:
    for kind in sorted({k for k, _ in segments}):
        dash = LINK_DASHES.get(kind)
        style = (0, tuple(float(v) for v in dash.split())) if dash else "solid"
        ax.add_collection(LineCollection(
            [seg for k, seg in segments if k == kind], colors=LINK_SELECTED_COLOR,
            linewidths=_pt(1.3, scale), linestyles=[style], alpha=0.75,
            zorder=_Z_RECORDS - 0.2, gid=f"cmf-links-{kind}",
        ), autolim=False)


def _rgba(color: str, alpha: float) -> tuple[float, float, float, float]:
    return matplotlib.colors.to_rgba(color, alpha)


def _dash(scale: float) -> tuple[float, tuple[float, float]]:
    return (0.0, (max(1.5, 3 * scale), max(1.2, 2.4 * scale)))


def _zone_style(status: str, scale: float) -> dict[str, Any]:
    """Fill per status: solid, hollow, hatched — readable in greyscale."""
    color = LAYER_COLORS["zone"]
    style: dict[str, Any] = {
        "edgecolors": LAYER_STROKES["zone"], "linewidths": _pt(2, scale),
    }
    if status == "approved":
        style["facecolors"] = color
    elif status == "applied_not_approved":
        style["facecolors"] = "#ffffff"
    else:
        # The web map's stripes: 2 px of colour every 4 px across the stripes. A
        # hatch of n "/" draws 6n lines across the diagonal of a one-inch square,
        # so they are 72·√2 / (6n) points apart.
        n = max(1, round(72 * math.sqrt(2) / (6 * _pt(4, scale))))
        style.update(facecolors="#ffffff", hatch="/" * n, hatchcolor=color,
                     hatch_linewidth=_pt(2, scale))
    return style


# --------------------------------------------------------------------------- legend


def _row(symbol: DrawingArea, label: str) -> HPacker:
    text = TextArea(label, textprops={"size": _LEGEND_PT, "color": _INK})
    return HPacker(children=[symbol, text], align="center", pad=0, sep=4)


def _heading(label: str) -> TextArea:
    return TextArea(label, textprops={"size": _LEGEND_PT, "color": _INK, "weight": "bold"})


def _symbol_box(size: float) -> DrawingArea:
    return DrawingArea(size, size, 0, 0, clip=False)


def _fund_scale_box(scale: float) -> DrawingArea:
    """Nested circles, bottom-aligned, each labelled at its top by a leader line."""
    radii = [_pt(fund_radius_px(s), scale) for s in FUND_LEGEND_SIZES_BN]
    big = max(radii)
    labels = [legend_fund_size_label(s) for s in FUND_LEGEND_SIZES_BN]
    label_w = max(_text_width_pt(t, _LEGEND_PT) for t in labels)
    lw = _pt(1.5, scale)
    gap = 6.0
    width = 2 * big + gap + 3 + label_w + 2
    height = 2 * big + lw + _LEGEND_PT * 0.5
    box = DrawingArea(width, height, 0, 0, clip=False)
    cx, base = big + lw / 2, lw / 2
    for r, text in sorted(zip(radii, labels, strict=True), reverse=True):
        box.add_artist(Circle(
            (cx, base + r), r, facecolor=_rgba(LAYER_COLORS["fund"], 0.5),
            edgecolor=LAYER_STROKES["fund"], linewidth=lw,
        ))
        top = base + 2 * r
        box.add_artist(Line2D([cx, 2 * big + gap], [top, top], color=_MUTED, linewidth=0.5))
        box.add_artist(Text(2 * big + gap + 3, top, text, size=_LEGEND_PT, color=_INK,
                            va="center", ha="left"))
    return box


def _legend_columns(
    kinds: frozenset[str], scale: float, statuses: Sequence[str], user: bool,
    links_drawn: Sequence[str] = (),
) -> list[VPacker]:
    """One legend column per visible layer, in the web map's order, in its words.

    ``statuses``: the zone statuses to list (those the records have);
    ``user``: add the user's own layer, first, as the web legend does;
    ``links_drawn``: the link types drawn, one dash pattern each.
    """
    columns: list[VPacker] = []
    sym = max(2 * _pt(CLUSTER_RADIUS_PX, scale), _pt(_ZONE_SIDE_PX, scale) * 1.5) + 2
    if user:
        box = _symbol_box(sym)
        half = _pt(USER_SIZE_PX, scale) / 2
        c = sym / 2
        box.add_artist(Polygon(
            [(c, c + half), (c + half, c - half), (c - half, c - half)], closed=True,
            facecolor=USER_COLOR, edgecolor=USER_STROKE, linewidth=_pt(1.5, scale),
        ))
        columns.append(VPacker(children=[_row(box, USER_LAYER_LABEL)], align="left", pad=0,
                               sep=3))
    if "cluster" in kinds:
        box = _symbol_box(sym)
        box.add_artist(Circle(
            (sym / 2, sym / 2), _pt(CLUSTER_RADIUS_PX, scale),
            facecolor=_rgba(LAYER_COLORS["cluster"], 0.95), edgecolor="#ffffff",
            linewidth=_pt(1.2, scale),
        ))
        rows = [_heading(LEGEND_HEADINGS["cluster"]), _row(box, LEGEND_CLUSTER_TEXT)]
        columns.append(VPacker(children=rows, align="left", pad=0, sep=3))
    if "fund" in kinds:
        box = _symbol_box(sym)
        box.add_artist(Circle(
            (sym / 2, sym / 2), _pt(FUND_UNKNOWN_RADIUS_PX, scale),
            facecolor=_rgba(LAYER_COLORS["fund"], 0.08), edgecolor=LAYER_STROKES["fund"],
            linewidth=_pt(1.5, scale), linestyle=_dash(scale),
        ))
        scale_row = HPacker(
            children=[_fund_scale_box(scale), _row(box, LEGEND_FUND_UNKNOWN_TEXT)],
            align="bottom", pad=0, sep=10,
        )
        rows = [_heading(LEGEND_HEADINGS["fund"]), scale_row]
        columns.append(VPacker(children=rows, align="left", pad=0, sep=3))
    if "organisation" in kinds:
        rows = [_heading(KINDS["organisation"])]
        for flag, text in ((False, "Groups, institutes, universities"), (True, DESIGNATED_LABEL)):
            box = _symbol_box(sym)
            h = _pt(ORG_SIZE_PX, scale) / 2
            c = sym / 2
            box.add_artist(Polygon(
                [(c - h, c - h), (c + h, c - h), (c + h, c + h), (c - h, c + h)], closed=True,
                facecolor=LAYER_COLORS["organisation"],
                edgecolor=DESIGNATED_STROKE if flag else "#ffffff",
                linewidth=_pt(2.2 if flag else 1.0, scale),
            ))
            rows.append(_row(box, text))
        columns.append(VPacker(children=rows, align="left", pad=0, sep=1))
    if links_drawn:
        rows = [_heading("Links among the records shown")]
        for kind in links_drawn:
            box = _symbol_box(sym)
            dash = LINK_DASHES.get(kind)
            box.add_artist(Line2D(
                [1, sym - 1], [sym / 2, sym / 2], color=LINK_SELECTED_COLOR,
                linewidth=1.2, dashes=[float(v) for v in dash.split()] if dash else (None, None),
            ))
            rows.append(_row(box, LINK_FORWARD_LABELS[kind]))
        columns.append(VPacker(children=rows, align="left", pad=0, sep=1))
    if "zone" in kinds and statuses:
        rows = [_heading(LEGEND_HEADINGS["zone"])]
        half = _pt(_ZONE_SIDE_PX, scale) / math.sqrt(2)
        for status in statuses:
            label = ZONE_STATUSES[status]
            box = _symbol_box(sym)
            c = sym / 2
            style = _zone_style(status, scale)
            box.add_artist(Polygon(
                [(c, c + half), (c + half, c), (c, c - half), (c - half, c)], closed=True,
                facecolor=style["facecolors"], edgecolor=style["edgecolors"],
                linewidth=style["linewidths"], hatch=style.get("hatch"),
                hatchcolor=style.get("hatchcolor", "edge"),
                hatch_linewidth=style.get("hatch_linewidth", 1.0),
            ))
            rows.append(_row(box, label))
        columns.append(VPacker(children=rows, align="left", pad=0, sep=1))
    return columns


_LEGEND_COL_SEP, _LEGEND_ROW_SEP = 22.0, 8.0


def _legend_pack(
    kinds: frozenset[str], scale: float, max_width_pt: float, statuses: Sequence[str] = (),
    user: bool = False, links_drawn: Sequence[str] = (),
) -> tuple[VPacker | None, float]:
    """The legend, columns side by side, wrapped onto rows to fit ``max_width_pt``.

    Returns the packer and its height in inches (0 without a legend).
    """
    # Measure the columns on a scratch canvas, then lay them out in rows.
    scratch = Figure(dpi=72)
    renderer = FigureCanvasAgg(scratch).get_renderer()
    widths, heights = [], []
    for column in _legend_columns(kinds, scale, statuses, user, links_drawn):
        column.set_figure(scratch)
        bbox = column.get_bbox(renderer)
        widths.append(bbox.width)
        heights.append(bbox.height)
    if not widths:
        return None, 0.0
    rows: list[list[int]] = [[]]
    used = 0.0
    for i, width in enumerate(widths):
        if rows[-1] and used + _LEGEND_COL_SEP + width > max_width_pt:
            rows.append([])
            used = 0.0
        used += (_LEGEND_COL_SEP if rows[-1] else 0.0) + width
        rows[-1].append(i)
    columns = _legend_columns(kinds, scale, statuses, user, links_drawn)
    pack = VPacker(
        children=[HPacker(children=[columns[i] for i in row], align="top", pad=0,
                          sep=_LEGEND_COL_SEP) for row in rows],
        align="left", pad=0, sep=_LEGEND_ROW_SEP,
    )
    height = sum(max(heights[i] for i in row) for row in rows)
    height += _LEGEND_ROW_SEP * (len(rows) - 1)
    return pack, height / 72


# --------------------------------------------------------------------------- labels

#: Candidate label offsets in points (dx, dy, ha, va), tried in order of preference.
_NEAR = 4.5
_LABEL_CANDIDATES: tuple[tuple[float, float, str, str], ...] = tuple(
    (dx * d * _NEAR, dy * d * _NEAR, ha, va)
    for d in (1.0, 1.8, 2.6, 4.0)
    for dx, dy, ha, va in (
        (1, 0, "left", "center"), (-1, 0, "right", "center"),
        (0.8, 0.8, "left", "bottom"), (0.8, -0.8, "left", "top"),
        (-0.8, 0.8, "right", "bottom"), (-0.8, -0.8, "right", "top"),
        (0, 1.1, "center", "bottom"), (0, -1.1, "center", "top"),
    )
)


#: Cost of covering one record symbol, in candidate ranks: a label moves out
#: one ring rather than cover a symbol, but not three rings.
_COVER_PENALTY = 12


def _overlaps(box: Bbox, others: Sequence[Bbox]) -> bool:
    return any(box.overlaps(o) for o in others)


def _place_labels(
    ax: Any, places: Sequence[NamedPlace], renderer: Any, obstacles: Sequence[Bbox],
    markers: np.ndarray,
) -> list[Text]:
    """Label each place without overlapping another label, the legend or a place dot.

    A deterministic greedy placer: places are taken in :data:`NAMED_PLACES`
    order (the most important first); for each, the candidate offsets are
    tried near to far and the first that fits, with the fewest record symbols
    covered, wins. A far candidate gets a thin leader line; a place for which
    nothing fits is left unlabelled rather than overlapping. Extents are
    measured in display coordinates with the renderer the figure is drawn
    with, and offsets are in points, so the result holds at any dpi.
    """
    fig = ax.figure
    frame = ax.get_window_extent(renderer).padded(-2)
    px_per_pt = fig.dpi / 72
    t = _to_albers()
    placed: list[Bbox] = []
    texts: list[Text] = []
    hard = list(obstacles)
    for place in places:
        x, y = t.transform(place.lon, place.lat)
        best: tuple[float, Text, Bbox, tuple[float, float, str, str]] | None = None
        for rank, cand in enumerate(_LABEL_CANDIDATES):
            dx, dy, ha, va = cand
            text = ax.text(
                x, y, f"{place.name_en} {place.name_zh}",
                transform=ax.transData + ScaledTranslation(dx / 72, dy / 72, fig.dpi_scale_trans),
                ha=ha, va=va, size=_PLACE_PT, color=_INK, zorder=_Z_LABELS,
            )
            box = text.get_window_extent(renderer).padded(1.0 * px_per_pt)
            fits = (
                frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
                and not _overlaps(box, placed) and not _overlaps(box, hard)
            )
            if fits:
                covered = _count_inside(markers, box)
                cost = rank + _COVER_PENALTY * covered
                if best is None or cost < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (cost, text, box, cand)
                    if covered == 0:
                        break
                    continue
            text.remove()
        if best is None:
            continue
        _, text, box, (dx, dy, _, _) = best
        text.set_gid("cmf-place-label")
        placed.append(box)
        texts.append(text)
        halo = ax.text(
            x, y, text.get_text(), transform=text.get_transform(), ha=text.get_ha(),
            va=text.get_va(), size=_PLACE_PT, color="none", zorder=_Z_LABELS - 0.1,
            path_effects=[Stroke(linewidth=2.2, foreground=_rgba("#ffffff", 0.9))],
        )
        halo.set_gid("cmf-place-halo")
        if math.hypot(dx, dy) > _NEAR * 2.2:
            _leader(ax, x, y, box, renderer)
    return texts


def _leader(ax: Any, x: float, y: float, box: Bbox, renderer: Any) -> None:
    """A thin line from the place to the nearest point of its label's box."""
    px, py = ax.transData.transform((x, y))
    qx, qy = min(max(px, box.x0), box.x1), min(max(py, box.y0), box.y1)
    inv = ax.transData.inverted()
    (x0, y0), (x1, y1) = inv.transform([(px, py), (qx, qy)])
    ax.add_line(Line2D([x0, x1], [y0, y1], color=_MUTED, linewidth=0.4,
                       zorder=_Z_LABELS - 0.2, gid="cmf-place-leader"))


def _count_inside(markers: np.ndarray, box: Bbox) -> int:
    """How many marker boxes (x0, y0, x1, y1 rows, display units) ``box`` overlaps."""
    if markers.size == 0:
        return 0
    hit = (
        (markers[:, 0] < box.x1) & (markers[:, 2] > box.x0)
        & (markers[:, 1] < box.y1) & (markers[:, 3] > box.y0)
    )
    return int(hit.sum())


def _marker_boxes(ax: Any, renderer: Any) -> np.ndarray:
    """Display-space boxes of the record symbols a label should not cover.

    A fund's large translucent circle may sit under a label; only its centre
    is kept clear, so the label does not hide where the fund is.
    """
    boxes = []
    centre_pt = 2.0
    for coll in ax.collections:
        gid = coll.get_gid() or ""
        if not gid.startswith(("cmf-cluster", "cmf-fund", "cmf-zone", "cmf-user", "cmf-org")):
            continue
        offsets = coll.get_offsets()
        if len(offsets) == 0:
            continue
        centres = ax.transData.transform(offsets)
        half_pt = np.sqrt(np.broadcast_to(coll.get_sizes(), (len(offsets),))) / 2
        if gid == "cmf-fund-known":
            half_pt = np.minimum(half_pt, centre_pt)
        half = half_pt * renderer.points_to_pixels(1.0)
        boxes.append(np.column_stack([centres[:, 0] - half, centres[:, 1] - half,
                                      centres[:, 0] + half, centres[:, 1] + half]))
    return np.vstack(boxes) if boxes else np.empty((0, 4))


# --------------------------------------------------------------------------- figure


def render_figure(
    frame: pd.DataFrame,
    flt: RecordFilter,
    *,
    basemap: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    width_in: float = 7.5,
    dpi: float = 300,
    data_as_of: dt.date | str | None = None,
    bounds: Sequence[Sequence[float]] = CHINA_VIEW_BOUNDS,
    symbol_scale: float = SYMBOL_SCALE,
    caption: str | None = None,
    user_frame: pd.DataFrame | None = None,
    links: bool = False,
) -> Figure:
    """Draw the selection as a report figure.

    Parameters
    ----------
    frame
        The records to draw, already filtered with ``flt`` (as the dashboard
        and CLI do with :func:`geodata.query.filters.filter_records`).
    flt
        The filter that produced ``frame``: stated in the subtitle, and its
        layers decide the legend entries.
    basemap
        Provinces and neighbours from :func:`geodata.render.basemap.load_basemap`;
        default: the committed basemap, loaded once and cached.
    title
        Default :data:`DEFAULT_TITLE`.
    width_in, dpi
        Figure width in inches and raster resolution (PNG is ``width_in * dpi``
        pixels wide). The height follows from the map's aspect and the text.
    data_as_of
        Date for the "Data as of" line, a :class:`datetime.date` or
        ``'YYYY-MM-DD'``; default: :func:`dataset_date` of the curated datasets.
    bounds
        ``((south, west), (north, east))`` in degrees to frame; default
        :data:`geodata.model.places.CHINA_VIEW_BOUNDS`.
    symbol_scale
        Size of symbols relative to the web map's, in points.
    caption
        Text printed under the map and legend, above the sources (a figure
        caption typed by the user); ``None`` or blank for none.
    user_frame
        The user's own records shown on the map (same columns as ``frame``):
        drawn as their own layer with its legend entry, counted apart from
        the curated records. ``None`` when that layer is hidden.
    links
        Draw the links among the records of ``frame`` (both ends selected and
        placed) as lines, one dash pattern per type, in the legend. Needs the
        relation columns (:func:`geodata.model.relations.attach_relations`).

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; save it with :func:`save_figure`.

    Raises
    ------
    FigureFontError
        If no CJK font is installed.
    ValueError
        For bad ``bounds``, ``data_as_of``, ``width_in`` or ``dpi``;
        :class:`FigureSizeError` (a ``ValueError``) when ``width_in`` and
        ``dpi`` together pass :data:`~geodata.model.limits.MAX_FIGURE_PIXELS`.
    """
    if not isinstance(flt, RecordFilter):
        raise TypeError(f"'flt' should be a RecordFilter, got {type(flt)}")
    if not (1 <= width_in <= 40):
        raise ValueError(f"'width_in' should be between 1 and 40 inches, got {width_in!r}")
    if not (10 <= dpi <= 1200):
        raise ValueError(f"'dpi' should be between 10 and 1200, got {dpi!r}")
    missing = {"kind", "lon", "lat", "fund_size_rmb_bn", "status", "sources"} - set(frame.columns)
    if missing:
        raise ValueError(f"'frame' lacks column(s) {sorted(missing)}; see records_to_frame()")
    if user_frame is not None and not {"lon", "lat"} <= set(user_frame.columns):
        raise ValueError("'user_frame' needs 'lon' and 'lat' columns; see records_to_frame()")
    with matplotlib.rc_context(_rc()):
        return _render(frame, flt, basemap=basemap, title=title, width_in=width_in, dpi=dpi,
                       data_as_of=data_as_of, bounds=bounds, scale=symbol_scale,
                       caption=caption, user_frame=user_frame, links=links)


def _render(
    frame: pd.DataFrame, flt: RecordFilter, *, basemap: gpd.GeoDataFrame | None,
    title: str | None, width_in: float, dpi: float, data_as_of: dt.date | str | None,
    bounds: Sequence[Sequence[float]], scale: float, caption: str | None = None,
    user_frame: pd.DataFrame | None = None, links: bool = False,
) -> Figure:
    south, west, north, east = check_bounds(bounds)
    all_selected = frame
    # Unplaced organisations are counted in the subtitle but have no point to draw.
    frame = frame[frame["lat"].notna()]
    unplaced = len(all_selected) - len(frame)
    segments = _link_segments(frame) if links else []
    links_drawn = sorted({kind for kind, _ in segments})
    x0, x1, y0, y1 = _frame_extent(bounds)
    base = _basemap(basemap)
    kinds = frozenset(flt.kinds)
    xs, ys = _to_albers().transform(frame["lon"].to_numpy(float), frame["lat"].to_numpy(float))
    inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
    outside = int(np.sum(~inside))

    # Layout in inches, top to bottom: title, subtitle, map, legend, footer.
    text_w_pt = (width_in - 2 * _MARGIN_IN) * 72
    title_lines = _wrap(title or DEFAULT_TITLE, _TITLE_PT, text_w_pt, "bold")
    user_count = None if user_frame is None else len(user_frame)
    sub_lines = _wrap(_subtitle(all_selected, flt, outside, user_count, unplaced),
                      _SUBTITLE_PT, text_w_pt)
    caption_lines = [line for para in (caption or "").strip().splitlines()
                     for line in _wrap(" ".join(para.split()), _CAPTION_PT, text_w_pt)]
    # Credit the sources of the records on the map, not of those outside the frame.
    foot_lines = _wrap(source_line(frame[inside]), _FOOT_PT, text_w_pt)
    foot_lines += _wrap(f"{BOUNDARIES_CREDIT}. {_as_of_text(data_as_of)}.", _FOOT_PT, text_w_pt)
    title_h = len(title_lines) * _TITLE_PT * _LINE_SPACING / 72
    sub_h = len(sub_lines) * _SUBTITLE_PT * _LINE_SPACING / 72
    foot_h = len(foot_lines) * _FOOT_PT * _LINE_SPACING / 72
    # A zone status is listed when a zone on the map has it; no zone, no zone entry.
    zones = frame.loc[frame["kind"] == "zone", "status"] if "zone" in kinds else frame.iloc[:0]
    statuses = legend_zone_statuses(zones) if len(zones) else []
    pack, legend_h = _legend_pack(kinds, scale, text_w_pt, statuses,
                                  user=user_frame is not None, links_drawn=links_drawn)
    caption_h = len(caption_lines) * _CAPTION_PT * _LINE_SPACING / 72 if caption_lines else 0.0
    map_w = width_in - 2 * _MARGIN_IN
    map_h = map_w * (y1 - y0) / (x1 - x0)
    top_pad, gap, bottom_pad = 0.2, 0.12, 0.16
    legend_gap = gap if legend_h else 0.0
    map_top = top_pad + title_h + sub_h + gap
    legend_top = map_top + map_h + gap
    caption_top = legend_top + legend_h + legend_gap
    foot_top = caption_top + caption_h + (gap if caption_h else 0.0)
    height = foot_top + foot_h + bottom_pad
    check_figure_pixels(width_in, height, dpi)

    fig = Figure(figsize=(width_in, height), dpi=dpi, facecolor="#ffffff")
    canvas = FigureCanvasAgg(fig)
    left = _MARGIN_IN / width_in

    def fy(inches_from_top: float) -> float:
        return 1 - inches_from_top / height

    common = {"color": _INK, "va": "top", "ha": "left", "linespacing": _LINE_SPACING}
    fig.text(left, fy(top_pad), "\n".join(title_lines), size=_TITLE_PT, weight="bold",
             gid="cmf-title", **common)
    fig.text(left, fy(top_pad + title_h), "\n".join(sub_lines), size=_SUBTITLE_PT,
             gid="cmf-subtitle", **{**common, "color": _MUTED})
    fig.text(left, fy(foot_top), "\n".join(foot_lines), size=_FOOT_PT, gid="cmf-footer",
             **{**common, "color": _MUTED})
    if caption_lines:
        fig.text(left, fy(caption_top), "\n".join(caption_lines), size=_CAPTION_PT,
                 gid="cmf-caption", **common)

    ax = fig.add_axes((left, fy(map_top + map_h), map_w / width_in, map_h / height))
    ax.set_facecolor(BASE_STYLES["neighbour"]["fillColor"])
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set(linewidth=0.6, color="#8c8c8c")

    _draw_basemap(ax, base)
    _draw_place_dots(ax, scale)
    _draw_links(ax, segments, scale)
    _draw_records(ax, frame, kinds, scale, (x1 - x0) / (map_w * 72))
    if user_frame is not None:
        _draw_user_records(ax, user_frame, scale, (x1 - x0) / (map_w * 72))
    if pack is not None:
        legend = AnchoredOffsetbox(
            loc="upper left", child=pack, pad=0, borderpad=0, frameon=False,
            bbox_to_anchor=(left, fy(legend_top)), bbox_transform=fig.transFigure,
        )
        legend.set_gid("cmf-legend")
        fig.add_artist(legend)

    renderer = canvas.get_renderer()
    markers = _marker_boxes(ax, renderer)
    placed = _place_labels(ax, _places_in_view(south, west, north, east), renderer,
                           _place_dot_boxes(ax, renderer), markers)
    (cs, cw), (cn, ce) = CHINA_VIEW_BOUNDS
    if (north - south) < REGIONAL_SHARE * (cn - cs) or (east - west) < REGIONAL_SHARE * (ce - cw):
        _label_provinces(ax, base, renderer, [t.get_window_extent(renderer) for t in placed],
                         markers)
    return fig


def _label_provinces(
    ax: Any, base: _Base, renderer: Any, taken: list[Bbox], markers: np.ndarray
) -> None:
    """Name the provinces of a regional view in grey, where no label or symbol is.

    A national map has its outline to orient by; a regional one may show no
    boundary at all (the Sichuan preset lies inside Sichuan).
    """
    frame = ax.get_window_extent(renderer).padded(-4)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    view = shapely.box(x0, y0, x1, y1)
    for name_en, name_zh, x, y, shape in base.province_labels:
        # Only a province that fills a fair part of the view: no "HONG KONG" on a dot.
        part = shape.intersection(view) if shape is not None else None
        if part is None or part.is_empty or part.area < 0.08 * view.area:
            continue
        px, py = ax.transData.transform((x, y))
        if not frame.contains(px, py):
            # Its label point is off the map: name it inside the part that shows.
            point = part.representative_point()
            x, y = point.x, point.y
        text = ax.text(x, y, f"{name_en.upper()} {name_zh}", ha="center", va="center",
                       size=_PLACE_PT, color="#8a8a8a", zorder=_Z_LABELS - 0.5,
                       gid="cmf-province-label",
                       path_effects=[Stroke(linewidth=2.2, foreground=_rgba("#ffffff", 0.9)),
                                     Normal()])
        box = text.get_window_extent(renderer).padded(2)
        inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
        if not inside or _overlaps(box, taken) or _count_inside(markers, box):
            text.remove()
            continue
        taken.append(box)


def _draw_basemap(ax: Any, base: _Base) -> None:
    # Beyond the basemap's extent lie only the frame's far corners: continental
    # Asia to the west of the central meridian, the Pacific to the east.
    x1 = ax.get_xlim()[1]
    y0, y1 = ax.get_ylim()
    sea = shapely.union(base.coverage, shapely.box(0.0, y0, x1, y1))
    ax.add_patch(PathPatch(
        Path_(np.asarray(shapely.get_exterior_ring(sea).coords)),
        facecolor=SEA_COLOR, edgecolor="none", zorder=_Z_BASE - 0.5, gid="cmf-sea",
    ))
    ns, ps = BASE_STYLES["neighbour"], BASE_STYLES["province"]
    ax.add_collection(PathCollection(
        base.neighbours, facecolors=ns["fillColor"], edgecolors="none", zorder=_Z_BASE,
        gid="cmf-neighbours", transform=ax.transData,
    ), autolim=False)
    ax.add_collection(LineCollection(
        base.neighbour_borders, colors=ns["color"], linewidths=_pt(ns["weight"], 1),
        zorder=_Z_BASE + 0.05, gid="cmf-neighbour-borders",
    ), autolim=False)
    ax.add_collection(PathCollection(
        base.provinces, facecolors=ps["fillColor"], edgecolors=ps["color"],
        linewidths=_pt(ps["weight"], 0.7), zorder=_Z_BASE + 0.1, gid="cmf-provinces",
        transform=ax.transData,
    ), autolim=False)
    # China's outer boundary drawn stronger than the provincial lines.
    ax.add_collection(LineCollection(
        base.outline, colors=_COAST, linewidths=0.7, zorder=_Z_BASE + 0.2,
        gid="cmf-china-outline",
    ), autolim=False)


def _places_in_view(south: float, west: float, north: float, east: float) -> list[NamedPlace]:
    return [p for p in NAMED_PLACES if south <= p.lat <= north and west <= p.lon <= east]


def _draw_place_dots(ax: Any, scale: float) -> None:
    lon = np.array([p.lon for p in NAMED_PLACES])
    lat = np.array([p.lat for p in NAMED_PLACES])
    x, y = _to_albers().transform(lon, lat)
    ax.scatter(x, y, s=(2.4 * scale / SYMBOL_SCALE) ** 2, marker="o", facecolors=_INK,
               edgecolors="#ffffff", linewidths=0.4, zorder=_Z_PLACE_DOT, gid="cmf-place-dot")


def _place_dot_boxes(ax: Any, renderer: Any) -> list[Bbox]:
    coll = next(c for c in ax.collections if c.get_gid() == "cmf-place-dot")
    half = math.sqrt(float(coll.get_sizes()[0])) / 2 * renderer.points_to_pixels(1.0)
    return [
        Bbox.from_extents(cx - half, cy - half, cx + half, cy + half)
        for cx, cy in ax.transData.transform(coll.get_offsets())
    ]


# --------------------------------------------------------------------------- saving


def figure_format(path: Path | str) -> str:
    """The matplotlib format for an output path, from its suffix.

    >>> figure_format("map.SVG")
    'svg'
    """
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot write a figure to {str(path)!r}: unknown extension {suffix or '(none)'!r}; "
            f"expected one of {', '.join(FORMATS)}"
        )
    return FORMATS[suffix]


def _savefig_kwargs(fmt: str, dpi: float | None) -> dict[str, Any]:
    # Leave out creation dates so the same data and filters give the same bytes.
    metadata = {"png": {"Software": None}, "svg": {"Date": None},
                "pdf": {"CreationDate": None}}[fmt]
    kwargs: dict[str, Any] = {"format": fmt, "metadata": metadata}
    if dpi is not None:
        kwargs["dpi"] = dpi
    return kwargs


_SVG_FONT_FAMILY = re.compile(rb"font-family: ?'[^']*'")


def _write(
    fig: Figure, fh: Any, fmt: str, dpi: float | None, text_as: str = "text"
) -> None:
    """Save ``fig`` to ``fh``; an SVG's text names :data:`SVG_FONT_STACK`, or is outlines."""
    if text_as not in TEXT_MODES:
        raise ValueError(f"'text_as' should be one of {list(TEXT_MODES)}, got {text_as!r}")
    rc = {**_rc(), "svg.fonttype": "path" if text_as == "outlines" else "none"}
    with matplotlib.rc_context(rc):
        if fmt != "svg" or text_as == "outlines":
            fig.savefig(fh, **_savefig_kwargs(fmt, dpi))
            return
        buf = io.BytesIO()
        fig.savefig(buf, **_savefig_kwargs(fmt, dpi))
    stack = f"font-family: {SVG_FONT_STACK}".encode()
    fh.write(_SVG_FONT_FAMILY.sub(lambda _: stack, buf.getvalue()))


def save_figure(
    fig: Figure, path: Path | str, dpi: float | None = None, text_as: str = "text"
) -> Path:
    """Write ``fig`` to ``path`` atomically; the format follows the suffix.

    The figure is written to a temporary file beside ``path`` and moved into
    place with :func:`os.replace`, so a failure leaves any earlier file intact
    and no partial one. ``dpi`` defaults to the figure's own (PNG only; SVG
    and PDF are vectors). ``text_as`` (SVG only): ``"text"`` or ``"outlines"``,
    see :data:`TEXT_MODES`.
    """
    path = Path(path)
    fmt = figure_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            _write(fig, fh, fmt, dpi, text_as)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def figure_bytes(
    frame: pd.DataFrame, flt: RecordFilter, fmt: str, *, text_as: str = "text", **kwargs: Any
) -> bytes:
    """The figure as ``png``, ``svg`` or ``pdf`` bytes, e.g. for a download button.

    ``text_as``: how an SVG carries its text (:data:`TEXT_MODES`). Other
    keyword arguments are those of :func:`render_figure`.
    """
    fmt = figure_format(f"figure.{str(fmt).lower().lstrip('.')}")
    fig = render_figure(frame, flt, **kwargs)
    buf = io.BytesIO()
    _write(fig, buf, fmt, kwargs.get("dpi"), text_as)
    return buf.getvalue()


def export_figure(
    frame: pd.DataFrame, flt: RecordFilter, out: Path | str, *, text_as: str = "text",
    **kwargs: Any,
) -> Path:
    """Render and save the figure to ``out`` (``.png``, ``.svg`` or ``.pdf``).

    The extension is checked before anything is drawn. ``text_as``: see
    :func:`figure_bytes`; other keyword arguments are those of :func:`render_figure`.
    """
    figure_format(out)
    if text_as not in TEXT_MODES:
        raise ValueError(f"'text_as' should be one of {list(TEXT_MODES)}, got {text_as!r}")
    fig = render_figure(frame, flt, **kwargs)
    return save_figure(fig, out, dpi=kwargs.get("dpi"), text_as=text_as)
