"""Preset views frame the curated records of their places."""

from __future__ import annotations

import pytest

from geodata.model.frame import records_to_frame
from geodata.model.places import NAMED_PLACES, PRESET_VIEWS
from geodata.store.load import load_records

PRESET_CITIES = {
    "prd": {"Guangzhou", "Foshan", "Shenzhen"},
    "sichuan": {"Chengdu", "Mianyang"},
    "shaanxi": {"Xi'an"},
    "jingjin": {"Beijing", "Tianjin"},
    "shandong": {"Qingdao"},
}


def _inside(bounds, lat, lon) -> bool:
    (s, w), (n, e) = bounds
    return s <= lat <= n and w <= lon <= e


@pytest.mark.parametrize(("key", "cities"), PRESET_CITIES.items())
def test_preset_frames_its_places_and_their_records(key, cities):
    bounds = PRESET_VIEWS[key].bounds
    for place in NAMED_PLACES:
        if place.name_en in cities:
            assert _inside(bounds, place.lat, place.lon), place
    frame = records_to_frame(load_records())
    mine = frame[frame["city"].isin(cities) & (frame["location_precision"] != "national_hq")]
    assert not mine.empty
    for row in mine.itertuples():
        assert _inside(bounds, row.lat, row.lon), row.id


def test_all_china_frames_every_record():
    frame = records_to_frame(load_records()).dropna(subset=["lat"])  # unplaced: not drawn
    assert all(_inside(PRESET_VIEWS["china"].bounds, r.lat, r.lon) for r in frame.itertuples())
