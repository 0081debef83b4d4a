"""The SQL query layer against the pure-Python filters and aggregates, on the same data.

The store must answer every :class:`RecordFilter` exactly as
:func:`geodata.query.filters.filter_records` does (same ids, same order) and give
the same chart tables as :mod:`geodata.query.frame_aggregates`. Hypothesis draws the
filters (and, in one test, the data), including unknown fund sizes, empty
sets and search text full of quotes, ``%``, ``_`` and case-folding traps.
"""

from __future__ import annotations

import random

import pandas as pd
import pytest
from geopandas.testing import assert_geodataframe_equal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geodata.model.frame import records_to_frame
from geodata.model.schema import (
    CATEGORIES,
    CITIES_ZH,
    DOMAINS,
    KINDS,
    ORG_CATEGORIES,
    PROVINCES,
    SPONSOR_LEVELS,
    Record,
)
from geodata.query import aggregates as sql_aggregates
from geodata.query import frame_aggregates as aggregate
from geodata.query.engine import StoreError, open_store
from geodata.query.filters import FundSizeRange, RecordFilter, filter_bounds, filter_records
from geodata.query.sql import filter_condition
from geodata.store.geoparquet import write_store

#: Names that trip naive SQL or naive case-insensitivity: quotes, LIKE
#: wildcards, a backslash, ß (casefolds to "ss", lowercases to itself), a
#: final sigma, a dotted capital I, a title-case digraph, CJK, runs of spaces.
TRICKY_NAMES: list[tuple[str, str]] = [
    ("O'Brien's 'Quoted' Lab", "奥布莱恩实验室"),
    ("100% Guidance Fund", "百分之百基金"),
    ("under_score Park", "下划线园区"),
    ("Back\\slash Centre", "反斜杠中心"),
    ("Große Straße Works", "大街工厂"),
    ("STRASSE Holdings", "街道控股"),
    ("ΣΊΣΥΦΟΣ Institute", "西西弗斯研究所"),
    ("İstanbul Liaison Office", "伊斯坦布尔联络处"),
    ("Ǆemal Forge", "杰马尔锻造"),
    ("Robert'); DROP TABLE idx; -- Fund", "注入基金"),
    ("Twin  Space   Park", "双空格园区"),
    ("Ａｌｐｈａ Fullwidth Lab", "全角实验室"),
]
SEARCH_TRAPS = ["'", "''", "%", "_", "\\", "%_%", "ß", "ss", "SS", "σ", "ς", "i̇", "ǆ",
                "'; DROP TABLE idx; --", "drop table", "  space  ", "基金", "ａｌｐｈａ", "\x00"]


#: Cities the search knows in both languages, and one it does not.
CITIES = [*list(CITIES_ZH)[:6], "Nowhere Town", None]


def _organisation(i: int, rng: random.Random, names: tuple[str, str] | None) -> Record:
    """An organisation: dated or not, placed or not, with aliases, a city, a sponsor level."""
    name_en, name_zh = names or (f"Org {i} {rng.choice(['Alpha', 'Institute'])}", f"机构{i}")
    raw = {
        "id": f"r-{i}", "kind": "organisation", "category": rng.choice(sorted(ORG_CATEGORIES)),
        "name_en": name_en, "name_zh": name_zh, "province": rng.choice(list(PROVINCES)),
        "city": rng.choice(CITIES), "domains": rng.sample(list(DOMAINS), rng.randint(1, 2)),
        "aliases": rng.choice([[], ["CAEP"], [f"Alias {i}", "九院"]]),
        "sponsor_level": rng.choice([None, *SPONSOR_LEVELS]),
        "description": "A generated organisation for the query-layer tests.",
        "sources": [{"publisher": "Test", "title": f"Item {i}"}],
    }
    if rng.random() < 0.5:
        raw["year"] = rng.randint(1950, 2026)
    if rng.random() < 0.8:
        raw.update(lat=round(rng.uniform(20, 50), 4), lon=round(rng.uniform(90, 130), 4),
                   location_precision="city")
    else:
        raw["unplaced_reason"] = "site not published"
    return Record.model_validate(raw)


