"""The curated YAML goes into the store and comes back byte for byte."""

from __future__ import annotations

import pytest

from geodata.db.records import create_record, publish_record, save_record
from geodata.db.transfer import StoreNotEmptyError, export_datasets, import_datasets
from geodata.model.relations import relation_paths
from geodata.store.load import DATASET_DIR, default_dataset_paths, load_records

SOURCE = {"publisher": "Test", "title": "Round-trip test"}


def _dataset_files():
    return [*default_dataset_paths(), *relation_paths(DATASET_DIR)]


def test_import_then_export_is_byte_identical(imported, tmp_path):
    with imported.admin() as conn:
        counts = export_datasets(conn, tmp_path)
    files = _dataset_files()
    assert counts.files == len(files)
    for path in files:
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name
    assert counts.records == len(load_records())


def test_import_refuses_a_store_that_holds_records(imported):
    with imported.admin() as conn, pytest.raises(StoreNotEmptyError, match="already holds"):
        import_datasets(conn)


def test_geometry_follows_lat_lon_and_the_spatial_index_answers(imported):
    placed = [r for r in load_records() if r.placed]
    with imported.admin() as conn:
        n_geom = conn.execute("SELECT count(*) FROM records WHERE geom IS NOT NULL").fetchone()[0]
        assert n_geom == len(placed)
        near_beijing = conn.execute(
            "SELECT count(*) FROM records WHERE ST_DWithin(geom::geography, "
            "ST_SetSRID(ST_MakePoint(116.40, 39.90), 4326)::geography, 50000)").fetchone()[0]
    expected = sum(abs(r.lat - 39.90) < 0.6 and abs(r.lon - 116.40) < 0.8 for r in placed)
    assert 0 < near_beijing <= expected


def test_export_writes_published_records_only_unless_asked(imported, tmp_path):
    rec = next(r for r in load_records() if r.kind == "zone").model_dump(exclude_none=True)
    rec["id"] = "zone-roundtrip-draft"
    with imported.admin() as conn:
        create_record(conn, rec, source=SOURCE, who="tester")
        export_datasets(conn, tmp_path / "published")
        export_datasets(conn, tmp_path / "drafts", include_drafts=True)
    zones = (DATASET_DIR / "zones.yaml").read_bytes()
    assert (tmp_path / "published" / "zones.yaml").read_bytes() == zones
    drafts = (tmp_path / "drafts" / "zones.yaml").read_text()
    assert "zone-roundtrip-draft" in drafts
    assert load_records([tmp_path / "drafts" / "zones.yaml"])[-1].id == "zone-roundtrip-draft"


def test_an_edit_exports_as_one_changed_line(imported, tmp_path):
    with imported.admin() as conn:
        version = conn.execute("SELECT version FROM records WHERE id = %s",
                               ("fund-foshan-cmf-innovative-industries",)).fetchone()
        if version is None:
            pytest.fail("expected fund-foshan-cmf-innovative-industries in the datasets")
        draft = save_record(conn, "fund-foshan-cmf-innovative-industries",
                            {"city": "Foshan (edited)"}, expected_version=version[0],
                            source=SOURCE, who="tester")
        # not approved yet: the published export is the approved file, unchanged
        export_datasets(conn, tmp_path / "pending")
        assert (tmp_path / "pending" / "funds.yaml").read_bytes() == \
            (DATASET_DIR / "funds.yaml").read_bytes()
        publish_record(conn, "fund-foshan-cmf-innovative-industries", expected_version=draft,
                       who="tester")
        export_datasets(conn, tmp_path)
    before = (DATASET_DIR / "funds.yaml").read_text().splitlines()
    after = (tmp_path / "funds.yaml").read_text().splitlines()
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) == 1
    assert changed[0][1].strip() == 'city: "Foshan (edited)"'
