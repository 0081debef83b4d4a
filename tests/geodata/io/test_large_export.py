"""A large selection's download, written part by part into a zip (issue 13)."""

from __future__ import annotations

import json
import zipfile

import pandas as pd
import pytest

from geodata.io.export import ORIGIN_COLUMN, to_csv_bytes, to_geojson, with_user_records
from geodata.io.large_export import write_zipped_export
from geodata.model.relations import load_atlas
from geodata.store.load import default_dataset_paths


@pytest.fixture(scope="module")
def curated() -> pd.DataFrame:
    return load_atlas(default_dataset_paths()).frame


def _parts(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[i:i + size] for i in range(0, len(frame), size)]


@pytest.mark.parametrize("size", [1, 37, 10_000])
def test_csv_in_parts_is_the_csv_of_the_whole(tmp_path, curated, size):
    seen: list[int] = []
    path = write_zipped_export(_parts(curated, size), tmp_path / "out.csv.zip", "csv",
                               "out.csv", on_part=seen.append)
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["out.csv"]
        assert zf.read("out.csv") == to_csv_bytes(curated)
    assert seen[-1] == len(curated)
    assert seen == sorted(seen)


def test_geojson_in_parts_holds_the_same_features(tmp_path, curated):
    user = curated.iloc[:2].assign(id=["u1", "u2"])
    both = with_user_records(curated, user)
    parts = [p.assign(**{ORIGIN_COLUMN: both[ORIGIN_COLUMN].iloc[i:i + 50].to_numpy()})
             for i, p in zip(range(0, len(both), 50),
                             _parts(both.drop(columns=[ORIGIN_COLUMN]), 50), strict=True)]
    path = write_zipped_export(parts, tmp_path / "out.geojson.zip", "geojson", "out.geojson")
    data = json.loads(zipfile.ZipFile(path).read("out.geojson").decode("utf-8"))
    assert data["type"] == "FeatureCollection"
    assert data["features"] == json.loads(json.dumps(to_geojson(both)["features"],
                                                      ensure_ascii=False))
    assert data["features"][-1]["properties"][ORIGIN_COLUMN].startswith("user data")


def test_an_empty_selection_is_a_valid_empty_file(tmp_path, curated):
    path = write_zipped_export([curated.iloc[:0]], tmp_path / "e.geojson.zip", "geojson", "e")
    assert json.loads(zipfile.ZipFile(path).read("e"))["features"] == []


def test_a_failure_midway_leaves_no_file(tmp_path, curated):
    def parts():
        yield curated.iloc[:10]
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_zipped_export(parts(), tmp_path / "out.csv.zip", "csv", "out.csv")
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_format_is_refused(tmp_path, curated):
    with pytest.raises(ValueError, match="'fmt' should be one of"):
        write_zipped_export([curated], tmp_path / "x.zip", "xlsx", "x.xlsx")
    assert list(tmp_path.iterdir()) == []