def _record(i: int, rng: random.Random, names: tuple[str, str] | None = None) -> Record:
    kind = rng.choice(["cluster", "cluster", "fund", "fund", "zone", "organisation"])
    if kind == "organisation":
        return _organisation(i, rng, names)
    name_en, name_zh = names or (f"Record {i} {rng.choice(['Alpha', 'beta', 'GAMMA'])}",
                                 f"记录{i}")
    raw = {
        "id": f"r-{i}", "kind": kind, "category": sorted(CATEGORIES[kind])[i % len(
            CATEGORIES[kind])],
        "name_en": name_en, "name_zh": name_zh,
        "province": rng.choice(list(PROVINCES)), "city": rng.choice(CITIES),
        "lat": round(rng.uniform(20, 50), 4), "lon": round(rng.uniform(90, 130), 4),
        "location_precision": "city", "year": rng.randint(2008, 2026),
        "domains": rng.sample(list(DOMAINS), rng.randint(1, 3)),
        "description": "A generated record for the query-layer tests.",
        "sources": [{"publisher": "Test", "title": f"Item {i}"}],
    }
    if kind == "fund" and rng.random() < 0.6:
        raw["fund_size_rmb_bn"] = rng.choice([0.5, 5.0, 10.0, 50.0, 200.0,
                                              round(rng.uniform(0.1, 300), 2)])
    if kind == "zone":
        raw["status"] = "approved"
    return Record.model_validate(raw)


def _records(n: int, seed: int) -> list[Record]:
    rng = random.Random(seed)
    tricky = iter(TRICKY_NAMES)
    return [_record(i, rng, next(tricky, None)) for i in range(n)]


def _frame(n: int, seed: int):
    """Records as a frame with relation columns: ``parent_of`` chains and US-list marks."""
    frame = records_to_frame(_records(n, seed))
    rng = random.Random(seed + 1)
    ids = frame["id"].tolist()
    parents: dict[str, str] = {}
    for i, rid in enumerate(ids[1:], start=1):
        if rng.random() < 0.3:
            parents[rid] = ids[rng.randrange(i)]  # an earlier record: no cycles

    def ancestors(rid: str) -> tuple[str, ...]:
        out = []
        while rid in parents:
            rid = parents[rid]
            out.append(rid)
        return tuple(out)

    frame["ancestors"] = frame["id"].map(ancestors)
    frame["designated"] = [rng.random() < 0.15 for _ in ids]
    return frame


def _record_columns(frame):
    """The record columns (what the store's frames hold), without the relation columns."""
    return frame.drop(columns=["ancestors", "designated"])


@pytest.fixture(scope="module")
def tricky(tmp_path_factory):
    """(frame, store) of 150 records, a dozen with tricky names, a third of funds unsized."""
    frame = _frame(150, seed=13)
    path = write_store(frame, tmp_path_factory.mktemp("store") / "tricky.parquet")
    store = open_store(path, index_dir=path.parent)
    yield frame, store
    store.close()


@st.composite
def record_filters(draw) -> RecordFilter:
    years = sorted(draw(st.lists(st.integers(2005, 2030), min_size=2, max_size=2)))
    year_min = draw(st.sampled_from([None, years[0]]))
    year_max = draw(st.sampled_from([None, years[1]]))
    sizes = sorted(draw(st.lists(
        st.sampled_from([0.5, 5.0, 10.0, 50.0, 200.0]) | st.floats(0, 400, allow_nan=False),
        min_size=2, max_size=2,
    )))
    fund = FundSizeRange(
        min_bn=draw(st.sampled_from([None, sizes[0]])),
        max_bn=draw(st.sampled_from([None, sizes[1]])),
        include_unknown=draw(st.booleans()),
    )
    fragments = [w for en, zh in TRICKY_NAMES for w in (*en.split(), zh)]
    search = draw(
        st.just("") | st.text(max_size=6) | st.sampled_from(SEARCH_TRAPS)
        | st.sampled_from(fragments).map(lambda s: s.swapcase())
        | st.sampled_from(["record 1", "ALPHA", "beta", "记录1", "Record  12", "caep", "九院",
                           "alias 3", "org 1"])
        | st.sampled_from([*CITIES_ZH, *CITIES_ZH.values(), *PROVINCES, *PROVINCES.values()])
        .map(lambda s: s.upper())
    )
    return RecordFilter(
        kinds=draw(st.frozensets(st.sampled_from(list(KINDS)))),
        year_min=year_min, year_max=year_max, fund_size=fund,
        domains=draw(st.frozensets(st.sampled_from(list(DOMAINS)), max_size=4)),
        search=search,
        provinces=draw(st.frozensets(st.sampled_from(list(PROVINCES)), max_size=6)),
        group=draw(st.sampled_from([None, "r-0", "r-1", "r-5", "r-20", "r-77", "no-such-id"])),
        org_categories=draw(st.frozensets(st.sampled_from(sorted(ORG_CATEGORIES)), max_size=3)),
        designated=draw(st.sampled_from([None, True, False])),
        sponsor_levels=draw(st.frozensets(st.sampled_from(list(SPONSOR_LEVELS)), max_size=3)),
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flt=record_filters())
def test_sql_filter_gives_the_same_ids_as_python(tricky, flt):
    frame, store = tricky
    expected = filter_records(frame, flt)["id"].tolist()
    assert store.filter_ids(flt) == expected
    assert store.count(flt) == len(expected)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
          HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n=st.integers(0, 40), flt=record_filters(),
       relations=st.booleans())
