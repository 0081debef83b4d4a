"""Saving edits: versions, conflicts, history, revert, retire."""

from __future__ import annotations

import threading

import pytest

from geodata.db.published import read_published
from geodata.db.records import (
    ConflictError,
    EditRejectedError,
    history,
    publish_record,
    read_record,
    retire_record,
    revert_change,
    save_record,
)

RID = "fund-foshan-cmf-innovative-industries"
SOURCE = {"publisher": "Xinhua", "title": "A report that corrects the city",
          "date": "2024-05-01"}


def test_a_save_bumps_the_version_and_appends_history(imported):
    with imported.session("alice", "editor") as conn:
        doc, version, _ = read_record(conn, RID)
        new = save_record(conn, RID, {"city": "Shunde", "notes": None}, expected_version=version,
                          source=SOURCE, who="alice")
        assert new == version + 1
        entry = history(conn, RID)[-1]
    assert entry.who == "alice"
    assert entry.action == "edit"
    assert entry.version == new
    expected_fields = ["city", "notes"] if doc.get("notes") else ["city"]
    assert entry.fields == expected_fields
    assert entry.old_values["city"] == doc["city"]
    assert entry.new_values["city"] == "Shunde"
    assert entry.source == SOURCE


def test_a_stale_save_is_refused_with_both_versions_and_what_changed(imported):
    with imported.session("alice", "editor") as a, imported.session("bob", "editor") as b:
        _, version, _ = read_record(a, RID)
        save_record(a, RID, {"city": "Shunde"}, expected_version=version, source=SOURCE,
                    who="alice")
        with pytest.raises(ConflictError) as err:
            save_record(b, RID, {"city": "Nanhai", "year": 2018}, expected_version=version,
                        source=SOURCE, who="bob")
        doc, now, _ = read_record(b, RID)
    e = err.value
    assert (e.expected_version, e.current_version) == (version, version + 1)
    assert [c.who for c in e.changes] == ["alice"]
    assert e.changes[0].new_values == {"city": "Shunde"}
    assert e.attempted == {"city": "Nanhai", "year": 2018}  # kept to reapply
    assert "alice" in str(e)
    assert "city" in str(e)
    assert doc["city"] == "Shunde"
    assert now == version + 1


def test_an_edit_that_breaks_the_schema_writes_nothing(imported):
    with imported.session("alice", "editor") as conn:
        _, version, _ = read_record(conn, RID)
        with pytest.raises(EditRejectedError, match="domains"):
            save_record(conn, RID, {"domains": ["magic"]}, expected_version=version,
                        source=SOURCE, who="alice")
        with pytest.raises(EditRejectedError, match=r"source\.title"):
            save_record(conn, RID, {"city": "X"}, expected_version=version,
                        source={"publisher": "P"}, who="alice")
        with pytest.raises(EditRejectedError, match="cannot be changed"):
            save_record(conn, RID, {"id": "fund-other"}, expected_version=version,
                        source=SOURCE, who="alice")
        assert read_record(conn, RID)[1] == version
        assert history(conn, RID) == []


def test_revert_restores_the_old_values_as_a_new_change(imported):
    with imported.session("alice", "editor") as conn:
        doc, v1, _ = read_record(conn, RID)
        v2 = save_record(conn, RID, {"city": "Shunde"}, expected_version=v1, source=SOURCE,
                         who="alice")
        v3 = save_record(conn, RID, {"notes": "A later, unrelated note."}, expected_version=v2,
                         source=SOURCE, who="alice")
    with imported.session("rev", "reviewer") as conn:
        city_change = history(conn, RID)[0]
        v4 = revert_change(conn, city_change.id, expected_version=v3, who="rev",
                           note="the city was right")
        after, version, _ = read_record(conn, RID)
        last = history(conn, RID)[-1]
    assert version == v4
    assert after["city"] == doc["city"]
    assert after["notes"] == "A later, unrelated note."
    assert (last.action, last.reverts, last.note) == ("revert", city_change.id,
                                                      "the city was right")


def test_revert_refuses_to_drop_a_later_change_to_the_same_field(imported):
    with imported.session("alice", "editor") as conn:
        _, v1, _ = read_record(conn, RID)
        v2 = save_record(conn, RID, {"city": "Shunde"}, expected_version=v1, source=SOURCE,
                         who="alice")
        v3 = save_record(conn, RID, {"city": "Nanhai"}, expected_version=v2, source=SOURCE,
                         who="alice")
        first = history(conn, RID)[0]
        with pytest.raises(ConflictError, match="city"):
            revert_change(conn, first.id, expected_version=v3, who="alice")
        assert read_record(conn, RID)[0]["city"] == "Nanhai"


def test_retire_hides_a_record_once_approved_but_keeps_it_and_its_history(imported):
    with imported.session("rev", "reviewer") as conn:
        _, version, _ = read_record(conn, RID)
        retired = retire_record(conn, RID, expected_version=version, source=SOURCE, who="rev")
        assert history(conn, RID)[-1].action == "retire"
    with imported.session("vi", "viewer") as viewer:
        # a retirement is a draft too: viewers still see the approved record
        assert read_published(viewer, RID) is not None
    with imported.session("rev", "reviewer") as conn:
        publish_record(conn, RID, expected_version=retired, who="rev")
    with imported.session("vi", "viewer") as viewer:
        assert read_published(viewer, RID) is None
    with imported.admin() as conn:
        assert conn.execute("SELECT retired_by FROM records WHERE id = %s",
                            (RID,)).fetchone()[0] == "rev"


def test_two_simultaneous_saves_on_one_version_one_wins(imported):
    with imported.admin() as conn:
        _, version, _ = read_record(conn, RID)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def edit(n: int) -> None:
        with imported.session(f"user{n}", "editor") as conn:
            barrier.wait()
            try:
                save_record(conn, RID, {"notes": f"note from user{n}"},
                            expected_version=version, source=SOURCE, who=f"user{n}")
                outcomes.append(f"saved:user{n}")
            except ConflictError:
                outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [o for o in outcomes if o.startswith("saved")]
    assert len(outcomes) == 8
    assert len(winners) == 1
    with imported.admin() as conn:
        doc, now, _ = read_record(conn, RID)
        entries = history(conn, RID)
    assert now == version + 1
    assert len(entries) == 1
    assert doc["notes"] == f"note from {winners[0].split(':')[1]}" == entries[0].new_values[
        "notes"]
