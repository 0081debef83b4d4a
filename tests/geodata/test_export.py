"""GeoJSON and CSV exports carry every record's fields and sources, safely."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd

from geodata.export import GEOJSON_PROPERTIES, to_csv_text, to_geojson, to_geojson_text


def test_geojson_features_match_rows(sample_frame):
    fc = to_geojson(sample_frame)
    assert [f["id"] for f in fc["features"]] == list(sample_frame["id"])
    required = {"id", "kind", "name_en", "name_zh", "province", "city", "year",
                "fund_size_rmb_bn", "domains", "status", "location_precision", "sources"}
    for feature, (_, row) in zip(fc["features"], sample_frame.iterrows(), strict=True):
        assert required <= set(feature["properties"]) == set(GEOJSON_PROPERTIES)
        assert feature["geometry"]["coordinates"] == [row["lon"], row["lat"]]


def test_geojson_unknown_size_is_null_and_text_is_json(sample_frame):
    fc = json.loads(to_geojson_text(sample_frame))
    sizes = {f["id"]: f["properties"]["fund_size_rmb_bn"] for f in fc["features"]}
    assert sizes["fund-unknown"] is None
    assert sizes["fund-big"] == 200.0
    assert fc["features"][0]["properties"]["sources"][0]["url"] == "https://example.org/alpha"


def test_csv_round_trip_and_formula_neutralised(sample_frame):
    frame = sample_frame.copy()
    frame.loc[frame.index[0], "name_en"] = "=HYPERLINK(\"http://evil\")"
    frame.loc[frame.index[1], "description"] = "@SUM(A1)"
    rows = list(csv.DictReader(io.StringIO(to_csv_text(frame))))
    assert [r["id"] for r in rows] == list(frame["id"])
    assert rows[0]["name_en"].startswith("'=")
    assert rows[1]["description"].startswith("'@")
    assert rows[1]["domains"] == "maritime;robotics"
    unknown = next(r for r in rows if r["id"] == "fund-unknown")
    assert unknown["fund_size_rmb_bn"] == ""
    assert "Test Press" in unknown["sources"]


def test_empty_selection_exports(sample_frame):
    empty = sample_frame.iloc[0:0]
    assert to_geojson(empty)["features"] == []
    assert pd.read_csv(io.StringIO(to_csv_text(empty))).empty


def test_location_basis_reaches_geojson_and_csv(sample_frame):
    frame = sample_frame.copy()
    basis = "cpca 0.5.5 adcodes.csv centroid of 绵阳市 (adcode 510700000000)"
    frame.loc[frame.index[0], "location_basis"] = basis
    props = to_geojson(frame)["features"][0]["properties"]
    assert props["location_basis"] == basis
    rows = list(csv.DictReader(io.StringIO(to_csv_text(frame))))
    assert rows[0]["location_basis"] == basis
    assert rows[1]["location_basis"] == ""
