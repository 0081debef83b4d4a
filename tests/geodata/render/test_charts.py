"""Chart specs (via ``to_dict()``) and offline export to PNG and SVG."""

from __future__ import annotations

import math
import re

import altair as alt
import pytest

from geodata.model.schema import DOMAINS, KINDS
from geodata.query.frame_aggregates import KIND_COLUMNS, by_domain, by_province, by_year
from geodata.render.charts import (
    CHART_VIEWS,
    build_domain_chart,
    build_province_chart,
    build_view_chart,
    build_year_chart,
    chart_to_bytes,
)
from geodata.render.style import LAYER_COLORS

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def data_of(spec: dict, view: dict) -> list[dict]:
    """The inline rows a view draws."""
    return spec["datasets"][view["data"]["name"]]


def tooltip_titles(view: dict) -> list[str]:
    return [t["title"] for t in view["encoding"]["tooltip"]]


def assert_layer_colours(view: dict) -> None:
    scale = view["encoding"]["color"]["scale"]
    assert scale["domain"] == [KINDS[k] for k in KIND_COLUMNS]
    assert scale["range"] == [LAYER_COLORS[k] for k in KIND_COLUMNS]


def unknown_funds(frame) -> int:
    return sum(
        1 for r in frame.itertuples() if r.kind == "fund" and math.isnan(r.fund_size_rmb_bn)
    )


# --- by year ---------------------------------------------------------------


def test_year_chart_records(sample_frame):
    spec = build_year_chart(by_year(sample_frame), "records").to_dict()
    assert spec["title"]["text"] == "Records by year"
    assert f"{len(sample_frame)} records" in spec["title"]["subtitle"][0]
    top, running = spec["vconcat"]
    bars, totals = top["layer"]
    assert bars["mark"]["type"] == "bar"
    assert bars["encoding"]["x"]["field"] == "year"
    assert bars["encoding"]["y"]["title"] == "New records"
    assert_layer_colours(bars)
    assert tooltip_titles(bars) == ["Year", "Layer", "New records", "New records, all layers"]
    rows = data_of(spec, bars)
    assert sum(r["count"] for r in rows) == len(sample_frame)
    for kind in KIND_COLUMNS:
        drawn = sum(r["count"] for r in rows if r["layer"] == KINDS[kind])
        assert drawn == (sample_frame["kind"] == kind).sum()
    assert totals["mark"]["type"] == "text"
    assert running["mark"]["type"] == "area"
    assert running["encoding"]["y"]["title"] == "Cumulative records"
    assert_layer_colours(running)
    final = max(r["year"] for r in data_of(spec, running))
    assert sum(r["count"] for r in data_of(spec, running) if r["year"] == final) == len(
        sample_frame
    )


def test_year_chart_capital_has_units_and_notes_unknown_sizes(sample_frame):
    spec = build_year_chart(by_year(sample_frame), "capital").to_dict()
    assert spec["title"]["text"] == "Fund capital by year"
    n = unknown_funds(sample_frame)
    assert f"{n} fund" in spec["title"]["subtitle"][0]
    bars = spec["vconcat"][0]["layer"][0]
    assert bars["mark"]["color"] == LAYER_COLORS["fund"]
    assert "RMB bn" in bars["encoding"]["y"]["title"]
    capital_tip = next(t for t in bars["encoding"]["tooltip"] if t["field"] == "capital_rmb_bn")
    assert capital_tip["title"] == "Fund capital (RMB bn)"
    assert capital_tip["format"] == ",.1f"
    assert "Funds of unknown size (not in sum)" in tooltip_titles(bars)
    running = spec["vconcat"][1]
    assert running["encoding"]["y"]["field"] == "capital_rmb_bn_cumulative"
    assert "RMB bn" in running["encoding"]["y"]["title"]


def test_year_chart_without_running_total(sample_frame):
    spec = build_year_chart(by_year(sample_frame), cumulative=False).to_dict()
    assert "vconcat" not in spec
    assert [v["mark"]["type"] for v in spec["layer"]] == ["bar", "text"]
    assert spec["layer"][0]["encoding"]["x"]["title"] == "Year"


def test_count_axes_have_whole_number_ticks(sample_frame):
    spec = build_year_chart(by_year(sample_frame)).to_dict()
    axis = spec["vconcat"][0]["layer"][0]["encoding"]["y"]["axis"]
    assert axis["format"] == "d"
    assert all(float(v).is_integer() for v in axis["values"])


# --- by domain and province -----------------------------------------------


def test_domain_chart_records(sample_frame):
    table = by_domain(sample_frame)
    spec = build_domain_chart(table).to_dict()
    assert spec["title"]["text"] == "Records by technology domain"
    assert "several domains" in spec["title"]["subtitle"][0]
    bars, values = spec["layer"]
    assert_layer_colours(bars)
    assert bars["encoding"]["x"]["title"] == "Records"
    order = bars["encoding"]["y"]["sort"]
    used = {d for ds in sample_frame["domains"] for d in ds}
    assert set(order) == {DOMAINS[d] for d in used}
    totals = dict(zip(table["domain_label"], table["records"], strict=True))
    assert [totals[label] for label in order] == sorted(totals[label] for label in order)[::-1]
    assert "Technology domain" in tooltip_titles(bars)
    assert values["mark"]["type"] == "text"


