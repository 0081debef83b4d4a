"""The Team page in team mode (CMF_ATLAS_DB set), on a throwaway PostgreSQL cluster.

Sign-in, editing with a source, moving a point, a stale save's conflict (the
edit is kept and can be reapplied), schema errors as messages, history,
review and revert, and the other pages reading the published atlas.
"""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from geodata.db.published import read_published
from geodata.db.records import publish_record, read_record, save_record

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
RID = "cluster-alpha"


def _team_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    at.switch_page("views/team.py").run()
    assert not at.exception
    return at


def _sign_in(at: AppTest, name: str, password: str) -> None:
    at.text_input(key="team_name").input(name)
    at.text_input(key="team_password").input(password)
    at.button[0].click()  # the form's submit button is the page's first button
    at.run()
    assert not at.exception


def _signed_in(store, name: str, record: str = RID) -> AppTest:
    """The Team page signed in as ``name`` (erin: editor, rhea: reviewer), ``record`` open."""
    at = _team_app()
    _sign_in(at, name, store.passwords[name])
    at.selectbox(key="team_record").set_value(record).run()
    return at


def _texts(at: AppTest, kind: str) -> list[str]:
    """The messages of one kind, as read (Markdown escapes removed)."""
    return [e.value.replace("\\", "") for e in at.get(kind)]


def _source(at: AppTest, prefix: str, title: str = "A report") -> None:
    at.text_input(key=f"{prefix}_src_publisher").input("Xinhua")
    at.text_input(key=f"{prefix}_src_title").input(title)
    at.text_input(key=f"{prefix}_src_url").input("https://example.org/report")


def _edit_yaml(at: AppTest, old: str, new: str) -> None:
    box = at.text_area(key="team_yaml")
    assert old in box.value
    box.input(box.value.replace(old, new))


def test_other_pages_read_the_published_atlas_from_the_store(team_store):
    from dashboard import cache

    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    frame = cache.atlas_frame()
    assert len(frame) == 7  # tests/data/sample.yaml, imported
    # an approved edit shows without a restart; a draft does not
    with team_store.session("rhea", "reviewer") as conn:
        v = save_record(conn, RID, {"city": "Binhai"}, expected_version=1, who="rhea",
                        source={"publisher": "P", "title": "T"})
        cache.refresh_team_data()
        assert cache.atlas_frame().set_index("id").loc[RID, "city"] == "Tianjin"
        publish_record(conn, RID, expected_version=v, who="rhea")
    cache.refresh_team_data()
    assert cache.atlas_frame().set_index("id").loc[RID, "city"] == "Binhai"


def test_sign_in_refuses_a_wrong_password_with_a_message(team_store):
    at = _team_app()
    _sign_in(at, "erin", "not the password")
    assert any("wrong account name or password" in w for w in _texts(at, "warning"))
    assert "team_account" not in at.session_state
    _sign_in(at, "erin", team_store.passwords["erin"])
    assert at.session_state["team_account"]["role"] == "editor"
    assert at.text_area(key="team_yaml").value.startswith("id: ")


def test_an_expired_session_must_sign_in_again(team_store):
    at = _team_app()
    _sign_in(at, "erin", team_store.passwords["erin"])
    at.session_state["team_account"]["last_seen"] = time.time() - 31 * 60
    at.run()
    assert "team_account" not in at.session_state
    assert any("session expired" in i for i in _texts(at, "info"))


def test_an_editor_edits_and_moves_a_record_with_a_source(team_store):
    at = _signed_in(team_store, "erin")
    _edit_yaml(at, "city: Tianjin", "city: Binhai")
    at.number_input(key="team_lat").set_value(39.1)
    at.number_input(key="team_lon").set_value(117.6)
    # no source: refused with a message naming the field
    at.button(key="team_save").click().run()
    assert not at.exception
    assert any("source.publisher" in w for w in _texts(at, "warning")), (
        _texts(at, "warning"), _texts(at, "success"), _texts(at, "info"))
    _source(at, "edit")
    at.button(key="team_save").click().run()
    assert not at.exception
    assert any("Saved cluster-alpha as a draft" in s for s in _texts(at, "success"))
    with team_store.session("erin", "editor") as conn:
        doc, _, status = read_record(conn, RID)
    assert (doc["city"], doc["lat"], doc["lon"], status) == ("Binhai", 39.1, 117.6, "draft")
    with team_store.session("v", "viewer") as conn:
        assert read_published(conn, RID)[0]["city"] == "Tianjin"  # not approved yet
    # the history tab shows who changed which field, old and new, and the source
    history = at.dataframe[0].value
    city = history[history["field"] == "city"].iloc[0]
    assert (city["who"], city["old"], city["new"]) == ("erin", "Tianjin", "Binhai")
    assert "Xinhua" in city["source"]


