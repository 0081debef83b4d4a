"""Map clicks become actions once; the detail panel escapes data and links only http(s)."""

from __future__ import annotations

import pytest

from geodata.render.detail import escape_markdown, record_fields, safe_http_url, source_markdown
from geodata.render.mapevents import MapAction, map_click_action, row_record_id


def _click(props):
    return {"last_active_drawing": {"type": "Feature", "properties": props}}


def test_record_click_then_same_click_again_is_ignored():
    action, sig = map_click_action(_click({"id": "zone-a", "kind": "zone"}), None)
    assert action == MapAction("record", "zone-a")
    again, sig2 = map_click_action(_click({"id": "zone-a", "kind": "zone"}), sig)
    assert again is None
    assert sig2 == sig
    other, _ = map_click_action(_click({"id": "zone-b", "kind": "zone"}), sig)
    assert other == MapAction("record", "zone-b")


def test_province_click():
    action, _ = map_click_action(_click({"role": "province", "name_en": "Sichuan"}), None)
    assert action == MapAction("province", "Sichuan")


@pytest.mark.parametrize(
    "value",
    [None, {}, {"last_active_drawing": None}, {"last_active_drawing": {"properties": "x"}},
     _click({"role": "province", "name_en": "Atlantis"}), _click({"kind": "tank", "id": "t"})],
)
def test_unusable_values_are_no_action(value):
    assert map_click_action(value, None)[0] is None


def test_record_fields_label_every_present_field(sample_frame):
    row = sample_frame.set_index("id", drop=False).loc["fund-unknown"]
    fields = dict(record_fields(row))
    assert fields["Fund size (RMB bn)"] == "Unknown"
    assert fields["Layer"] == "Funds"
    assert fields["名称"] == "未知规模基金"
    assert "Status" not in fields
    big = dict(record_fields(sample_frame.set_index("id", drop=False).loc["fund-big"]))
    assert big["Fund size (RMB bn)"] == "RMB 200.0 bn"


def test_only_http_urls_become_links():
    assert safe_http_url("https://a.example/x") == "https://a.example/x"
    for bad in ("javascript:alert(1)", "data:text/html,x", "https://a b", None, 3):
        assert safe_http_url(bad) is None
    md = source_markdown({"publisher": "P", "title": "T", "url": "javascript:alert(1)"})
    assert "](" not in md
    assert "javascript" not in md
    md = source_markdown({"publisher": "P", "title": "T", "url": "https://ok.example/a"})
    assert md.endswith("[T](https://ok.example/a)")


def test_markdown_in_data_is_inert():
    md = source_markdown({"publisher": "<b>P</b>", "title": "[x](http://evil)", "via": "*v*"})
    assert "[x](http" not in md
    assert "\\<b\\>" in md
    assert escape_markdown("**bold**") == "\\*\\*bold\\*\\*"


def test_a_click_on_the_real_choropleth_filters_its_province(sample_frame):
    """The feature the map sends back is the choropleth's own, not a hand-made one."""
    from geodata.query.frame_aggregates import by_province, province_choropleth_geojson
    from geodata.render.basemap import load_basemap

    fc = province_choropleth_geojson(load_basemap(), by_province(sample_frame), "records")
    feature = next(f for f in fc.to_geojson()["features"]
                   if f["properties"]["name_en"] == "Sichuan")
    action, _ = map_click_action({"last_active_drawing": feature}, None)
    assert action == MapAction("province", "Sichuan")


def test_canvas_point_click_names_a_record_index_resolved_by_the_page():
    def click(props):
        return map_click_action({"last_active_drawing": {"properties": props}}, None)[0]

    action = click({"kind": "cluster", "cmf_row": 2})
    assert action == MapAction("row", "2")
    assert row_record_id(action, ["a", "b", "c"]) == MapAction("record", "c")
    assert row_record_id(action, ["a"]) is None  # an index the frame does not have
    assert row_record_id(action, None) is None  # a page that draws no canvas layer
    assert row_record_id(MapAction("record", "x"), None) == MapAction("record", "x")
    # Not a record index: a boolean, a negative number, text, or an unknown layer.
    assert click({"kind": "cluster", "cmf_row": True}) is None
    assert click({"kind": "cluster", "cmf_row": -1}) is None
    assert click({"kind": "cluster", "cmf_row": "2"}) is None
    assert click({"kind": "spaceship", "cmf_row": 2}) is None
