"""What a click on the map means, from streamlit-folium's return value.

``st_folium`` keeps returning the last clicked feature on every rerun, so a
click is an action only when it differs from the one already handled; the
caller keeps that signature between reruns.

Example
-------
>>> value = {"last_active_drawing": {"type": "Feature",
...          "properties": {"id": "fund-x", "kind": "fund"}}}
>>> action, sig = map_click_action(value, None)
>>> action
MapAction(kind='record', value='fund-x')
>>> map_click_action(value, sig)[0] is None
True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from geodata.model.schema import KINDS, PROVINCES


class MapAction(NamedTuple):
    """``kind`` is ``"record"`` (value: record id), ``"province"`` (value: name) or
    ``"row"`` (value: a record index from the canvas point layer, as text: the
    caller resolves it to a record id, see :func:`row_record_id`)."""

    kind: str
    value: str


def _signature(feature: dict[str, Any]) -> str:
    return json.dumps(feature.get("properties", {}), sort_keys=True, default=str)[:2000]


def map_click_action(
    value: dict[str, Any] | None, last_signature: str | None
) -> tuple[MapAction | None, str | None]:
    """The new action in ``value`` (if any) and the signature to remember."""
    if not isinstance(value, dict):
        return None, last_signature
    feature = value.get("last_active_drawing")
    if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
        return None, last_signature
    sig = _signature(feature)
    if sig == last_signature:
        return None, last_signature
    props = feature["properties"]
    row = props.get("cmf_row")
    if props.get("kind") in KINDS and isinstance(row, int) and not isinstance(row, bool) \
            and row >= 0:
        return MapAction("row", str(row)), sig
    if props.get("kind") in KINDS and isinstance(props.get("id"), str):
        return MapAction("record", props["id"]), sig
    if props.get("role") == "province" and props.get("name_en") in PROVINCES:
        return MapAction("province", props["name_en"]), sig
    return None, sig


def row_record_id(action: MapAction, row_ids: Sequence[str] | None) -> MapAction | None:
    """A ``"row"`` action as the ``"record"`` action it names (others unchanged).

    ``row_ids`` are the record ids by record index (the frame the canvas layer's
    points were taken from); an index outside them gives ``None``.

    >>> row_record_id(MapAction("row", "1"), ["a", "b"])
    MapAction(kind='record', value='b')
    >>> row_record_id(MapAction("row", "7"), ["a", "b"]) is None
    True
    """
    if action.kind != "row":
        return action
    row = int(action.value)
    if row_ids is None or not 0 <= row < len(row_ids):
        return None
    return MapAction("record", str(row_ids[row]))