def test_a_schema_error_is_a_message_and_the_record_is_unchanged(team_store):
    at = _signed_in(team_store, "erin")
    _edit_yaml(at, "domains:\n- ai", "domains:\n- magic")
    _source(at, "edit")
    at.button(key="team_save").click().run()
    assert not at.exception
    assert any("domains" in w for w in _texts(at, "warning"))
    box = at.text_area(key="team_yaml")
    box.input(box.value + "\n  : : broken [")
    at.button(key="team_save").click().run()
    assert not at.exception
    assert any("not valid YAML" in w for w in _texts(at, "warning"))
    with team_store.session("erin", "editor") as conn:
        assert read_record(conn, RID)[1] == 1


def test_a_stale_save_shows_the_conflict_keeps_the_edit_and_reapplies_it(team_store):
    a, b = _team_app(), _team_app()
    _sign_in(a, "erin", team_store.passwords["erin"])
    _sign_in(b, "rhea", team_store.passwords["rhea"])
    for at in (a, b):
        at.selectbox(key="team_record").set_value(RID).run()
    _edit_yaml(a, "city: Tianjin", "city: Binhai")
    _source(a, "edit")
    a.button(key="team_save").click().run()
    _edit_yaml(b, "year: 2018", "year: 2019")
    _source(b, "edit", "Founding date")
    b.button(key="team_save").click().run()
    assert not b.exception
    warning = " ".join(_texts(b, "warning"))
    assert "changed by erin" in warning
    assert "city" in warning
    changed = b.dataframe[0].value
    assert list(changed["new"]) == ["Binhai"]
    assert "year: 2019" in b.text_area(key="team_yaml").value  # the edit is kept
    b.button(key="team_reapply").click().run()
    text = b.text_area(key="team_yaml").value
    assert "year: 2019" in text
    assert "city: Binhai" in text  # the other change is there too
    b.button(key="team_save").click().run()
    assert not b.exception
    with team_store.session("rhea", "reviewer") as conn:
        doc, version, _ = read_record(conn, RID)
    assert (doc["city"], doc["year"], version) == ("Binhai", 2019, 3)


def test_a_reviewer_approves_and_reverts(team_store):
    at = _signed_in(team_store, "rhea")
    _edit_yaml(at, "city: Tianjin", "city: Binhai")
    _source(at, "edit")
    at.button(key="team_save").click().run()
    assert at.button(key=f"team_approve_{RID}")
    # the review shows the draft against the approved version, and the source given
    changes, entries = (df.value for df in at.dataframe[-2:])
    assert changes.set_index("field").loc["city"].tolist() == ["Tianjin", "Binhai"]
    assert entries["source"].str.contains("Xinhua").all()
    at.button(key=f"team_approve_{RID}").click().run()
    assert not at.exception
    with team_store.session("v", "viewer") as conn:
        assert read_published(conn, RID)[0]["city"] == "Binhai"
    # revert the city change (a new draft restoring Tianjin)
    at.button(key="team_revert").click().run()
    assert not at.exception
    with team_store.session("rhea", "reviewer") as conn:
        doc, _, status = read_record(conn, RID)
    assert (doc["city"], status) == ("Tianjin", "draft")


