"""Build the folium map: offline basemap, one vectorised layer per record kind.

Each layer is a single ``L.geoJSON`` over a FeatureCollection, not one
Python object per record, so the map scales to large datasets. A user's own
records (``user_frame``) are one more layer, drawn on top as black-outlined
triangles with the class ``cmf-user-symbol`` (not ``cmf-symbol``, which
counts curated records only), and with their own legend entry. Leaflet is
loaded from the local server (:mod:`geodata.render.assets`); no CDN, no tiles by
default. This module builds folium objects and never calls ``st_folium``.

Example
-------
>>> from geodata.model.frame import records_to_frame
>>> m = build_map(records_to_frame([]), basemap={"type": "FeatureCollection", "features": []})
>>> "CMF.addBasemap" in m.get_root().render()
True
"""

from __future__ import annotations

import functools
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import folium
import pandas as pd
import xyzservices
from branca.element import Element, MacroElement, Template

from geodata.io.export import to_geojson
from geodata.model.places import CHINA_VIEW_BOUNDS, NAMED_PLACES, REGION_VIEW_BOUNDS
from geodata.model.schema import (
    CATEGORIES,
    DESIGNATION_LISTS,
    DOMAINS,
    KINDS,
    LINK_FORWARD_LABELS,
    LOCATION_PRECISIONS,
    STATUSES,
    ZONE_STATUSES,
)
from geodata.render.assets import vendor_urls
from geodata.render.binary import FUND_CLASS_BASE_BN
from geodata.render.detail import published_date_text
from geodata.render.style import (
    CLUSTER_RADIUS_PX,
    DESIGNATED_LABEL,
    DESIGNATED_STROKE,
    FUND_LEGEND_SIZES_BN,
    FUND_REFERENCE_BN,
    FUND_REFERENCE_RADIUS_PX,
    FUND_UNKNOWN_RADIUS_PX,
    LAYER_COLORS,
    LAYER_STROKES,
    LEGEND_CLUSTER_TEXT,
    LEGEND_FUND_UNKNOWN_TEXT,
    LEGEND_HEADINGS,
    LINK_COLOR,
    LINK_DASHES,
    LINK_SELECTED_COLOR,
    ORG_SIZE_PX,
    USER_COLOR,
    USER_DOM_MAX,
    USER_LAYER_LABEL,
    USER_SIZE_PX,
    USER_STROKE,
    ZONE_SIZE_PX,
    fund_radius_px,
    legend_fund_size_label,
    legend_zone_statuses,
)

BASEMAP_ATTRIBUTION_HTML = (
    'Boundaries: <a href="https://www.naturalearthdata.com/" target="_blank" '
    'rel="noopener noreferrer">Natural Earth</a> (public domain), de facto view'
)
RECORDS_ATTRIBUTION_HTML = "Records: CMF Atlas, from cited public sources"

#: Optional online tile layers a user may switch on; none is shown by default.
ONLINE_TILES: tuple[tuple[str, str], ...] = (
    ("OpenStreetMap.Mapnik", "OpenStreetMap (online)"),
    ("OpenTopoMap", "OpenTopoMap (online)"),
)

@functools.cache
def _tile_provider(name: str) -> xyzservices.TileProvider:
    """The xyzservices provider called ``name``; looked up once (a search of hundreds)."""
    return xyzservices.providers.query_name(name)


_JS = resources.files("geodata.render.web").joinpath("cmf_map.js").read_text(encoding="utf-8")
#: The canvas point layer for large selections (:mod:`geodata.render.binary`).
_POINTS_JS = (resources.files("geodata.render.web").joinpath("cmf_points.js")
              .read_text(encoding="utf-8"))

#: Big translucent fund circles go underneath, so dots and diamonds stay visible.
DRAW_ORDER: tuple[str, ...] = ("fund", "cluster", "organisation", "zone")

SEA_COLOR = "#dce6ee"
#: Presentation mode: the map fills its frame, whatever height the page gives it.
FILL_FRAME_CSS = "html, body, #map_div { height: 100vh !important; margin: 0; }"
BASE_STYLES = {
    "province": {"color": "#8c8c8c", "weight": 0.8, "fillColor": "#fbfaf6", "fillOpacity": 1},
    "neighbour": {"color": "#b5b5b5", "weight": 0.6, "fillColor": "#ecebe6", "fillOpacity": 1},
}


