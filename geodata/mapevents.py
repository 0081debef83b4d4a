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
from typing import Any, NamedTuple

from geodata.schema import KINDS, PROVINCES


class MapAction(NamedTuple):
    """``kind`` is ``"record"`` (value: record id) or ``"province"`` (value: name)."""

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
    if props.get("kind") in KINDS and isinstance(props.get("id"), str):
        return MapAction("record", props["id"]), sig
    if props.get("role") == "province" and props.get("name_en") in PROVINCES:
        return MapAction("province", props["name_en"]), sig
    return None, sig
