"""Shareable map state: the sidebar, the view and the selection as URL parameters.

A copied link reopens the same map. :class:`AtlasState` is everything a link
carries; :func:`state_to_params` writes only what differs from the defaults,
with short, readable keys, and :func:`params_to_state` reads a link back.
A link is typed, pasted, truncated and outlived by the data, so reading never
fails: a parameter that cannot be used falls back to its default (or is
clamped into the data's extent) and a plain-text notice says what was done.

URL format
----------
Every key is optional; an absent or blank key means the default.

========  =====================================  ======================================
key       example                                meaning
========  =====================================  ======================================
layers    ``cluster,zone`` / ``none``            layers shown (default: all)
years     ``2016-2018`` (or ``2017``)            inclusive year range (default: all)
fund      ``10-200``                             fund size, RMB billion (default: all)
unknown   ``0``                                  0 drops funds of unknown size
domains   ``ai,robotics``                        any-of technology domains
prov      ``Beijing,Inner Mongolia``             any-of provinces (English names)
q         ``佛山``                                 name contains
view      ``prd``                                a preset view (:data:`PRESET_VIEWS`)
lat/lon   ``23.02`` / ``113.12``                 map centre (both or neither)
zoom      ``7.5``                                map zoom
id        ``fund-big``                           the selected record
present   ``1``                                  presentation mode
asof      ``2017``                               the as-of-year view, at that year
group     ``org-casc``                           organisations of one group (its id)
orgcat    ``university,company``                 any-of organisation categories
us        ``yes`` / ``no``                       on a US government list, or not
sponsor   ``central,provincial``                 any-of sponsor levels
========  =====================================  ======================================

Old links keep working when a field is added: a key a link lacks takes the
field's default, and a key this version does not know is ignored with a
notice, so a link from a newer version still opens.

Example
-------
>>> from geodata.query.filters import FilterBounds
>>> bounds = FilterBounds(2016, 2018, 200.0)
>>> state = AtlasState.default(bounds).replace(layers=frozenset({"fund"}), search="佛山")
>>> params = state_to_params(state, bounds)
>>> params
{'layers': 'fund', 'q': '佛山'}
>>> params_to_state(params, bounds, known_ids=set()) == (state, [])
True
>>> params_to_state({"years": "abc"}, bounds, set())[1]
["Link parameter years='abc' is not a year range such as 2016-2018; showing all years."]
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from geodata.model.places import PRESET_VIEWS
from geodata.model.schema import DOMAINS, KINDS, ORG_CATEGORIES, PROVINCES, SPONSOR_LEVELS
from geodata.query.filters import FilterBounds, RecordFilter, filter_from_controls

#: Keys in the order they are written; the only keys a link may carry.
PARAM_KEYS: tuple[str, ...] = (
    "layers", "years", "fund", "unknown", "domains", "prov", "q",
    "view", "lat", "lon", "zoom", "id", "present", "asof",
    "group", "orgcat", "us", "sponsor",
)

#: Written for "no layers", since a blank value reads as the default (all layers).
NO_LAYERS = "none"

#: Leaflet's zoom levels; anything outside is a typo, not a view.
ZOOM_MIN, ZOOM_MAX = 0.0, 18.0

#: A longer search is cut to this many characters.
SEARCH_MAX_CHARS = 200

#: A longer value (other than ``q``) is no hand-written parameter; it is ignored.
VALUE_MAX_CHARS = 1000

#: Streamlit's server ignores the *whole* query of a link with more parameters
#: than this, or longer than :data:`LINK_MAX_CHARS` (its own guard against
#: abuse), so the map cannot see even its own parameters; the dashboard then
#: reads them in the browser (:func:`salvaged_params`) and says so.
LINK_MAX_FIELDS = 1000
LINK_MAX_CHARS = 512 * 1024

#: How much of a bad value a notice quotes.
_QUOTE_MAX_CHARS = 40

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
# ASCII only: Unicode's \s takes separators such as U+001F that float() refuses.
_INT_RANGE = re.compile(r"^\s*(\d{1,6})\s*(?:[-–]\s*(\d{1,6})\s*)?$", re.ASCII)
# Digits are not capped: a float written in full can be long (VALUE_MAX_CHARS caps it).
_FLOAT_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*[-–]\s*(\d+(?:\.\d+)?)\s*$", re.ASCII)
_FLOAT = re.compile(r"^\s*([-+]?\d+(?:\.\d+)?)\s*$", re.ASCII)
_INT = re.compile(r"^\s*(\d{1,6})\s*$", re.ASCII)


@dataclass(frozen=True)
class AtlasState:
    """Everything a shared link carries: the sidebar's widget values, the view, the selection.

    ``years`` and ``fund`` are the sliders' values; the other fields default to
    "no restriction" or "nothing chosen". Use :meth:`default` for the state a
    link without parameters opens, and :meth:`replace` to change fields.
    """

    years: tuple[int, int]
    fund: tuple[float, float]
    layers: frozenset[str] = field(default_factory=lambda: frozenset(KINDS))
    keep_unknown_size: bool = True
    domains: frozenset[str] = frozenset()
    provinces: frozenset[str] = frozenset()
    search: str = ""
    #: A :data:`PRESET_VIEWS` key; ``None`` is the map's own framing.
    view: str | None = None
    #: ``(lat, lon)`` of the map's centre, when the link pins one.
    center: tuple[float, float] | None = None
    zoom: float | None = None
    #: The id of the selected record.
    selected: str | None = None
    present: bool = False
    as_of: int | None = None
    #: The organisation filters: a group's id, categories, US listing, sponsor levels.
    org_group: str | None = None
    org_categories: frozenset[str] = frozenset()
    designated: bool | None = None
    sponsor_levels: frozenset[str] = frozenset()

    @classmethod
    def default(cls, bounds: FilterBounds) -> AtlasState:
        """The state of a link without parameters: everything shown, nothing selected."""
        return cls(years=(bounds.year_min, bounds.year_max), fund=(0.0, bounds.fund_max_bn))

    def replace(self, **changes: object) -> AtlasState:
        """A copy with ``changes`` applied (:func:`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)

    def to_filter(self, bounds: FilterBounds) -> RecordFilter:
        """The :class:`RecordFilter` these widget values describe, as the sidebar builds it."""
        return filter_from_controls(
            bounds,
            kinds=self.layers,
            years=self.years,
            fund_range=self.fund,
            include_unknown_size=self.keep_unknown_size,
            domains=self.domains,
            search=self.search,
            provinces=self.provinces,
            group=self.org_group,
            org_categories=self.org_categories,
            designated=self.designated,
            sponsor_levels=self.sponsor_levels,
        )


def _num(value: float) -> str:
    """Shortest text that reads back as ``value``, never in exponent form (``1e-05``)."""
    value = float(value)
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _in_order(chosen: Iterable[str], vocabulary: Iterable[str]) -> str:
    chosen = set(chosen)
    return ",".join(v for v in vocabulary if v in chosen)


def state_to_params(state: AtlasState, bounds: FilterBounds) -> dict[str, str]:
    """The query parameters for ``state``: only the values that differ from the defaults.

    The default state gives ``{}``, so an untouched map has a clean URL.

    >>> from geodata.query.filters import FilterBounds
    >>> bounds = FilterBounds(2010, 2020, 300.0)
    >>> state_to_params(AtlasState.default(bounds), bounds)
    {}
    >>> state_to_params(AtlasState(years=(2016, 2018), fund=(10.0, 200.0),
    ...                            domains=frozenset({"robotics", "ai"}), view="prd"), bounds)
    {'years': '2016-2018', 'fund': '10-200', 'domains': 'ai,robotics', 'view': 'prd'}
    """
    d = AtlasState.default(bounds)
    out: dict[str, str] = {}
    if set(state.layers) != set(d.layers):
        out["layers"] = _in_order(state.layers, KINDS) or NO_LAYERS
    if tuple(state.years) != d.years:
        out["years"] = "-".join(str(int(y)) for y in state.years)
    if tuple(state.fund) != d.fund:
        out["fund"] = "-".join(_num(f) for f in state.fund)
    if state.keep_unknown_size != d.keep_unknown_size:
        out["unknown"] = "1" if state.keep_unknown_size else "0"
    if state.domains:
        out["domains"] = _in_order(state.domains, DOMAINS)
    if state.provinces:
        out["prov"] = _in_order(state.provinces, PROVINCES)
    if state.search.strip():
        out["q"] = state.search
    if state.view is not None:
        out["view"] = state.view
    if state.center is not None:
        out["lat"], out["lon"] = (_num(c) for c in state.center)
    if state.zoom is not None:
        out["zoom"] = _num(state.zoom)
    if state.selected is not None:
        out["id"] = state.selected
    if state.present:
        out["present"] = "1"
    if state.as_of is not None:
        out["asof"] = str(int(state.as_of))
    if state.org_group:
        out["group"] = state.org_group
    if state.org_categories:
        out["orgcat"] = _in_order(state.org_categories, ORG_CATEGORIES)
    if state.designated is not None:
        out["us"] = "yes" if state.designated else "no"
    if state.sponsor_levels:
        out["sponsor"] = _in_order(state.sponsor_levels, SPONSOR_LEVELS)
    return out


def _quote(value: str) -> str:
    """``value`` in quotes for a notice, cut short: a link can carry anything."""
    if len(value) > _QUOTE_MAX_CHARS:
        value = value[:_QUOTE_MAX_CHARS] + "…"
    return repr(value)


def _bad(key: str, raw: str, expected: str, fallback: str) -> str:
    return f"Link parameter {key}={_quote(raw)} is not {expected}; {fallback}."


def _flatten(
    params: Mapping[str, str | list[str]], notices: list[str]
) -> dict[str, str]:
    """One value per key, as ``st.query_params`` reads it: the last one."""
    flat: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, str):
            flat[key] = value
            continue
        values = [str(v) for v in value]
        if not values:
            continue
        if len(values) > 1 and len(set(values)) > 1:
            notices.append(
                f"Link parameter {key} appears {len(values)} times; "
                f"using the last value, {_quote(values[-1])}."
            )
        flat[key] = values[-1]
    return flat


def _pick(
    key: str, raw: str, vocabulary: Iterable[str], what: str, fallback: str,
    notices: list[str],
) -> frozenset[str]:
    """The known names in a comma-separated list (case-insensitive); a notice for the rest."""
    by_fold = {name.casefold(): name for name in vocabulary}
    items = [s.strip() for s in raw.split(",") if s.strip()]
    known = {by_fold[s.casefold()] for s in items if s.casefold() in by_fold}
    unknown = [s for s in items if s.casefold() not in by_fold]
    if unknown:
        one = len(unknown) == 1
        names = ", ".join(_quote(s) for s in unknown[:5]) + (" …" if len(unknown) > 5 else "")
        outcome = ("ignored it" if one else "ignored them") if known else fallback
        notices.append(
            f"Link parameter {key}: {names} {'is' if one else 'are'} not {what}; {outcome}."
        )
    return frozenset(known)


def _bool(key: str, raw: str, default: bool, meaning: str, notices: list[str]) -> bool:
    text = raw.strip().casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    notices.append(_bad(key, raw, "1 or 0", f"{meaning} is {'on' if default else 'off'}"))
    return default


def _clamp_range(
    key: str, raw: str, lo: float, hi: float, extent: tuple[float, float], unit: str,
    notices: list[str],
) -> tuple[float, float] | None:
    """``(lo, hi)`` clamped into ``extent``, with a notice if it moved; ``None`` if disjoint."""
    e0, e1 = extent
    fmt = _num
    if hi < e0 or lo > e1:
        notices.append(
            f"Link parameter {key}={_quote(raw)} lies outside the data "
            f"({fmt(e0)}-{fmt(e1)}{unit}); showing all."
        )
        return None
    c0, c1 = max(lo, e0), min(hi, e1)
    if (c0, c1) != (lo, hi):
        notices.append(
            f"Link parameter {key}={_quote(raw)} reaches outside the data "
            f"({fmt(e0)}-{fmt(e1)}{unit}); narrowed it to {fmt(c0)}-{fmt(c1)}."
        )
    return c0, c1


def _years(raw: str, bounds: FilterBounds, notices: list[str]) -> tuple[int, int] | None:
    m = _INT_RANGE.match(raw)
    if not m:
        notices.append(_bad("years", raw, "a year range such as 2016-2018", "showing all years"))
        return None
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) is not None else lo
    if lo > hi:
        notices.append(
            _bad("years", raw, "a range from an earlier to a later year", "showing all years")
        )
        return None
    got = _clamp_range("years", raw, lo, hi, (bounds.year_min, bounds.year_max), "", notices)
    return None if got is None else (int(got[0]), int(got[1]))


def _fund(raw: str, bounds: FilterBounds, notices: list[str]) -> tuple[float, float] | None:
    m = _FLOAT_RANGE.match(raw)
    if not m:
        notices.append(
            _bad("fund", raw, "a fund-size range such as 10-200 (RMB billion)",
                 "showing funds of every size")
        )
        return None
    lo, hi = float(m.group(1)), float(m.group(2))
    if lo > hi:
        notices.append(
            _bad("fund", raw, "a range from a smaller to a larger size",
                 "showing funds of every size")
        )
        return None
    return _clamp_range("fund", raw, lo, hi, (0.0, bounds.fund_max_bn), " bn", notices)


def _float(key: str, raw: str, lo: float, hi: float, notices: list[str]) -> float | None:
    m = _FLOAT.match(raw)
    value = float(m.group(1)) if m else math.nan
    if not math.isfinite(value):
        notices.append(_bad(key, raw, "a finite number", "using the default view"))
        return None
    if not lo <= value <= hi:
        notices.append(
            f"Link parameter {key}={_quote(raw)} is outside {_num(lo)} to {_num(hi)}; "
            "using the default view."
        )
        return None
    return value + 0.0  # -0.0 would read back as 0


def _center(flat: dict[str, str], notices: list[str]) -> tuple[float, float] | None:
    lat_raw, lon_raw = flat.get("lat", ""), flat.get("lon", "")
    if not lat_raw and not lon_raw:
        return None
    if not lat_raw or not lon_raw:
        given, missing = ("lat", "lon") if lat_raw else ("lon", "lat")
        notices.append(
            f"Link parameter {given} needs {missing} as well; using the default map centre."
        )
        return None
    lat = _float("lat", lat_raw, -90.0, 90.0, notices)
    lon = _float("lon", lon_raw, -180.0, 180.0, notices)
    return None if lat is None or lon is None else (lat, lon)


def salvaged_params(report: object) -> tuple[dict[str, list[str]], list[str]]:
    """The map's own parameters of a link too long for the server, and a notice saying so.

    ``report`` is what the browser sent: ``{"fields": N, "params": {key: value}}``,
    the last value of each of :data:`PARAM_KEYS` in the link. It comes from the
    client, so it is checked like any link: other keys are dropped, values cut
    to one character over :data:`VALUE_MAX_CHARS` (so :func:`params_to_state`
    still refuses an over-long one), and anything malformed reads as nothing.

    >>> params, notices = salvaged_params({"fields": 1500, "params": {"q": "Fund", "x": "1"}})
    >>> params
    {'q': ['Fund']}
    >>> notices[0][:72]
    'This link has 1,500 parameters, more than the 1,000 a link may carry; th'
    """
    if not isinstance(report, Mapping):
        return {}, []
    raw = report.get("params")
    raw = raw if isinstance(raw, Mapping) else {}
    params = {
        key: [value[: VALUE_MAX_CHARS + 1]]
        for key, value in raw.items()
        if key in PARAM_KEYS and isinstance(value, str)
    }
    fields = report.get("fields")
    size = (
        f"{fields:,} parameters" if isinstance(fields, int) and fields > LINK_MAX_FIELDS
        else f"more than {LINK_MAX_CHARS // 1024:,} Ki characters"
    )
    limit = (
        f"more than the {LINK_MAX_FIELDS:,} a link may carry" if "parameters" in size
        else "more than a link may carry"
    )
    found = ", ".join(params) or "none"
    return params, [
        f"This link has {size}, {limit}; the map read the {len(params)} of its own it "
        f"found ({found}) and ignored the rest."
    ]


def params_to_state(
    params: Mapping[str, str | list[str]],
    bounds: FilterBounds,
    known_ids: Container[str],
) -> tuple[AtlasState, list[str]]:
    """Read a link's query parameters; return the state and a notice per change made.

    Never raises on what a link carries: an unknown key, a name not in the
    vocabulary, a malformed or out-of-range value or a record no longer in the
    data (``known_ids``) is dropped or clamped, and a plain-text notice naming
    the parameter says so. A repeated key counts once, with its last value,
    as ``st.query_params`` reads it.

    >>> from geodata.query.filters import FilterBounds
    >>> state, notices = params_to_state(
    ...     {"layers": "zone,lasers", "years": "2000-2017", "id": "gone"},
    ...     FilterBounds(2016, 2018, 200.0), known_ids={"fund-big"})
    >>> sorted(state.layers), state.years, state.selected
    (['zone'], (2016, 2017), None)
    >>> for n in notices: print(n)  # doctest: +ELLIPSIS
    Link parameter layers: 'lasers' is not a layer (cluster, fund, zone, organisation); ignored it.
    Link parameter years='2000-2017' reaches outside the data (2016-2018); narrowed it ...
    The record 'gone' in the link is not in the data; showing the map without it.
    """
    notices: list[str] = []
    flat = _flatten(params, notices)
    unknown_keys = [k for k in flat if k not in PARAM_KEYS]
    long_keys = [k for k in flat if k in PARAM_KEYS and k != "q"
                 and len(flat[k]) > VALUE_MAX_CHARS]
    for key in long_keys:
        notices.append(
            f"Link parameter {key} is longer than {VALUE_MAX_CHARS} characters; ignored it."
        )
    # A blank value reads as absent, so ``?q=`` or a trailing ``&id=`` is harmless.
    flat = {k: v for k, v in flat.items()
            if k in PARAM_KEYS and k not in long_keys and v.strip()}

    state = AtlasState.default(bounds)
    changes: dict[str, object] = {}

    if "layers" in flat:
        raw = flat["layers"]
        if raw.strip().casefold() == NO_LAYERS:
            changes["layers"] = frozenset()
        else:
            layers = _pick(
                "layers", raw, KINDS, f"a layer ({', '.join(KINDS)})", "showing all layers",
                notices,
            )
            if layers:
                changes["layers"] = layers
    if "years" in flat and (years := _years(flat["years"], bounds, notices)) is not None:
        changes["years"] = years
    if "fund" in flat and (fund := _fund(flat["fund"], bounds, notices)) is not None:
        changes["fund"] = fund
    if "unknown" in flat:
        changes["keep_unknown_size"] = _bool(
            "unknown", flat["unknown"], state.keep_unknown_size,
            "keeping funds of unknown size", notices,
        )
    if "domains" in flat:
        changes["domains"] = _pick(
            "domains", flat["domains"], DOMAINS,
            f"a technology domain ({', '.join(DOMAINS)})", "showing all domains", notices,
        )
    if "prov" in flat:
        changes["provinces"] = _pick(
            "prov", flat["prov"], PROVINCES,
            "a province (use English names, e.g. Beijing or Inner Mongolia)",
            "showing all provinces", notices,
        )
    if "q" in flat:
        search = flat["q"]
        if len(search) > SEARCH_MAX_CHARS:
            notices.append(
                f"Link parameter q is longer than {SEARCH_MAX_CHARS} characters; "
                f"searching for its first {SEARCH_MAX_CHARS}."
            )
            search = search[:SEARCH_MAX_CHARS]
        if search.strip():
            changes["search"] = search
    if "view" in flat:
        by_fold = {k.casefold(): k for k in PRESET_VIEWS}
        view = by_fold.get(flat["view"].strip().casefold())
        if view is None:
            notices.append(_bad(
                "view", flat["view"], f"a preset view ({', '.join(PRESET_VIEWS)})",
                "using the default view",
            ))
        changes["view"] = view
    changes["center"] = _center(flat, notices)
    if "zoom" in flat:
        changes["zoom"] = _float("zoom", flat["zoom"], ZOOM_MIN, ZOOM_MAX, notices)
    if "id" in flat:
        record_id = flat["id"].strip()
        if record_id in known_ids:
            changes["selected"] = record_id
        else:
            notices.append(
                f"The record {_quote(record_id)} in the link is not in the data; "
                "showing the map without it."
            )
    if "group" in flat:
        group = flat["group"].strip()
        if group in known_ids:
            changes["org_group"] = group
        else:
            notices.append(
                f"The group {_quote(group)} in the link is not in the data; "
                "showing every group."
            )
    if "orgcat" in flat:
        changes["org_categories"] = _pick(
            "orgcat", flat["orgcat"], ORG_CATEGORIES,
            f"an organisation category ({', '.join(ORG_CATEGORIES)})",
            "showing every category", notices,
        )
    if "us" in flat:
        text = flat["us"].strip().casefold()
        if text in ("yes", "no"):
            changes["designated"] = text == "yes"
        else:
            notices.append(_bad("us", flat["us"], "yes or no", "showing listed and unlisted"))
    if "sponsor" in flat:
        changes["sponsor_levels"] = _pick(
            "sponsor", flat["sponsor"], SPONSOR_LEVELS,
            f"a sponsor level ({', '.join(SPONSOR_LEVELS)})", "showing every level", notices,
        )
    if "present" in flat:
        changes["present"] = _bool(
            "present", flat["present"], state.present, "presentation mode", notices
        )
    if "asof" in flat:
        raw = flat["asof"]
        if _INT.match(raw):
            year = min(max(int(raw), bounds.year_min), bounds.year_max)
            if year != int(raw):
                notices.append(
                    f"Link parameter asof={_quote(raw)} is outside the data "
                    f"({bounds.year_min}-{bounds.year_max}); showing the map as of {year}."
                )
            changes["as_of"] = year
        else:
            notices.append(_bad("asof", raw, "a year such as 2017", "showing every year"))
    if unknown_keys:
        names = ", ".join(_quote(k) for k in unknown_keys[:8])
        more = f" and {len(unknown_keys) - 8} more" if len(unknown_keys) > 8 else ""
        notices.append(
            f"Link parameter{'s' if len(unknown_keys) > 1 else ''} {names}{more} "
            f"{'are' if len(unknown_keys) > 1 else 'is'} not known to this version of "
            "CMF Atlas; ignored."
        )
    return state.replace(**changes), notices
