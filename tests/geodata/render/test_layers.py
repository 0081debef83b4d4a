"""The folium map: offline assets only, one vectorised layer per kind, escaped text."""

from __future__ import annotations

import json
import re

from geodata.render.assets import (
    LEAFLET_FILES,
    MARKERCLUSTER_FILES,
    MARKERCLUSTER_SUBDIR,
    install_basemap,
    install_offline_assets,
)
from geodata.render.basemap import BASEMAP_PATH, basemap_geojson
from geodata.render.layers import (
    BasemapURL,
    build_base_map,
    build_map,
    legend_html,
    script_json,
)

EMPTY_BASE = {"type": "FeatureCollection", "features": []}


def _layer_payloads(html: str) -> dict[str, dict]:
    out = {}
    for match in re.finditer(r"CMF\.addRecords\(map, (\{.*?\})\);\n", html):
        data = json.loads(match.group(1))
        kinds = {f["properties"]["kind"] for f in data["features"]}
        out[kinds.pop() if kinds else f"empty{len(out)}"] = data
    return out


def test_one_layer_per_kind_with_every_record(sample_frame):
    html = build_map(sample_frame, EMPTY_BASE).get_root().render()
    layers = _layer_payloads(html)
    assert set(layers) == {"cluster", "fund", "zone"}
    for kind, data in layers.items():
        expected = set(sample_frame.loc[sample_frame["kind"] == kind, "id"])
        assert {f["id"] for f in data["features"]} == expected


def test_funds_drawn_largest_first(sample_frame):
    html = build_map(sample_frame, EMPTY_BASE).get_root().render()
    funds = _layer_payloads(html)["fund"]["features"]
    assert [f["id"] for f in funds] == ["fund-unknown", "fund-big", "fund-small"]


def test_popups_state_the_format_of_a_numeric_published_date(sample_frame):
    frame = sample_frame.copy()
    frame["date_as_published"] = None
    frame.loc[frame["kind"] == "fund", "date_as_published"] = "09/01/17"
    html = build_map(frame, EMPTY_BASE).get_root().render()
    funds = _layer_payloads(html)["fund"]["features"]
    assert {f["properties"]["date_as_published"] for f in funds} == {
        "09/01/17 (as printed, MM/DD/YY)"}
    assert "as printed" not in str(frame["date_as_published"].tolist())


def test_hidden_kinds_are_not_drawn_nor_in_legend(sample_frame):
    html = build_map(sample_frame, EMPTY_BASE, kinds={"zone"}).get_root().render()
    assert set(_layer_payloads(html)) == {"zone"}
    assert "Approved national zone" in legend_html({"zone"})
    assert "area ∝ size" not in legend_html({"zone"})


def test_no_cdn_only_local_leaflet(sample_frame):
    html = build_map(sample_frame, EMPTY_BASE).get_root().render()
    scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
    styles = re.findall(r'<link[^>]+href="([^"]+)"', html)
    assert scripts == ["../../app/static/vendor/leaflet-1.9.3/leaflet.js",
                       "../../app/static/vendor/leaflet.markercluster-1.4.1/leaflet.markercluster.js"]
    assert styles == ["../../app/static/vendor/leaflet-1.9.3/leaflet.css",
                      "../../app/static/vendor/leaflet.markercluster-1.4.1/MarkerCluster.css"]
    assert "cdn" not in html.lower()


def test_online_tiles_are_optional_and_off(sample_frame):
    html = build_map(sample_frame, EMPTY_BASE).get_root().render()
    tile_vars = re.findall(r"var (tile_layer_\w+) = L\.tileLayer", html)
    assert tile_vars, "online tile layers should be offered in the layer control"
    for var in tile_vars:
        assert f"{var}.addTo(" not in html


def test_data_text_cannot_close_the_script(sample_frame):
    frame = sample_frame.copy()
    frame.loc[frame.index[0], "name_en"] = "</script><script>alert(1)</script>"
    html = build_map(frame, EMPTY_BASE).get_root().render()
    assert "</script><script>alert(1)" not in html
    assert "\\u003c/script\\u003e" in html


JINJA = "J<{{ 7*7 }}> {% for i in range(3) %}Z{% endfor %} {# unclosed {{"


def test_template_syntax_in_data_is_never_evaluated(sample_frame):
    # branca renders page parts as Jinja templates: data must never reach one,
    # or "{{ ... }}" in an uploaded name would run on the server.
    frame = sample_frame.copy()
    frame.loc[frame.index[0], "name_en"] = JINJA
    frame.loc[frame.index[1], "description"] = JINJA
    html = build_map(frame, EMPTY_BASE, user_frame=frame.iloc[:1]).get_root().render()
    names = [f["properties"]["name_en"] for d in _layer_payloads(html).values()
             for f in d["features"]]
    assert JINJA in names
    assert "J<49>" not in html
    assert "J\\u003c49" not in html
    assert "ZZZ" not in html


