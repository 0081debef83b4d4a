"""Importing a user's file: formats, reprojection, mapping, per-row problems, saving, CLI."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pytest
import yaml
from pyproj import Transformer
from shapely.geometry import Point, Polygon

from geodata.cli import main
from geodata.io import safe_write
from geodata.io.importer import (
    ColumnMapping,
    apply_mapping,
    load_user_records,
    preview_import,
    save_user_records,
    suggest_mapping,
)
from geodata.store.load import DatasetError, load_records

REPO = Path(__file__).resolve().parents[3]

#: (name, lon, lat): two real places, so provinces can be found from the points.
PLACES = [("Tianjin Lab", 117.7, 39.0), ("Foshan Fund", 113.12, 23.02)]


@pytest.fixture
def places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "name": [p[0] for p in PLACES],
            "名称": ["天津实验室", "佛山基金"],
            "year": [2018, 2017],
            "domains": ["ai; robotics", "general"],
        },
        geometry=[Point(lon, lat) for _, lon, lat in PLACES],
        crs="EPSG:4326",
    )


@pytest.fixture
def scratch(tmp_path, monkeypatch) -> Path:
    """A private temp dir for the importer, so a test can check it is left empty."""
    directory = tmp_path / "scratch"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def assert_places(preview, tol=1e-6):
    assert preview.ok, [str(p) for p in preview.errors + preview.problems]
    got = [(r.name_en, r.lon, r.lat) for r in preview.records]
    for (name, lon, lat), (g_name, g_lon, g_lat) in zip(PLACES, got, strict=True):
        assert g_name == name
        assert abs(g_lon - lon) < tol
        assert abs(g_lat - lat) < tol


def zipped(directory: Path, stem: str, *, prefix: str = "", skip: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(directory.glob(f"{stem}.*")):
            if part.suffix != skip:
                zf.write(part, prefix + part.name)
    return buf.getvalue()


# ------------------------------------------------------------------ formats


def test_csv_with_chinese_headers_gets_defaults():
    text = (
        "名称,Name,纬度,经度,年份,领域,Link\n"
        "天津实验室,Tianjin Lab,39.0,117.7,2018,AI;robotics,https://example.org/a\n"
        "佛山基金,,23.02,113.12,2017,,\n"
    )
    preview = preview_import(text.encode(), "mine.csv")
    assert preview.ok
    assert (preview.format, preview.crs) == ("csv", "EPSG:4326")
    first, second = preview.records
    assert (first.id, first.kind, first.category) == ("user-tianjin-lab", "cluster",
                                                       "industrial_cluster")
    assert (first.name_zh, first.province, first.domains) == ("天津实验室", "Tianjin",
                                                              ["ai", "robotics"])
    assert first.sources[0].url == "https://example.org/a"
    assert first.location_precision == "site"
    assert (second.id, second.name_en, second.province) == ("user-row-2", "佛山基金", "Guangdong")
    assert second.domains == ["general"]
    assert second.description == "Imported from mine.csv, row 2."
    assert preview.summary() == (
        "mine.csv (CSV, EPSG:4326): 2 rows read, 2 accepted, 0 rejected, 0 warnings."
    )


def test_csv_in_projected_crs_is_reprojected():
    to_4547 = Transformer.from_crs("EPSG:4326", "EPSG:4547", always_xy=True)
    lines = ["name,x,y,year"]
    for name, lon, lat in PLACES:
        x, y = to_4547.transform(lon, lat)
        lines.append(f"{name},{x!r},{y!r},2018")
    preview = preview_import("\n".join(lines).encode(), "proj.csv", crs="EPSG:4547")
    assert preview.crs == "EPSG:4547"
    assert_places(preview)


def test_semicolon_csv_with_bom_and_crlf():
    text = "\ufeffname;lat;lon;year\r\nTianjin Lab;39.0;117.7;2018\r\n"
    preview = preview_import(text.encode(), "excel.csv")
    assert preview.ok
    assert preview.records[0].lat == 39.0


def test_geojson_points(places):
    preview = preview_import(places.to_json().encode(), "mine.geojson")
    assert preview.format == "geojson"
    assert_places(preview)
    assert preview.records[0].name_zh == "天津实验室"


def test_geojson_legacy_crs_member_is_honoured(places):
    doc = json.loads(places.to_crs("EPSG:3857").to_json())
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}
    preview = preview_import(json.dumps(doc).encode(), "old.json")
    assert preview.crs == "EPSG:3857"
    assert_places(preview)


def test_geopackage_in_web_mercator_is_reprojected(places, tmp_path, scratch):
    path = tmp_path / "mine.gpkg"
    places.to_crs("EPSG:3857").to_file(path, driver="GPKG")
    preview = preview_import(path)
    assert (preview.format, preview.crs) == ("gpkg", "EPSG:3857")
    assert_places(preview)
    assert list(scratch.iterdir()) == []


def test_zipped_shapefile_in_cgcs2000_is_reprojected(places, tmp_path, scratch):
    places.to_crs("EPSG:4547").to_file(tmp_path / "sites.shp")
    preview = preview_import(zipped(tmp_path, "sites", prefix="export/"), "sites.zip")
    assert (preview.format, preview.crs) == ("shapefile", "EPSG:4547")
    assert_places(preview)
    assert preview.records[1].name_zh == "佛山基金"
    assert list(scratch.iterdir()) == []


def test_shapefile_without_prj_asks_for_its_crs(places, tmp_path):
    places.to_crs("EPSG:4547").to_file(tmp_path / "sites.shp")
    data = zipped(tmp_path, "sites", skip=".prj")
    refused = preview_import(data, "sites.zip")
    assert refused.records == ()
    assert refused.errors[0].field == "crs"
    assert "has no .prj file" in refused.errors[0].message
    assert "EPSG:" in refused.errors[0].message
    assert_places(preview_import(data, "sites.zip", crs="EPSG:4547"))


def test_polygons_are_rejected_per_feature(tmp_path):
    frame = gpd.GeoDataFrame(
        {"name": ["Area", "Spot"], "year": [2018, 2018]},
        geometry=[Polygon([(116, 39), (117, 39), (117, 40)]), Point(117.2, 39.1)],
        crs="EPSG:4326",
    )
    frame.to_file(tmp_path / "mixed.gpkg")
    preview = preview_import(tmp_path / "mixed.gpkg")
    assert [r.name_en for r in preview.records] == ["Spot"]
    (problem,) = preview.problems
    assert (problem.record, problem.field) == ("feature 1", "geometry")
    assert "expected Point geometry, got Polygon" in problem.message


def test_upload_object_and_bytes_give_the_same_result():
    data = b"name,lat,lon,year\nLab,39,117,2018\n"
    from_bytes = preview_import(data, "a.csv")
    from_file = preview_import(io.BytesIO(data), "a.csv")
    assert from_bytes.records == from_file.records


# ------------------------------------------------------------------ mapping


def test_suggest_mapping_english_chinese_and_case():
    mapping = suggest_mapping(
        ["ID", "Name (EN)", "名称", "LATITUDE", "Lng", "省份", "成立年份", "Sector", "来源",
         "Website", "whatever"]
    )
    assert mapping.as_dict() == {
        "ID": "id", "Name (EN)": "name_en", "名称": "name_zh", "LATITUDE": "lat", "Lng": "lon",
        "省份": "province", "成立年份": "year", "Sector": "domains",
        "来源": "source_publisher", "Website": "source_url",
    }


@pytest.mark.parametrize(
    ("header", "field"),
    [("lat", "lat"), ("Latitude", "lat"), ("y", "lat"), ("纬度", "lat"), ("lon", "lon"),
     ("lng", "lon"), ("long", "lon"), ("Longitude", "lon"), ("X", "lon"), ("经度", "lon"),
     ("名字", "name_zh"), ("年份", "year"), ("城市", "city"), ("描述", "description"),
     ("备注", "notes"), ("类别", "category"), ("fund_size_rmb_bn", "fund_size_rmb_bn")],
)
def test_suggest_mapping_synonyms(header, field):
    assert suggest_mapping([header]).as_dict() == {header: field}


def test_exact_field_names_win_and_each_field_is_taken_once():
    mapping = suggest_mapping(["name", "name_en", "latitude", "lat"])
    assert mapping.as_dict() == {"name_en": "name_en", "lat": "lat"}


def test_apply_mapping_and_overrides():
    mapping = suggest_mapping(["Breite", "Länge", "Titel"]).with_overrides(
        {"Breite": "lat", "Länge": "lon", "Titel": "name_en"}
    )
    assert apply_mapping({"Breite": "39", "Länge": "117", "Titel": "A", "x": 1}, mapping) == {
        "lat": "39", "lon": "117", "name_en": "A",
    }
    assert mapping.with_overrides({"Titel": "-"}).header_for("name_en") is None


@pytest.mark.parametrize(
    ("pairs", "message"),
    [((("a", "colour"),), "unknown field(s) ['colour']"),
     ((("a", "lat"), ("b", "lat")), "field(s) ['lat'] appear more than once")],
)
def test_column_mapping_checks_its_input(pairs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ColumnMapping(pairs)


def test_mapping_fixes_missing_columns():
    data = "Titel,Breite,Länge,Jahr\nLab,39,117,2018\n".encode()
    refused = preview_import(data, "de.csv")
    assert {p.field for p in refused.errors} == {"name_en", "lat", "lon", "year"}
    assert "the file's columns are ['Titel', 'Breite', 'Länge', 'Jahr']" in (
        refused.errors[0].message
    )
    mapping = refused.mapping.with_overrides(
        {"Titel": "name_en", "Breite": "lat", "Länge": "lon", "Jahr": "year"}
    )
    assert preview_import(data, "de.csv", mapping).ok


def test_mapping_naming_an_absent_column_is_a_file_error():
    preview = preview_import(b"name,lat,lon,year\nA,39,117,2018\n", "a.csv",
                             {"name": "name_en", "lat": "lat", "lon": "lon", "yr": "year"})
    assert preview.errors[0].field == "year"
    assert "names column 'yr', which the file does not have" in preview.errors[0].message


# ------------------------------------------------------------ row problems


def test_per_row_problem_names_file_row_field_and_expectation():
    rows = [f"Lab {i},39.{i},117.2,2018" for i in range(1, 7)] + ["Lab 7,abc,117.2,2018"]
    preview = preview_import(("name,lat,lon,year\n" + "\n".join(rows)).encode(), "labs.csv")
    assert (len(preview.records), preview.rejected) == (6, 1)
    (problem,) = preview.problems
    assert (problem.file, problem.line, problem.record, problem.field) == (
        "labs.csv", 8, "row 7", "lat"
    )
    assert problem.message == (
        "is not a number: got 'abc'; expected decimal degrees such as 31.23 (column 'lat')"
    )
    assert str(problem).startswith("labs.csv:8: record row 7, field 'lat': ")


def test_every_problem_of_a_row_is_reported():
    data = b"name,lat,lon,year,domains,kind\nA,north,117,soon,lasers,tank\n"
    preview = preview_import(data, "bad.csv")
    assert {p.field for p in preview.problems} == {"lat", "year", "domains", "kind"}


def test_kind_from_argument_and_from_column():
    data = b"name,lat,lon,year,kind\nA,39,117,2018,\nB,39,117,2018,Demonstration zones\n"
    preview = preview_import(data, "k.csv", kind="fund")
    assert preview.records[0].kind == "fund"
    assert preview.records[0].category == "industry_fund"
    assert preview.problems[0].field == "status"  # a zone needs a status column


@pytest.mark.parametrize("typed", ["Guangdong", "广东省", "guangdong province", "广东"])
def test_province_spellings(typed):
    data = f"name,lat,lon,year,province\nA,23,113,2018,{typed}\n".encode()
    assert preview_import(data, "p.csv").records[0].province == "Guangdong"


def test_ids_are_prefixed_and_unique():
    data = b"name,lat,lon,year\nLab,39,117,2018\nLab,39,117,2018\nuser-x,39,117,2018\n"
    ids = [r.id for r in preview_import(data, "ids.csv").records]
    assert ids == ["user-lab", "user-lab-2", "user-x"]
    data = b"id,name,lat,lon,year\nA 1,Lab,39,117,2018\na-1,Lab,39,117,2018\n"
    assert [r.id for r in preview_import(data, "ids.csv").records] == ["user-a-1", "user-a-1-2"]


def test_outside_china_is_a_warning_and_the_record_is_flagged():
    data = b"name,lat,lon,year,province\nLondon Lab,51.5,-0.12,2018,Beijing\nA,39,117,2018,\n"
    preview = preview_import(data, "world.csv")
    assert preview.ok
    assert len(preview.records) == 2
    assert preview.flagged == frozenset({"user-london-lab"})
    (warning,) = preview.warnings
    assert (warning.record, warning.field) == ("row 1", "lat/lon")
    assert "outside China" in warning.message


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [({"kind": "tank"}, ValueError), ({"max_rows": 0}, ValueError),
     ({"max_bytes": -1}, ValueError), ({"mapping": ["lat"]}, TypeError)],
)
def test_bad_arguments_raise(kwargs, error):
    with pytest.raises(error):
        preview_import(b"name,lat,lon,year\n", "a.csv", **kwargs)


def test_unreadable_path_is_a_file_error(tmp_path):
    preview = preview_import(tmp_path / "missing.csv")
    assert "cannot read file" in preview.errors[0].message


# ------------------------------------------------------------------- limits


def test_size_cap_message_states_the_cap():
    data = b"name,lat,lon,year\n" + b"Lab,39,117,2018\n" * 100
    preview = preview_import(data, "big.csv", max_bytes=1024)
    assert preview.errors[0].message == (
        "file is 1,618 bytes; the limit is 1,024 bytes per import (max_bytes)"
    )


def test_million_row_csv_is_refused(tmp_path):
    path = tmp_path / "million.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("name,lat,lon,year\n")
        for _ in range(100):
            fh.write("a,39,117,2018\n" * 10_000)
    preview = preview_import(path)
    assert preview.records == ()
    assert "more than 50,000 data rows; the limit is 50,000" in preview.errors[0].message


def test_real_zip_bomb_is_refused_before_extraction(tmp_path, scratch):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("layer.shp", "w") as fh:
        for _ in range(50):
            fh.write(bytes(1024 * 1024))
    assert len(buf.getvalue()) < 200_000
    preview = preview_import(buf.getvalue(), "bomb.zip")
    assert "possible zip bomb" in preview.errors[0].message
    assert list(scratch.iterdir()) == []


# ----------------------------------------------------------- save and load


def _records(data: bytes = b"name,lat,lon,year\nA,39,117,2018\nB,23,113,2017\n"):
    return preview_import(data, "a.csv").records


def test_saved_file_loads_back_identically(tmp_path):
    out = save_user_records(_records(), tmp_path / "mine.yaml")
    assert load_records([out]) == list(_records())
    assert load_user_records(out) == (list(_records()), [])
    assert [p.name for p in tmp_path.iterdir()] == ["mine.yaml"]


def test_outside_china_records_load_only_as_user_records(tmp_path):
    data = b"name,lat,lon,year,province\nLondon Lab,51.5,-0.12,2018,Beijing\n"
    out = save_user_records(_records(data), tmp_path / "world.yaml")
    with pytest.raises(DatasetError, match="outside China"):
        load_records([out])
    records, warnings = load_user_records(out)
    assert [r.id for r in records] == ["user-london-lab"]
    assert "outside China" in warnings[0].message


def test_failed_save_leaves_the_old_file(tmp_path, monkeypatch):
    out = tmp_path / "mine.yaml"
    out.write_text("old contents\n")

    def broken(fh, text):
        fh.write(text[:10])
        raise OSError("disk full")

    monkeypatch.setattr(safe_write, "_write_text", broken)
    with pytest.raises(OSError, match="disk full"):
        save_user_records(_records(), out, overwrite=True)
    assert out.read_text() == "old contents\n"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.yaml"]


_SLOW_WRITER = """
import sys, time
from geodata.io import importer
from geodata.io import safe_write

