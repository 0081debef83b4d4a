"""AppTest: a selection above CANVAS_MIN_RECORDS on the map page (issue 13).

The records are drawn by the canvas point layer from packed typed arrays (no
per-record GeoJSON), a click on a point (its record index, as the layer sends
it through streamlit-folium) shows that record in the detail panel, and the
records table shows one page at a time, every page reachable.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.map_state import MAP_KEY, handle_map_change
from geodata.model.limits import CANVAS_MIN_RECORDS, TABLE_PAGE_ROWS
from geodata.model.schema import KINDS
from geodata.render.binary import decode_payload
from geodata.store.geoparquet import write_store

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
N = CANVAS_MIN_RECORDS + 1_500


@pytest.fixture(scope="module")
def big_folder(tmp_path_factory) -> tuple[Path, Path, object]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_store import synthetic_frame

    frame = synthetic_frame(N, seed=3)
    folder = tmp_path_factory.mktemp("big")
    write_store(frame, folder / "records.parquet")
    return folder, tmp_path_factory.mktemp("cache"), frame


@pytest.fixture
def big_app(big_folder, monkeypatch) -> AppTest:
    folder, cache, _ = big_folder
    monkeypatch.setenv("CMF_ATLAS_DATA", str(folder))
    monkeypatch.setenv("CMF_ATLAS_CACHE", str(cache))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    return at


def _map_args(at: AppTest) -> dict:
    def walk(node):
        for child in getattr(node, "children", {}).values():
            yield child
            yield from walk(child)

    for e in walk(at._tree):
        proto = getattr(e, "proto", None)
        if type(e).__name__ == "UnknownElement" and "feature_group" in str(
                getattr(proto, "json_args", "")):
            return json.loads(proto.json_args)
    raise AssertionError("no map on the page")


def _points_payload(feature_group: str) -> dict:
    """The payload in ``CMFPoints.add(map, {payload}, {settings})``."""
    call = "CMFPoints.add(map, "
    start = feature_group.index(call) + len(call)
    payload, _ = json.JSONDecoder().raw_decode(feature_group[start:])
    return payload


def test_large_selection_is_drawn_from_typed_arrays_and_a_click_shows_the_record(
    big_app, big_folder
):
    _, _, frame = big_folder
    group = _map_args(big_app)["feature_group"]
    assert "CMFPoints.add(" in group
    assert "CMF.addRecords(" not in group  # no per-record GeoJSON layer
    block = decode_payload(_points_payload(group))
    assert len(block) == int(frame["lat"].notna().sum()) == N
    # A point's record index is its row in the atlas frame: its coordinates agree.
    row = int(block.rows[1234])
    assert abs(float(block.lon[1234]) - frame["lon"].iloc[row]) < 1e-4
    # The bytes the map's points take on the wire.
    assert len(_points_payload(group)["data"]) / N <= 16

    # The click as st_folium returns it; the page resolves indexes with the frame's ids
    # (the browser test, tests/browser/test_scale_browser.py, clicks for real).
    big_app.session_state[MAP_KEY] = {"last_active_drawing": {
        "type": "Feature", "properties": {"kind": frame["kind"].iloc[row], "cmf_row": row}}}
    handle_map_change(big_app.session_state, row_ids=frame["id"].tolist())
    big_app.run()
    assert not big_app.exception
    assert big_app.session_state["selected_id"] == frame["id"].iloc[row]
    shown = [m.value for m in big_app.markdown]
    assert any(frame["name_en"].iloc[row] in text for text in shown)


def test_records_table_pages_through_a_large_selection(big_app):
    pages = big_app.selectbox(key="records_table_page")
    assert len(pages.options) == -(-N // TABLE_PAGE_ROWS)
    table = big_app.dataframe[0].value
    assert len(table) == TABLE_PAGE_ROWS
    pages.set_value(pages.options[-1]).run()
    assert not big_app.exception
    last = big_app.dataframe[0].value
    assert len(last) == N - TABLE_PAGE_ROWS * (len(pages.options) - 1)


def test_large_counts_are_shown_with_thousands_separators(big_app):
    shown = {m.label: m.value for m in big_app.metric}
    counts = [shown[label] for label in KINDS.values()]
    assert sum(int(v.replace(",", "")) for v in counts) == N
    assert all("," in v for v in counts if int(v.replace(",", "")) >= 1000)
    assert any(h.value == f"Records shown ({N:,})" for h in big_app.subheader)


def test_a_large_download_is_prepared_in_parts_and_offered_as_a_link(
    big_folder, monkeypatch, tmp_path
):
    import zipfile

    from dashboard import large_downloads
    from geodata.model import limits

    folder, cache, frame = big_folder
    monkeypatch.setenv("CMF_ATLAS_DATA", str(folder))
    monkeypatch.setenv("CMF_ATLAS_CACHE", str(cache))
    monkeypatch.setattr(limits, "LARGE_EXPORT_MIN_RECORDS", 1_000)
    monkeypatch.setattr(limits, "LARGE_EXPORT_PART_ROWS", 2_000)
    monkeypatch.setattr(large_downloads, "EXPORTS_DIR", tmp_path / "exports")
    stale = tmp_path / "exports" / "old-token"
    stale.mkdir(parents=True)
    (stale / "old.csv.zip").write_bytes(b"x")
    os.utime(stale, (0, 0))
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "dl_csv"]  # not built in memory
    at.button(key="prepare_csv").click().run()
    assert not at.exception
    ready = at.session_state[large_downloads.READY_KEY]
    assert ready["records"] == N
    link = " ".join(h.proto.body for h in at.get("html"))
    assert f'download="{ready["name"]}"' in link
    assert ready["url"].startswith("app/static/exports/")
    with zipfile.ZipFile(ready["path"]) as zf:
        text = zf.read(zf.namelist()[0]).decode("utf-8-sig")
    import csv
    import io
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "id"
    assert [r[0] for r in rows[1:]] == frame["id"].tolist()  # every record, in order
    assert frame["description"].iloc[N - 1] in text  # the last part's details were read
    assert not stale.exists()  # an hour-old file was removed


def test_sources_page_of_a_large_atlas_is_built_by_the_store_and_paged(big_app, big_folder):
    from geodata.query.frame_aggregates import search_sources, sources_index

    _, _, frame = big_folder
    expected = sources_index(frame)
    big_app.switch_page("views/sources.py").run()
    assert not big_app.exception
    assert any(f"{len(expected):,} sources cited by the {N:,} records shown" in c.value
               for c in big_app.caption)
    pages = big_app.selectbox(key="sources_table_page")
    assert len(pages.options) == -(-len(expected) // TABLE_PAGE_ROWS)
    table = big_app.dataframe[0].value
    assert table["Title"].tolist() == expected["title"].iloc[:TABLE_PAGE_ROWS].tolist()
    pages.set_value(pages.options[-1]).run()
    assert not big_app.exception
    last = big_app.dataframe[0].value
    start = TABLE_PAGE_ROWS * (len(pages.options) - 1)
    assert last["Title"].tolist() == expected["title"].iloc[start:].tolist()
    # A search from the last page narrows the list to one page: back to the first.
    needle = expected["title"].iloc[7]
    big_app.text_input(key="sources_search").input(needle).run()
    assert not big_app.exception
    found = search_sources(expected, needle)
    assert big_app.dataframe[0].value["Title"].tolist() == found["title"].tolist()
    assert not [s for s in big_app.selectbox if s.key == "sources_table_page"]


def test_a_filter_change_relabels_the_page_choice_and_goes_back_to_the_first_page(
    big_app, big_folder
):
    _, _, frame = big_folder
    pages = big_app.selectbox(key="records_table_page")
    pages.set_value(pages.options[-1]).run()
    big_app.checkbox(key="layer_zone").uncheck().run()
    assert not big_app.exception
    left = int((frame["kind"] != "zone").sum())
    assert left < N
    pages = big_app.selectbox(key="records_table_page")
    # The labels name the new total (the browser showed "… of {N}" before), and the
    # choice left on a page of the old list is back on the first.
    assert pages.options[0] == f"Rows 1–{TABLE_PAGE_ROWS:,} of {left:,}"
    assert pages.value == pages.options[0]
    table = big_app.dataframe[0].value
    assert len(table) == TABLE_PAGE_ROWS


def _screen(at: AppTest, data: bytes) -> AppTest:
    at.switch_page("views/screen.py").run()
    at.file_uploader(key="screen_upload").set_value(("list.csv", data, "text/csv")).run()
    at.button(key="screen_run").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_the_screen_page_of_a_large_atlas_screens_through_the_store_name_index(
        big_app, big_folder):
    _, cache, frame = big_folder
    exact = frame["name_en"].iloc[7]
    rows = [exact, frame["name_zh"].iloc[99], "Harbin Institute of Technology",
            "Acme Widgets Ltd", frame["name_en"].iloc[1234][:-1] + "x"]
    data = ("name\n" + "\n".join(f'"{r}"' for r in rows) + "\n").encode()
    _screen(big_app, data)
    # The atlas's names went to a file beside the store, not into the server.
    assert list(cache.glob("names-*.duckdb"))
    metrics = {m.label: m.value for m in big_app.metric}
    assert metrics["Names screened"] == "5"
    shown = big_app.dataframe[0].value
    by_name = {n: set(shown.loc[shown["Name"] == n, "Match"]) for n in rows}
    assert any(frame["id"].iloc[7] in m for m in by_name[exact])
    assert any(frame["id"].iloc[99] in m for m in by_name[rows[1]])
    assert any("Harbin Institute of Technology" in m for m in by_name[rows[2]])
    # A second session screens with the cached screener: nothing the first run
    # drew (its progress bar) may be replayed into it.
    again = AppTest.from_file(APP, default_timeout=180)
    again.run()
    _screen(again, data)
    assert {m.label: m.value for m in again.metric}["Names screened"] == "5"
