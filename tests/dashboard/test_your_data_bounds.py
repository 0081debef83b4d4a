"""AppTest: a file with thousands of problems draws a bounded page; ids never hide curated ones.

The page shows problems as a table of the first
:data:`geodata.model.limits.PROBLEMS_SHOWN` with a download of them all, never one
Markdown line per problem; a data folder with a hostile file is refused with
a bounded message too.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geodata.model.limits import PROBLEMS_MAX, PROBLEMS_SHOWN

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
DATA_DIR = ROOT / "tests" / "data"
CORPUS = DATA_DIR / "hostile"

#: A saved record (the datasets' YAML) whose id is a curated record's id in tests/data.
CLASHING = (
    "- {id: fund-big, kind: cluster, category: industrial_cluster, name_en: Mine, name_zh: 我的,\n"
    "   province: Tianjin, lat: 39.1, lon: 117.2, location_precision: site, year: 2018,\n"
    "   domains: [general], description: My own record with a curated id.,\n"
    "   sources: [{publisher: Me, title: Mine}]}\n"
)


@pytest.fixture
def page(monkeypatch, tmp_path) -> AppTest:
    monkeypatch.setenv("CMF_ATLAS_USER_DIR", str(tmp_path / "user_data"))
    monkeypatch.setenv("CMF_ATLAS_DATA", str(DATA_DIR))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("views/your_data.py").run()
    assert not at.exception
    return at


def upload(at: AppTest, name: str, data: bytes) -> float:
    start = time.perf_counter()
    at.file_uploader[0].set_value((name, data, "application/octet-stream")).run()
    assert not at.exception, at.exception
    return time.perf_counter() - start


def downloads(at: AppTest) -> list:
    return [e for e in at.get("download_button")]


def test_ten_thousand_problems_draw_a_table_of_the_first_and_a_download(page):
    took = upload(page, "bad.yaml", (CORPUS / "yaml_many_bad_records.yaml").read_bytes())
    assert "was not imported" in page.error[0].value
    assert f"{PROBLEMS_MAX + 1:,} problems" in page.error[0].value
    (table,) = [d.value for d in page.dataframe]
    assert len(table) == PROBLEMS_SHOWN
    assert list(table.columns) == ["File", "Line", "Row", "Field", "Problem"]
    assert any(f"The first {PROBLEMS_SHOWN} of {PROBLEMS_MAX + 1:,}" in c.value
               for c in page.caption)
    (button,) = downloads(page)
    assert f"Download all {PROBLEMS_MAX + 1:,} problems (CSV)" in button.proto.label
    assert all(len(m.value) < 5_000 for m in page.markdown)
    assert took < 60


def test_many_rejected_rows_are_a_bounded_table_too(page):
    rows = "".join(f"L{i},north,117,2018\n" for i in range(2_000))
    upload(page, "bad.csv", ("name,lat,lon,year\n" + rows).encode())
    assert "2,000 row(s) rejected" in page.error[0].value
    assert len(page.dataframe[0].value) == PROBLEMS_SHOWN
    (button,) = downloads(page)
    assert "Download all 2,000 problems (CSV)" in button.proto.label


def test_a_curated_id_is_renamed_and_the_preview_says_so(page):
    upload(page, "mine.yaml", CLASHING.encode())
    warnings = page.dataframe[0].value
    assert any("'user-fund-big'" in m for m in warnings["Problem"])
    page.button(key="user_add").click().run()
    assert not page.exception
    (dataset,) = page.session_state["user_datasets"]
    assert [r.id for r in dataset.records] == ["user-fund-big"]


def test_a_data_folder_with_a_billion_laughs_is_refused_quickly(monkeypatch, tmp_path):
    (tmp_path / "laughs.yaml").write_bytes((CORPUS / "billion_laughs.yaml").read_bytes())
    (tmp_path / "many_bad.yaml").write_text(
        "".join(f"- {{id: bad-{i}}}\n" for i in range(5_000)), encoding="utf-8"
    )
    monkeypatch.setenv("CMF_ATLAS_DATA", str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120)
    start = time.perf_counter()
    at.run()
    assert time.perf_counter() - start < 60
    assert not at.exception
    assert "could not be loaded" in at.error[0].value
    (code,) = at.code
    assert "laughs.yaml:2: an alias (*a0)" in code.value
    assert code.value.count("\n") <= PROBLEMS_SHOWN
    assert "more problems" in code.value
    (button,) = downloads(at)
    assert "(CSV)" in button.proto.label
