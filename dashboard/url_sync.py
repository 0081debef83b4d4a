"""Keep the URL and the session in step, so a copied link reopens the same map.

On a session's first run the link's query parameters seed the widgets, before
any widget is drawn (:func:`apply_url_to_session`); at the end of every run the
URL is rewritten from the widgets (:func:`write_session_to_url`). Reading and
writing the parameters is pure and lives in :mod:`geodata.query.urlstate`; this
module only moves values between ``st.query_params`` and ``st.session_state``.
"""

from __future__ import annotations

import math
from collections.abc import Container, Mapping, MutableMapping
from typing import Any

import streamlit as st

from dashboard.map_view import sync_view_from_url
from dashboard.sidebar import (
    AS_OF_MODE_KEY,
    AS_OF_YEAR_KEY,
    CENTER_KEY,
    DESIGNATED_KEY,
    DESIGNATED_VALUES,
    DOMAINS_KEY,
    FUND_KEY,
    GROUP_KEY,
    LAYER_KEYS,
    ORG_CATEGORIES_KEY,
    PRESENT_KEY,
    PROVINCES_KEY,
    SEARCH_KEY,
    SELECTED_KEY,
    SPONSOR_KEY,
    UNKNOWN_KEY,
    VIEW_KEY,
    YEARS_KEY,
    ZOOM_KEY,
)
from geodata.model.places import PRESET_VIEWS
from geodata.model.schema import DOMAINS, ORG_CATEGORIES, PROVINCES, SPONSOR_LEVELS
from geodata.query.filters import FilterBounds
from geodata.query.urlstate import (
    LINK_MAX_CHARS,
    LINK_MAX_FIELDS,
    PARAM_KEYS,
    VALUE_MAX_CHARS,
    ZOOM_MAX,
    ZOOM_MIN,
    AtlasState,
    params_to_state,
    salvaged_params,
    state_to_params,
)
from geodata.render.detail import escape_markdown

#: Set once the link has been read, so later runs never overwrite the widgets.
#: The container of the bad-link notice (its CSS class is st-key-<key>).
LINK_NOTICE_KEY = "link_notice"
URL_APPLIED_KEY = "_url_applied"
#: Notices about the link, shown until the map is changed from what the link opened.
URL_NOTICES_KEY = "_url_notices"
#: The parameters of the state the link opened, to tell when the user moved on.
URL_OPENED_KEY = "_url_opened_params"

#: Decimal places written for the map centre (about 1 m) and the zoom.
CENTER_DECIMALS = 5
ZOOM_DECIMALS = 2


def state_to_session(state: AtlasState, session: MutableMapping[str, Any]) -> None:
    """Write ``state`` into the widgets' keys (call before any widget is drawn)."""
    for kind, key in LAYER_KEYS.items():
        session[key] = kind in state.layers
    session[YEARS_KEY] = tuple(state.years)
    session[FUND_KEY] = tuple(float(f) for f in state.fund)
    session[UNKNOWN_KEY] = state.keep_unknown_size
    session[DOMAINS_KEY] = [d for d in DOMAINS if d in state.domains]
    session[PROVINCES_KEY] = [p for p in PROVINCES if p in state.provinces]
    session[SEARCH_KEY] = state.search
    session[GROUP_KEY] = state.org_group or ""
    session[ORG_CATEGORIES_KEY] = [c for c in ORG_CATEGORIES if c in state.org_categories]
    session[DESIGNATED_KEY] = next(
        k for k, v in DESIGNATED_VALUES.items() if v is state.designated)
    session[SPONSOR_KEY] = [x for x in SPONSOR_LEVELS if x in state.sponsor_levels]
    session[VIEW_KEY] = state.view
    session[CENTER_KEY] = state.center
    session[ZOOM_KEY] = state.zoom
    session[SELECTED_KEY] = state.selected
    session[PRESENT_KEY] = state.present
    session[AS_OF_MODE_KEY] = state.as_of is not None
    if state.as_of is not None:
        session[AS_OF_YEAR_KEY] = state.as_of


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _center(value: Any) -> tuple[float, float] | None:
    """``(lat, lon)`` from a pair or from Leaflet's ``{"lat": .., "lng": ..}``."""
    if isinstance(value, Mapping):
        value = (value.get("lat"), value.get("lng", value.get("lon")))
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    lat, lon = (_finite(v) for v in value)
    if lat is None or lon is None or not -90 <= lat <= 90:
        return None
    # Leaflet's longitude runs past ±180 when the map is panned round the world.
    lon = (lon + 180) % 360 - 180
    return round(lat, CENTER_DECIMALS) + 0.0, round(lon, CENTER_DECIMALS) + 0.0


