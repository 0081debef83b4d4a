"""Which view the map should show, and when: presets, presentation mode, links.

The map keeps its own view in the browser (pan and zoom cause no rerun). The
page sends a :class:`geodata.render.layers.ViewRequest` with the record layers, and
the browser applies a request only when its id is new: choosing a preset
(again, to re-centre), switching presentation mode, or opening a link. Filters,
layers, shading and selection leave the id alone, so they never move the view.

The map writes ``lat``/``lon``/``zoom`` to the page's URL itself once the user
moves it (see ``cmf_map.js``); :func:`sync_view_from_url` reads them back on
every run, so the session's copy (and the link Python writes) stays current.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from dashboard.sidebar import CENTER_KEY, PRESENT_KEY, VIEW_KEY, ZOOM_KEY
from geodata.model.places import PRESET_VIEWS
from geodata.query.filters import FilterBounds
from geodata.query.urlstate import params_to_state
from geodata.render.layers import ViewRequest

#: ``{"n": int, "center": (lat, lon) | None, "zoom": float | None}``: the current request.
VIEW_REQUEST_KEY = "_view_request"
#: The preset last chosen, so a click on the active preset re-centres instead of deselecting.
LAST_PRESET_KEY = "_last_preset"
#: Presentation mode as of the last run: a switch re-fits the view to the new frame.
PRESENT_SEEN_KEY = "_view_present_seen"

MAP_PARAMS = ("lat", "lon", "zoom")


def _new_request(session: MutableMapping[str, Any]) -> None:
    """A new request for the current preset, fitted anew (the pinned centre is dropped)."""
    old = session.get(VIEW_REQUEST_KEY) or {"n": 0}
    session[VIEW_REQUEST_KEY] = {"n": int(old["n"]) + 1, "center": None, "zoom": None}
    session[CENTER_KEY] = None
    session[ZOOM_KEY] = None


def on_preset_change(session: MutableMapping[str, Any] | None = None) -> None:
    """Preset control ``on_change``: frame the chosen preset; a second click re-centres it.

    Streamlit's segmented control deselects on a click on the active option;
    here that click means "take me back to this view".
    """
    if session is None:
        import streamlit as st

        session = st.session_state
    if session.get(VIEW_KEY) not in PRESET_VIEWS:
        session[VIEW_KEY] = session.get(LAST_PRESET_KEY) or "china"
    session[LAST_PRESET_KEY] = session[VIEW_KEY]
    _new_request(session)


def current_view_request(session: MutableMapping[str, Any]) -> ViewRequest:
    """The request to send with this run's layers (see the module docstring).

    The first request of a session carries the link's centre and zoom, if any.
    """
    present = bool(session.get(PRESENT_KEY, False))
    if session.get(VIEW_REQUEST_KEY) is None:
        center, zoom = session.get(CENTER_KEY), session.get(ZOOM_KEY)
        pinned = center is not None and zoom is not None
        session[VIEW_REQUEST_KEY] = {"n": 0, "center": tuple(center) if pinned else None,
                                     "zoom": float(zoom) if pinned else None}
        session.setdefault(LAST_PRESET_KEY, session.get(VIEW_KEY))
    elif session.get(PRESENT_SEEN_KEY, present) != present:
        _new_request(session)
    session[PRESENT_SEEN_KEY] = present
    req = session[VIEW_REQUEST_KEY]
    view = session.get(VIEW_KEY) if session.get(VIEW_KEY) in PRESET_VIEWS else "china"
    return ViewRequest(id=str(req["n"]), bounds=PRESET_VIEWS[view].bounds,
                       center=req["center"], zoom=req["zoom"])


def sync_view_from_url(
    params: Mapping[str, list[str]], session: MutableMapping[str, Any], bounds: FilterBounds
) -> None:
    """Copy the map's ``lat``/``lon``/``zoom`` from the URL (the map wrote them) into the session.

    Unusable values count as unset, silently: the map wrote them, not a person.
    """
    flat = {k: v for k, v in params.items() if k in MAP_PARAMS}
    state, _ = params_to_state(flat, bounds, known_ids=set())
    session[CENTER_KEY] = state.center
    session[ZOOM_KEY] = state.zoom
