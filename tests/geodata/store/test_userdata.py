"""A session's own datasets: ids, filters, problem tables, the mapping step, safe saving."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from geodata.io import importer
from geodata.io.importer import load_user_records, preview_import
from geodata.query.filters import FundSizeRange, RecordFilter
from geodata.render.layers import build_map, legend_html, user_layer_json
from geodata.render.style import USER_LAYER_LABEL
from geodata.store.load import Problem
from geodata.store.userdata import (
    IGNORE,
    PROBLEM_COLUMNS,
    UserDataset,
    add_dataset,
    file_digest,
    filter_user_records,
    mapping_from_choices,
    mark_saved,
    problems_table,
    remove_dataset,
    save_dataset,
    save_stem,
    user_frame,
)

EMPTY_BASE = {"type": "FeatureCollection", "features": []}

CORPUS = Path(__file__).resolve().parents[2] / "data" / "hostile"
SITES = (
    b"name,lat,lon,year,kind,fund size,domains,province\n"
    b"Lab,39.1,117.2,2016,cluster,,ai,\n"
    b"Port works,36.0,120.3,2019,cluster,,maritime,\n"
    b"Seed fund,30.6,114.3,2018,fund,5,general,\n"
    b"Big fund,31.2,121.5,2020,fund,500,general,\n"
    b"Lisbon desk,38.7,-9.1,2021,cluster,,general,Guangdong\n"
)


@pytest.fixture
def sites() -> tuple[UserDataset, ...]:
    preview = preview_import(SITES, "sites.csv")
    assert preview.ok, [str(p) for p in preview.problems]
    return add_dataset((), preview, file_digest(SITES))


def test_add_dataset_keeps_ids_unique_and_flags(sites):
    (first,) = sites
    assert first.name == "sites.csv"
    assert len(first.records) == 5
    assert first.flagged == {"user-lisbon-desk"}
    again = preview_import(SITES, "copy.csv")
    both = add_dataset(sites, again, "another digest")
    ids = [r.id for d in both for r in d.records]
    assert len(ids) == len(set(ids)) == 10
    assert both[1].records[0].id == "user-lab-2"
    assert both[1].flagged == {"user-lisbon-desk-2"}, "the flag follows the new id"


def test_the_same_file_is_added_once(sites):
    preview = preview_import(SITES, "sites.csv")
    assert add_dataset(sites, preview, file_digest(SITES)) == sites


def test_a_preview_without_records_is_refused():
    preview = preview_import(b"name,lat,lon,year\nA,95,1,2018\n", "bad.csv")
    with pytest.raises(ValueError, match="no accepted records"):
        add_dataset((), preview, "x")


def test_remove_and_mark_saved(sites):
    digest = sites[0].digest
    assert mark_saved(sites, digest, "/tmp/x.yaml")[0].saved_to == "/tmp/x.yaml"
    assert remove_dataset(sites, digest) == ()
    assert remove_dataset(sites, "other") == sites


def test_user_frame_is_the_usual_frame(sites, sample_frame):
    frame = user_frame(sites)
    assert list(frame.columns) == list(sample_frame.columns)
    assert frame.crs == sample_frame.crs
    assert len(user_frame(())) == 0


@pytest.mark.parametrize(
    ("flt", "names"),
    [
        (RecordFilter(), {"Lab", "Port works", "Seed fund", "Big fund", "Lisbon desk"}),
        # The layer checkboxes choose curated layers; the user's layer has its own.
        (RecordFilter(kinds=frozenset()), {"Lab", "Port works", "Seed fund", "Big fund",
                                           "Lisbon desk"}),
        (RecordFilter(year_min=2018, year_max=2019), {"Port works", "Seed fund"}),
        (RecordFilter(fund_size=FundSizeRange(min_bn=10)),
         {"Lab", "Port works", "Big fund", "Lisbon desk"}),
        (RecordFilter(domains=frozenset({"maritime", "ai"})), {"Lab", "Port works"}),
        (RecordFilter(search="FUND"), {"Seed fund", "Big fund"}),
        (RecordFilter(provinces=frozenset({"Guangdong", "Shanghai"})),
         {"Big fund", "Lisbon desk"}),
    ],
)
def test_every_filter_but_the_layers_applies(sites, flt, names):
    assert set(filter_user_records(user_frame(sites), flt)["name_en"]) == names


def test_problems_table_columns_and_blanks():
    table = problems_table([
        Problem("a.csv", 3, "row 2", "lat", "latitude 95.0 is out of range"),
        Problem("a.csv", None, "-", "-", "file is empty"),
    ])
    assert tuple(table.columns) == PROBLEM_COLUMNS
    assert table.loc[1, "Row"] == ""
    assert table.loc[1, "Field"] == ""
    assert table["Line"].isna().tolist() == [False, True]
    assert problems_table([]).empty


def test_mapping_from_choices():
    mapping, errors = mapping_from_choices(
        {"Site": "name_en", "N": "lat", "E": "lon", "Founded": "year", "Misc": IGNORE}
    )
    assert errors == []
    assert mapping.as_dict() == {"Site": "name_en", "N": "lat", "E": "lon", "Founded": "year"}
    mapping, errors = mapping_from_choices({"a": "year", "b": "year", "c": "year"})
    assert mapping is None
    assert errors == ["'Year' is chosen for the columns 'a' and 'b' and 'c'; choose it for one "
                      "column"]


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("sites.csv", "sites"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\sites.geojson", "sites"),
        (".hidden.csv", "hidden"),
        ("<script>alert(1)</script>.csv", "script"),  # "/" ends a path part
        ("a" * 300 + ".csv", "a" * 60),
        ("重点 园区 (2024).zip", "重点-园区-2024"),
        ("", "my-data"),
    ],
)
def test_save_stem_is_a_plain_name(name, stem):
    assert save_stem(name) == stem
    assert "/" not in stem
    assert not stem.startswith(".")


def test_save_round_trips_and_never_overwrites(sites, tmp_path):
    folder = tmp_path / "user"
    (folder).mkdir()
    (folder / "sites.yaml").write_text("precious", encoding="utf-8")
    first = save_dataset(sites[0], folder)
    second = save_dataset(sites[0], folder)
    assert (first.name, second.name) == ("sites-2.yaml", "sites-3.yaml")
    assert (folder / "sites.yaml").read_text(encoding="utf-8") == "precious"
    records, warnings = load_user_records(first)
    assert [r.model_dump() for r in records] == [r.model_dump() for r in sites[0].records]
    assert [w.record for w in warnings] == ["user-lisbon-desk"]
    assert sorted(p.name for p in folder.iterdir()) == ["sites-2.yaml", "sites-3.yaml",
                                                         "sites.yaml"]


def test_save_creates_the_folder(sites, tmp_path):
    path = save_dataset(sites[0], tmp_path / "a" / "b")
    assert path == tmp_path / "a" / "b" / "sites.yaml"


def test_concurrent_saves_get_distinct_files(sites, tmp_path):
    paths, lock = [], threading.Lock()

    def save():
        path = save_dataset(sites[0], tmp_path)
        with lock:
            paths.append(path)

    threads = [threading.Thread(target=save) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(paths)) == 8
    for path in paths:
        assert len(load_user_records(path)[0]) == 5


def test_failed_save_leaves_nothing(sites, tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("geodata.store.userdata.save_user_records", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_dataset(sites[0], tmp_path)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr("geodata.store.userdata.save_user_records", importer.save_user_records)
    assert save_dataset(sites[0], tmp_path).name == "sites.yaml"


def test_unusable_folder_is_an_error_and_nothing_is_written(sites, tmp_path):
    # A "folder" below a regular file can never be created, even by root.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError):
        save_dataset(sites[0], blocker / "user_data")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["not-a-folder"]
    assert blocker.read_text() == "x"


def _user_payload(html: str) -> dict | None:
    match = re.search(r"CMF\.addUserRecords\(map, (\{.*?\})\);\n", html)
    return json.loads(match.group(1)) if match else None


def test_map_draws_the_user_layer_with_its_legend(sample_frame, sites):
    frame = user_frame(sites)
    html = build_map(sample_frame, EMPTY_BASE, user_frame=frame).get_root().render()
    payload = _user_payload(html)
    assert {f["id"] for f in payload["features"]} == set(frame["id"])
    assert USER_LAYER_LABEL in html
    plain = build_map(sample_frame, EMPTY_BASE).get_root().render()
    assert _user_payload(plain) is None
    assert "cmf-legend-user" not in plain


def test_serialised_user_layer_draws_the_same_records(sample_frame, sites):
    frame = user_frame(sites)
    ready = user_layer_json(frame)
    html = build_map(sample_frame, EMPTY_BASE, user_frame=ready).get_root().render()
    assert _user_payload(html) == json.loads(ready.text)
    assert {f["id"] for f in _user_payload(html)["features"]} == set(frame["id"])


def test_legend_entry_for_user_data_only():
    assert USER_LAYER_LABEL in legend_html(set(), user=True)
    assert "No layer selected" not in legend_html(set(), user=True)
    assert USER_LAYER_LABEL not in legend_html({"cluster"})


def test_user_text_cannot_close_the_script(sample_frame, sites):
    frame = user_frame(sites)
    frame.loc[frame.index[0], "name_en"] = "</script><script>window.__xss=1</script>"
    html = build_map(sample_frame, EMPTY_BASE, user_frame=frame).get_root().render()
    assert "<script>window.__xss" not in html
    assert _user_payload(html)["features"][0]["properties"]["name_en"].startswith("</script>")


# ------------------------------------------------------- a saved file, uploaded again


def test_saved_dataset_round_trips_through_import(sites, tmp_path):
    path = save_dataset(sites[0], tmp_path)
    again = preview_import(path)
    assert again.ok
    assert again.format == "yaml"
    assert [r.model_dump() for r in again.records] == [r.model_dump() for r in sites[0].records]
    assert again.headers == (), "no column matching for records in the datasets' format"


def test_saved_file_keeps_outside_china_points_flagged(tmp_path):
    far = preview_import((CORPUS / "outside_china.csv").read_bytes(), "far.csv")
    path = save_dataset(add_dataset((), far, "d")[0], tmp_path)
    again = preview_import(path.read_bytes(), "far.yaml")
    assert [r.id for r in again.records] == [r.id for r in far.records]
    assert again.flagged == {far.records[0].id}
    assert "is outside China" in again.warnings[0].message
    assert again.warnings[0].file == "far.yaml"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "file is empty"),
        (b"- id: [unclosed\n", "not valid YAML"),
        ("- id: x\n  name_en: \xe9\n".encode("latin-1"), "file is not UTF-8"),
        (b"- id: only-an-id\n", "field 'kind'"),
    ],
)
def test_broken_saved_file_is_refused_naming_the_file(data, expected):
    preview = preview_import(data, "mine.yaml")
    assert not preview.records
    assert any(expected in str(p) for p in preview.errors), [str(p) for p in preview.errors]
    assert all(p.file == "mine.yaml" for p in preview.errors)


def test_saved_file_over_the_caps_is_refused(sites, tmp_path):
    data = save_dataset(sites[0], tmp_path).read_bytes()
    assert "the limit is" in preview_import(data, "s.yaml", max_bytes=10).errors[0].message
    capped = preview_import(data, "s.yaml", max_rows=1)
    assert "records; the limit is 1 per import" in capped.errors[0].message