def test_sql_filter_matches_python_on_random_data(tmp_path, seed, n, flt, relations):
    # With and without the relation columns (a store compiled from plain records has none).
    frame = _frame(n, seed) if relations else records_to_frame(_records(n, seed))
    path = write_store(frame, tmp_path / f"random-{seed}-{n}.parquet")
    store = open_store(path, index_dir=tmp_path)
    try:
        assert store.filter_ids(flt) == filter_records(frame, flt)["id"].tolist()
    finally:
        store.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(flt=record_filters(), span=st.sampled_from([None, (2010, 2020), (2000, 2030)]))
def test_sql_aggregates_equal_the_pandas_tables(tricky, flt, span):
    frame, store = tricky
    selected = filter_records(frame, flt)
    pd.testing.assert_frame_equal(
        sql_aggregates.by_year(store, flt, span), aggregate.by_year(selected, span)
    )
    pd.testing.assert_frame_equal(
        sql_aggregates.by_domain(store, flt), aggregate.by_domain(selected)
    )
    pd.testing.assert_frame_equal(
        sql_aggregates.by_province(store, flt), aggregate.by_province(selected)
    )


@pytest.mark.parametrize("span", [None, (2010, 2020)])
def test_a_selection_of_only_undated_records_has_an_empty_year_table(tricky, span):
    """Hypothesis found it: undated organisations alone made the SQL by_year fail."""
    frame, store = tricky
    flt = RecordFilter(kinds=frozenset({"organisation"}), year_min=None)
    undated = frame[(frame["kind"] == "organisation") & frame["year"].isna()]
    assert len(undated), "the tricky data should hold undated organisations"
    table = aggregate.by_year(undated, span)
    assert table["records"].sum() == 0
    # The store's answer for a store of exactly those records.
    group_store = open_store(write_store(undated.drop(columns=["ancestors", "designated"]),
                                         store.path.parent / f"undated-{span}.parquet"),
                             index_dir=store.path.parent)
    try:
        pd.testing.assert_frame_equal(sql_aggregates.by_year(group_store, flt, span), table)
    finally:
        group_store.close()


def test_every_tricky_name_is_found_by_any_case_of_itself(tricky):
    frame, store = tricky
    for name_en, name_zh in TRICKY_NAMES:
        for text in (name_en, name_en.upper(), name_en.lower(), name_zh):
            flt = RecordFilter(search=text)
            assert store.filter_ids(flt) == filter_records(frame, flt)["id"].tolist()
            # The search collapses runs of spaces in the query but not in the names
            # (filters.py's rule), so a name with a double space cannot find itself.
            if "  " not in text:
                assert store.filter_ids(flt), f"{text!r} found nothing"


@pytest.mark.parametrize("text", ["'; DROP TABLE idx; --", "x' OR '1'='1", "%", "_", "\\"])
def test_search_text_is_a_parameter_never_sql(tricky, text):
    frame, store = tricky
    where, params = filter_condition(RecordFilter(search=text))
    assert where == filter_condition(RecordFilter(search="plain"))[0]  # same SQL text
    assert text.casefold() in params
    got = store.filter_ids(RecordFilter(search=text))
    assert got == filter_records(frame, RecordFilter(search=text))["id"].tolist()
    assert len(store) == len(frame)  # the table is still there, every row of it


