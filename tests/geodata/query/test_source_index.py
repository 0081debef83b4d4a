"""The Sources page's SQL index against the pure-Python one, on the same data.

:func:`geodata.query.source_index.sources_page` must give, page by page, the
rows of :func:`~geodata.query.frame_aggregates.sources_index` followed by
:func:`~geodata.query.frame_aggregates.search_sources` on the same selection:
the same sources, the same citing records in the same order, the same "via"
notes and the same sort (most cited first, ties by publisher, title, date,
then first appearance). Hypothesis draws the records' sources (shared between
records, repeated within one, with missing dates and URLs), the filter, the
search text and the page.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.model.frame import records_to_frame
from geodata.model.schema import Record
from geodata.query.engine import open_store
from geodata.query.filters import RecordFilter, filter_records
from geodata.query.frame_aggregates import search_sources, sources_index
from geodata.query.source_index import INDEX_COLUMNS, sources_page_sql
from geodata.store.geoparquet import write_store

#: Publishers and titles with quotes, wildcards, a backslash, mixed case and CJK.
PUBLISHERS = ["Xinhua", "xinhua", "CAICT", "O'Brien's Review", "100% News", "under_score",
              "Back\\slash", "新华社", "人民日报", ""]
TITLES = ["Fund launched", "fund launched", "'; DROP TABLE idx; --", "园区揭牌", "A", "b", ""]
DATES = [None, "2018", "2018-05-01", "2020"]
URLS = [None, "https://example.org/a", "https://example.org/B?q=%20"]
VIAS = [None, None, "Kania 2019", "Laskai 2018"]
SEARCHES = ["", "xinhua", "XINHUA", "fund", "'", "%", "_", "\\", "新华", "record 1",
            "记录", "example.org/b", "drop table", "zzz", "  fund   launched "]
FILTERS = [RecordFilter(), RecordFilter(kinds=frozenset({"fund"})),
           RecordFilter(year_min=2015), RecordFilter(search="record 1"),
           RecordFilter(kinds=frozenset())]


def _sources(rng: random.Random) -> list[dict]:
    out = []
    for _ in range(rng.randint(1, 4)):
        src = {"publisher": rng.choice(PUBLISHERS) or "Unnamed", "title": rng.choice(TITLES)
               or "Untitled"}
        for field, pool in (("date", DATES), ("url", URLS), ("via", VIAS)):
            if (value := rng.choice(pool)) is not None:
                src[field] = value
        out.append(src)
    if rng.random() < 0.2:
        out.append(dict(out[0]))  # the same source twice in one record
    return out


def _frame(n: int, seed: int) -> pd.DataFrame:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        kind = rng.choice(["cluster", "fund", "zone"])
        raw = {
            "id": f"r-{i}", "kind": kind,
            "category": {"cluster": "industrial_park", "fund": "industry_fund",
                         "zone": "demonstration_zone"}[kind],
            "name_en": f"Record {i} {rng.choice(['Alpha', 'beta'])}", "name_zh": f"记录{i}",
            "province": "Beijing", "lat": 39.9, "lon": 116.4, "location_precision": "city",
            "year": rng.randint(2010, 2025), "domains": ["general"],
            "description": "A generated record for the sources-index tests.",
            "sources": _sources(rng),
        }
        if kind == "zone":
            raw["status"] = "approved"
        records.append(Record.model_validate(raw))
    return records_to_frame(records)


def _expected(frame: pd.DataFrame, flt: RecordFilter, search: str) -> pd.DataFrame:
    index = sources_index(filter_records(frame, flt))
    return search_sources(index, search).reset_index(drop=True)[list(INDEX_COLUMNS)]


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """(frame, store) pairs for a few seeds."""
    out = []
    for seed in (1, 2, 3):
        frame = _frame(60, seed)
        path = write_store(frame, tmp_path_factory.mktemp(f"src{seed}") / "s.parquet")
        out.append((frame, open_store(path, index_dir=path.parent)))
    yield out
    for _, store in out:
        store.close()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 2), flt=st.sampled_from(FILTERS), search=st.sampled_from(SEARCHES),
       limit=st.sampled_from([1, 7, 500]), page=st.integers(0, 6))
def test_a_page_of_the_sql_index_equals_the_python_index(stores, which, flt, search, limit, page):
    frame, store = stores[which]
    expected = _expected(frame, flt, search)
    got = store.sources_page(flt, search, limit=limit, offset=page * limit)
    assert got.matching == len(expected)
    assert got.total == len(sources_index(filter_records(frame, flt)))
    want = expected.iloc[page * limit:(page + 1) * limit].reset_index(drop=True)
    pd.testing.assert_frame_equal(got.rows, want, check_dtype=False, check_index_type=False)


def test_every_page_together_is_the_whole_index(stores):
    frame, store = stores[0]
    expected = _expected(frame, RecordFilter(), "")
    assert len(expected) > 20  # several pages of 9
    pages = []
    for offset in range(0, len(expected) + 9, 9):
        pages.append(store.sources_page(RecordFilter(), limit=9, offset=offset).rows)
    whole = pd.concat(pages, ignore_index=True)
    pd.testing.assert_frame_equal(whole, expected, check_dtype=False)
    assert whole["n_records"].is_monotonic_decreasing


def test_a_shared_source_lists_each_citing_record_once(stores):
    _, store = stores[1]
    got = store.sources_page(RecordFilter(), limit=500).rows
    top = got.iloc[0]
    assert top["n_records"] == len(top["record_ids"]) == len(set(top["record_ids"])) > 1


def test_an_empty_selection_has_no_sources(stores):
    _, store = stores[0]
    got = store.sources_page(RecordFilter(kinds=frozenset()), limit=10)
    assert (got.matching, got.total, len(got.rows)) == (0, 0, 0)
    assert list(got.rows.columns) == list(INDEX_COLUMNS)


def test_user_text_travels_as_parameters_only():
    hostile = "x'); DROP TABLE idx; --"
    sql, params = sources_page_sql(RecordFilter(search=hostile), hostile, 5, 0)
    assert "DROP" not in sql
    assert hostile.lower() in params


def test_a_negative_page_is_refused():
    with pytest.raises(ValueError, match="limit and offset"):
        sources_page_sql(RecordFilter(), "", -1, 0)


def test_via_notes_keep_their_first_appearance_order(tmp_path):
    shared = {"publisher": "Reuters", "title": "Fund report"}
    frame = _frame(3, seed=9)
    frame["sources"] = [[{**shared, "via": "Kania 2019"}],
                        [{**shared, "via": "Laskai 2018"}, {**shared, "via": "Kania 2019"}],
                        [{**shared, "via": "Allen 2020"}]]
    store = open_store(write_store(frame, tmp_path / "v.parquet"), index_dir=tmp_path)
    try:
        got = store.sources_page(RecordFilter(), limit=5).rows
    finally:
        store.close()
    # first seen: Kania (r-0), Laskai (r-1), Allen (r-2): neither sorted nor reversed
    assert got["via"].tolist() == ["Kania 2019; Laskai 2018; Allen 2020"]
    assert got["record_ids"].tolist() == [("r-0", "r-1", "r-2")]
    pd.testing.assert_frame_equal(got, _expected(frame, RecordFilter(), ""), check_dtype=False)
