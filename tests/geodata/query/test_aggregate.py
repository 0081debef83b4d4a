"""Analyst tables checked against the records themselves, row by row."""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from geodata.model.schema import DOMAINS, PROVINCES
from geodata.query.frame_aggregates import (
    CLASSIFICATION_SCHEMES,
    KIND_COLUMNS,
    MEASURES,
    ZERO_COLOR,
    ZERO_LABEL,
    as_of_year,
    by_domain,
    by_province,
    by_year,
    class_colors,
    classify_provinces,
    play_years,
    province_choropleth_geojson,
    search_sources,
    sources_index,
)


def expected_tally(frame, key_of) -> dict:
    """Counts per kind, known capital and unknown-size funds per key, by iteration."""
    out: dict = defaultdict(lambda: {"kinds": Counter(), "capital": 0.0, "unknown": 0})
    for row in frame.itertuples():
        for key in key_of(row):
            cell = out[key]
            cell["kinds"][row.kind] += 1
            if row.kind == "fund":
                if math.isnan(row.fund_size_rmb_bn):
                    cell["unknown"] += 1
                else:
                    cell["capital"] += row.fund_size_rmb_bn
    return out


def assert_matches(table, key, expected):
    for row in table.itertuples():
        cell = expected.get(getattr(row, key))
        kinds = cell["kinds"] if cell else Counter()
        for kind in KIND_COLUMNS:
            assert getattr(row, kind) == kinds[kind], (getattr(row, key), kind)
        assert row.records == sum(kinds.values())
        assert row.capital_rmb_bn == pytest.approx(cell["capital"] if cell else 0.0)
        assert row.funds_unknown_size == (cell["unknown"] if cell else 0)


@pytest.fixture
def known_capital(sample_frame) -> float:
    return sum(
        r.fund_size_rmb_bn
        for r in sample_frame.itertuples()
        if r.kind == "fund" and not math.isnan(r.fund_size_rmb_bn)
    )


@pytest.fixture
def unknown_funds(sample_frame) -> int:
    return sum(
        1
        for r in sample_frame.itertuples()
        if r.kind == "fund" and math.isnan(r.fund_size_rmb_bn)
    )


# --- by_year ---------------------------------------------------------------


def test_by_year_matches_records(sample_frame):
    table = by_year(sample_frame)
    assert_matches(table, "year", expected_tally(sample_frame, lambda r: [r.year]))


def test_by_year_spans_every_year_without_gaps(sample_frame):
    table = by_year(sample_frame)
    first, last = sample_frame["year"].min(), sample_frame["year"].max()
    assert table["year"].tolist() == list(range(first, last + 1))


def test_by_year_zero_fills_a_gap(sample_frame):
    # Move one record far back so the years in between have nothing.
    frame = sample_frame.copy()
    frame.loc[frame["id"] == "cluster-alpha", "year"] = 2010
    table = by_year(frame).set_index("year")
    empty_years = set(range(2010, frame["year"].max() + 1)) - set(frame["year"])
    assert empty_years
    for y in empty_years:
        assert table.loc[y, "records"] == 0
        assert table.loc[y, "capital_rmb_bn"] == 0.0


def test_by_year_totals_and_unknown_sizes(sample_frame, known_capital, unknown_funds):
    table = by_year(sample_frame)
    assert table["records"].sum() == len(sample_frame)
    assert table["capital_rmb_bn"].sum() == pytest.approx(known_capital)
    assert table["funds_unknown_size"].sum() == unknown_funds > 0
    assert not table["capital_rmb_bn"].isna().any()


@pytest.mark.parametrize(
    "column", [*KIND_COLUMNS, "records", "capital_rmb_bn", "funds_unknown_size"]
)
def test_cumulative_is_monotone_and_ends_at_total(sample_frame, column):
    table = by_year(sample_frame)
    running = table[f"{column}_cumulative"]
    assert running.is_monotonic_increasing
    assert running.iloc[-1] == pytest.approx(table[column].sum())
    assert running.tolist() == pytest.approx(table[column].cumsum().tolist())


def test_by_year_fixed_span_keeps_earlier_records_in_running_total(sample_frame):
    first = int(sample_frame["year"].min())
    last = int(sample_frame["year"].max())
    table = by_year(sample_frame, years=(first + 1, last + 2))
    assert table["year"].tolist() == list(range(first + 1, last + 3))
    before = (sample_frame["year"] <= first + 1).sum()
    assert table["records_cumulative"].iloc[0] == before
    assert table["records_cumulative"].iloc[-1] == len(sample_frame)
    assert table["records"].iloc[-2:].tolist() == [0, 0]


def test_by_year_empty(sample_frame):
    empty = by_year(sample_frame.iloc[0:0])
    assert empty.empty
    assert "records_cumulative" in empty.columns
    spanned = by_year(sample_frame.iloc[0:0], years=(2000, 2002))
    assert spanned["records"].tolist() == [0, 0, 0]


def test_by_year_rejects_reversed_span(sample_frame):
    with pytest.raises(ValueError, match="first <= last"):
        by_year(sample_frame, years=(2020, 2010))


def test_by_year_says_what_is_missing():
    with pytest.raises(ValueError, match="missing \\['year'\\]"):
        by_year(pd.DataFrame({"kind": [], "fund_size_rmb_bn": []}))
    with pytest.raises(TypeError, match="got <class 'list'>"):
        by_year([])


# --- by_domain -------------------------------------------------------------


def test_by_domain_matches_records(sample_frame):
    table = by_domain(sample_frame)
    assert table["domain"].tolist() == list(DOMAINS)
    assert table["domain_label"].tolist() == list(DOMAINS.values())
    assert_matches(table, "domain", expected_tally(sample_frame, lambda r: r.domains))


def test_by_domain_counts_multi_domain_records_in_each(sample_frame):
    table = by_domain(sample_frame)
    tags = sum(len(ds) for ds in sample_frame["domains"])
    assert tags > len(sample_frame)  # the fixture has multi-domain records
    assert table["records"].sum() == tags


# --- by_province -----------------------------------------------------------


def test_by_province_has_every_province_zero_filled(sample_frame):
    table = by_province(sample_frame)
    assert table["province"].tolist() == list(PROVINCES)
    assert table["province_zh"].tolist() == list(PROVINCES.values())
    empty = set(PROVINCES) - set(sample_frame["province"])
    assert empty
    zeros = table[table["province"].isin(empty)]
    assert (zeros[["records", "capital_rmb_bn", "funds_unknown_size"]] == 0).all().all()


def test_by_province_matches_records(sample_frame, known_capital, unknown_funds):
    table = by_province(sample_frame)
    assert_matches(table, "province", expected_tally(sample_frame, lambda r: [r.province]))
    assert table["records"].sum() == len(sample_frame)
    assert table["capital_rmb_bn"].sum() == pytest.approx(known_capital)
    assert table["funds_unknown_size"].sum() == unknown_funds


# --- classify_provinces ----------------------------------------------------


def test_classify_all_zero():
    result = classify_provinces(pd.Series(0, index=list(PROVINCES)))
    assert (result.classes == -1).all()
    assert result.edges == ()
    assert result.labels == ()


def test_classify_fewer_distinct_values_than_k():
    values = pd.Series([0, 3, 3, 7, 0], index=list("abcde"))
    result = classify_provinces(values, k=5)
    assert result.classes.to_dict() == {"a": -1, "b": 0, "c": 0, "d": 1, "e": -1}
    assert result.labels == ("3", "7")


def test_classify_single_positive_value():
    result = classify_provinces([0, 0, 2.5])
    assert result.classes.tolist() == [-1, -1, 0]
    assert result.labels == ("2.5",)


