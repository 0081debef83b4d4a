"""The lean frame of a large store, and its details read per row (issue 13).

A large dataset is held without its free-text columns; a records-table page,
the clicked record, a download or the figure read them from the store for
their rows. These tests check that what they get equals the full frame.
"""

from __future__ import annotations

import pandas as pd
import pytest

from geodata.model.frame import records_to_frame
from geodata.model.schema import RECORD_COLUMNS
from geodata.query.engine import open_store
from geodata.query.filters import (
    HAYSTACK_COLUMN,
    RecordFilter,
    filter_records,
    search_haystack,
)
from geodata.store.geoparquet import (
    DETAIL_COLUMNS,
    is_lean,
    read_lean_frame,
    read_store_frame,
    write_store,
)
from geodata.store.load import default_dataset_paths, load_records


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    """Values only: missing as None, whatever the column's dtype."""
    out = df.astype(object)
    return out.where(df.notna(), None)


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    """The curated atlas as a store: every kind, every optional field in use."""
    folder = tmp_path_factory.mktemp("lean")
    frame = records_to_frame(load_records(default_dataset_paths()))
    path = write_store(frame, folder / "store.parquet")
    store = open_store(path, index_dir=folder)
    yield path, read_store_frame(path), store
    store.close()


def test_the_lean_frame_leaves_the_detail_columns_in_the_store(curated):
    path, full, _ = curated
    lean = read_lean_frame(path)
    assert is_lean(lean)
    assert not is_lean(full)
    assert not set(DETAIL_COLUMNS) & set(lean.columns)
    assert "geometry" not in lean.columns
    kept = [c for c in RECORD_COLUMNS if c not in DETAIL_COLUMNS]
    # Same values; few-valued text is held as shared strings (object dtype) there.
    pd.testing.assert_frame_equal(_plain(lean[kept]), _plain(pd.DataFrame(full[kept])))
    assert lean["kind"].dtype == object
    assert lean["kind"].map(id).nunique() <= 4
    assert all(isinstance(d, tuple) for d in lean["domains"])
    # The search text is the one the full frame would compute.
    assert lean[HAYSTACK_COLUMN].tolist() == search_haystack(full).tolist()


@pytest.mark.parametrize("rows", [slice(None), slice(40, 47), [3, 200, 201, 450], []])
def test_details_of_any_part_equal_the_full_frame(curated, rows):
    path, full, store = curated
    lean = read_lean_frame(path)
    part = lean.iloc[rows] if isinstance(rows, slice) else lean.iloc[list(rows)]
    got = store.with_details(part)
    assert not is_lean(got)
    want = full.iloc[rows] if isinstance(rows, slice) else full.iloc[list(rows)]
    got = got[list(full.columns)]
    assert got.crs == want.crs
    assert got.geometry.to_wkt().tolist() == want.geometry.to_wkt().tolist()
    pd.testing.assert_frame_equal(_plain(pd.DataFrame(got.drop(columns="geometry"))),
                                  _plain(pd.DataFrame(want.drop(columns="geometry"))))


def test_details_keep_the_columns_a_part_adds_and_can_be_limited(curated):
    path, full, store = curated
    lean = read_lean_frame(path).iloc[[5, 9]].assign(designated=[True, False])
    got = store.with_details(lean, columns=("sources",))
    assert got["designated"].tolist() == [True, False]
    assert got["sources"].tolist() == full["sources"].iloc[[5, 9]].tolist()
    assert "description" not in got.columns
    assert HAYSTACK_COLUMN not in got.columns


def test_a_full_part_is_returned_as_it_is(curated):
    _, full, store = curated
    assert store.with_details(full.iloc[:3]) is not None
    assert store.with_details(full.iloc[:3]).equals(full.iloc[:3])


@pytest.mark.parametrize("flt", [
    RecordFilter(), RecordFilter(search="mianyang"), RecordFilter(search="绵阳"),
    RecordFilter(kinds=frozenset({"fund"}), search="fund"),
    RecordFilter(search="Institute", provinces=frozenset({"Beijing"})),
])
def test_filters_on_the_lean_frame_keep_the_same_records(curated, flt):
    path, full, _ = curated
    lean = read_lean_frame(path)
    assert filter_records(lean, flt)["id"].tolist() == filter_records(full, flt)["id"].tolist()


def test_an_unfiltered_selection_is_not_a_copy_but_cannot_write_into_the_frame(curated):
    _, full, _ = curated
    before = full["name_en"].iloc[0]
    shown = filter_records(full, RecordFilter())
    assert len(shown) == len(full)
    shown.loc[shown.index[0], "name_en"] = "changed"
    assert full["name_en"].iloc[0] == before


def test_the_bounds_rows_give_the_bounds_of_the_whole_frame(curated):
    from geodata.query.filters import bounds_rows, filter_bounds

    _, full, _ = curated
    user = pd.DataFrame({"kind": ["cluster"], "year": [2031], "fund_size_rmb_bn": [None]})
    for frame in (full, full[full["kind"] == "organisation"], full[full["kind"] == "zone"],
                  full.iloc[:0]):
        assert len(bounds_rows(frame)) <= 5
        assert filter_bounds(bounds_rows(frame)) == filter_bounds(frame)
        assert filter_bounds(bounds_rows(frame), user) == filter_bounds(frame, user)
