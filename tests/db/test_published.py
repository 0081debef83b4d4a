"""Viewers keep seeing the approved version of a record while an edit of it awaits review."""

from __future__ import annotations

import psycopg
import pytest

from geodata.db.published import published_stamp, read_published
from geodata.db.records import (
    EditRejectedError,
    create_link,
    create_record,
    discard_draft,
    history,
    publish_record,
    read_record,
    retire_record,
    review_queue,
    save_record,
)
from geodata.db.transfer import export_datasets
from geodata.model.relations import load_atlas
from geodata.store.load import DATASET_DIR, load_records

RID = "fund-foshan-cmf-innovative-industries"
SOURCE = {"publisher": "Xinhua", "title": "A report that corrects the city",
          "url": "https://example.org/report"}


def test_an_edit_of_a_published_record_stays_hidden_until_approved(imported):
    with imported.session("vi", "viewer") as viewer:
        approved, approved_version = read_published(viewer, RID)
        stamp = published_stamp(viewer)
    with imported.session("ed", "editor") as editor:
        doc, version, _ = read_record(editor, RID)
        assert doc == approved
        draft = save_record(editor, RID, {"city": "Shunde", "lat": 22.8, "lon": 113.3},
                            expected_version=version, source=SOURCE, who="ed")
        assert read_record(editor, RID)[2] == "draft"
    with imported.session("vi", "viewer") as viewer:
        # the viewer still sees the approved record, unchanged, and nothing moved
        assert read_published(viewer, RID) == (approved, approved_version)
        assert published_stamp(viewer) == stamp
    with imported.session("rev", "reviewer") as reviewer:
        queue = {d.id: d for d in review_queue(reviewer)}
        assert set(queue) == {RID}
        assert queue[RID].changes["city"] == (approved["city"], "Shunde")
        assert queue[RID].changes["lat"] == (approved["lat"], 22.8)
        assert queue[RID].published_version == approved_version
        assert queue[RID].updated_by == "ed"
        assert [(e.who, e.source) for e in queue[RID].entries] == [("ed", SOURCE)]
        new_version = publish_record(reviewer, RID, expected_version=draft, who="rev")
        assert review_queue(reviewer) == []
    with imported.session("vi", "viewer") as viewer:
        seen, seen_version = read_published(viewer, RID)
        assert (seen["city"], seen["lat"], seen["lon"]) == ("Shunde", 22.8, 113.3)
        assert seen_version == new_version
        assert published_stamp(viewer) != stamp
        with imported.admin() as conn:
            geom = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM published_records "
                                "WHERE id = %s", (RID,)).fetchone()
        assert geom == pytest.approx((113.3, 22.8))


def test_a_viewer_exports_the_approved_atlas_while_drafts_wait(imported, tmp_path):
    with imported.session("ed", "editor") as editor:
        _, version, _ = read_record(editor, RID)
        save_record(editor, RID, {"city": "Shunde"}, expected_version=version, source=SOURCE,
                    who="ed")
    with imported.session("vi", "viewer") as viewer:
        counts = export_datasets(viewer, tmp_path)
    assert counts.records == len(load_records())
    for name in ("funds.yaml", "links.yaml", "designations.yaml"):
        assert (tmp_path / name).read_bytes() == (DATASET_DIR / name).read_bytes(), name