def test_domain_chart_capital(sample_frame):
    spec = build_domain_chart(by_domain(sample_frame), "capital").to_dict()
    bars = spec["layer"][0]
    assert bars["encoding"]["x"]["title"] == "Fund capital (RMB bn)"
    drawn = {r["domain_label"]: r["capital_rmb_bn"] for r in data_of(spec, bars)}
    expected: dict[str, float] = {}
    for r in sample_frame.itertuples():
        if r.kind == "fund" and not math.isnan(r.fund_size_rmb_bn):
            for d in r.domains:
                expected[DOMAINS[d]] = expected.get(DOMAINS[d], 0.0) + r.fund_size_rmb_bn
    assert drawn == pytest.approx(expected)


def test_province_chart_sorted_largest_first(sample_frame):
    spec = build_province_chart(by_province(sample_frame)).to_dict()
    assert spec["title"]["text"] == "Records by province"
    bars = spec["layer"][0]
    order = bars["encoding"]["y"]["sort"]
    counts = sample_frame["province"].value_counts()
    assert set(order) == set(counts.index)
    assert [counts[p] for p in order] == sorted(counts, reverse=True)
    assert "省份" in tooltip_titles(bars)


def test_province_chart_capital_and_top(sample_frame):
    spec = build_province_chart(by_province(sample_frame), "capital", top=1).to_dict()
    bars = spec["layer"][0]
    funds = sample_frame[sample_frame["kind"] == "fund"]
    richest = funds.groupby("province")["fund_size_rmb_bn"].sum().idxmax()
    assert bars["encoding"]["y"]["sort"] == [richest]
    assert "RMB bn" in bars["encoding"]["x"]["title"]
    assert f"{unknown_funds(sample_frame)} fund" in spec["title"]["subtitle"][0]


def test_empty_selection_still_builds_and_renders(sample_frame):
    empty = sample_frame.iloc[0:0]
    chart = build_province_chart(by_province(empty))
    assert "Nothing to show" in chart.to_dict()["title"]["subtitle"][-1]
    assert chart_to_bytes(chart, "svg").startswith(b"<svg")
    build_domain_chart(by_domain(empty), "capital").to_dict()
    build_year_chart(by_year(empty, years=(2017, 2018))).to_dict()


@pytest.mark.parametrize("builder", [build_year_chart, build_domain_chart, build_province_chart])
def test_builders_reject_unknown_measure(sample_frame, builder):
    with pytest.raises(ValueError, match="unknown measure 'size'"):
        builder(by_year(sample_frame), "size")


def test_builders_say_which_table_they_need(sample_frame):
    with pytest.raises(ValueError, match="by_domain"):
        build_domain_chart(by_province(sample_frame))


# --- export ----------------------------------------------------------------


def test_chart_to_png(sample_frame):
    png = chart_to_bytes(build_year_chart(by_year(sample_frame)), "png")
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 10_000


def test_chart_to_svg_needs_no_remote_resources(sample_frame):
    svg = chart_to_bytes(build_province_chart(by_province(sample_frame), "capital"), "svg")
    text = svg.decode("utf-8")
    assert "<svg" in text
    assert "Fund capital by province" in text
    urls = re.findall(r"https?://[^\s\"'<>)]+", text)
    assert all(u.startswith("http://www.w3.org/") for u in urls), urls


def test_chart_to_bytes_refuses_to_fetch():
    chart = alt.Chart(alt.UrlData("https://example.org/data.csv")).mark_bar().encode(x="a:Q")
    with pytest.raises(Exception, match="not allowed"):
        chart_to_bytes(chart, "svg")


def test_chart_to_bytes_rejects_bad_format(sample_frame):
    with pytest.raises(ValueError, match="'png' or 'svg'"):
        chart_to_bytes(build_year_chart(by_year(sample_frame)), "gif")
    with pytest.raises(TypeError, match="Altair chart"):
        chart_to_bytes("not a chart")


@pytest.mark.parametrize(
    ("view", "builder", "table"),
    [("year", build_year_chart, by_year), ("domain", build_domain_chart, by_domain),
     ("province", build_province_chart, by_province)],
)
@pytest.mark.parametrize("measure", ["records", "capital"])
def test_build_view_chart_is_the_builder_of_its_table(sample_frame, view, builder, table, measure):
    assert view in CHART_VIEWS
    assert build_view_chart(sample_frame, view, measure).to_dict() == builder(
        table(sample_frame), measure
    ).to_dict()


def test_build_view_chart_passes_the_year_span(sample_frame):
    spec = build_view_chart(sample_frame, "year", years=(2010, 2020)).to_dict()
    assert spec == build_year_chart(by_year(sample_frame, years=(2010, 2020))).to_dict()


def test_build_view_chart_rejects_unknown_view(sample_frame):
    with pytest.raises(ValueError, match=r"unknown chart view 'map'; expected one of"):
        build_view_chart(sample_frame, "map")