def test_map_script_is_placed_verbatim(sample_frame):
    from importlib import resources

    js = resources.files("geodata.render.web").joinpath("cmf_map.js").read_text(encoding="utf-8")
    html = build_map(sample_frame, EMPTY_BASE).get_root().render()
    assert js.strip() in html


def test_install_offline_assets_copies_leaflet(tmp_path):
    root = install_offline_assets(tmp_path)
    for rel in LEAFLET_FILES:
        assert (root / rel).stat().st_size > 0
    assert "Leaflet" in (root / "leaflet.js").read_text(encoding="utf-8")[:500]
    for rel in MARKERCLUSTER_FILES:
        assert (tmp_path / MARKERCLUSTER_SUBDIR / rel).stat().st_size > 0
    (root / "leaflet.js").write_text("corrupted", encoding="utf-8")
    install_offline_assets(tmp_path)
    assert "corrupted" not in (root / "leaflet.js").read_text(encoding="utf-8")


def test_install_basemap_writes_once_under_a_content_name(tmp_path):
    base = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "北京 <b>", "role": "province"},
         "geometry": {"type": "Point", "coordinates": [116.4, 39.9]}}]}
    rel = install_basemap(tmp_path, base)
    path = tmp_path / rel
    assert json.loads(path.read_text(encoding="utf-8")) == base
    stamp = path.stat().st_mtime_ns
    assert install_basemap(tmp_path, base) == rel  # the same content: the same file, kept
    assert path.stat().st_mtime_ns == stamp
    changed = {**base, "features": []}
    rel2 = install_basemap(tmp_path, changed)
    assert rel2 != rel, "a changed basemap needs a new URL, or browsers draw a cached old one"
    assert json.loads((tmp_path / rel2).read_text(encoding="utf-8")) == changed
    assert not path.exists(), "the old basemap's file is removed"
    assert [p.name for p in (tmp_path / rel2).parent.iterdir()] == [rel2.name]


def test_a_basemap_url_keeps_the_basemap_out_of_the_page():
    """Issue 13: the dashboard's map page names the basemap's file instead of holding
    half a megabyte of it, which was resent with every rerun that redrew the map."""
    base = basemap_geojson(BASEMAP_PATH)
    url = "../../app/static/basemap/provinces-0123.json?</script>"
    embedded = build_base_map(base).get_root().render()
    fetched = build_base_map(BasemapURL(url)).get_root().render()
    assert "CMF.loadBasemap(map, " in fetched
    assert "CMF.addBasemap(map, " not in fetched
    assert "?</script>" not in fetched
    assert "provinces-0123.json" in fetched
    assert len(embedded) - len(fetched) > 0.9 * len(json.dumps(base, separators=(",", ":")))


def _basemap_payload(html: str) -> dict:
    return json.loads(re.search(r"CMF\.addBasemap\(map, (\{.*?\})\);\n", html)[1])


def test_a_preserialised_basemap_draws_the_same_map():
    base = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "A {{ x }} <b>", "role": "province"},
         "geometry": {"type": "Point", "coordinates": [104.0, 35.0]}}]}
    plain = build_base_map(base).get_root().render()
    ready = build_base_map(script_json(base)).get_root().render()
    assert _basemap_payload(plain) == _basemap_payload(ready) == base


def test_base_map_is_the_same_whatever_the_filters_and_view(sample_frame):
    """streamlit-folium reloads the map when the base map's script changes (issue 9:
    unticking Funds reset the view): the base map depends on the scale only."""
    from geodata.render.layers import ViewRequest, build_record_layers

    def script(m) -> str:  # as streamlit-folium keys it: element ids stripped
        return re.sub(r"(_[a-z0-9]+)", "", m.get_root().render())

    assert script(build_base_map(EMPTY_BASE)) == script(build_base_map(EMPTY_BASE))
    layers = build_record_layers(sample_frame, kinds={"zone"}, view=ViewRequest("3"),
                                 as_of_year=2017)
    m = build_base_map(EMPTY_BASE)
    layers.add_to(m)
    html = m.get_root().render()
    assert 'CMF.requestView(map, {"id":"3"' in html
    assert "CMF.addYearBadge(map, 2017)" in html
    assert "CMF.addLegend(map," in html
