"""AppTest: as-of-year view and play, presentation mode, selection, downloads."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboard.map_state import LAST_CLICK_KEY, MAP_KEY, handle_map_change
from geodata.query.filters import RecordFilter, filter_records


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def total_shown(at: AppTest) -> int:
    return sum(int(metric(at, k)) for k in ("Clusters", "Funds", "Demonstration zones"))


def test_as_of_year_shows_everything_up_to_that_year(app, sample_frame):
    app.toggle(key="as_of_mode").set_value(True).run()
    app.slider(key="as_of_year").set_value(2016).run()
    assert not app.exception
    assert total_shown(app) == len(filter_records(sample_frame, RecordFilter(year_max=2016)))
    app.slider(key="as_of_year").set_value(2017).run()
    assert total_shown(app) == len(filter_records(sample_frame, RecordFilter(year_max=2017)))


def test_play_steps_through_every_year_and_stops(app, sample_frame):
    app.toggle(key="as_of_mode").set_value(True).run()
    app.button(key="play_button").click().run()
    assert not app.exception
    assert app.session_state["as_of_year"] == int(sample_frame["year"].max())
    assert app.session_state["playing"] is False
    assert total_shown(app) == len(sample_frame)


def test_presentation_mode_hides_table_and_offers_exit(app):
    app.toggle(key="present").set_value(True).run()
    assert not app.exception
    assert not app.dataframe, "the table is hidden in presentation mode"
    exit_button = next(b for b in app.button if b.label == "Exit presentation")
    exit_button.click().run()
    assert app.session_state["present"] is False
    assert app.dataframe


def test_selected_record_shows_every_field_and_sources(app):
    app.session_state["selected_id"] = "cluster-alpha"
    app.run()
    assert not app.exception
    shown = app.table[0].value
    assert "Alpha AI Innovation Centre" in set(shown["Value"])
    assert any("example.org/alpha" in md.value for md in app.markdown)
    app.button(key="close_detail").click().run()
    assert app.session_state["selected_id"] is None
    assert not app.table


def test_stale_selection_is_a_notice_not_an_error(app):
    app.session_state["selected_id"] = "no-such-record"
    app.run()
    assert not app.exception
    assert "not in the data" in app.warning[0].value


def test_downloads_offered_for_data_and_figures(app):
    labels = {b.label for b in app.get("download_button")}
    assert {"Data (CSV)", "Data (GeoJSON)", "Figure (PNG)", "Figure (SVG)",
            "Figure (PDF)"} <= labels


def test_preset_view_is_kept(app):
    app.segmented_control(key="view").set_value("prd").run()
    assert not app.exception
    assert app.session_state["view"] == "prd"


def test_map_click_selects_record_or_filters_province():
    session: dict = {}
    session[MAP_KEY] = {"last_active_drawing": {"properties": {"id": "fund-big", "kind": "fund"}}}
    handle_map_change(session)
    assert session["selected_id"] == "fund-big"
    session[MAP_KEY] = {"last_active_drawing": {"properties": {"role": "province",
                                                               "name_en": "Sichuan"}}}
    handle_map_change(session)
    assert session["provinces"] == ["Sichuan"]
    session["provinces"] = []
    handle_map_change(session)  # the same click again: nothing new
    assert session["provinces"] == []
    assert session[LAST_CLICK_KEY]
