"""AppTest: every page runs, and shows what geodata computes for the sidebar's filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geodata.model.schema import DOMAINS, KINDS
from geodata.query.filters import RecordFilter, filter_records
from geodata.query.frame_aggregates import as_of_year, search_sources, sources_index
from geodata.query.summary import FUNDS_OFF_TEXT, capital_text, format_rmb_bn, summarize

from .conftest import DATA_DIR

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def open_page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"views/{name}.py").run()
    assert not at.exception
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def elements(at: AppTest, type_name: str) -> list:
    return [e for e in at.main if type(e).__name__ == type_name]


def chart_specs(at: AppTest) -> list[dict]:
    return [
        json.loads(e.proto.spec) for e in elements(at, "UnknownElement")
        if e.type == "vega_lite_chart"
    ]


def chart_title(spec: dict) -> str:
    return spec["title"]["text"]


@pytest.mark.parametrize(
    ("name", "heading"),
    [("charts", "## Charts"), ("compare", "## Compare"), ("sources", "## Sources"),
     ("about", "## About CMF Atlas")],
)
def test_every_page_runs(app, name, heading):
    open_page(app, name)
    assert heading in [m.value for m in app.markdown]


# --------------------------------------------------------------------------- charts


def assert_chart_numbers(at: AppTest, frame, flt: RecordFilter) -> None:
    summary = summarize(filter_records(frame, flt))
    shown = metrics(at)
    assert shown["Records shown"] == f"{summary.total:,}"
    assert shown["Fund capital shown"] == capital_text(summary, "fund" in flt.kinds)
    assert shown["Funds of unknown size"] == str(summary.funds_unknown_size)


def test_charts_follow_the_sidebar_filters(app, sample_frame):
    open_page(app, "charts")
    assert_chart_numbers(app, sample_frame, RecordFilter())
    assert [chart_title(s) for s in chart_specs(app)] == [
        "Records by year", "Records by technology domain", "Records by province"
    ]

    app.checkbox(key="layer_fund").uncheck().run()
    assert not app.exception
    assert_chart_numbers(app, sample_frame, RecordFilter(kinds=frozenset({"cluster", "zone"})))
    assert metrics(app)["Fund capital shown"] == FUNDS_OFF_TEXT

    app.checkbox(key="layer_fund").check().run()
    app.multiselect(key="domains").set_value(["general"]).run()
    assert not app.exception
    assert_chart_numbers(app, sample_frame, RecordFilter(domains=frozenset({"general"})))


def test_charts_measure_toggle_and_unknown_size_note(app, sample_frame):
    open_page(app, "charts")
    unknown = summarize(sample_frame).funds_unknown_size
    assert any(
        f"{unknown} fund of unknown size left out of the capital sums" in c.value
        for c in app.caption
    )
    app.segmented_control(key="charts_measure").set_value("capital").run()
    assert not app.exception
    assert [chart_title(s) for s in chart_specs(app)] == [
        "Fund capital by year", "Fund capital by technology domain", "Fund capital by province"
    ]


def test_charts_have_png_and_svg_downloads(app):
    open_page(app, "charts")
    keys = {b.key for b in app.get("download_button")}
    assert keys == {f"download_{v}_{f}" for v in ("year", "domain", "province")
                    for f in ("png", "svg")}


def test_chart_bytes_are_the_chart_shown(monkeypatch):
    monkeypatch.setenv("CMF_ATLAS_DATA", str(DATA_DIR))
    from dashboard import cache

    flt = RecordFilter(kinds=frozenset({"fund"}))
    assert cache.chart_bytes(flt, "province", "capital", "png").startswith(PNG_MAGIC)
    svg = cache.chart_bytes(flt, "province", "capital", "svg").decode("utf-8")
    assert svg.lstrip().startswith("<svg")
    assert "Fund capital by province" in svg


def test_empty_selection_explains_instead_of_charting(app):
    open_page(app, "charts")
    app.text_input(key="search").input("no such name").run()
    assert not app.exception
    assert any("nothing to chart" in i.value for i in app.info)
    assert chart_specs(app) == []


# --------------------------------------------------------------------------- compare


def side_values(at: AppTest) -> list[tuple[str, str]]:
    """(records, capital) of the left and right sides, from the metrics in page order."""
    values = [m.value for m in at.metric]
    assert [m.label for m in at.metric] == ["Records", "Fund capital"] * 2
    return [(values[0], values[1]), (values[2], values[3])]


def expected_side(records) -> tuple[str, str]:
    s = summarize(records)
    return (f"{s.total:,}", format_rmb_bn(s.fund_capital_rmb_bn))


def test_compare_two_years_matches_as_of_year(app, sample_frame):
    open_page(app, "compare")
    # One rerun for all three changes: each side's map takes a moment to draw.
    app.checkbox(key="layer_cluster").uncheck()
    app.selectbox(key="compare_year_left").set_value(2016)
    app.selectbox(key="compare_year_right").set_value(2018).run()
    assert not app.exception
    selected = filter_records(sample_frame, RecordFilter(kinds=frozenset({"fund", "zone"})))
    left, right = as_of_year(selected, 2016), as_of_year(selected, 2018)
    assert side_values(app) == [expected_side(left), expected_side(right)]
    assert len(left) < len(right)

    table = app.table[0].value
    assert list(table.columns) == ["As of 2016", "As of 2018", "Difference (right − left)"]
    assert table.loc["All records"].tolist() == [
        str(len(left)), str(len(right)), f"{len(right) - len(left):+d}"
    ]
    assert len(elements(app, "Image")) == 2


def test_compare_two_domains(app, sample_frame):
    open_page(app, "compare")
    app.segmented_control(key="compare_mode").set_value("domain").run()
    app.selectbox(key="compare_domain_left").set_value("general")
    app.selectbox(key="compare_domain_right").set_value("maritime").run()
    assert not app.exception
    expected = [
        expected_side(filter_records(sample_frame, RecordFilter(domains=frozenset({d}))))
        for d in ("general", "maritime")
    ]
    assert side_values(app) == expected
    assert list(app.table[0].value.columns)[:2] == [DOMAINS["general"], DOMAINS["maritime"]]


# --------------------------------------------------------------------------- sources


def test_sources_lists_every_source_and_search_narrows(app, sample_frame):
    open_page(app, "sources")
    index = sources_index(sample_frame)
    table = app.dataframe[0].value
    assert table["Title"].tolist() == index["title"].tolist()
    assert table["Records"].tolist() == index["n_records"].tolist()
    assert any(f"{len(index)} sources cited by the" in c.value for c in app.caption)

    app.text_input(key="sources_search").input("alpha").run()
    assert not app.exception
    expected = search_sources(index, "alpha")
    assert 0 < len(expected) < len(index)
    assert app.dataframe[0].value["Title"].tolist() == expected["title"].tolist()
    assert any(f"{len(expected)} of {len(index)} sources" in c.value for c in app.caption)


def test_sources_links_are_http_only_and_follow_filters(app, sample_frame):
    open_page(app, "sources")
    links = app.dataframe[0].value["Link"].dropna().tolist()
    assert links == ["https://example.org/alpha"]

    app.checkbox(key="layer_cluster").uncheck().run()
    selected = filter_records(sample_frame, RecordFilter(kinds=frozenset({"fund", "zone"})))
    assert app.dataframe[0].value["Title"].tolist() == sources_index(selected)["title"].tolist()


# --------------------------------------------------------------------------- about


def test_about_lists_vocabularies_and_unknown_size_funds(app, sample_frame):
    open_page(app, "about")
    labels = {str(v) for t in app.table for v in t.value.to_numpy().ravel()}
    assert set(DOMAINS.values()) <= labels
    assert set(KINDS.values()) <= labels
    unknown = summarize(sample_frame).funds_unknown_size
    assert unknown == 1
    assert any("**1 fund** in the data has no published size" in m.value for m in app.markdown)
    assert any("Natural Earth" in m.value and "de facto" in m.value for m in app.markdown)


def test_no_page_changes_the_shared_frame(app, sample_frame):
    # The records frame is one object shared by every session (st.cache_resource).
    from pandas.testing import assert_frame_equal

    from dashboard import cache

    for name in ("charts", "compare", "sources", "about", "your_data", "map"):
        open_page(app, name)
    app.sidebar.text_input(key="search").set_value("Foshan").run()
    open_page(app, "charts")
    open_page(app, "map")
    assert not app.exception
    from geodata.model.relations import load_atlas

    fresh = load_atlas([Path(p) for p in cache.dataset_paths()]).frame
    assert_frame_equal(cache.atlas_frame(), fresh)
