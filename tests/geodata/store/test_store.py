"""The store compiler: YAML → GeoParquet round trip, the stale-cache rule, data folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from geopandas.testing import assert_geodataframe_equal

from geodata.model.frame import records_to_frame
from geodata.query.spatial import load_spatial
from geodata.store import cache as store_cache
from geodata.store.cache import compiled_store, store_path
from geodata.store.geoparquet import read_store_frame, store_metadata, write_store
from geodata.store.load import DatasetError, default_dataset_paths, load_records
from geodata.store.sources import load_source_records, records_from_frame, source_paths

DATA = Path(__file__).resolve().parents[2] / "data"


def _stores(directory: Path) -> list[Path]:
    return sorted(directory.glob("store-*.parquet"))


# ------------------------------------------------------------------ round trip


@pytest.mark.parametrize("which", ["sample", "curated"])
def test_yaml_to_parquet_gives_back_the_same_frame_and_records(tmp_path, which):
    paths = [DATA / "sample.yaml"] if which == "sample" else default_dataset_paths()
    records = load_records(paths)
    frame = records_to_frame(records)
    path = write_store(frame, tmp_path / "store.parquet")
    back = read_store_frame(path)
    assert_geodataframe_equal(back, frame)
    assert records_from_frame(back, str(path)) == records


def test_store_is_geoparquet_with_plain_lon_lat_and_wkb_points(tmp_path, sample_frame):
    path = write_store(sample_frame, tmp_path / "store.parquet")
    schema = pq.read_schema(path)
    assert b"geo" in schema.metadata
    assert {"lon", "lat", "geometry"} <= set(schema.names)
    codecs = store_metadata(path)["codecs"]
    assert codecs["domains"] == "tuple"
    assert codecs["sources"] == "json"
    # Every list or mapping column of the frame has a codec, and nothing else does.
    listish = {c for c in sample_frame.columns
               if any(isinstance(v, (list, tuple, dict)) for v in sample_frame[c])}
    assert set(codecs) == listish
    con = duckdb.connect()
    assert load_spatial(con)
    # With the extension, DuckDB reads the GeoParquet column as a typed geometry.
    rows = con.execute(
        "SELECT id, ST_X(geometry), ST_Y(geometry), lon, lat, typeof(geometry) "
        "FROM read_parquet(?) ORDER BY _row", [str(path)]
    ).fetchall()
    assert {r[5] for r in rows} == {"GEOMETRY('EPSG:4326')"}
    assert [r[0] for r in rows] == sample_frame["id"].tolist()
    assert all(r[1] == r[3] and r[2] == r[4] for r in rows)


def test_a_failed_write_leaves_the_old_store_and_no_temporary_file(
    tmp_path, sample_frame, monkeypatch
):
    path = write_store(sample_frame, tmp_path / "store.parquet")
    before = path.read_bytes()

    def broken(*args, **kwargs):
        Path(args[1] if len(args) > 1 else kwargs["path"]).write_bytes(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr("geopandas.GeoDataFrame.to_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        write_store(sample_frame.iloc[:2], path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store.parquet"]


# ----------------------------------------------------------------------- cache


@pytest.fixture
def sources(tmp_path) -> list[Path]:
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(DATA / "sample.yaml", folder / "sample.yaml")
    return [folder / "sample.yaml"]


def test_unchanged_sources_reuse_the_store_without_reading_them(tmp_path, sources, monkeypatch):
    cache = tmp_path / "cache"
    first = compiled_store(sources, cache)
    stamp = first.stat().st_mtime_ns

    def must_not_load(paths):
        raise AssertionError("the sources were read again")

    monkeypatch.setattr(store_cache, "load_source_frame", must_not_load)
    assert compiled_store(sources, cache) == first
    assert first.stat().st_mtime_ns == stamp
    assert _stores(cache) == [first]


def test_a_touched_source_rebuilds_and_removes_the_stale_store(tmp_path, sources):
    cache = tmp_path / "cache"
    first = compiled_store(sources, cache)
    st = sources[0].stat()
    os.utime(sources[0], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second = compiled_store(sources, cache)
    assert second != first
    assert _stores(cache) == [second]


def test_an_edit_is_in_the_rebuilt_store(tmp_path, sources):
    cache = tmp_path / "cache"
    compiled_store(sources, cache)
    text = sources[0].read_text(encoding="utf-8")
    sources[0].write_text(text.replace("Alpha AI Innovation Centre", "Renamed Centre"),
                          encoding="utf-8")
    frame = read_store_frame(compiled_store(sources, cache))
    assert "Renamed Centre" in set(frame["name_en"])


def test_an_added_file_or_a_new_schema_is_a_new_store(tmp_path, sources, monkeypatch):
    cache = tmp_path / "cache"
    first = store_path(sources, cache)
    extra = sources[0].with_name("more.yaml")
    extra.write_text("[]\n", encoding="utf-8")
    assert store_path([*sources, extra], cache) != first
    monkeypatch.setattr(store_cache, "schema_version", lambda: "a-newer-schema")
    assert store_path(sources, cache) != first


def test_an_invalid_source_raises_every_problem_and_writes_no_store(tmp_path, sources):
    cache = tmp_path / "cache"
    good = compiled_store(sources, cache)
    text = sources[0].read_text(encoding="utf-8")
    sources[0].write_text(text.replace("lat: 39.0", "lat: 99.0"), encoding="utf-8")
    with pytest.raises(DatasetError) as err:
        compiled_store(sources, cache)
    assert "sample.yaml" in str(err.value)
    assert "'lat'" in str(err.value)
    assert _stores(cache) == [good]  # the last good store stays; no new one


def test_a_read_only_cache_folder_falls_back_to_a_private_temporary_one(
    tmp_path, sources, monkeypatch
):
    locked = tmp_path / "locked"
    real = store_cache.tempfile.NamedTemporaryFile

    def refuse_locked(*args, **kwargs):
        # chmod does not stop root (these tests may run as root), so refuse here.
        if Path(kwargs.get("dir", "")) == locked:
            raise PermissionError(13, "Permission denied", str(locked))
        return real(*args, **kwargs)

    monkeypatch.setattr(store_cache.tempfile, "NamedTemporaryFile", refuse_locked)
    monkeypatch.setattr(store_cache.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path = compiled_store(sources, locked)
    assert path.parent.parent == tmp_path / "tmp"
    assert _stores(locked) == []
    assert read_store_frame(path)["id"].tolist() == [r.id for r in load_records(sources)]


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(store_cache.CACHE_DIR_ENV, str(tmp_path / "elsewhere"))
    assert store_cache.cache_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv(store_cache.CACHE_DIR_ENV)
    assert store_cache.cache_dir() == store_cache.DEFAULT_CACHE_DIR


def test_cache_folder_is_git_ignored():
    root = Path(__file__).resolve().parents[3]
    ignored = (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".cache/" in ignored
    assert store_cache.DEFAULT_CACHE_DIR.is_relative_to(root / ".cache")


# ---------------------------------------------------------------- data folders


CSV = "name,name_zh,lat,lon,year,province\nCSV Lab,表格实验室,30.5,114.3,2019,Hubei\n"


def test_a_folder_of_yaml_parquet_and_csv_is_one_validated_set(tmp_path, sample_frame):
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(DATA / "sample.yaml", folder / "a.yaml")
    others = records_to_frame(load_records(default_dataset_paths()))
    write_store(others, folder / "b.parquet")
    (folder / "c.csv").write_text(CSV, encoding="utf-8")
    (folder / "notes.txt").write_text("not data", encoding="utf-8")
    (folder / ".hidden.yaml").write_text("not: [valid", encoding="utf-8")
    paths = source_paths(folder)
    assert [p.name for p in paths] == ["a.yaml", "b.parquet", "c.csv"]
    records = load_source_records(paths)
    ids = [r.id for r in records]
    assert ids[: len(sample_frame)] == sample_frame["id"].tolist()
    assert ids[len(sample_frame): -1] == others["id"].tolist()
    assert records[-1].name_en == "CSV Lab"
    assert records[-1].province == "Hubei"


def test_a_parquet_source_is_validated_like_yaml(tmp_path, sample_frame):
    bad = sample_frame.copy()
    bad.loc[0, "province"] = "Atlantis"
    bad.loc[1, "year"] = 1800
    path = write_store(bad, tmp_path / "bad.parquet")
    with pytest.raises(DatasetError) as err:
        load_source_records([path])
    text = str(err.value)
    assert "bad.parquet: record row 1 (id 'cluster-alpha'), field 'province'" in text
    assert "row 2 (id 'cluster-beta'), field 'year'" in text


def test_ids_must_be_unique_across_files(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(DATA / "sample.yaml", folder / "a.yaml")
    write_store(records_to_frame(load_records([DATA / "sample.yaml"])), folder / "b.parquet")
    with pytest.raises(DatasetError, match="duplicate id 'cluster-alpha', also used in YAML"):
        load_source_records(source_paths(folder))


def test_a_rejected_csv_row_refuses_the_file_naming_row_and_field(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("name,lat,lon,year\nLab,95,116,2018\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.csv:2: record row 1, field 'lat'"):
        load_source_records([path])


def test_unsupported_and_missing_inputs_are_named(tmp_path):
    with pytest.raises(DatasetError, match=r"unsupported file type '\.docx'"):
        load_source_records([tmp_path / "report.docx"])
    with pytest.raises(DatasetError, match="no dataset files"):
        load_source_records([])
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 nonsense")
    with pytest.raises(DatasetError, match="not a readable GeoParquet file"):
        load_source_records([tmp_path / "junk.parquet"])


# ----------------------------------------------------------------- query index


def test_the_query_index_is_built_once_and_rebuilt_for_a_changed_store(
    tmp_path, sample_frame, monkeypatch
):
    from geodata.query import index as query_index
    from geodata.query.engine import open_store

    store = write_store(sample_frame, tmp_path / "s.parquet")
    cache = tmp_path / "cache"
    first = open_store(store, index_dir=cache)
    assert len(first) == len(sample_frame)
    built = sorted(cache.iterdir())
    assert [p.suffix for p in built] == [".duckdb"]

    def must_not_build(*args):
        raise AssertionError("the index was built again")

    with monkeypatch.context() as m:
        m.setattr(query_index, "build_index", must_not_build)
        assert len(open_store(store, index_dir=cache)) == len(sample_frame)
    write_store(sample_frame.iloc[:3], store)
    st = store.stat()
    os.utime(store, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert len(open_store(store, index_dir=cache)) == 3
    rebuilt = sorted(cache.iterdir())
    assert len(rebuilt) == 1
    assert rebuilt != built
    assert len(first) == len(sample_frame)  # an open store keeps its own index


def test_a_new_place_name_changes_the_schema_version(monkeypatch):
    """The search haystack holds cities' Chinese names: a new one must rebuild the store."""
    from geodata.store import geoparquet

    before = geoparquet.schema_version()
    monkeypatch.setitem(geoparquet.CITIES_ZH, "Atlantis", "亚特兰蒂斯")
    assert geoparquet.schema_version() != before
