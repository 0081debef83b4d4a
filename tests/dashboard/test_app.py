"""AppTest: the sidebar filters change the counts and the table, never crash."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from geodata.model.schema import COLUMN_LABELS, KINDS
from geodata.query.filters import FundSizeRange, RecordFilter, filter_records
from geodata.query.summary import FUNDS_OFF_TEXT, capital_text, summarize

from .conftest import APP


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table_ids(at: AppTest) -> list[str]:
    return list(at.dataframe[0].value[COLUMN_LABELS["id"]])


def assert_shows(at: AppTest, frame, flt: RecordFilter) -> None:
    """The metrics and the table show exactly what filter_records selects."""
    assert not at.exception
    expected = filter_records(frame, flt)
    summary = summarize(expected)
    shown = metrics(at)
    for kind, label in KINDS.items():
        assert shown[label] == f"{summary.counts[kind]:,}"
    assert shown["Fund capital shown"] == capital_text(summary, "fund" in flt.kinds)
    assert table_ids(at) == list(expected["id"])


def test_default_shows_everything(app, sample_frame):
    assert_shows(app, sample_frame, RecordFilter())
    assert len(table_ids(app)) == len(sample_frame)


def test_layer_toggle(app, sample_frame):
    app.checkbox(key="layer_fund").uncheck().run()
    assert_shows(app, sample_frame, RecordFilter(kinds=frozenset({"cluster", "zone"})))
    assert metrics(app)["Funds"] == "0"
    # Not "RMB 0.0 bn": with the layer off there is no sum to show.
    assert metrics(app)["Fund capital shown"] == FUNDS_OFF_TEXT


def test_year_range(app, sample_frame):
    app.slider(key="years").set_value((2017, 2017)).run()
    assert_shows(app, sample_frame, RecordFilter(year_min=2017, year_max=2017))


def test_fund_size_and_unknown_size(app, sample_frame):
    app.slider(key="fund_range").set_value((10.0, 200.0)).run()
    assert_shows(app, sample_frame, RecordFilter(fund_size=FundSizeRange(min_bn=10)))
    app.checkbox(key="keep_unknown_size").uncheck().run()
    assert_shows(app, sample_frame,
                 RecordFilter(fund_size=FundSizeRange(min_bn=10, include_unknown=False)))
    assert metrics(app)["Funds"] == "1"


def test_domains_and_search(app, sample_frame):
    app.multiselect(key="domains").set_value(["ai", "maritime"]).run()
    assert_shows(app, sample_frame, RecordFilter(domains=frozenset({"ai", "maritime"})))
    app.text_input(key="search").input("示范区").run()
    assert_shows(app, sample_frame,
                 RecordFilter(domains=frozenset({"ai", "maritime"}), search="示范区"))


def test_no_match_offers_a_way_out_and_reset_restores(app, sample_frame):
    app.text_input(key="search").input("no such name").run()
    assert metrics(app)["Clusters"] == "0"
    assert any("No records match" in i.value for i in app.info)
    next(b for b in app.button if b.label == "Reset filters").click().run()
    assert_shows(app, sample_frame, RecordFilter())


def test_unknown_size_note_in_capital_help(app):
    help_text = next(m for m in app.metric if m.label == "Fund capital shown").help
    assert "1 fund(s) of unknown size are not included" in help_text


def test_bad_dataset_shows_error_not_traceback(monkeypatch, tmp_path):
    (tmp_path / "bad.yaml").write_text("- id: BAD ID\n  kind: fund\n", encoding="utf-8")
    monkeypatch.setenv("CMF_ATLAS_DATA", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert "could not be loaded" in at.error[0].value
    assert "bad.yaml" in at.code[0].value
    assert "field 'id'" in at.code[0].value
