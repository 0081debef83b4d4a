"""Organisations, links and designations in the app: filters, detail panel, map lines."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboard.conftest import APP


@pytest.fixture
def v2app(monkeypatch, atlas_dir) -> AppTest:
    monkeypatch.setenv("CMF_ATLAS_DATA", str(atlas_dir))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    return at


def _shown(at: AppTest) -> set[str]:
    return set(at.dataframe[0].value["ID"])


def test_organisations_are_a_layer_with_their_own_count(v2app):
    metrics = {m.label: m.value for m in v2app.metric}
    assert metrics["Organisations"] == "5"
    assert v2app.sidebar.checkbox(key="layer_organisation").value
    v2app.sidebar.checkbox(key="layer_organisation").uncheck().run()
    assert _shown(v2app) == {"cluster-lab"}


def test_sidebar_filters_for_group_category_designation_sponsor(v2app):
    v2app.sidebar.selectbox(key="org_group").set_value("org-group").run()
    assert _shown(v2app) == {"org-group", "org-inst", "org-sub"}
    v2app.sidebar.selectbox(key="org_group").set_value("").run()
    v2app.sidebar.selectbox(key="designated").set_value("yes").run()
    assert _shown(v2app) == {"org-group", "org-inst"}
    v2app.sidebar.selectbox(key="designated").set_value("any").run()
    v2app.sidebar.multiselect(key="org_categories").set_value(["defence_conglomerate"]).run()
    assert _shown(v2app) == {"org-group", "cluster-lab"}
    v2app.sidebar.multiselect(key="org_categories").set_value([]).run()
    v2app.sidebar.multiselect(key="sponsor_levels").set_value(["enterprise"]).run()
    assert _shown(v2app) == {"cluster-lab"}
    assert not v2app.exception


def test_detail_panel_lists_links_and_a_click_selects_the_other_end(v2app):
    v2app.session_state["selected_id"] = "cluster-lab"
    v2app.run()
    labels = {b.label for b in v2app.button if b.key and b.key.startswith("link_")}
    assert labels == {"Has partner: Group 28th Institute", "Has partner: Search Firm"}
    button = next(b for b in v2app.button if b.label == "Has partner: Group 28th Institute")
    button.click().run()
    assert v2app.session_state["selected_id"] == "org-inst"
    fields = dict(zip(v2app.table[0].value["Field"], v2app.table[0].value["Value"], strict=True))
    assert "subsidiary of listed org\\-group" in fields["US designations"]
    sub = next(b for b in v2app.button if b.label.startswith("Parent of: Institute Subsidiary"))
    assert "not on the map" in sub.label


def test_about_page_documents_the_model(v2app):
    v2app.switch_page("views/about.py").run()
    assert not v2app.exception
    text = " ".join(m.value for m in v2app.markdown)
    assert "2 accepted, 1 rejected" in text.replace("**", "")
    assert "China Electronics Corporation" in text
    codes = {c for t in v2app.table for c in t.value.get("Code", [])}
    assert {"parent_of", "defence_conglomerate", "us_dod_1260h", "subsidiary_of_listed",
            "first_reported", "high", "district", "reference_list", "normalised_name"} <= codes
