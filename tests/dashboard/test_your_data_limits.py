"""AppTest: the Your data page under issue 10's hostile files (columns, views, wording)."""

from __future__ import annotations

from geodata.model.limits import MAX_COLUMNS
from geodata.render.detail import escape_markdown

from .test_your_data import CORPUS, add_button, metrics, page, problem_text, upload, user_dir

__all__ = ["page", "user_dir"]  # fixtures, used by name


def test_a_10000_column_file_draws_no_matching_boxes(page):
    upload(page, "wide.csv", (CORPUS / "too_many_columns.csv").read_bytes())
    assert "file has 10,004 columns; the limit is 200 per import" in problem_text(page)
    assert [s.key for s in page.selectbox if (s.key or "").startswith("user_map_")] == []
    assert add_button(page) is None


def test_matching_boxes_never_pass_the_column_cap(page):
    header = ",".join(["name", "lat", "lon", "year"] + [f"c{i}" for i in range(196)])
    upload(page, "exactly.csv", f"{header}\nA,39.1,117.2,2018{',x' * 196}\n".encode())
    boxes = [s for s in page.selectbox if (s.key or "").startswith("user_map_")]
    assert len(boxes) == MAX_COLUMNS


def test_a_geopackage_view_is_refused_quickly(page):
    upload(page, "view.gpkg", (CORPUS / "gpkg_view_cross_join.gpkg").read_bytes())
    assert escape_markdown("SQL view(s) ('sites_view')") in problem_text(page)
    assert add_button(page) is None


def test_the_first_point_layer_is_read_and_named(page):
    upload(page, "two.gpkg", (CORPUS / "gpkg_first_layer_empty.gpkg").read_bytes())
    assert metrics(page)["Accepted"] == "1"
    assert any("read 'b_sites'" in c.value for c in page.code)
    assert add_button(page) is not None


def test_official_province_names_are_accepted(page):
    upload(page, "provinces.csv", (CORPUS / "province_long_forms.csv").read_bytes())
    assert metrics(page)["Accepted"] == "19"