def test_wildcards_are_literal(tricky):
    _, store = tricky
    assert store.filter_ids(RecordFilter(search="%")) == ["r-1"]
    assert store.filter_ids(RecordFilter(search="_")) == ["r-2"]
    assert store.filter_ids(RecordFilter(search="'; drop table idx; --")) == []
    assert store.filter_ids(RecordFilter(search="drop table idx")) == ["r-9"]


def test_ss_matches_eszett_as_python_does(tricky):
    frame, store = tricky
    got = store.filter_ids(RecordFilter(search="strasse"))
    assert got == filter_records(frame, RecordFilter(search="strasse"))["id"].tolist()
    assert set(got) == {"r-4", "r-5"}


def test_filter_frame_equals_the_python_selection(tricky):
    frame, store = tricky
    flt = RecordFilter(kinds=frozenset({"fund", "zone"}), year_min=2012,
                       fund_size=FundSizeRange(min_bn=1, include_unknown=True))
    expected = _record_columns(filter_records(frame, flt)).reset_index(drop=True)
    assert_geodataframe_equal(store.filter_frame(flt), expected)


def test_pages_walk_the_selection_in_order(tricky):
    frame, store = tricky
    flt = RecordFilter(domains=frozenset({"ai", "cyber", "energy", "general"}))
    expected = filter_records(frame, flt)["id"].tolist()
    assert len(expected) > 20
    pages = [store.filter_frame(flt, limit=7, offset=o)["id"].tolist()
             for o in range(0, len(expected), 7)]
    assert [i for page in pages for i in page] == expected
    assert all(len(p) == 7 for p in pages[:-1])
    with pytest.raises(ValueError, match="limit and offset"):
        store.filter_frame(flt, limit=-1)


def test_filter_rows_are_source_positions(tricky):
    frame, store = tricky
    flt = RecordFilter(kinds=frozenset({"zone"}))
    rows = store.filter_rows(flt)
    assert rows.dtype == "int64"
    assert frame.iloc[rows]["id"].tolist() == filter_records(frame, flt)["id"].tolist()


def test_open_store_refuses_a_foreign_parquet(tmp_path, sample_frame):
    foreign = tmp_path / "foreign.parquet"
    sample_frame.drop(columns=["domains", "sources"]).to_parquet(foreign)
    with pytest.raises(StoreError, match=r"not a CMF Atlas store.*geodata convert"):
        open_store(foreign)
    with pytest.raises(StoreError, match="no such store file"):
        open_store(tmp_path / "missing.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(StoreError, match="not a readable Parquet file"):
        open_store(tmp_path / "junk.parquet")


def test_filter_condition_refuses_other_objects():
    with pytest.raises(TypeError, match="RecordFilter"):
        filter_condition({"search": "x"})


def test_rows_frame_reads_just_those_records_in_source_order(tricky):
    frame, store = tricky
    got = store.rows_frame([140, 3, 77, 3])
    assert_geodataframe_equal(got, _record_columns(frame.iloc[[3, 77, 140]]).reset_index(drop=True))


def test_an_empty_selection_is_an_empty_frame_with_the_record_columns(tricky):
    frame, store = tricky
    got = store.filter_frame(RecordFilter(kinds=frozenset()))
    assert got.empty
    expected = _record_columns(frame).columns.tolist()
    assert got.columns.tolist()[: len(expected) - 1] == expected[:-1]
    assert store.filter_ids(RecordFilter(search="no such name anywhere")) == []


def test_one_store_serves_many_threads_at_once(tricky):
    from concurrent.futures import ThreadPoolExecutor

    frame, store = tricky
    filters = [RecordFilter(kinds=frozenset({k})) for k in KINDS] + [
        RecordFilter(search=en.split()[0]) for en, _ in TRICKY_NAMES
    ]
    expected = [filter_records(frame, f)["id"].tolist() for f in filters]
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(store.filter_ids, filters * 4))
    assert got == expected * 4


def test_bounds_and_records_by_id_match_the_python_helpers(tricky, tmp_path):
    frame, store = tricky
    assert store.bounds() == filter_bounds(frame)
    got = store.ids_frame(["r-77", "nope", "r-3"])
    assert_geodataframe_equal(got, _record_columns(frame.iloc[[3, 77]]).reset_index(drop=True))
    empty = open_store(write_store(records_to_frame([]), tmp_path / "e.parquet"),
                       index_dir=tmp_path)
    assert empty.bounds() == filter_bounds(records_to_frame([]))
    assert len(empty) == 0
