"""Issue 10's file classes: columns, cells, Excel's sep= line, CRS kinds, zip names,
GeoPackage layers, province names, figure pixels; through the reader and the CLI.
"""

from __future__ import annotations

import time
import unicodedata

import pytest

import geodata.io.readers as readers
from geodata.cli import main
from geodata.io.importer import _province, preview_import
from geodata.io.readers import RejectedFileError, check_headers, read_file
from geodata.model.limits import MAX_COLUMNS, MAX_FIGURE_PIXELS
from geodata.model.schema import PROVINCE_OFFICIAL_NAMES, PROVINCES
from geodata.query.filters import RecordFilter
from geodata.render.figure import FigureSizeError, check_figure_pixels, render_figure

from .test_hostile_bounds import CORPUS


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ----------------------------------------------------------------- columns


def test_the_column_cap_is_checked_before_the_rows():
    header = ",".join(f"c{i}" for i in range(MAX_COLUMNS + 1))
    with pytest.raises(RejectedFileError, match=f"has {MAX_COLUMNS + 1:,} columns; the limit"):
        read_file(f"{header}\n{'x,' * MAX_COLUMNS}x\n".encode(), "wide.csv")
    exactly = ",".join(["name", "lat", "lon", "year"] + [f"c{i}" for i in range(MAX_COLUMNS - 4)])
    assert len(read_file(f"{exactly}\nA,39,117,2018\n".encode(), "ok.csv").headers) == MAX_COLUMNS


def test_the_duplicate_header_check_is_linear(monkeypatch):
    """200,000 columns never finished before; the check alone now takes milliseconds."""
    monkeypatch.setattr(readers, "MAX_COLUMNS", 10**7)
    headers = tuple(f"c{i % 100_000}" for i in range(200_000))
    started = time.monotonic()
    with pytest.raises(RejectedFileError, match=r"\['c0', 'c1', .* and 99,990 more\]"):
        check_headers(headers)
    assert time.monotonic() - started < 1.0


# ----------------------------------------------------------------- CSV wording


def test_excel_sep_line_sets_the_delimiter_and_keeps_line_numbers():
    data = b"sep=;\nname;lat;lon;year\nLab;39.1;117.2;2018\nBad;95;117.2;2018\n"
    preview = preview_import(data, "excel.csv")
    assert preview.headers == ("name", "lat", "lon", "year")
    assert len(preview.records) == 1
    assert preview.problems[0].line == 4, "line numbers count the sep= line"
    assert "'sep=;'" in preview.warnings[0].message


def test_geojson_saved_as_csv_is_named():
    preview = preview_import(b'{"type": "FeatureCollection", "features": []}', "points.csv")
    assert "rename it to points.geojson" in preview.errors[0].message


def test_a_json_array_named_csv_is_still_read_as_csv():
    preview = preview_import(b"[a],lat,lon,year\n", "odd.csv")
    assert "looks like GeoJSON" not in str(preview.errors)


# ----------------------------------------------------------------- CRS


@pytest.mark.parametrize(("crs", "kind"), [
    ("EPSG:5703", "a vertical CRS"), ("EPSG:4978", "a geocentric CRS"),
    ("EPSG:5773", "a vertical CRS"),
])
def test_a_crs_that_cannot_place_a_point_is_named_for_what_it_is(crs, kind):
    preview = preview_import(b"name,lat,lon,year\nA,39.1,117.2,2018\n", "a.csv", crs=crs)
    message = preview.errors[0].message
    assert kind in message
    assert "swapped" not in message
    assert "province" not in message
    assert preview.errors[0].field == "crs"


def test_a_compound_crs_with_a_horizontal_part_is_accepted():
    preview = preview_import(b"name,lat,lon,year\nA,39.1,117.2,2018\n", "a.csv",
                             crs="EPSG:4326+5773")
    assert preview.ok, preview.errors


def test_a_1_mb_crs_is_not_echoed(capsys, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("name,lat,lon,year\nA,39.1,117.2,2018\n", encoding="utf-8")
    # The CLI checks --crs as an argument: a usage error (exit 2), quoted boundedly.
    with pytest.raises(SystemExit) as exit_:
        main(["import", str(path), "--crs", "EPSG:" + "9" * 2**20])
    out, err = capsys.readouterr()
    assert exit_.value.code == 2
    assert "unknown CRS 'EPSG:999" in err
    assert len(out) + len(err) < 2_000


# ----------------------------------------------------------------- zip names


@pytest.mark.parametrize("forms", [("NFC", "NFD"), ("NFD", "NFC")])
def test_shapefile_parts_match_whatever_the_unicode_form(forms):
    import zipfile

    with zipfile.ZipFile(CORPUS / "zip_nfd_names.zip") as zf:
        parts = {n[-4:]: zf.read(n) for n in zf.namelist()}
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for ext, data in parts.items():
            form = forms[0] if ext == ".shp" else forms[1]
            zf.writestr(unicodedata.normalize(form, "Müller-café") + ext, data)
    assert len(preview_import(buf.getvalue(), "nfd.zip").records) == 1


# ----------------------------------------------------------------- GeoPackage


def test_the_first_layer_with_points_is_read_and_named():
    table = read_file(CORPUS / "gpkg_first_layer_empty.gpkg", "two.gpkg")
    assert len(table.rows) == 1
    assert "read 'b_sites'" in table.warnings[0]
    assert "'a_template': no features" in table.warnings[0]


@pytest.mark.parametrize("name", [
    "gpkg_view_recursive.gpkg", "gpkg_view_cross_join.gpkg", "gpkg_view_slow_function.gpkg",
    "gpkg_computed_column.gpkg",
])
def test_cli_refuses_a_geopackage_that_would_read_forever(capsys, name):
    started = time.monotonic()
    code, out, _ = run(capsys, "import", str(CORPUS / name))
    assert code == 1
    assert f"{name} (unrecognised): not imported" in out
    assert "plain table" in out
    assert time.monotonic() - started < 10


# ----------------------------------------------------------------- provinces


def test_every_official_long_form_is_its_short_name():
    for short, names in PROVINCE_OFFICIAL_NAMES.items():
        for name in (short, PROVINCES[short], *names, f"  {names[0].upper()} "):
            assert _province(name) == short, name
    assert set(PROVINCE_OFFICIAL_NAMES) == set(PROVINCES)


def test_an_unknown_province_stays_unknown():
    assert _province("Atlantis Autonomous Region") == "Atlantis Autonomous Region"


# ----------------------------------------------------------------- figure pixels


def test_figure_pixels_are_capped_before_drawing(sample_frame):
    started = time.monotonic()
    with pytest.raises(FigureSizeError, match="the limit is 40 million pixels"):
        render_figure(sample_frame, RecordFilter(), width_in=40, dpi=1200)
    assert time.monotonic() - started < 5


def test_the_dashboards_figures_are_within_the_cap():
    # views/map.py (7.5 in, 300 dpi), views/compare.py (6 in, 150 dpi); height <= width.
    for width_in, dpi in ((7.5, 300), (6.0, 150), (7.5, 120)):
        check_figure_pixels(width_in, width_in * 1.2, dpi)
    assert MAX_FIGURE_PIXELS > (7.5 * 300) ** 2 * 1.2


def test_cli_figure_over_the_cap_exits_2_with_the_largest_dpi(capsys, sample_path, tmp_path):
    out = tmp_path / "big.png"
    code, _, err = run(capsys, "figure", "--data", str(sample_path), "--out", str(out),
                       "--width-in", "40", "--dpi", "1200")
    assert code == 2
    assert "at 40 in wide use at most 177 dpi" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []
