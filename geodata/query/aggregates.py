"""Counts and fund capital by year, domain and province, computed in the store.

The same tables as :func:`geodata.query.frame_aggregates.by_year`,
:func:`~geodata.query.frame_aggregates.by_domain` and
:func:`~geodata.query.frame_aggregates.by_province` (same columns, order, zero-filling
and rules: unknown fund sizes are left out of capital sums and counted in
``funds_unknown_size``), but grouped by DuckDB over the filtered selection,
so a chart or the choropleth never needs the records in Python. Tests compare
each table with the pandas version on the same data and filter.

Example
-------
>>> import tempfile, pathlib
>>> from geodata.query.filters import RecordFilter
>>> from geodata.store.load import default_dataset_paths
>>> from geodata.query.engine import open_store
>>> from geodata.store.cache import compiled_store
>>> cache = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(compiled_store(default_dataset_paths(), cache), index_dir=cache)
>>> table = by_province(store, RecordFilter())
>>> int(table["records"].sum()) <= len(store)  # unplaced organisations have no province
True
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from geodata.model.schema import DOMAINS, PROVINCES
from geodata.query.engine import AtlasStore
from geodata.query.filters import RecordFilter
from geodata.query.frame_aggregates import KIND_COLUMNS
from geodata.query.sql import filter_condition

_VALUE_COLUMNS = [*KIND_COLUMNS, "records", "capital_rmb_bn", "funds_unknown_size"]


def _grouped(store: AtlasStore, flt: RecordFilter, key: str) -> pd.DataFrame:
    """One row per ``key`` value present: counts per layer, known capital, unknown sizes."""
    where, params = filter_condition(flt)
    kind_counts = ", ".join(
        f'count(*) FILTER (WHERE kind = ?) AS "{kind}"' for kind in KIND_COLUMNS
    )
    selection = f"SELECT kind, fund_size_rmb_bn, {{key}} AS key FROM idx WHERE {where}"
    source = selection.format(key="unnest(domains)" if key == "domain" else key)
    sql = (
        f"SELECT key, {kind_counts}, "
        "coalesce(sum(fund_size_rmb_bn) FILTER (WHERE kind = 'fund'), 0) AS capital_rmb_bn, "
        "count(*) FILTER (WHERE kind = 'fund' AND fund_size_rmb_bn IS NULL) "
        "AS funds_unknown_size "
        f"FROM ({source}) GROUP BY key"
    )
    return store.sql(sql, [*KIND_COLUMNS, *params])


def _zero_filled(grouped: pd.DataFrame, key: str, keys: Iterable) -> pd.DataFrame:
    table = grouped.set_index("key").reindex(list(keys))
    out = pd.DataFrame(index=table.index)
    for kind in KIND_COLUMNS:
        out[kind] = table[kind].fillna(0).astype("int64")
    out["records"] = out[KIND_COLUMNS].sum(axis=1).astype("int64")
    out["capital_rmb_bn"] = table["capital_rmb_bn"].fillna(0.0).astype("float64")
    out["funds_unknown_size"] = table["funds_unknown_size"].fillna(0).astype("int64")
    out.index.name = key
    return out.reset_index()


def by_year(
    store: AtlasStore, flt: RecordFilter, years: tuple[int, int] | None = None
) -> pd.DataFrame:
    """:func:`geodata.query.frame_aggregates.by_year` of the records ``flt`` keeps,
    grouped in the store."""
    columns = ["year", *_VALUE_COLUMNS, *(f"{c}_cumulative" for c in _VALUE_COLUMNS)]
    if years is not None:
        first, last = (int(y) for y in years)
        if first > last:
            raise ValueError(f"years should be (first, last) with first <= last, got {years}")
    grouped = _grouped(store, flt, "year")
    # Undated records (organisations or funds without a year) have no place on a
    # year axis; a selection of only those is an empty table, as in frame_aggregates.
    grouped = grouped[grouped["key"].notna()]
    if grouped.empty and years is None:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns}).astype(
            {"capital_rmb_bn": "float64", "capital_rmb_bn_cumulative": "float64"}
        )
    span = [int(grouped["key"].min()), int(grouped["key"].max())] if not grouped.empty else []
    if years is not None:
        span += [first, last]
    table = _zero_filled(grouped, "year", range(min(span), max(span) + 1))
    table["year"] = table["year"].astype("int64")
    for c in _VALUE_COLUMNS:
        table[f"{c}_cumulative"] = table[c].cumsum()
    if years is not None:
        table = table[(table["year"] >= first) & (table["year"] <= last)]
    return table[columns].reset_index(drop=True)


def by_domain(store: AtlasStore, flt: RecordFilter) -> pd.DataFrame:
    """:func:`geodata.query.frame_aggregates.by_domain` of the records ``flt`` keeps
    (a record counts once in each of its domains)."""
    table = _zero_filled(_grouped(store, flt, "domain"), "domain", DOMAINS)
    table.insert(1, "domain_label", table["domain"].map(DOMAINS))
    return table


def by_province(store: AtlasStore, flt: RecordFilter) -> pd.DataFrame:
    """:func:`geodata.query.frame_aggregates.by_province` of the records ``flt`` keeps,
    every province a row."""
    table = _zero_filled(_grouped(store, flt, "province"), "province", PROVINCES)
    table.insert(1, "province_zh", table["province"].map(PROVINCES))
    return table