#: A ``{`` that would open a Jinja tag (``{{``, ``{%``, ``{#``). In compact JSON such a
#: brace can only be inside a string, where ``\u007b`` is the same character.
_JINJA_OPEN = re.compile(r"\{(?=[{%#])")


@dataclass(frozen=True)
class ScriptJSON:
    """A value already serialised by :func:`script_json`, to be placed in a page as is.

    A large value that does not change between reruns (the user's layer, or a
    basemap embedded in a standalone page) is serialised once and reused rather
    than on every rerun.
    """

    text: str


@dataclass(frozen=True)
class BasemapURL:
    """Where the browser fetches the basemap from, instead of finding it in the page.

    The dashboard serves the basemap as a static file
    (:func:`geodata.render.assets.install_basemap`): half a megabyte that the
    browser fetches once and caches, rather than receives again with every
    rerun that redraws the map (issue 13's bytes on the wire). A standalone
    page (:func:`build_map`) embeds it instead, so it works from a file.
    """

    url: str


def script_json(value: Any) -> ScriptJSON:
    """``value`` as JSON safe for a page (see :func:`_js_json`), ready to reuse.

    >>> script_json({"a": "<b>"}).text
    '{"a":"\\\\u003cb\\\\u003e"}'
    """
    return ScriptJSON(_js_json(value))


def _js_json(value: Any) -> str:
    """JSON safe to place inside a ``<script>`` and inside a folium page.

    No '<', '>', '&' or line separators (they could end the script), and no
    ``{{``, ``{%`` or ``{#`` (branca renders page parts as Jinja templates;
    :class:`MapScript` keeps data out of that, and this is the second guard).

    >>> text = _js_json({"name": "{{ 7*7 }} </script>"})
    >>> "{{" in text or "<" in text, json.loads(text)["name"]
    (False, '{{ 7*7 }} </script>')
    """
    if isinstance(value, ScriptJSON):
        return value.text
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for raw, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                     ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, esc)
    return _JINJA_OPEN.sub(r"\\u007b", text)


class _RawText(Element):
    """Text placed in the page exactly as given, never compiled as a Jinja template."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


class OfflineMap(folium.Map):
    """A folium Map whose only scripts are Leaflet's and its plugins', from the local server."""

    def __init__(self, *args: Any, static_url: str | None = None, **kwargs: Any):
        js, css = vendor_urls(static_url) if static_url else vendor_urls()
        self.default_js = [(f"vendor_js_{i}", url) for i, url in enumerate(js)]
        self.default_css = [(f"vendor_css_{i}", url) for i, url in enumerate(css)]
        super().__init__(*args, **kwargs)


class MapScript(MacroElement):
    """A piece of JS run with the Leaflet map bound to ``map``.

    branca's ``MacroElement.render`` wraps each rendered script in a new
    ``Element``, which compiles it as a Jinja template and renders it again
    with the page: text from data such as ``{{ ... }}`` would then be
    evaluated on the server, and a 550 KB basemap would be parsed as a
    template on every rerun. This element adds its script as plain text.
    """

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function (map) {\n{{ this.body }}\n})({{ this._parent.get_name() }});\n"
        "{% endmacro %}"
    )

    def __init__(self, body: str, name: str = "MapScript"):
        super().__init__()
        self._name = name
        self.body = body

    def render(self, **kwargs: Any) -> None:
        figure = self.get_root()
        script = self._template.module.script(self, kwargs)
        figure.script.add_child(_RawText(script), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)


def _css(scale: float) -> str:
    zc, zs = LAYER_COLORS["zone"], LAYER_STROKES["zone"]
    oc, ost = LAYER_COLORS["organisation"], LAYER_STROKES["organisation"]
    ds = DESIGNATED_STROKE
    fs = 13 * scale
    return f"""
.leaflet-container {{ background: {SEA_COLOR}; font-family: system-ui, sans-serif; }}
.cmf-zone .cmf-diamond {{ width: 100%; height: 100%; box-sizing: border-box;
  transform: rotate(45deg) scale(0.75); border: {2 * scale}px solid {zs}; }}
