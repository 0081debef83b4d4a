"""What a click on the map, or on a table row, does to the session.

A click on a record selects it; on a province, filters to it. Selecting a row
of the records table selects the same record, in the same session key, so the
map marks it and the detail panel shows it whichever was clicked. Both run as
callbacks (st_folium's ``on_change``, st.dataframe's ``on_select``), i.e.
before the script reruns, which is the one moment a widget's value (the
province filter) may be changed.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import streamlit as st

from dashboard.sidebar import PROVINCES_KEY, SELECTED_KEY
from geodata.render.mapevents import MapAction, map_click_action, row_record_id

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


def handle_map_change(
    session: MutableMapping[str, Any] | None = None, row_ids: Sequence[str] | None = None
) -> None:
    """st_folium ``on_change``: turn a new click into its action, once.

    ``row_ids``: record ids by record index, for clicks on the canvas point
    layer (which knows record indexes, not ids).
    """
    session = st.session_state if session is None else session
    action, sig = map_click_action(session.get(MAP_KEY), session.get(LAST_CLICK_KEY))
    session[LAST_CLICK_KEY] = sig
    apply_map_action(session, None if action is None else row_record_id(action, row_ids))


def table_selection_action(selection: Any, ids: Sequence[str]) -> MapAction | None:
    """The record a table's row selection names, as the action a map click would give.

    ``selection`` is st.dataframe's selection state (``{"selection": {"rows":
    [...]}}``); ``ids`` are the record ids of the table's rows, in order. A
    cleared selection, or a row no longer in the table, gives ``None``.

    >>> table_selection_action({"selection": {"rows": [1]}}, ["a", "b"])
    MapAction(kind='record', value='b')
    >>> table_selection_action({"selection": {"rows": []}}, ["a", "b"]) is None
    True
    """
    try:
        rows = list(selection["selection"]["rows"])
    except (KeyError, TypeError):
        return None
    if len(rows) != 1 or not 0 <= int(rows[0]) < len(ids):
        return None
    return MapAction("record", str(ids[int(rows[0])]))


def handle_table_select(
    table_key: str, ids: Sequence[str], session: MutableMapping[str, Any] | None = None
) -> None:
    """st.dataframe ``on_select``: select the record of the chosen row, as a map click does."""
    session = st.session_state if session is None else session
    apply_map_action(session, table_selection_action(session.get(table_key), ids))
