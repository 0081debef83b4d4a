"""What a click on the map does to the session: select a record or filter a province.

Runs as st_folium's ``on_change`` callback, i.e. before the script reruns, which
is the one moment a widget's value (the province filter) may be changed.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from dashboard.sidebar import PROVINCES_KEY, SELECTED_KEY
from geodata.mapevents import MapAction, map_click_action

MAP_KEY = "atlas_map"
LAST_CLICK_KEY = "_last_map_click"


def apply_map_action(session: MutableMapping[str, Any], action: MapAction | None) -> None:
    """Select the clicked record, or filter to the clicked province."""
    if action is None:
        return
    if action.kind == "record":
        session[SELECTED_KEY] = action.value
    elif action.kind == "province":
        session[PROVINCES_KEY] = [action.value]


def handle_map_change(session: MutableMapping[str, Any] | None = None) -> None:
    """st_folium ``on_change``: turn a new click into its action, once."""
    session = st.session_state if session is None else session
    action, sig = map_click_action(session.get(MAP_KEY), session.get(LAST_CLICK_KEY))
    session[LAST_CLICK_KEY] = sig
    apply_map_action(session, action)
