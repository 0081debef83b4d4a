"""AppTest: the Screen a list page — upload, columns, screen, review decisions, downloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")

LIST = (
    "单位名称,地址\n"
    "China Electronics Corporation,Shenzhen\n"
    "中国工程物理研究院,四川省绵阳市\n"
    "Acme Widgets Ltd,朝阳区\n"
).encode()


@pytest.fixture
def page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("views/screen.py").run()
    assert not at.exception
    return at


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="screen_upload").set_value((name, data, "text/csv")).run()
    assert not at.exception
    return at


def test_screen_review_and_download(page):
    _upload(page, "suppliers.csv", LIST)
    assert page.selectbox(key="screen_name_col").value == "单位名称"
    assert page.selectbox(key="screen_address_col").value == "地址"
    page.button(key="screen_run").click().run()
    assert not page.exception
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["Names screened"] == "3"
    assert metrics["With a candidate"] == "2"
    assert metrics["Placed"] == "2 of 3"
    review = page.dataframe[0]
    shown = review.value
    assert set(shown["Decision"]) == {"undecided"}, "nothing is decided for the user"
    assert "China Electronics Corporation" in set(shown["Match"])
    labels = [b.label for b in page.get("download_button")]
    assert "Results as CSV (Excel-ready)" in labels
    assert "Results as Excel workbook" in labels
    assert any("not placed" in e.label for e in page.expander)


def test_bad_list_is_a_plain_message(page):
    _upload(page, "broken.csv", b"")
    assert not page.exception
    messages = [e.value.replace("\\", "") for e in page.error]
    assert any("broken.csv" in m and "no rows" in m for m in messages)


def test_every_option_of_the_column_choices(page):
    _upload(page, "suppliers.csv", LIST)
    for key in ("screen_name_col", "screen_alias_col", "screen_address_col"):
        for option in page.selectbox(key=key).options:
            page.selectbox(key=key).set_value(option).run()
            assert not page.exception
            page.button(key="screen_run").click().run()
            assert not page.exception
    page.toggle(key="screen_only_hits").set_value(False).run()
    assert not page.exception


def test_placed_rows_go_on_the_map_as_the_users_layer(page):
    _upload(page, "suppliers.csv", LIST)
    page.button(key="screen_run").click().run()
    page.button(key="screen_add").click().run()
    assert not page.exception
    datasets = page.session_state["user_datasets"]
    (dataset,) = datasets
    assert len(dataset.records) == 2, "the ambiguous address is not placed"
    assert {r.kind for r in dataset.records} == {"organisation"}
    assert any("China Electronics Corporation" in r.description for r in dataset.records)
    assert page.button(key="screen_add").disabled, "the same list is not added twice"
