"""AppTest: a shared link sets the widgets; a bad link warns; the widgets write the link."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.url_sync import state_from_session, state_to_session
from geodata.model.schema import COLUMN_LABELS, KINDS
from geodata.query.filters import FundSizeRange, RecordFilter, filter_bounds, filter_records
from geodata.query.summary import summarize
from geodata.query.urlstate import AtlasState

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
DATA_DIR = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture
def new_app(monkeypatch):
    """An app not yet run, so a test can give it a link's query parameters first."""
    monkeypatch.setenv("CMF_ATLAS_DATA", str(DATA_DIR))

    def make(**params: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params.update(params)
        return at

    return make


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def assert_shows(at: AppTest, frame, flt: RecordFilter) -> None:
    """The counts and the table show exactly what ``flt`` selects."""
    assert not at.exception
    expected = filter_records(frame, flt)
    counts = summarize(expected).counts
    assert {label: metrics(at)[label] for label in KINDS.values()} == {
        label: f"{counts[kind]:,}" for kind, label in KINDS.items()
    }
    assert list(at.dataframe[0].value[COLUMN_LABELS["id"]]) == list(expected["id"])


def warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning]


def test_no_params_keeps_a_clean_url(new_app, sample_frame):
    at = new_app()
    at.run()
    assert_shows(at, sample_frame, RecordFilter())
    assert at.query_params == {}
    assert warnings(at) == []


def test_layers_param_sets_the_checkboxes(new_app, sample_frame):
    at = new_app()
    at.query_params["layers"] = "zone"
    at.run()
    assert_shows(at, sample_frame, RecordFilter(kinds=frozenset({"zone"})))
    assert metrics(at)["Funds"] == "0"
    assert metrics(at)["Clusters"] == "0"
    assert at.checkbox(key="layer_zone").value is True
    assert at.checkbox(key="layer_fund").value is False
    assert at.checkbox(key="layer_cluster").value is False
    assert at.query_params == {"layers": "zone"}
    assert warnings(at) == []


def test_every_filter_param_sets_its_widget(new_app, sample_frame):
    at = new_app(years="2017-2018", fund="1-100", unknown="0", domains="general,ai",
                 prov="Beijing,Guangdong", q="Fund")
    at.run()
    assert_shows(at, sample_frame, RecordFilter(
        year_min=2017, fund_size=FundSizeRange(min_bn=1, max_bn=100, include_unknown=False),
        domains=frozenset({"general", "ai"}), provinces=frozenset({"Beijing", "Guangdong"}),
        search="Fund",
    ))
    assert at.slider(key="years").value == (2017, 2018)
    assert at.slider(key="fund_range").value == (1.0, 100.0)
    assert at.checkbox(key="keep_unknown_size").value is False
    assert at.multiselect(key="domains").value == ["ai", "general"]
    assert at.multiselect(key="provinces").value == ["Beijing", "Guangdong"]
    assert at.text_input(key="search").value == "Fund"
    assert at.query_params == {"years": "2017-2018", "fund": "1-100", "unknown": "0",
                               "domains": "ai,general", "prov": "Beijing,Guangdong", "q": "Fund"}
    assert warnings(at) == []


def test_chinese_search_from_the_link(new_app, sample_frame):
    at = new_app(q="示范区")
    at.run()
    assert at.text_input(key="search").value == "示范区"
    assert_shows(at, sample_frame, RecordFilter(search="示范区"))
    assert at.query_params == {"q": "示范区"}


