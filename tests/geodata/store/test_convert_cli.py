"""``python -m geodata convert IN OUT.parquet``: every supported input to a store file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

from geopandas.testing import assert_geodataframe_equal

from geodata.cli import main
from geodata.query.engine import open_store
from geodata.query.filters import RecordFilter
from geodata.store.geoparquet import read_store_frame


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_yaml_to_parquet_round_trips(capsys, tmp_path, sample_path, sample_frame):
    out = tmp_path / "atlas.parquet"
    code, text, _ = run(capsys, "convert", sample_path, out)
    assert code == 0
    assert f"wrote {out} (7 records" in text
    assert_geodataframe_equal(read_store_frame(out), sample_frame)
    assert open_store(out, index_dir=tmp_path).count(RecordFilter()) == 7


def test_a_converted_store_converts_again_to_the_same_records(capsys, tmp_path, sample_path):
    first, second = tmp_path / "a.parquet", tmp_path / "b.geoparquet"
    run(capsys, "convert", sample_path, first)
    code, _, _ = run(capsys, "convert", first, second)
    assert code == 0
    assert_geodataframe_equal(read_store_frame(second), read_store_frame(first))


def test_csv_and_geojson_go_through_the_importer(capsys, tmp_path):
    csv = tmp_path / "labs.csv"
    csv.write_text("name,lat,lon,year,province\nLab A,39.9,116.4,2018,Beijing\n"
                   "Lab B,31.2,121.5,2020,Shanghai\n", encoding="utf-8")
    code, _, _ = run(capsys, "convert", csv, tmp_path / "labs.parquet")
    assert code == 0
    assert read_store_frame(tmp_path / "labs.parquet")["name_en"].tolist() == ["Lab A", "Lab B"]
    geojson = tmp_path / "labs.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [113.3, 23.1]},
        "properties": {"name": "Lab C", "year": 2021}}]}), encoding="utf-8")
    code, _, _ = run(capsys, "convert", geojson, tmp_path / "c.parquet")
    assert code == 0
    frame = read_store_frame(tmp_path / "c.parquet")
    assert frame["name_en"].tolist() == ["Lab C"]
    assert frame["province"].tolist() == ["Guangdong"]


def test_a_folder_converts_every_data_file(capsys, tmp_path, sample_path):
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(sample_path, folder / "sample.yaml")
    (folder / "labs.csv").write_text("name,lat,lon,year\nLab A,39.9,116.4,2018\n",
                                     encoding="utf-8")
    code, text, _ = run(capsys, "convert", folder, tmp_path / "all.parquet")
    assert code == 0
    assert "(8 records" in text


def test_bad_input_exits_1_naming_file_row_and_field_and_writes_nothing(capsys, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("name,lat,lon,year\nLab,95,116,2018\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    code, _, err = run(capsys, "convert", bad, out)
    assert code == 1
    assert "bad.csv:2: record row 1, field 'lat'" in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]


def test_wrong_output_suffix_missing_input_and_empty_folder(capsys, tmp_path, sample_path):
    code, _, err = run(capsys, "convert", sample_path, tmp_path / "out.csv")
    assert code == 2
    assert "should end in one of ['.parquet', '.geoparquet']" in err
    code, _, err = run(capsys, "convert", tmp_path / "nope.yaml", tmp_path / "out.parquet")
    assert code == 1
    assert "nope.yaml: no such file or folder" in err
    (tmp_path / "empty").mkdir()
    code, _, err = run(capsys, "convert", tmp_path / "empty", tmp_path / "out.parquet")
    assert code == 1
    assert "folder holds no .yaml, .parquet or .csv files" in err


def test_output_that_is_also_the_input_is_refused(capsys, tmp_path, sample_path):
    store = tmp_path / "s.parquet"
    run(capsys, "convert", sample_path, store)
    before = store.read_bytes()
    code, _, err = run(capsys, "convert", store, store)
    assert code == 2
    assert "also an input" in err
    assert store.read_bytes() == before


def test_module_entry_point(tmp_path, sample_path):
    out = tmp_path / "m.parquet"
    proc = subprocess.run(
        [sys.executable, "-m", "geodata", "convert", str(sample_path), str(out)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.is_file()
