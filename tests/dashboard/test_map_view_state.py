"""Which view the map is asked to show (dashboard/map_view.py), without a browser."""

from __future__ import annotations

from dashboard.map_view import current_view_request, on_preset_change, sync_view_from_url
from dashboard.sidebar import CENTER_KEY, PRESENT_KEY, VIEW_KEY, ZOOM_KEY
from geodata.model.places import CHINA_VIEW_BOUNDS, PRESET_VIEWS
from geodata.query.filters import FilterBounds

BOUNDS = FilterBounds(2015, 2020, 200.0)


def test_first_request_carries_the_links_centre_and_zoom():
    session = {CENTER_KEY: (23.1, 113.2), ZOOM_KEY: 8.0, VIEW_KEY: "prd"}
    req = current_view_request(session)
    assert (req.center, req.zoom) == ((23.1, 113.2), 8.0)
    assert req.bounds == PRESET_VIEWS["prd"].bounds
    # Later runs send the same request: the browser applies each id once.
    assert current_view_request(session) == req


def test_filters_leave_the_request_alone_and_a_preset_makes_a_new_one():
    session: dict = {}
    first = current_view_request(session)
    assert first.bounds == CHINA_VIEW_BOUNDS
    assert first.center is None
    session["layer_fund"] = False  # any filter
    assert current_view_request(session) == first
    session[VIEW_KEY] = "sichuan"
    on_preset_change(session)
    second = current_view_request(session)
    assert second.id != first.id
    assert second.bounds == PRESET_VIEWS["sichuan"].bounds


def test_clicking_the_active_preset_again_recentres_instead_of_deselecting():
    session: dict = {VIEW_KEY: "shaanxi"}
    on_preset_change(session)
    before = current_view_request(session)
    session[CENTER_KEY], session[ZOOM_KEY] = (30.0, 100.0), 9.0  # the user moved
    session[VIEW_KEY] = None  # what the segmented control reports for that click
    on_preset_change(session)
    after = current_view_request(session)
    assert session[VIEW_KEY] == "shaanxi"
    assert after.id != before.id
    assert (after.center, after.zoom) == (None, None)
    assert (session[CENTER_KEY], session[ZOOM_KEY]) == (None, None)


def test_switching_presentation_mode_refits_the_view():
    session: dict = {CENTER_KEY: (23.1, 113.2), ZOOM_KEY: 8.0}
    first = current_view_request(session)
    session[PRESENT_KEY] = True
    second = current_view_request(session)
    assert second.id != first.id
    assert second.center is None


def test_the_maps_own_centre_and_zoom_are_read_back_from_the_url():
    session: dict = {}
    sync_view_from_url({"lat": ["23.02"], "lon": ["113.12"], "zoom": ["7.25"], "q": ["x"]},
                       session, BOUNDS)
    assert (session[CENTER_KEY], session[ZOOM_KEY]) == ((23.02, 113.12), 7.25)
    sync_view_from_url({"lat": ["abc"], "lon": ["113"]}, session, BOUNDS)
    assert (session[CENTER_KEY], session[ZOOM_KEY]) == (None, None)