.cmf-zone-approved .cmf-diamond {{ background: {zc}; }}
.cmf-org .cmf-square {{ width: 100%; height: 100%; box-sizing: border-box;
  background: {oc}; border: {1.5 * scale}px solid {ost};
  box-shadow: 0 0 0 {0.8 * scale}px #7a3000; }}
.cmf-org-designated .cmf-square {{ border: {3 * scale}px solid {ds};
  box-shadow: 0 0 0 {1.5 * scale}px #ffffff; }}
.cmf-zone-applied_not_approved .cmf-diamond {{ background: #ffffff; }}
.cmf-zone-local_pilot .cmf-diamond {{ background: repeating-linear-gradient(
  45deg, {zc} 0 2px, #ffffff 2px 4px); }}
.cmf-place-label span {{ white-space: nowrap; font-size: {11 * scale}px; color: #333;
  text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff; position: relative;
  left: {17 * scale ** 0.5:.0f}px; top: -7px; pointer-events: none; }}
.cmf-tip-en {{ font-weight: 600; font-size: {fs}px; }}
.cmf-tip-zh {{ font-size: {fs}px; color: #333; }}
.cmf-popup {{ font-size: 12.5px; line-height: 1.35; }}
.cmf-popup-en {{ font-weight: 700; font-size: 14px; }}
.cmf-popup-zh {{ font-size: 14px; margin-bottom: 4px; }}
.cmf-popup table {{ border-collapse: collapse; margin: 4px 0; }}
.cmf-popup th {{ text-align: left; padding: 1px 8px 1px 0; color: #555; font-weight: 600;
  vertical-align: top; white-space: nowrap; }}
.cmf-popup td {{ padding: 1px 0; }}
.cmf-popup-desc {{ margin: 6px 0; }}
.cmf-popup-h {{ font-weight: 600; color: #555; }}
.cmf-popup-sources {{ margin: 2px 0 0 0; padding-left: 18px; }}
.cmf-popup-via {{ color: #666; font-size: 11px; }}
.cmf-popup-badurl {{ color: #999; }}
.cmf-popup-user {{ display: inline-block; margin-bottom: 4px; padding: 0 6px; border-radius: 3px;
  background: {USER_COLOR}; color: #fff; font-size: 11px; font-weight: 600; }}
.cmf-tip-user {{ font-size: {11 * scale}px; color: {USER_COLOR}; font-weight: 600; }}
.cmf-user-symbol svg {{ display: block; overflow: visible; }}
.cmf-legend {{ background: rgba(255,255,255,0.94); padding: 8px 10px; border-radius: 4px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); font-size: {12 * scale}px; line-height: 1.3;
  color: #222; max-width: {240 * scale}px; }}
.cmf-legend h4 {{ margin: 0 0 4px 0; font-size: {12.5 * scale}px; }}
.cmf-legend .row {{ display: flex; align-items: center; gap: 6px; margin: 2px 0; }}
.cmf-legend .sub {{ margin-top: 6px; font-weight: 600; color: #444; }}
.cmf-legend svg {{ flex: none; }}
.cmf-legend-box {{ display: flex; flex-direction: column; align-items: flex-start; gap: 4px; }}
.cmf-legend-box .cmf-legend {{ max-height: calc(100vh - 150px); overflow-y: auto; }}
.cmf-legend-toggle {{ font: 600 {12 * scale}px system-ui, sans-serif; color: #222; cursor: pointer;
  background: rgba(255,255,255,0.94); border: 1px solid #999; border-radius: 4px;
  padding: 3px 8px; box-shadow: 0 1px 4px rgba(0,0,0,0.25); }}
.cmf-legend-toggle:focus-visible {{ outline: 2px solid #0072B2; outline-offset: 2px; }}
.cmf-legend .cmf-legend-toggle-small {{ box-shadow: none; padding: 1px 6px;
  font-size: {11 * scale}px; font-weight: 500; }}
.cmf-legend .cmf-legend-toggle-small[aria-expanded="true"] {{ margin-bottom: 6px; }}
.cmf-basemap-missing {{ background: rgba(255,255,255,0.94); border: 1px solid #999;
  border-radius: 4px; padding: 3px 8px; font: {12 * scale}px system-ui, sans-serif; }}
.cmf-stack {{ background: none; border: none; }}
.cmf-stack-badge {{ width: 100%; height: 100%; box-sizing: border-box; border-radius: 50%;
  padding: {4 * scale ** 0.5:.1f}px; display: flex; cursor: pointer;
  box-shadow: 0 0 0 1.5px #222, 0 1px 4px rgba(0,0,0,0.45); }}
.cmf-stack-badge span {{ flex: 1; border-radius: 50%; background: #fff; display: flex;
  align-items: center; justify-content: center; color: #111;
  font: 700 {12 * scale ** 0.5:.1f}px system-ui, sans-serif; }}
.cmf-spread .cmf-stack {{ opacity: 0.25 !important; pointer-events: none; }}
.cmf-halo {{ filter: drop-shadow(0 0 2px #fff) drop-shadow(0 0 1px #fff); }}
.cmf-year {{ background: rgba(255,255,255,0.9); padding: 2px 12px 6px 12px; border-radius: 6px;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); text-align: center; color: #111; }}
.cmf-year-label {{ font-size: {12 * scale}px; color: #444; font-weight: 600; }}
.cmf-year-value {{ font-size: {40 * scale}px; font-weight: 700; line-height: 1; }}
.leaflet-popup.cmf-popup-below .leaflet-popup-tip-container,
.leaflet-popup.cmf-popup-shifted .leaflet-popup-tip-container {{ visibility: hidden; }}
.leaflet-popup-content {{ overflow-wrap: anywhere; }}
/* The browser's focus box on a clicked symbol: off for mouse clicks (the halo marks the
   selection); keyboard focus still shows a ring. */
.leaflet-container .leaflet-interactive:focus:not(:focus-visible),
.leaflet-container .leaflet-marker-icon:focus:not(:focus-visible),
.leaflet-container:focus:not(:focus-visible) {{ outline: none; }}
.leaflet-container .leaflet-interactive:focus-visible,
.leaflet-container .leaflet-marker-icon:focus-visible {{ outline: 2px solid #111;
  outline-offset: 2px; }}
.leaflet-control-attribution {{ white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  max-width: calc(100vw - 160px); }}
.leaflet-control-attribution:hover {{ white-space: normal; }}
.cmf-tiles-on {{ background: #f2efe9; }}
"""


#: Symbols whose centres are closer than this (px, before scaling) are stacked under a
#: count badge; a click on the badge spreads them out (spiderfy).
STACK_RADIUS_PX = 14
#: Room (px) kept free round a fitted view: the zoom buttons, and the attribution and
#: scale bar along the bottom edge.
VIEW_PADDING_PX: dict[str, tuple[int, int]] = {"top_left": (14, 14), "bottom_right": (14, 30)}
#: The legend starts folded on a map shorter than this (px), e.g. a 1366x768 projector.
LEGEND_OPEN_MIN_PX = 560
#: A settled view is written to the page's URL after this long (ms).
URL_DELAY_MS = 700
HALO_COLOR = "#111111"


def _settings(scale: float, home: tuple[tuple[float, float], tuple[float, float]]) -> dict:
    return {
        "scale": scale,
        "stack_radius": STACK_RADIUS_PX,
        "view": {"home": home, "max_bounds": REGION_VIEW_BOUNDS, "min_zoom": 2, "max_zoom": 18,
                 "padding": VIEW_PADDING_PX, "url_delay_ms": URL_DELAY_MS},
        "legend_open_min_px": LEGEND_OPEN_MIN_PX,
        "halo": {"color": HALO_COLOR},
        "colors": LAYER_COLORS,
        "strokes": LAYER_STROKES,
        "cluster_radius": CLUSTER_RADIUS_PX,
        "zone_size": ZONE_SIZE_PX,
        "fund_ref_bn": FUND_REFERENCE_BN,
        "fund_ref_radius": FUND_REFERENCE_RADIUS_PX,
        "fund_unknown_radius": FUND_UNKNOWN_RADIUS_PX,
        "kinds": KINDS,
        "categories": {k: v for cats in CATEGORIES.values() for k, v in cats.items()},
        "domains": DOMAINS,
        "statuses": STATUSES,
        "precisions": LOCATION_PRECISIONS,
        "base": BASE_STYLES,
        "user": {"color": USER_COLOR, "stroke": USER_STROKE, "size": USER_SIZE_PX,
                 "label": USER_LAYER_LABEL, "dom_max": USER_DOM_MAX},
        "org_size": ORG_SIZE_PX,
        "lists": {k: v.split(" (")[0] for k, v in DESIGNATION_LISTS.items()},
        "link_types": LINK_FORWARD_LABELS,
        "link_dashes": LINK_DASHES,
        "link": {"color": LINK_COLOR, "selected": LINK_SELECTED_COLOR},
    }


def _svg(inner: str, w: float, h: float) -> str:
    return f'<svg width="{w:.0f}" height="{h:.0f}" viewBox="0 0 {w:.0f} {h:.0f}">{inner}</svg>'


def _diamond_svg(status: str, size: float) -> str:
    c, s = LAYER_COLORS["zone"], LAYER_STROKES["zone"]
    half = size / 2
    pts = f"{half},1 {size - 1},{half} {half},{size - 1} 1,{half}"
    fill = {"approved": c, "applied_not_approved": "#ffffff", "local_pilot": "url(#cmfhatch)"}
    defs = (
        '<defs><pattern id="cmfhatch" width="4" height="4" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="2" height="4" fill="{c}"/></pattern></defs>'
    )
    return _svg(f'{defs}<polygon points="{pts}" fill="{fill[status]}" stroke="{s}" '
                'stroke-width="1.6"/>', size, size)


def _triangle_svg(size: float) -> str:
    pts = f"{size / 2},1 {size - 1},{size - 1} 1,{size - 1}"
    return _svg(f'<polygon points="{pts}" fill="{USER_COLOR}" stroke="{USER_STROKE}" '
                'stroke-width="1.5" stroke-linejoin="round"/>', size, size)


def _square_svg(size: float, designated: bool) -> str:
    c, stroke = LAYER_COLORS["organisation"], LAYER_STROKES["organisation"]
    if designated:
        inner = (f'<rect x="2" y="2" width="{size - 4}" height="{size - 4}" fill="{c}" '
                 f'stroke="{DESIGNATED_STROKE}" stroke-width="3"/>')
    else:
        inner = (f'<rect x="1.5" y="1.5" width="{size - 3}" height="{size - 3}" fill="{c}" '
                 f'stroke="{stroke}" stroke-width="1.5"/>')
    return _svg(inner, size, size)


def legend_html(
    kinds: frozenset[str] | set[str], scale: float = 1.0, *, user: bool = False,
    zone_statuses: Iterable[object] | None = None,
) -> str:
    """The categorical legend: one entry per visible layer, zone statuses, fund sizes.

    ``user`` adds the entry of the user's own records (first: it is the layer
    the user just added, and it is not curated data). ``zone_statuses``: the
    statuses the records carry (default: all); only those are listed. The
    wording is :mod:`geodata.render.style`'s, shared with the report figure.
    """
    e = html.escape
    parts = ['<div class="cmf-legend">']
    d = 14 * scale
    if user:
        parts.append(f'<div class="row cmf-legend-user">{_triangle_svg(USER_SIZE_PX * scale)}'
                     f'{e(USER_LAYER_LABEL)}</div>')
    if "cluster" in kinds:
        r = CLUSTER_RADIUS_PX * scale
        dot = _svg(f'<circle cx="{d / 2}" cy="{d / 2}" r="{r}" fill="{LAYER_COLORS["cluster"]}" '
                   'stroke="#fff" stroke-width="1.5"/>', d, d)
        parts.append(f'<div class="sub">{e(LEGEND_HEADINGS["cluster"])}</div>')
        parts.append(f'<div class="row">{dot}{e(LEGEND_CLUSTER_TEXT)}</div>')
    if "fund" in kinds:
        parts.append(f'<div class="sub">{e(LEGEND_HEADINGS["fund"])}</div>')
        big = fund_radius_px(max(FUND_LEGEND_SIZES_BN), scale)
        w = 2 * big + 4
        circles = []
        for size in FUND_LEGEND_SIZES_BN:
            r = fund_radius_px(size, scale)
            cy = w - 2 - r
            circles.append(
                f'<circle cx="{w / 2}" cy="{cy:.1f}" r="{r:.1f}" fill="{LAYER_COLORS["fund"]}" '
                f'fill-opacity="0.35" stroke="{LAYER_STROKES["fund"]}" stroke-width="1"/>'
            )
        labels = "<br>".join(legend_fund_size_label(s) for s in FUND_LEGEND_SIZES_BN)
        parts.append(f'<div class="row">{_svg("".join(circles), w, w)}<div>{labels}</div></div>')
        ur = FUND_UNKNOWN_RADIUS_PX * scale
        unknown = _svg(
            f'<circle cx="{d / 2 + 1}" cy="{d / 2 + 1}" r="{ur}" fill="none" '
            f'stroke="{LAYER_STROKES["fund"]}" stroke-width="1.5" stroke-dasharray="3 3"/>',
            d + 2, d + 2,
        )
        parts.append(f'<div class="row">{unknown}{e(LEGEND_FUND_UNKNOWN_TEXT)}</div>')
    if "zone" in kinds:
        parts.append(f'<div class="sub">{e(LEGEND_HEADINGS["zone"])}</div>')
        statuses = legend_zone_statuses(ZONE_STATUSES if zone_statuses is None else zone_statuses)
        for status in statuses:
            parts.append(f'<div class="row">{_diamond_svg(status, d + 2)}'
                         f'{e(ZONE_STATUSES[status])}</div>')
    if "organisation" in kinds:
        parts.append(f'<div class="sub">{e(KINDS["organisation"])}</div>')
        parts.append(f'<div class="row">{_square_svg(ORG_SIZE_PX * scale + 2, False)}'
                     "Groups, institutes, universities, companies</div>")
        parts.append(f'<div class="row cmf-legend-designated">'
                     f'{_square_svg(ORG_SIZE_PX * scale + 6 * scale, True)}'
                     f"{e(DESIGNATED_LABEL)}</div>")
    if not kinds and not user:
        parts.append("<div>No layer selected</div>")
    parts.append("</div>")
    return "".join(parts)


def _layer_data(frame: pd.DataFrame, kind: str) -> dict[str, Any]:
    # Unplaced organisations are listed and linkable, but have no point to draw.
    part = frame[(frame["kind"] == kind) & frame["lat"].notna()]
    if kind == "fund":
        # Largest first, so small circles are drawn on top and stay clickable.
        part = part.sort_values("fund_size_rmb_bn", ascending=False, na_position="first")
    if "date_as_published" in part:
        # "09/01/17" alone reads as 9 January in most of the world: say the format.
        part = part.assign(date_as_published=part["date_as_published"].map(published_date_text))
    return to_geojson(part)


def build_base_map(
    basemap: dict[str, Any] | ScriptJSON | BasemapURL,
    *,
    scale: float = 1.0,
    bounds: tuple[tuple[float, float], tuple[float, float]] = CHINA_VIEW_BOUNDS,
    static_url: str | None = None,
    height: str = "100%",
    fill_frame: bool = False,
) -> folium.Map:
    """The parts of the map that never change with the filters, the view or the selection.

    Basemap, place labels, attribution, optional online tiles. Everything that
    follows the session (records, legend, year, the view to show) goes in
    :func:`build_record_layers`, which the dashboard swaps
    (``feature_group_to_add``) without reloading the map: streamlit-folium
    reloads the map whenever this part's script changes, so it must depend on
    nothing but the presentation scale. ``bounds`` is the view drawn before
    the first view request arrives; it is fitted in the browser to the map's
    real size, with fractional zoom.
    """
    m = OfflineMap(
        location=[35.0, 104.0], zoom_start=4, tiles=None, control_scale=True,
        prefer_canvas=False, zoom_snap=0.1, zoom_delta=0.5, static_url=static_url,
        height=height, min_zoom=2,
    )
    (s, w), (n, e) = bounds
    css = _css(scale) + (FILL_FRAME_CSS if fill_frame else "")
    init = (f"CMF.init({_js_json(_settings(scale, ((s, w), (n, e))))}, {_js_json(css)});"
            "CMF.prepareMap(map);")
    MapScript(_JS + "\n" + _POINTS_JS + "\n" + init, name="CMFInit").add_to(m)
    if isinstance(basemap, BasemapURL):
        MapScript(f"CMF.loadBasemap(map, {_js_json(basemap.url)});", name="CMFBasemap").add_to(m)
    else:
        MapScript(f"CMF.addBasemap(map, {_js_json(basemap)});", name="CMFBasemap").add_to(m)
    places = [p._asdict() for p in NAMED_PLACES]
    MapScript(f"CMF.addPlaceLabels(map, {_js_json(places)});", name="CMFPlaces").add_to(m)
    MapScript(
        f"map.attributionControl.addAttribution({_js_json(BASEMAP_ATTRIBUTION_HTML)});"
        f"map.attributionControl.addAttribution({_js_json(RECORDS_ATTRIBUTION_HTML)});",
        name="CMFAttribution",
    ).add_to(m)
    for tiles, name in ONLINE_TILES:
        folium.TileLayer(_tile_provider(tiles), name=name, overlay=True, show=False,
                         control=True).add_to(m)
    folium.LayerControl(position="topright", collapsed=True).add_to(m)
    return m


@dataclass(frozen=True)
class ViewRequest:
    """A view the map should show, applied once in the browser when ``id`` is new.

    ``bounds`` (a preset's) are fitted to the map's real size with fractional
    zoom; a ``center`` and ``zoom`` (from a link) are shown as they are.
    """

    id: str
    bounds: tuple[tuple[float, float], tuple[float, float]] = CHINA_VIEW_BOUNDS
    center: tuple[float, float] | None = None
    zoom: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "bounds": self.bounds, "center": self.center, "zoom": self.zoom}


def build_record_layers(
    frame: pd.DataFrame,
    *,
    kinds: frozenset[str] | set[str] | None = None,
    choropleth: dict[str, Any] | None = None,
    user_frame: pd.DataFrame | ScriptJSON | None = None,
    scale: float = 1.0,
    view: ViewRequest | None = None,
    as_of_year: int | None = None,
    zone_statuses: Iterable[object] | None = None,
    links: dict[str, Any] | None = None,
    points: dict[str, Any] | None = None,
) -> folium.FeatureGroup:
    """One feature group: the records, their legend, the as-of year and the view request.

    Curated records are stacked in one marker-cluster group (records on one
    spot show as a count badge that spreads out on a click).

    Parameters
    ----------
    choropleth
        Optional province layer drawn under the records:
        ``{"geojson": ..., "legend": [{"color", "label"}], "title": str}``.
    user_frame
        The user's own records to draw (already filtered), as one layer on
        top of the curated ones, or their GeoJSON already serialised by
        :func:`user_layer_json` (tens of MB for 50,000 records: worth reusing
        while they do not change); ``None`` draws no user layer.
    view
        The view to show; the browser applies it once per ``view.id``, so a
        rerun with the same request leaves the user's pan and zoom alone.
    as_of_year
        Shown large on the map (the as-of-year view).
    zone_statuses
        The zone statuses the data has; the legend lists only those (default: all).
    links
        Link lines to draw under the symbols, as from
        :func:`geodata.model.relations.link_lines`: ``{"lines": [...], "title": str,
        "hidden": str}``; ``None`` draws none.
    points
        A large selection's points, as :meth:`geodata.render.binary.PointBlock.payload`
        (optionally with ``selected_row``, the record index to ring): drawn by
        the canvas point layer (``geodata/render/web/cmf_points.js``) instead of one
        symbol per record; ``frame`` then holds the records drawn as symbols
        (none, usually).
    """
    kinds = frozenset(KINDS) if kinds is None else frozenset(kinds)
    group = folium.FeatureGroup(name="CMF records", control=False)
    if choropleth is not None:
        MapScript(f"CMF.addChoropleth(map, {_js_json(choropleth)});", name="CMFChoro").add_to(
            group
        )
    if links is not None and (links.get("lines") or links.get("hidden") or links.get("origin")):
        MapScript(f"CMF.addLinks(map, {_js_json(links)});", name="CMFLinks").add_to(group)
    for kind in DRAW_ORDER:
        if kind in kinds:
            data = _layer_data(frame, kind)
            if not data["features"] and (kind == "organisation" or points is not None):
                continue  # no empty layer: a dataset without organisations, or all on canvas
            MapScript(f"CMF.addRecords(map, {_js_json(data)});", name=f"CMFLayer_{kind}").add_to(
                group
            )
    if points is not None:
        MapScript(f"CMFPoints.add(map, {_js_json(points)}, {_js_json(points_settings(scale))});",
                  name="CMFPoints").add_to(group)
    if user_frame is not None:
        data = user_frame if isinstance(user_frame, ScriptJSON) else to_geojson(user_frame)
        MapScript(f"CMF.addUserRecords(map, {_js_json(data)});", name="CMFUserLayer").add_to(group)
    legend = _js_json(legend_html(kinds, scale, user=user_frame is not None,
                                  zone_statuses=zone_statuses))
    MapScript(f'CMF.addLegend(map, {legend}, "Legend"); CMF.watchClicks(map);',
              name="CMFLegend").add_to(group)
    if as_of_year is not None:
        MapScript(f"CMF.addYearBadge(map, {int(as_of_year)});", name="CMFYear").add_to(group)
    if view is not None:
        MapScript(f"CMF.requestView(map, {_js_json(view.to_json())});",
                  name="CMFView").add_to(group)
    return group


#: Above this many points in view, the canvas layer writes each symbol's pixels into
#: one ImageData instead of drawing a path per symbol: a million paths took 5.7 s to
#: draw (benchmarks/bench_scale.py); pixels take a fraction of that.
RASTER_MIN_POINTS = 30_000


def points_settings(scale: float = 1.0) -> dict[str, Any]:
    """What the canvas point layer draws with: the per-record symbols' colours and sizes."""
    return {
        "raster_min": RASTER_MIN_POINTS,
        "scale": scale, "draw_order": list(DRAW_ORDER), "colors": LAYER_COLORS,
        "strokes": LAYER_STROKES, "kinds": KINDS, "cluster_radius": CLUSTER_RADIUS_PX,
        "zone_size": ZONE_SIZE_PX, "org_size": ORG_SIZE_PX, "fund_ref_bn": FUND_REFERENCE_BN,
        "fund_ref_radius": FUND_REFERENCE_RADIUS_PX, "fund_unknown_radius": FUND_UNKNOWN_RADIUS_PX,
        "fund_class_base_bn": FUND_CLASS_BASE_BN, "halo": HALO_COLOR,
    }


def user_layer_json(frame: pd.DataFrame) -> ScriptJSON:
    """The user's records as the serialised GeoJSON :func:`build_record_layers` draws."""
    return script_json(to_geojson(frame))


def build_map(
    frame: pd.DataFrame,
    basemap: dict[str, Any],
    *,
    kinds: frozenset[str] | set[str] | None = None,
    scale: float = 1.0,
    bounds: tuple[tuple[float, float], tuple[float, float]] = CHINA_VIEW_BOUNDS,
    choropleth: dict[str, Any] | None = None,
    static_url: str | None = None,
    height: str = "100%",
    user_frame: pd.DataFrame | None = None,
) -> folium.Map:
    """The whole Atlas map of the records in ``frame`` (base map plus record layers).

    Parameters
    ----------
    frame
        Records to draw (already filtered), as from :func:`geodata.model.frame.records_to_frame`.
    basemap
        Provinces and neighbours as a GeoJSON FeatureCollection
        (``properties.role`` is ``"province"`` or ``"neighbour"``).
    kinds
        Layers to draw and list in the legend; defaults to every layer.
    scale
        Symbol and font scale; presentation mode uses a larger one.
    user_frame
        The user's own records (already filtered), drawn as their own layer
        with a legend entry; ``None`` for none.
    """
    m = build_base_map(basemap, scale=scale, bounds=bounds,
                       static_url=static_url, height=height)
    build_record_layers(frame, kinds=kinds, choropleth=choropleth, user_frame=user_frame,
                        scale=scale).add_to(m)
    return m
