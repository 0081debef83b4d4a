"""What a report figure shows and how, decided without drawing it.

Its frame (:func:`figure_extent`: the map's preset view, or the records when
a filter leaves one region), the widths and SVG text modes the dashboard
offers, and the default title. Kept apart from :mod:`geodata.render.figure` so the
map page can name a figure's options and frame without importing matplotlib,
which takes seconds to load and is needed only when a figure is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from geodata.model.places import CHINA_VIEW_BOUNDS

DEFAULT_TITLE = "China's military-civil fusion landscape"
#: The font-family an SVG names for its text: the font it was drawn with first,
#: then the same design under its other names, then the CJK fonts Windows and
#: macOS ship, so an SVG opened where Noto Sans CJK is missing still shows
#: Chinese in a like sans-serif (or choose outlines: :data:`TEXT_MODES`).
SVG_FONT_STACK = (
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'Noto Sans SC', 'Microsoft YaHei', "
    "'PingFang SC', 'Hiragino Sans GB', 'WenQuanYi Micro Hei', sans-serif"
)
#: How an SVG carries its text: as text (searchable, editable; named fonts with
#: fallbacks) or as outlines (looks the same everywhere, not editable as text).
TEXT_MODES: dict[str, str] = {"text": "Text (editable)", "outlines": "Outlines (same everywhere)"}
#: Figure widths offered by the dashboard, in inches.
WIDTHS_IN: dict[float, str] = {
    7.5: "Report (7.5 in)",
    6.3: "Word page (6.3 in, A4 or Letter with 1-inch margins)",
    10.0: "Slide (10 in)",
}
#: Smallest span, in degrees, of a frame fitted to records: a single city shows its
#: surroundings rather than one province blob.
MIN_SPAN_DEG = 2.5
#: Width to height (in ground distance) of a frame fitted to records, at least.
FIT_ASPECT = 1.35
#: A selection on the All China view whose records span less than this share of
#: China's extent both ways is framed on its records (:func:`figure_extent`).
REGIONAL_SHARE = 0.4


def check_bounds(
    bounds: Sequence[Sequence[float]],
) -> tuple[float, float, float, float]:
    """``(south, west, north, east)`` of ``((south, west), (north, east))``, checked."""
    try:
        (south, west), (north, east) = bounds
        south, west, north, east = (float(v) for v in (south, west, north, east))
    except (TypeError, ValueError):
        raise ValueError(
            f"'bounds' should be ((south, west), (north, east)) in degrees, got {bounds!r}"
        ) from None
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise ValueError(
            f"'bounds' should have south < north within ±90 and west < east within ±180, "
            f"got {bounds!r}"
        )
    return south, west, north, east


def figure_extent(
    frames: Iterable[pd.DataFrame],
    view: Sequence[Sequence[float]] = CHINA_VIEW_BOUNDS,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """What a report figure frames: the map's view, or the records when they are regional.

    A preset view other than All China is kept as it is: the user chose that
    region. On All China, records that sit in a small part of the country
    (a province, a city, one search) are framed on themselves
    (:func:`records_bounds`), so a Beijing-only figure shows Beijing rather
    than one dot on a national map; a national selection keeps China.

    >>> beijing = pd.DataFrame({"lon": [116.4], "lat": [39.9]})
    >>> figure_extent([beijing])
    ((38.65, 114.2003), (41.15, 118.5997))
    >>> national = pd.DataFrame({"lon": [87.6, 126.6], "lat": [43.8, 22.5]})
    >>> figure_extent([national]) == CHINA_VIEW_BOUNDS
    True
    """
    (south, west), (north, east) = (tuple(float(v) for v in corner) for corner in view)
    (cs, cw), (cn, ce) = CHINA_VIEW_BOUNDS
    if (south, west, north, east) != (cs, cw, cn, ce):
        return _landscape(south, west, north, east)
    fit = records_bounds(frames)
    (fs, fw), (fn, fe) = fit
    if fn - fs < REGIONAL_SHARE * (cn - cs) and fe - fw < REGIONAL_SHARE * (ce - cw):
        return fit
    return CHINA_VIEW_BOUNDS



def _landscape(
    south: float, west: float, north: float, east: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The box widened about its centre to at least :data:`FIT_ASPECT` (ground distance).

    A preset framed for a wide screen can be taller than wide in degrees at
    its latitude; a page figure of it would be a tall, mostly empty map.

    >>> _landscape(30.0, 104.0, 32.0, 105.0)
    ((30.0, 102.925), (32.0, 106.075))
    """
    shrink = math.cos(math.radians((south + north) / 2))
    lon_span = max(east - west, FIT_ASPECT * (north - south) / shrink)
    mid = (west + east) / 2
    return (south, round(mid - lon_span / 2, 4)), (north, round(mid + lon_span / 2, 4))


def records_bounds(
    frames: Iterable[pd.DataFrame], *, pad: float = 0.12, min_span: float = MIN_SPAN_DEG,
    limit: Sequence[Sequence[float]] = CHINA_VIEW_BOUNDS,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """``((south, west), (north, east))`` framing the points of ``frames``, for a figure.

    Padded by ``pad`` of the span on each side, at least ``min_span`` degrees
    each way (a single city shows its surroundings), and never beyond
    ``limit`` (All China): a figure of Beijing's records is framed on
    Beijing, one of the whole data on China. No points: ``limit``.

    >>> df = pd.DataFrame({"lon": [116.4, 116.5], "lat": [39.9, 40.0]})
    >>> records_bounds([df])
    ((38.7, 114.2487), (41.2, 118.6513))
    """
    ls, lw, ln, le = check_bounds(limit)
    lons = np.concatenate([f["lon"].to_numpy(float) for f in frames if len(f)] or [[]])
    lats = np.concatenate([f["lat"].to_numpy(float) for f in frames if len(f)] or [[]])
    keep = np.isfinite(lons) & np.isfinite(lats)
    lons, lats = lons[keep], lats[keep]
    if not len(lons):
        return (ls, lw), (ln, le)

    def side(lo: float, hi: float, span: float, floor: float, ceil: float) -> tuple[float, float]:
        mid = (lo + hi) / 2
        a, b = mid - span / 2, mid + span / 2
        if b - a >= ceil - floor:
            return floor, ceil
        shift = max(floor - a, 0.0) - max(b - ceil, 0.0)
        return round(a + shift, 4), round(b + shift, 4)

    lat_lo, lat_hi = float(lats.min()), float(lats.max())
    lon_lo, lon_hi = float(lons.min()), float(lons.max())
    # Landscape, as a page is wide: widen the lesser side (in ground distance) to
    # between FIT_ASPECT and twice it, width to height.
    shrink = math.cos(math.radians((lat_lo + lat_hi) / 2))
    lat_span = max((lat_hi - lat_lo) * (1 + 2 * pad), min_span)
    lon_span = max((lon_hi - lon_lo) * (1 + 2 * pad), min_span)
    lon_span = max(lon_span, FIT_ASPECT * lat_span / shrink)
    lat_span = max(lat_span, lon_span * shrink / (2 * FIT_ASPECT))
    south, north = side(lat_lo, lat_hi, lat_span, ls, ln)
    west, east = side(lon_lo, lon_hi, lon_span, lw, le)
    return (south, west), (north, east)