def state_from_session(session: Mapping[str, Any], bounds: FilterBounds) -> AtlasState:
    """The :class:`AtlasState` the widgets and map keys describe now.

    Values the page may have left in an odd shape (a centre as a dict, a zoom
    as text) are read leniently; anything unusable counts as unset.
    """
    default = AtlasState.default(bounds)
    zoom = _finite(session.get(ZOOM_KEY))
    selected = session.get(SELECTED_KEY)
    view = session.get(VIEW_KEY)
    as_of = _finite(session.get(AS_OF_YEAR_KEY)) if session.get(AS_OF_MODE_KEY) else None
    return AtlasState(
        layers=frozenset(k for k, key in LAYER_KEYS.items() if session.get(key, True)),
        years=tuple(int(y) for y in session.get(YEARS_KEY, default.years)),
        fund=tuple(float(f) for f in session.get(FUND_KEY, default.fund)),
        keep_unknown_size=bool(session.get(UNKNOWN_KEY, True)),
        domains=frozenset(d for d in session.get(DOMAINS_KEY, ()) if d in DOMAINS),
        provinces=frozenset(p for p in session.get(PROVINCES_KEY, ()) if p in PROVINCES),
        search=str(session.get(SEARCH_KEY, "")),
        view=view if view in PRESET_VIEWS else None,
        center=_center(session.get(CENTER_KEY)),
        zoom=None if zoom is None else round(min(max(zoom, ZOOM_MIN), ZOOM_MAX), ZOOM_DECIMALS),
        selected=selected if isinstance(selected, str) and selected else None,
        present=bool(session.get(PRESENT_KEY, False)),
        as_of=None if as_of is None else int(as_of),
        org_group=str(session.get(GROUP_KEY) or "") or None,
        org_categories=frozenset(
            c for c in session.get(ORG_CATEGORIES_KEY, ()) if c in ORG_CATEGORIES),
        designated=DESIGNATED_VALUES.get(str(session.get(DESIGNATED_KEY, "any"))),
        sponsor_levels=frozenset(x for x in session.get(SPONSOR_KEY, ()) if x in SPONSOR_LEVELS),
    )


def _url_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


#: Runs left in which a session that opened with no parameters listens for the
#: browser's report of a link too long for Streamlit's server (which then drops
#: the whole query). The report comes with the second run; a few spare runs
#: cover a click made before it.
_PROBE_PENDING_KEY = "_url_probe_runs"
_PROBE_RUNS = 3
_PROBE_WIDGET_KEY = "url_probe"
# Runs in the browser, on the app's own page: reports the map's own parameters
# of a link the server ignored (over LINK_MAX_FIELDS or LINK_MAX_CHARS), and
# nothing for any other link, so an ordinary session never reruns for it.
_PROBE_JS = """
export default function ({ data, setStateValue }) {
  const search = window.location.search;
  if (search.length < 2) return;
  const fields = search.slice(1).split("&").length;
  if (fields <= data.maxFields && search.length <= data.maxChars) return;
  const wanted = new Set(data.keys);
  const params = {};
  for (const [key, value] of new URLSearchParams(search)) {
    if (wanted.has(key)) params[key] = value.slice(0, data.valueMax + 1);
  }
  setStateValue("salvaged", { fields: fields, params: params });
}
"""
_probe = st.components.v2.component("cmf_link_probe", js=_PROBE_JS)


def _salvage_dropped_link(
    bounds: FilterBounds, known_ids: Container[str]
) -> None:
    """If the server dropped an over-long link, apply what the browser read of it."""
    ss = st.session_state
    result = _probe(
        key=_PROBE_WIDGET_KEY, height=1, on_salvaged_change=lambda: None,
        data={"keys": list(PARAM_KEYS), "maxFields": LINK_MAX_FIELDS,
              "maxChars": LINK_MAX_CHARS, "valueMax": VALUE_MAX_CHARS},
    )
    report = getattr(result, "salvaged", None)
    if not report:
        ss[_PROBE_PENDING_KEY] -= 1
        return
    ss[_PROBE_PENDING_KEY] = 0
    params, notices = salvaged_params(report)
    state, more = params_to_state(params, bounds, known_ids)
    state_to_session(state, ss)
    ss[URL_NOTICES_KEY] = notices + more
    ss[URL_OPENED_KEY] = state_to_params(state, bounds)


def apply_url_to_session(bounds: FilterBounds, known_ids: Container[str]) -> None:
    """Seed the widgets from the link on a session's first run; show the link's notices.

    Call after the data loads and before the sidebar is drawn. Later runs leave
    the widgets alone (the user owns them by then), copy the map's centre and
    zoom (which the map writes into the URL) and only repeat the notices,
    until the map is changed from what the link opened.
    """
    ss = st.session_state
    if ss.get(URL_APPLIED_KEY):
        # The map writes its own centre and zoom into the URL as the user moves it.
        sync_view_from_url(_url_params(), ss, bounds)
    if not ss.get(URL_APPLIED_KEY):
        ss[URL_APPLIED_KEY] = True
        url_params = _url_params()
        ss[_PROBE_PENDING_KEY] = 0 if url_params else _PROBE_RUNS
        state, notices = params_to_state(url_params, bounds, known_ids)
        state_to_session(state, ss)
        ss[URL_NOTICES_KEY] = notices
        ss[URL_OPENED_KEY] = state_to_params(state, bounds)
    elif state_to_params(state_from_session(ss, bounds), bounds) != ss.get(URL_OPENED_KEY):
        ss.pop(URL_NOTICES_KEY, None)
    if ss.get(_PROBE_PENDING_KEY, 0) > 0:
        _salvage_dropped_link(bounds, known_ids)
    notices = ss.get(URL_NOTICES_KEY)
    if notices:
        # One box, not one per notice, so a mangled link does not push the map off screen;
        # pushed below Streamlit's header, which would otherwise cover its first line.
        with st.container(key=LINK_NOTICE_KEY):
            st.html(f"<style>.st-key-{LINK_NOTICE_KEY} {{ margin-top: 1.9rem; }}</style>")
            st.warning(
                "Part of this link could not be used:\n"
                + "\n".join(f"- {escape_markdown(n)}" for n in notices)
            )


def write_session_to_url(bounds: FilterBounds) -> None:
    """Set the URL to exactly the current state's parameters (call at the end of a run).

    Stale keys go; an unchanged URL is not rewritten, so no message is sent to
    the browser on a run that changed nothing.
    """
    params = state_to_params(state_from_session(st.session_state, bounds), bounds)
    if _url_params() != {key: [value] for key, value in params.items()}:
        st.query_params.from_dict(params)