def test_an_editor_adds_links_and_retires_a_record(team_store):
    at = _team_app()
    _sign_in(at, "erin", team_store.passwords["erin"])
    assert "Review" not in [t.label for t in at.tabs]
    at.selectbox(key="team_record").set_value(RID).run()
    at.selectbox(key="team_link_type").set_value("partner_in").run()
    at.selectbox(key="team_link_to").set_value("cluster-beta").run()
    _source(at, "link")
    at.button(key="team_link").click().run()
    assert not at.exception
    assert any("cannot have a cluster at its from end" in w for w in _texts(at, "warning"))
    at.selectbox(key="team_link_type").set_value("located_in").run()
    at.button(key="team_link").click().run()
    assert not at.exception
    assert any("saved as a draft" in s for s in _texts(at, "success")), _texts(at, "warning")
    # add a new zone from the template
    at.selectbox(key="team_new_kind").set_value("zone").run()
    box = at.text_area(key="team_new_yaml")
    text = box.value.replace("zone-new-record", "zone-team-test").replace(
        "name_en: ''", "name_en: Team Test Zone").replace("name_zh: ''", "name_zh: 测试区").replace(
        "description: ''", "description: A zone added through the Team page in a test.")
    box.input(text.replace("sources:\n- publisher: ''\n  title: ''\n  url: https://",
                           "sources:\n- publisher: P\n  title: T"))
    at.run()
    _source(at, "new")
    at.button(key="team_add").click().run()
    assert not at.exception
    assert any("Added zone-team-test" in s for s in _texts(at, "success")), _texts(at, "warning")
    # retire: the button waits for the confirmation
    at.selectbox(key="team_record").set_value("cluster-beta").run()
    assert at.button(key="team_retire").disabled
    at.checkbox(key="team_retire_ok").check().run()
    _source(at, "edit")
    at.button(key="team_retire").click().run()
    assert not at.exception
    with team_store.session("erin", "editor") as conn:
        retired = conn.execute("SELECT retired_by FROM records WHERE id = 'cluster-beta'"
                               ).fetchone()[0]
    assert retired == "erin"


def test_a_server_keeps_only_the_newest_published_exports(team_store, tmp_path):
    from geodata.db.team import published_snapshot

    folders = [published_snapshot(tmp_path / "exports", keep=2) for _ in range(4)]
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == [
        f.name for f in folders[-2:]]
    from geodata.store.load import load_records

    assert load_records([folders[-1] / "sample.yaml"]) == \
        load_records([ROOT / "tests" / "data" / "sample.yaml"])


def test_a_viewer_signs_in_but_has_nothing_to_edit(team_store):
    import secrets

    from geodata.db import accounts

    password = secrets.token_urlsafe(16)
    with team_store.admin() as conn:
        accounts.add_user(conn, "vic", "viewer", password)
    at = _team_app()
    _sign_in(at, "vic", password)
    assert at.session_state["team_account"]["role"] == "viewer"
    assert any("editing needs an editor account" in i for i in _texts(at, "info"))
    assert not at.tabs
    assert not [t for t in at.text_area if t.key == "team_yaml"]
    at.button(key="team_sign_out").click().run()
    assert "team_account" not in at.session_state
    assert at.text_input(key="team_name")


def test_an_unreachable_store_is_a_message_not_a_traceback(monkeypatch, tmp_path):
    from geodata.db.cluster import free_port

    monkeypatch.setenv("CMF_ATLAS_DB", f"host=127.0.0.1 port={free_port()} dbname=x "
                       "user=cmf_app password=unused connect_timeout=2")
    monkeypatch.setenv("CMF_ATLAS_USER_DIR", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert any("could not read the team store" in e and "make db" in e for e in errors)
    assert all("unused" not in e for e in errors)  # the password is not shown


def test_a_reviewer_sends_a_draft_back(team_store):
    at = _signed_in(team_store, "rhea")
    _edit_yaml(at, "city: Tianjin", "city: Binhai")
    _source(at, "edit")
    at.button(key="team_save").click().run()
    at.button(key=f"team_discard_{RID}").click().run()
    assert not at.exception
    assert any("Sent cluster-alpha back" in i for i in _texts(at, "info"))
    assert "city: Tianjin" in at.text_area(key="team_yaml").value  # the form follows
    with team_store.session("rhea", "reviewer") as conn:
        doc, _, status = read_record(conn, RID)
    assert (doc["city"], status) == ("Tianjin", "published")