def slow(fh, text):
    for start in range(0, len(text), 4096):
        fh.write(text[start:start + 4096])
        fh.flush()
        if start == 0:
            print("writing", flush=True)
        time.sleep(0.02)

safe_write._write_text = slow
base = importer.preview_import(b"name,lat,lon,year\\nLab,39,117,2018\\n", "w.csv").records[0]
records = [base.model_copy(update={"id": f"user-lab-{i}"}) for i in range(1000)]
importer.save_user_records(records, sys.argv[1], overwrite=True)
print("finished", flush=True)
"""


def test_save_killed_mid_write_leaves_the_old_file(tmp_path):
    out = tmp_path / "mine.yaml"
    save_user_records(_records(), out)
    old = out.read_bytes()
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(out)], cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout.readline().strip() == "writing", proc.stderr.read()
        partial = [p for p in tmp_path.iterdir() if p.name != "mine.yaml"]
        assert len(partial) == 1
        assert partial[0].stat().st_size > 0
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert out.read_bytes() == old
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "mine.yaml"]
    assert len(leftovers) == 1
    assert leftovers[0].startswith(".mine.yaml.")
    assert leftovers[0].endswith(".tmp")
    assert len(yaml.safe_load(old)) == 2


# ---------------------------------------------------------------------- CLI


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def good_csv(tmp_path) -> Path:
    path = tmp_path / "good.csv"
    path.write_text("name,lat,lon,year\nA,39,117,2018\n", encoding="utf-8")
    return path


@pytest.fixture
def half_bad_csv(tmp_path) -> Path:
    path = tmp_path / "half.csv"
    path.write_text("name,lat,lon,year\nA,39,117,2018\nB,abc,117,2018\n", encoding="utf-8")
    return path


def test_cli_import_all_good_exits_0_and_saves(capsys, good_csv, tmp_path):
    out_path = tmp_path / "out.yaml"
    code, out, _ = run(capsys, "import", good_csv, "--save", out_path)
    assert code == 0
    assert out.startswith("good.csv (CSV, EPSG:4326): 1 row read, 1 accepted")
    assert f"saved 1 record(s) to {out_path}" in out
    assert [r.id for r in load_records([out_path])] == ["user-a"]


def test_cli_imports_a_saved_file_again(capsys, good_csv, tmp_path):
    saved = tmp_path / "out.yaml"
    run(capsys, "import", good_csv, "--save", saved)
    code, out, _ = run(capsys, "import", saved)
    assert code == 0
    assert out.startswith("out.yaml (CMF Atlas YAML")
    assert "1 row read, 1 accepted" in out


def test_cli_import_rejected_row_exits_1_and_does_not_save(capsys, half_bad_csv, tmp_path):
    out_path = tmp_path / "out.yaml"
    code, out, err = run(capsys, "import", half_bad_csv, "--save", out_path)
    assert code == 1
    assert "rejected: half.csv:3: record row 2, field 'lat'" in out
    assert "not saved: 1 row(s) rejected" in err
    assert not out_path.exists()


def test_cli_accept_partial_saves_accepted_rows_but_still_exits_1(capsys, half_bad_csv,
                                                                 tmp_path):
    out_path = tmp_path / "out.yaml"
    code, _, _ = run(capsys, "import", half_bad_csv, "--save", out_path, "--accept-partial")
    assert code == 1
    assert [r.id for r in load_records([out_path])] == ["user-a"]


def test_cli_file_error_exits_1(capsys, tmp_path):
    png = tmp_path / "photo.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\nrest")
    code, out, _ = run(capsys, "import", png)
    assert code == 1
    assert "error: photo.csv: photo.csv is a PNG image" in out


def test_cli_map_crs_kind_and_caps(capsys, tmp_path):
    path = tmp_path / "de.csv"
    path.write_text("Titel,Ost,Nord,Jahr\nLab,13102579.2,4721671.6,2018\n", encoding="utf-8")
    code, out, _ = run(
        capsys, "import", path, "--map", "Titel=name_en", "--map", "Ost=lon",
        "--map", "Nord=lat", "--map", "Jahr=year", "--crs", "EPSG:3857", "--kind", "fund",
    )
    assert code == 0, out
    assert "'Ost' -> lon" in out
    code, out, _ = run(capsys, "import", path, "--max-rows", "1", "--max-mb", "0.00001")
    assert code == 1
    assert "per import (max_bytes)" in out


@pytest.mark.parametrize(
    "argv", [["--map", "no-equals-sign"], ["--max-mb", "0"], ["--kind", "tank"]]
)
def test_cli_bad_arguments_exit_2(good_csv, argv):
    with pytest.raises(SystemExit) as info:
        main(["import", str(good_csv), *argv])
    assert info.value.code == 2


def test_cli_unknown_mapping_field_exits_2(capsys, good_csv):
    code, _, err = run(capsys, "import", good_csv, "--map", "name=colour")
    assert code == 2
    assert "unknown field(s) ['colour']" in err