@pytest.mark.parametrize("scheme", list(CLASSIFICATION_SCHEMES))
@pytest.mark.parametrize("k", [1, 3, 5])
def test_classify_is_consistent(scheme, k):
    rng = np.random.default_rng(7)
    values = pd.Series(
        np.concatenate([np.zeros(10), rng.lognormal(2, 1, len(PROVINCES) - 10)]),
        index=list(PROVINCES),
    )
    result = classify_provinces(values, k=k, scheme=scheme)
    n = len(result.labels)
    assert 1 <= n <= (k if scheme != "HeadTailBreaks" else len(values))
    assert len(result.edges) == n + 1
    assert list(result.edges) == sorted(result.edges)
    assert (result.classes[values == 0] == -1).all()
    positive = values[values > 0]
    classes = result.classes[positive.index]
    assert classes.between(0, n - 1).all()
    assert classes.max() == n - 1
    # A larger value is never in a lower class, and each sits within its class.
    order = positive.sort_values().index
    assert classes[order].is_monotonic_increasing
    for name, v in positive.items():
        c = classes[name]
        assert v <= result.edges[c + 1]
        assert c == 0 or v > result.edges[c]


def test_classify_integer_counts_get_integer_labels():
    result = classify_provinces([0, 1, 1, 2, 8, 9], k=3)
    assert result.classes.tolist() == [-1, 0, 0, 1, 2, 2]
    assert result.labels == ("1", "2", "3–9")


def test_natural_breaks_is_repeatable():
    values = list(np.random.default_rng(3).lognormal(2, 1, 33))
    first = classify_provinces(values, scheme="NaturalBreaks")
    assert classify_provinces(values, scheme="NaturalBreaks").edges == first.edges


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k should be an integer from 1 to 8"),
        ({"k": 9}, "k should be an integer from 1 to 8"),
        ({"scheme": "Magic"}, "unknown classification scheme 'Magic'"),
    ],
)
def test_classify_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        classify_provinces([1, 2, 3], **kwargs)


def test_classify_rejects_negative_values():
    with pytest.raises(ValueError, match="non-negative"):
        classify_provinces([1, -2])


def test_class_colors():
    assert class_colors(0) == []
    for n in range(1, 9):
        colors = class_colors(n)
        assert len(colors) == len(set(colors)) == n
        assert ZERO_COLOR not in colors


# --- choropleth ------------------------------------------------------------


@pytest.fixture
def tiny_basemap() -> gpd.GeoDataFrame:
    """Three provinces and a neighbour as unit squares; enough for the join."""
    names = ["Beijing", "Shandong", "Tibet"]
    rows = [
        {"name_en": n, "name_zh": PROVINCES[n], "iso": f"CN-{i}", "role": "province",
         "label_lon": i + 0.5, "label_lat": 0.5, "geometry": box(i, 0, i + 1, 1)}
        for i, n in enumerate(names)
    ]
    rows.append({"name_en": "Mongolia", "name_zh": "蒙古", "iso": "MN", "role": "neighbour",
                 "label_lon": 0.5, "label_lat": 1.5, "geometry": box(0, 1, 1, 2)})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def test_choropleth_attaches_measure_class_and_colour(sample_frame, tiny_basemap):
    table = by_province(sample_frame)
    ch = province_choropleth_geojson(tiny_basemap, table, "records")
    got = ch.frame.set_index("name_en")
    assert sorted(got.index) == ["Beijing", "Shandong", "Tibet"]  # neighbour dropped
    for name in got.index:
        expected = (sample_frame["province"] == name).sum()
        assert got.loc[name, "value"] == expected
    assert got.loc["Tibet", "klass"] == -1
    assert got.loc["Tibet", "fill_color"] == ZERO_COLOR
    assert got.loc["Tibet", "class_label"] == ZERO_LABEL
    legend_colors = [e.color for e in ch.legend]
    assert legend_colors[0] == ZERO_COLOR
    assert set(got["fill_color"]) <= set(legend_colors)
    assert ch.title == MEASURES["records"]
    features = ch.to_geojson()["features"]
    assert len(features) == 3
    assert {"value", "value_label", "klass", "fill_color", "name_zh"} <= set(
        features[0]["properties"]
    )


def test_choropleth_capital_labels_have_units(sample_frame, tiny_basemap):
    ch = province_choropleth_geojson(tiny_basemap, by_province(sample_frame), "capital_rmb_bn")
    labels = ch.frame.set_index("name_en")["value_label"]
    assert labels["Beijing"] == "RMB 0.0 bn"  # its only fund is of unknown size
    assert "RMB" in ch.title


def test_choropleth_with_real_basemap(sample_frame):
    from geodata.render.basemap import load_basemap

    ch = province_choropleth_geojson(load_basemap(), by_province(sample_frame), "fund")
    assert len(ch.frame) == len(PROVINCES)
    assert ch.frame["value"].sum() == (sample_frame["kind"] == "fund").sum()


def test_choropleth_rejects_unknown_measure(sample_frame, tiny_basemap):
    with pytest.raises(ValueError, match="unknown measure 'size'"):
        province_choropleth_geojson(tiny_basemap, by_province(sample_frame), "size")


# --- as of year ------------------------------------------------------------


def test_as_of_year_is_everything_up_to_and_including(sample_frame):
    for year in play_years(sample_frame):
        got = as_of_year(sample_frame, year)
        assert set(got["id"]) == {r.id for r in sample_frame.itertuples() if r.year <= year}
    last = play_years(sample_frame)[-1]
    assert len(as_of_year(sample_frame, last)) == len(sample_frame)


def test_play_years_step_through_every_year(sample_frame):
    years = play_years(sample_frame)
    assert years == list(range(sample_frame["year"].min(), sample_frame["year"].max() + 1))
    assert play_years(sample_frame.iloc[0:0]) == []


# --- sources ---------------------------------------------------------------


def test_sources_index_one_row_per_distinct_source(sample_frame):
    index = sources_index(sample_frame)
    cited = defaultdict(set)
    for r in sample_frame.itertuples():
        for s in r.sources:
            key = tuple(s.get(f) or "" for f in ("publisher", "title", "date", "url"))
            cited[key].add(r.id)
    assert len(index) == len(cited)
    for row in index.itertuples():
        key = (row.publisher, row.title, row.date, row.url)
        assert set(row.record_ids) == cited[key]
        assert row.n_records == len(cited[key])
    assert index["n_records"].is_monotonic_decreasing


def test_sources_index_counts_shared_sources(sample_frame):
    frame = sample_frame.copy()
    shared = {"publisher": "Xinhua", "title": "Shared report", "url": "https://example.org/s"}
    frame["sources"] = [[*s, dict(shared)] for s in frame["sources"]]
    # A record citing the same source twice still counts once.
    frame.at[frame.index[0], "sources"] = [*frame.at[frame.index[0], "sources"], dict(shared)]
    top = sources_index(frame).iloc[0]
    assert top["title"] == "Shared report"
    assert top["n_records"] == len(frame)
    assert list(top["record_ids"]) == frame["id"].tolist()
    assert list(top["record_names"]) == frame["name_en"].tolist()


def test_search_sources(sample_frame):
    index = sources_index(sample_frame)
    assert len(search_sources(index, "")) == len(index)
    assert len(search_sources(index, "  ")) == len(index)
    by_title = search_sources(index, "ALPHA opens")
    assert by_title["title"].tolist() == ["Alpha opens"]
    by_url = search_sources(index, "example.org/alpha")
    assert by_url["title"].tolist() == ["Alpha opens"]
    by_record = search_sources(index, "big fund")
    assert by_record["record_ids"].tolist() == [("fund-big",)]
    by_chinese = search_sources(index, "大基金")
    assert by_chinese["record_ids"].tolist() == [("fund-big",)]
    publisher = sample_frame["sources"].iloc[0][0]["publisher"]
    expected = (index["publisher"] == publisher).sum()
    assert len(search_sources(index, publisher.lower())) >= expected > 0
    assert search_sources(index, "no such thing").empty
