"""The Sources page's index of a large selection, as one SQL query over the store.

:func:`geodata.query.frame_aggregates.sources_index` builds the index in
Python from every selected record's decoded sources: 3.6 s and a 100,000-row
table at 100,000 records, and no answer within a minute at a million. Here
DuckDB unnests the stored JSON, groups it and returns one page of the sorted
index, with the totals; only the page's rows carry their citing records'
names. The semantics are those of ``sources_index`` followed by
:func:`~geodata.query.frame_aggregates.search_sources` (a property-based
test compares the two), with one difference: case is ignored with SQL
``lower()``, which differs from Python's ``casefold()`` for a few letters
such as "ß".

Every value from the user (the filter, the search text, the page) travels
as a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from geodata.query.filters import RecordFilter
from geodata.query.sql import filter_condition
from geodata.store.geoparquet import ROW_COLUMN

if TYPE_CHECKING:
    from geodata.query.engine import AtlasStore

#: The columns of a page, as :func:`~geodata.query.frame_aggregates.sources_index` has them.
INDEX_COLUMNS = ("publisher", "title", "date", "url", "via", "record_ids",
                 "record_names", "record_names_zh", "n_records")

#: The fields of a stored source the index reads (the rest stay in the JSON).
_SOURCE_TYPE = ('[{"publisher": "VARCHAR", "title": "VARCHAR", "date": "VARCHAR", '
                '"url": "VARCHAR", "via": "VARCHAR"}]')

#: A source's first appearance: record position, then its place in the record's list.
_FIRST = f"min({ROW_COLUMN}::HUGEINT * 1000000 + pos)"


@dataclass(frozen=True)
class SourcesPage:
    """One page of a selection's sources index and the counts around it."""

    rows: pd.DataFrame  #: :data:`INDEX_COLUMNS`, most cited first
    matching: int  #: distinct sources that match the search (all of them when it is blank)
    total: int  #: distinct sources cited by the selection


def _needle(text: str) -> str:
    """The search as :func:`~geodata.query.frame_aggregates.search_sources` reads it."""
    return " ".join(str(text).split()).lower()


def _index_sql(flt: RecordFilter, search: str) -> tuple[str, list]:
    """The common part: ``WITH`` … ``hits`` (every source of the selection, with
    ``hit`` for the search) and ``totals``; SQL text from this module only."""
    where, params = filter_condition(flt)
    needle = _needle(search)
    sql = f"""WITH sel AS (SELECT {ROW_COLUMN} FROM idx WHERE {where}),
decoded AS (
    SELECT r.{ROW_COLUMN}, r.id, r.name_en, r.name_zh,
           from_json(r.sources, '{_SOURCE_TYPE}') AS srcs
    FROM records r JOIN sel USING ({ROW_COLUMN})
),
cited AS (
    SELECT {ROW_COLUMN}, id, name_en, name_zh,
           unnest(srcs) AS s, unnest(range(len(srcs))) AS pos
    FROM decoded
),
keyed AS (
    SELECT {ROW_COLUMN}, pos, id, name_en, name_zh,
           coalesce(s.publisher, '') AS publisher, coalesce(s.title, '') AS title,
           coalesce(s.date, '') AS date, coalesce(s.url, '') AS url, s.via AS via
    FROM cited
),
per_record AS (
    SELECT publisher, title, date, url, {ROW_COLUMN}, any_value(id) AS id,
           any_value(name_en) AS name_en, any_value(name_zh) AS name_zh,
           {_FIRST} AS first_seen
    FROM keyed GROUP BY publisher, title, date, url, {ROW_COLUMN}
),
vias AS (
    SELECT publisher, title, date, url, string_agg(via, '; ' ORDER BY first_seen) AS via
    FROM (SELECT publisher, title, date, url, via, {_FIRST} AS first_seen
          FROM keyed WHERE via IS NOT NULL AND via <> ''
          GROUP BY publisher, title, date, url, via)
    GROUP BY publisher, title, date, url
),
grouped AS (
    SELECT publisher, title, date, url, count(*) AS n_records,
           min(first_seen) AS first_seen,
           bool_or(contains(lower(name_en), ?) OR contains(lower(name_zh), ?)) AS name_hit
    FROM per_record GROUP BY publisher, title, date, url
),
hits AS MATERIALIZED (
    SELECT *, (? = '' OR name_hit OR contains(lower(publisher), ?)
               OR contains(lower(title), ?) OR contains(lower(url), ?)) AS hit
    FROM grouped
),
totals AS (SELECT count(*) AS total, count(*) FILTER (WHERE hit) AS matching FROM hits)
"""
    return sql, [*params, needle, needle, needle, needle, needle, needle]


def sources_page_sql(flt: RecordFilter, search: str, limit: int, offset: int
                     ) -> tuple[str, list]:
    """The query for :func:`sources_page` and its parameters."""
    if limit < 0 or offset < 0:
        raise ValueError(f"limit and offset should be >= 0, got {limit}, {offset}")
    common, params = _index_sql(flt, search)
    sql = common.rstrip("\n") + f""",
page AS (
    SELECT publisher, title, date, url, n_records, first_seen, total, matching
    FROM hits CROSS JOIN totals
    WHERE hit
    ORDER BY n_records DESC, lower(publisher), lower(title), lower(date), first_seen
    LIMIT ? OFFSET ?
)
SELECT p.publisher, p.title, p.date, p.url, coalesce(v.via, '') AS via,
       list(r.id ORDER BY r.{ROW_COLUMN}) AS record_ids,
       list(r.name_en ORDER BY r.{ROW_COLUMN}) AS record_names,
       list(r.name_zh ORDER BY r.{ROW_COLUMN}) AS record_names_zh,
       any_value(p.n_records) AS n_records, any_value(p.total) AS total,
       any_value(p.matching) AS matching, any_value(p.first_seen) AS first_seen
FROM page p
JOIN per_record r USING (publisher, title, date, url)
LEFT JOIN vias v USING (publisher, title, date, url)
GROUP BY p.publisher, p.title, p.date, p.url, v.via
ORDER BY any_value(p.n_records) DESC, lower(p.publisher), lower(p.title), lower(p.date),
         any_value(p.first_seen)
"""
    return sql, [*params, int(limit), int(offset)]


def sources_page(store: AtlasStore, flt: RecordFilter, search: str = "", *, limit: int,
                 offset: int = 0) -> SourcesPage:
    """Rows ``offset`` to ``offset + limit`` of the sources index of what ``flt``
    keeps in ``store`` (an :class:`~geodata.query.engine.AtlasStore`), searched
    for ``search``, with the number of sources matching and in all."""
    sql, params = sources_page_sql(flt, search, limit, offset)
    df = store.sql(sql, params)
    if df.empty:  # a page past the end, or nothing matches: the counts alone
        common, params = _index_sql(flt, search)
        matching, total = store.sql(
            common + "SELECT matching, total FROM totals", params).iloc[0].tolist()
        return SourcesPage(pd.DataFrame(columns=list(INDEX_COLUMNS)), int(matching), int(total))
    matching, total = int(df["matching"].iloc[0]), int(df["total"].iloc[0])
    rows = df[list(INDEX_COLUMNS)].copy()
    for column in ("record_ids", "record_names", "record_names_zh"):
        rows[column] = rows[column].map(tuple)
    rows["n_records"] = rows["n_records"].astype("int64")
    return SourcesPage(rows.reset_index(drop=True), matching, total)
