"""GeoJSON and CSV exports carry every record's fields and sources, safely."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from geodata.io.export import (
    GEOJSON_PROPERTIES,
    ORIGIN_COLUMN,
    ORIGIN_CURATED,
    ORIGIN_USER,
    export_filename,
    to_csv_bytes,
    to_csv_text,
    to_geojson,
    to_geojson_text,
    with_user_records,
)
from geodata.query.filters import FundSizeRange, RecordFilter


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


# --------------------------------------------------------------- issue 9: downloads

def test_csv_bytes_start_with_a_bom_and_keep_chinese(sample_frame):
    data = to_csv_bytes(sample_frame)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text == to_csv_text(sample_frame)
    assert sample_frame["name_zh"].iloc[0] in text


def test_user_records_are_marked_in_csv_and_geojson(sample_frame):
    mine = sample_frame.iloc[:2].assign(id=["u-1", "u-2"])
    both = with_user_records(sample_frame, mine)
    rows = list(csv.DictReader(io.StringIO(to_csv_bytes(both).decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == [*sample_frame["id"], "u-1", "u-2"]
    assert [r[ORIGIN_COLUMN] for r in rows] == (
        [ORIGIN_CURATED] * len(sample_frame) + [ORIGIN_USER] * 2)
    features = to_geojson(both)["features"]
    assert features[-1]["properties"][ORIGIN_COLUMN] == ORIGIN_USER
    assert features[0]["properties"][ORIGIN_COLUMN] == ORIGIN_CURATED
    # Without the user's layer, exports are as before: no origin column.
    assert with_user_records(sample_frame, None) is sample_frame
    assert ORIGIN_COLUMN not in to_csv_text(sample_frame).splitlines()[0]


@pytest.mark.parametrize(
    ("flt", "ext", "kwargs", "expected"),
    [
        (RecordFilter(), "csv", {}, "cmf-atlas-all-records.csv"),
        (RecordFilter(kinds=frozenset({"fund"}), year_min=2016, year_max=2018), "csv", {},
         "cmf-atlas-funds-2016-2018.csv"),
        (RecordFilter(kinds=frozenset({"cluster", "zone"}), year_max=2017), "geojson", {},
         "cmf-atlas-clusters-demonstration-to-2017.geojson"),
        (RecordFilter(fund_size=FundSizeRange(min_bn=10, include_unknown=False)), "csv", {},
         "cmf-atlas-rmb-10bn-plus-known-size.csv"),
        (RecordFilter(provinces=frozenset({"Beijing", "Shaanxi", "Sichuan"})), "png",
         {"what": "map"}, "cmf-atlas-map-3-provinces.png"),
        (RecordFilter(search="绵阳"), "svg", {"what": "map", "user_data": True},
         "cmf-atlas-map-search-with-your-data.svg"),
        (RecordFilter(search="Xi'an", domains=frozenset({"ai"})), "pdf", {},
         "cmf-atlas-ai-search-xi-an.pdf"),
    ],
)
def test_export_filename_says_what_the_file_holds(flt, ext, kwargs, expected):
    assert export_filename(flt, ext, **kwargs) == expected


def test_export_filename_is_short_ascii_and_safe():
    flt = RecordFilter(search="a/b\\c:d*" * 40, domains=frozenset({"ai", "cyber"}))
    name = export_filename(flt, "csv")
    assert name.isascii()
    assert len(name) <= 100
    assert not set(name) & set('/\\:*?"<>| ')


def test_location_basis_reaches_geojson_and_csv(sample_frame):
    frame = sample_frame.copy()
    basis = "cpca 0.5.5 adcodes.csv centroid of 绵阳市 (adcode 510700000000)"
    frame.loc[frame.index[0], "location_basis"] = basis
    props = to_geojson(frame)["features"][0]["properties"]
    assert props["location_basis"] == basis
    rows = list(csv.DictReader(io.StringIO(to_csv_text(frame))))
    assert rows[0]["location_basis"] == basis
    assert rows[1]["location_basis"] == ""
