"""AppTest: the smaller things of issue 9 a professional tool gets right.

An error becomes a plain notice; a table row selects its record as a map click
does; the sliders span the user's own years; the fund slider and the filter
text read as money; the search says what it searches; dates say their format;
the figure takes a title, a caption, a width and a frame.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.downloads import FRAMES, figure_bounds
from dashboard.guard import FAILURE_PREFIX
from dashboard.map_state import handle_table_select
from geodata.io.importer import preview_import
from geodata.model.frame import records_to_frame
from geodata.model.places import CHINA_VIEW_BOUNDS, PRESET_VIEWS
from geodata.query.filters import SEARCH_HELP
from geodata.render.figure_options import WIDTHS_IN
from geodata.store.load import default_dataset_paths, load_records
from geodata.store.userdata import add_dataset, file_digest

from .conftest import APP, DATA_DIR

ROOT = Path(__file__).resolve().parents[2]
LATE = "名称,Name,纬度,经度,year\n新园,Late Park,31.47,104.68,2022\n".encode()


def _page_that_fails() -> None:
    import streamlit as st

    from dashboard.guard import guarded

    st.markdown("before")
    with guarded("the test view"):
        raise ValueError("unknown measure 'capital'")
    st.markdown("after")


def test_an_error_is_a_plain_notice_not_streamlits_error_box(caplog):
    at = AppTest.from_function(_page_that_fails)
    with caplog.at_level("ERROR", logger="cmf_atlas"):
        at.run()
    assert not at.exception
    assert not at.error
    (notice,) = at.warning
    assert notice.value.startswith(FAILURE_PREFIX)
    assert "unknown measure" in notice.value
    # The page goes on, and the traceback is in the server's log.
    assert [m.value for m in at.markdown] == ["before", "after"]
    assert "Traceback" in caplog.text or caplog.records[0].exc_info


def test_a_table_row_selects_its_record_like_a_map_click():
    session = {"records_table": {"selection": {"rows": [1], "columns": []}}}
    handle_table_select("records_table", ["a", "b", "c"], session)
    assert session["selected_id"] == "b"
    # Clearing the row keeps the selection (the detail panel has its own Close).
    session["records_table"] = {"selection": {"rows": [], "columns": []}}
    handle_table_select("records_table", ["a", "b", "c"], session)
    assert session["selected_id"] == "b"
    session["records_table"] = {"selection": {"rows": [7]}}
    handle_table_select("records_table", ["a", "b", "c"], session)
    assert session["selected_id"] == "b"


def test_records_table_is_selectable_with_fund_size_near_the_front(app):
    table = app.dataframe[0]
    columns = list(table.value.columns)
    assert columns.index("Fund size (RMB bn)") <= 3
    assert table.proto.selection_mode, "rows can be selected"


def test_year_slider_spans_the_users_own_records(monkeypatch, sample_frame):
    monkeypatch.setenv("CMF_ATLAS_DATA", str(DATA_DIR))
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["user_datasets"] = add_dataset(
        (), preview_import(LATE, "late.csv"), file_digest(LATE))
    at.run()
    assert not at.exception
    slider = at.slider(key="years")
    assert slider.max == 2022 > int(sample_frame["year"].max())
    assert tuple(slider.value) == (int(sample_frame["year"].min()), 2022)
    assert any("Late Park" in str(v) for v in at.dataframe[1].value["Name"])


def test_fund_slider_and_filter_text_read_as_money(app):
    slider = app.slider(key="fund_range")
    assert slider.proto.format == "%g bn"
    app.slider(key="fund_range").set_value((10.0, float(slider.max))).run()
    caption = next(c.value for c in app.caption if c.value.startswith("Filters:"))
    assert "funds of RMB 10 bn or more" in caption
    assert "any" not in caption


def test_search_box_says_what_it_searches(app):
    box = app.text_input(key="search")
    assert box.help == SEARCH_HELP
    for word in ("names", "city", "province", "绵阳"):
        assert word in box.help
    box.set_value("北京").run()
    shown = set(app.dataframe[0].value["ID"])
    app.text_input(key="search").set_value("Beijing").run()
    assert set(app.dataframe[0].value["ID"]) == shown


def test_a_published_date_states_its_format(monkeypatch):
    monkeypatch.setenv("CMF_ATLAS_DATA", str(ROOT / "datasets"))
    at = AppTest.from_file(APP, default_timeout=60)
    curated = records_to_frame(load_records(default_dataset_paths(ROOT / "datasets")))
    record = curated[curated["date_as_published"] == "09/01/17"].iloc[0]
    at.run()
    at.session_state["selected_id"] = record["id"]
    at.run()
    assert not at.exception
    values = list(at.table[0].value["Value"])
    assert any("09/01/17 \\(as printed, MM/DD/YY\\)" in v or
               "09/01/17 (as printed, MM/DD/YY)" in v for v in values), values


def test_figure_options_are_in_the_page(app):
    assert app.text_input(key="figure_title").value in ("", None)
    assert app.text_area(key="figure_caption") is not None
    widths = app.selectbox(key="figure_width")
    assert "Word page (6.3 in, A4 or Letter with 1-inch margins)" in widths.options
    assert len(widths.options) == len(WIDTHS_IN)
    assert len(app.selectbox(key="figure_frame").options) == len(FRAMES)
    app.text_input(key="figure_title").set_value("Funds, 2016–2018").run()
    app.text_area(key="figure_caption").set_value("Figure 1. 军民融合.").run()
    assert not app.exception


@pytest.mark.parametrize("view", list(PRESET_VIEWS))
def test_figure_frame_follows_the_preset_and_the_filters(sample_frame, view):
    beijing = sample_frame[sample_frame["province"] == "Beijing"]
    bounds = figure_bounds("map", view, [beijing])
    if view == "china":
        (south, _), (north, _) = bounds
        assert north - south < 10, "a Beijing-only selection is framed on Beijing"
        assert south < beijing["lat"].min()
        assert beijing["lat"].max() < north
    else:
        # The preset, widened to a landscape page if need be: never cut.
        (south, west), (north, east) = bounds
        (ps, pw), (pn, pe) = PRESET_VIEWS[view].bounds
        assert (south, north) == (ps, pn)
        assert west <= pw
        assert pe <= east
    assert figure_bounds("china", view, [beijing]) == CHINA_VIEW_BOUNDS
    assert figure_bounds("records", view, [beijing.iloc[:0]]) == CHINA_VIEW_BOUNDS


def test_downloaded_figure_carries_title_caption_width_and_user_layer(monkeypatch):
    import html
    import re

    from dashboard import cache
    from geodata.query.filters import RecordFilter
    from geodata.render.figure import SVG_FONT_STACK
    from geodata.render.style import USER_LAYER_LABEL

    monkeypatch.setenv("CMF_ATLAS_DATA", str(DATA_DIR))
    flt = RecordFilter(provinces=frozenset({"Beijing"}))
    svg = html.unescape(cache.report_figure(
        flt, "svg", title="Beijing, for the brief", caption="Figure 5. 北京.",
        width_in=6.3, bounds=((38.7, 114.2), (41.2, 118.7)),
        user_points=((116.3, 39.9), (116.5, 40.0)),
    ).decode())
    assert "Beijing, for the brief" in svg
    assert "Figure 5. 北京." in svg
    assert USER_LAYER_LABEL in svg
    # The subtitle may wrap between its words: compare the text without the markup.
    assert "2 of your own records" in " ".join(re.sub(r"<[^>]+>", " ", svg).split())
    assert 'width="453.6pt"' in svg
    assert SVG_FONT_STACK in svg
    outlines = cache.report_figure(flt, "svg", text_as="outlines").decode()
    assert "<text" not in outlines