def test_a_link_is_a_draft_of_its_record_until_approved(imported, tmp_path):
    records = load_records()
    org = next(r.id for r in records if r.kind == "organisation" and r.placed)
    cluster = next(r.id for r in records if r.kind == "cluster")
    with imported.session("vi", "viewer") as viewer:
        links_before = viewer.execute("SELECT count(*) FROM links").fetchone()[0]
    with imported.session("ed", "editor") as editor:
        _, version, _ = read_record(editor, org)
        with pytest.raises(EditRejectedError, match="source"):
            create_link(editor, org, cluster, "partner_in", expected_version=version,
                        source={"publisher": "P"}, who="ed")
        with pytest.raises(EditRejectedError, match="itself"):
            create_link(editor, org, org, "partner_in", expected_version=version,
                        source=SOURCE, who="ed")
        with pytest.raises(EditRejectedError, match="no current record"):
            create_link(editor, org, "cluster-does-not-exist", "partner_in",
                        expected_version=version, source=SOURCE, who="ed")
        draft = create_link(editor, org, cluster, "partner_in", expected_version=version,
                            source=SOURCE, who="ed")
        assert draft == version + 1
    with imported.session("vi", "viewer") as viewer:
        assert viewer.execute("SELECT count(*) FROM links").fetchone()[0] == links_before
    with imported.session("rev", "reviewer") as reviewer:
        queue = {d.id: d for d in review_queue(reviewer)}
        assert queue[org].changes["links"] == (None, [f"partner_in {cluster}"])
        publish_record(reviewer, org, expected_version=draft, who="rev")
    with imported.session("vi", "viewer") as viewer:
        assert viewer.execute("SELECT count(*) FROM links").fetchone()[0] == links_before + 1
        export_datasets(viewer, tmp_path)
    atlas = load_atlas(sorted(p for p in tmp_path.glob("*.yaml")
                              if p.name not in ("links.yaml", "designations.yaml")), tmp_path)
    assert (org, cluster, "partner_in") in {link.key for link in atlas.links}


def test_a_new_record_appears_to_viewers_only_when_approved(imported):
    rec = next(r for r in load_records() if r.kind == "zone").model_dump(exclude_none=True)
    rec["id"] = "zone-published-test"
    with imported.session("ed", "editor") as editor:
        create_record(editor, rec, source=SOURCE, who="ed")
    with imported.session("vi", "viewer") as viewer:
        assert read_published(viewer, rec["id"]) is None
    with imported.session("rev", "reviewer") as reviewer:
        (draft,) = review_queue(reviewer)
        assert draft.published_version is None
        assert draft.changes["name_en"] == (None, rec["name_en"])
        publish_record(reviewer, rec["id"], expected_version=draft.version, who="rev")
    with imported.session("vi", "viewer") as viewer:
        assert read_published(viewer, rec["id"])[0]["name_en"] == rec["name_en"]


def test_a_reviewer_sends_a_draft_back_to_the_approved_version(imported):
    records = load_records()
    org = next(r.id for r in records if r.kind == "organisation" and r.placed)
    cluster = next(r.id for r in records if r.kind == "cluster")
    with imported.session("vi", "viewer") as viewer:
        approved, _ = read_published(viewer, org)
        links = viewer.execute("SELECT count(*) FROM links").fetchone()[0]
    with imported.session("ed", "editor") as editor:
        _, v1, _ = read_record(editor, org)
        v2 = save_record(editor, org, {"city": "Nowhere", "sources": [SOURCE]}, expected_version=v1,
                         source=SOURCE, who="ed")
        v3 = create_link(editor, org, cluster, "partner_in", expected_version=v2,
                         source=SOURCE, who="ed")
        v4 = retire_record(editor, org, expected_version=v3, source=SOURCE, who="ed")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            discard_draft(editor, org, expected_version=v4, who="ed")
    with imported.session("rev", "reviewer") as reviewer:
        v5 = discard_draft(reviewer, org, expected_version=v4, who="rev", note="no source")
        doc, version, status = read_record(reviewer, org)
        assert (doc, version, status) == (approved, v5, "published")
        assert review_queue(reviewer) == []
        last = history(reviewer, org)[-1]
        assert (last.action, last.who, last.note) == ("discard", "rev", "no source")
        assert last.old_values["city"] == "Nowhere"
        assert last.new_values["city"] == approved["city"]
        assert (last.old_values["retired"], last.new_values["retired"]) == (True, False)
        assert reviewer.execute("SELECT count(*) FROM links").fetchone()[0] == links
        # a new record that is sent back is retired, never deleted
        rec = next(r for r in records if r.kind == "zone").model_dump(exclude_none=True)
        rec["id"] = "zone-sent-back"
        create_record(reviewer, rec, source=SOURCE, who="rev")
        discard_draft(reviewer, rec["id"], expected_version=1, who="rev")
        assert reviewer.execute("SELECT retired_by FROM records WHERE id = 'zone-sent-back'"
                                ).fetchone()[0] == "rev"
        assert read_published(reviewer, rec["id"]) is None