def test_view_selection_and_presentation_reach_the_session(new_app):
    at = new_app(view="prd", id="fund-big", lat="23.1", lon="113.2", zoom="8", present="1",
                 asof="2017")
    at.run()
    assert not at.exception
    ss = at.session_state
    assert ss["view"] == "prd"
    assert ss["selected_id"] == "fund-big"
    assert tuple(ss["map_center"]) == (23.1, 113.2)
    assert ss["map_zoom"] == 8.0
    assert ss["present"] is True
    assert ss["as_of_mode"] is True
    assert ss["as_of_year"] == 2017
    assert at.query_params == {"view": "prd", "lat": "23.1", "lon": "113.2", "zoom": "8",
                               "id": "fund-big", "present": "1", "asof": "2017"}
    assert warnings(at) == []


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"years": "abc"}, "years"),
        ({"domains": "lasers"}, "domains"),
        ({"id": "nope"}, "nope"),
        ({"layers": "lasers"}, "layers"),
        ({"fund": "999-1000"}, "fund"),
        ({"view": "mars"}, "view"),
        ({"lat": "nan", "lon": "100"}, "lat"),
        ({"zoom": "1e9"}, "zoom"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_params_warn_and_use_defaults(new_app, sample_frame, params, named):
    at = new_app(**params)
    at.run()
    assert not at.exception
    assert any(named in w for w in warnings(at)), warnings(at)
    assert_shows(at, sample_frame, RecordFilter())
    assert at.query_params == {}, "bad parameters are dropped from the URL"


def test_notice_is_shown_as_text_not_markdown(new_app):
    at = new_app(view="[click](https://example.org) ![x](https://example.org/x.png)")
    at.run()
    (notice,) = warnings(at)
    assert "\\[click\\]" in notice, "the link's text is escaped, so it renders no link"
    assert "\\!\\[x\\]" in notice, "... and loads no image"


def test_notices_stay_until_the_map_changes(new_app):
    at = new_app(years="abc")
    at.run()
    assert len(warnings(at)) == 1
    at.run()
    assert len(warnings(at)) == 1, "a rerun that changes nothing keeps the notice"
    at.checkbox(key="layer_fund").uncheck().run()
    assert warnings(at) == []


def test_widget_changes_update_the_url(new_app):
    at = new_app()
    at.run()
    at.checkbox(key="layer_fund").uncheck().run()
    assert at.query_params == {"layers": "cluster,zone,organisation"}
    at.text_input(key="search").input("佛山").run()
    assert at.query_params == {"layers": "cluster,zone,organisation", "q": "佛山"}
    at.slider(key="years").set_value((2017, 2018)).run()
    assert at.query_params["years"] == "2017-2018"
    next(b for b in at.button if b.label == "Reset filters").click().run()
    assert at.query_params == {}


def test_widgets_change_a_shared_link(new_app):
    at = new_app(layers="zone", q="Zone")
    at.run()
    at.checkbox(key="layer_cluster").check().run()
    assert at.query_params == {"layers": "cluster,zone", "q": "Zone"}


def test_link_is_read_once_per_session(new_app):
    """Later runs leave the widgets to the user, even if the URL still says otherwise."""
    at = new_app(layers="zone")
    at.run()
    at.checkbox(key="layer_fund").check().run()
    assert at.checkbox(key="layer_fund").value is True
    assert at.query_params == {"layers": "fund,zone"}


def test_session_round_trip(sample_frame):
    bounds = filter_bounds(sample_frame)
    state = AtlasState.default(bounds).replace(
        layers=frozenset({"fund"}), years=(2017, 2017), fund=(1.0, 50.0),
        domains=frozenset({"ai"}), provinces=frozenset({"Beijing"}), search="佛山",
        view="prd", center=(23.1, 113.2), zoom=8.0, selected="fund-big", present=True,
        as_of=2017,
    )
    session: dict = {}
    state_to_session(state, session)
    assert state_from_session(session, bounds) == state
    assert state_from_session({}, bounds) == AtlasState.default(bounds)


def test_session_map_position_is_read_leniently(sample_frame):
    bounds = filter_bounds(sample_frame)
    got = state_from_session(
        {"map_center": {"lat": 23.123456789, "lng": 473.2}, "map_zoom": "7.123"}, bounds
    )
    assert got.center == (23.12346, 113.2)
    assert got.zoom == 7.12
    bad = state_from_session({"map_center": ("x", None), "map_zoom": float("nan"),
                              "view": "mars", "selected_id": 3}, bounds)
    assert (bad.center, bad.zoom, bad.view, bad.selected) == (None, None, None, None)


def test_a_link_cannot_put_markup_on_the_page(new_app):
    # Whatever a link's search says, every page shows it as text, never as a link or emphasis.
    search = "[Read the briefing](https://evil.example) **urgent**"
    at = new_app(q=search).run()
    assert not at.exception
    texts = [e.value for e in (*at.caption, *at.markdown)]
    assert any("Read the briefing" in t for t in texts)
    for text in texts:
        assert "](https://evil.example)" not in text, text
        assert "**urgent**" not in text, text
    for page in ("charts", "compare"):
        at.switch_page(f"views/{page}.py").run()
        assert not at.exception
        shown = [e.value for e in (*at.caption, *at.markdown)]
        assert any("Read the briefing" in t for t in shown)
        assert not any("](https://evil.example)" in t for t in shown)


def test_organisation_filters_go_into_the_link_and_back(new_app):
    at = new_app(orgcat="university", us="yes", sponsor="central,provincial")
    at.run()
    assert at.multiselect(key="org_categories").value == ["university"]
    assert at.selectbox(key="designated").value == "yes"
    assert at.multiselect(key="sponsor_levels").value == ["central", "provincial"]
    assert at.query_params == {"orgcat": "university", "us": "yes",
                               "sponsor": "central,provincial"}
    assert warnings(at) == []
    at.selectbox(key="designated").set_value("no").run()
    at.multiselect(key="org_categories").set_value([]).run()
    assert at.query_params == {"us": "no", "sponsor": "central,provincial"}


def test_a_bad_organisation_filter_in_a_link_is_a_notice(new_app):
    at = new_app(us="maybe", orgcat="spaceport", group="org-nowhere")
    at.run()
    text = " ".join(warnings(at))
    assert "us='maybe' is not yes or no" in text
    assert "'spaceport' is not an organisation category" in text
    assert "in the link is not in the data; showing every group" in text
    assert at.query_params == {}
