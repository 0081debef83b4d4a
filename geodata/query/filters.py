"""The filter semantics shared by the sidebar and ``python -m geodata list``.

One frozen, hashable :class:`RecordFilter` describes a selection; the
dashboard builds it from widgets, the CLI from flags, and both call
:func:`filter_records`, so the two always give the same answer.

Semantics
---------
- ``kinds``: layers to keep.
- ``year_min`` / ``year_max``: inclusive bounds on ``year`` (established or
  first reported; ``year_basis`` says which). The year filter applies to
  records *with* a year: undated records (organisations, some funds) pass it.
- ``fund_size``: constrains funds only (clusters and zones pass). Funds of
  unknown size pass when ``fund_size.include_unknown`` is true.
- ``domains``: any-of; empty means all.
- ``search``: case-insensitive substring of a record's names (English, Chinese,
  aliases if the data has them), its city or its province, in English or
  Chinese; a city or province typed in one language also finds the other
  (:func:`search_matches`), so "Mianyang" and "绵阳" give the same records.
- ``provinces``: any-of; empty means all.
- ``group``: a record id; keeps it and everything under it through
  ``parent_of`` links, transitively (needs the frame's ``ancestors`` column,
  :func:`geodata.model.relations.attach_relations`).
- ``org_categories``: any-of, constrains organisations only (other layers
  pass, as the fund-size range constrains funds only).
- ``designated``: ``True`` keeps records on a US list (an accepted designation
  in force, listed or under a listed parent); ``False`` keeps the others;
  ``None`` does not filter.
- ``sponsor_levels``: any-of; a record without a sponsor level counts as
  ``unknown``.

Example
-------
>>> f = RecordFilter(kinds=frozenset({"fund"}), fund_size=FundSizeRange(min_bn=10))
>>> f.fund_size.min_bn
10
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from geodata.model.schema import (
    CITIES_ZH,
    DOMAINS,
    KINDS,
    ORG_CATEGORIES,
    PROVINCES,
    SPONSOR_LEVELS,
)

#: What the name search looks in, for the search box's help text.
SEARCH_HELP = (
    "Searches each record's English and Chinese names, its aliases, its city and its "
    "province, in either language (case-insensitive): “Mianyang” and “绵阳” find the same "
    "records."
)


@dataclass(frozen=True)
class FundSizeRange:
    """Inclusive RMB-billion bounds for funds; ``None`` leaves a side open."""

    min_bn: float | None = None
    max_bn: float | None = None
    include_unknown: bool = True


@dataclass(frozen=True)
class RecordFilter:
    """A selection of records, as set in the sidebar or on the command line."""

    kinds: frozenset[str] = field(default_factory=lambda: frozenset(KINDS))
    year_min: int | None = None
    year_max: int | None = None
    fund_size: FundSizeRange = field(default_factory=FundSizeRange)
    domains: frozenset[str] = frozenset()
    search: str = ""
    provinces: frozenset[str] = frozenset()
    group: str | None = None
    org_categories: frozenset[str] = frozenset()
    designated: bool | None = None
    sponsor_levels: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown_cats = set(self.org_categories) - set(ORG_CATEGORIES)
        if unknown_cats:
            raise ValueError(
                f"unknown organisation categor(ies) {sorted(unknown_cats)}; "
                f"expected any of {list(ORG_CATEGORIES)}"
            )
        unknown_levels = set(self.sponsor_levels) - set(SPONSOR_LEVELS)
        if unknown_levels:
            raise ValueError(
                f"unknown sponsor level(s) {sorted(unknown_levels)}; "
                f"expected any of {list(SPONSOR_LEVELS)}"
            )
        unknown_kinds = set(self.kinds) - set(KINDS)
        if unknown_kinds:
            raise ValueError(
                f"unknown layer(s) {sorted(unknown_kinds)}; expected any of {list(KINDS)}"
            )
        unknown_domains = set(self.domains) - set(DOMAINS)
        if unknown_domains:
            raise ValueError(
                f"unknown domain(s) {sorted(unknown_domains)}; expected any of {sorted(DOMAINS)}"
            )
        unknown_provinces = set(self.provinces) - set(PROVINCES)
        if unknown_provinces:
            raise ValueError(
                f"unknown province(s) {sorted(unknown_provinces)}; "
                f"expected any of {list(PROVINCES)}"
            )
        if (
            self.year_min is not None
            and self.year_max is not None
            and self.year_min > self.year_max
        ):
            raise ValueError(f"year_min {self.year_min} is after year_max {self.year_max}")
        fs = self.fund_size
        if fs.min_bn is not None and fs.max_bn is not None and fs.min_bn > fs.max_bn:
            raise ValueError(f"fund-size minimum {fs.min_bn} exceeds maximum {fs.max_bn}")


def _place_synonyms() -> dict[str, frozenset[str]]:
    """Each city and province name, casefolded, -> its names in both languages."""
    pairs = [*CITIES_ZH.items(), *PROVINCES.items()]
    groups: dict[str, set[str]] = {}
    for en, zh in pairs:
        group = groups.get(en.casefold(), set()) | groups.get(zh, set()) | {en.casefold(), zh}
        for name in group:
            groups[name] = group
    return {name: frozenset(group) for name, group in groups.items()}


_SYNONYMS = _place_synonyms()
_SEARCHED_COLUMNS = ("name_en", "name_zh", "aliases", "city", "province")

#: A column with :func:`search_haystack` computed once: the store keeps it, and a
#: lean frame (:func:`geodata.store.geoparquet.read_lean_frame`, which leaves the
#: aliases in the store) carries it, so a search never rebuilds it per keystroke.
HAYSTACK_COLUMN = "_haystack"


def _normalise(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def search_terms(text: str) -> frozenset[str]:
    """The needles a search for ``text`` looks for: itself, and a place's other name.

    >>> sorted(search_terms(" Mianyang "))
    ['mianyang', '绵阳']
    >>> sorted(search_terms("shaanxi"))
    ['shaanxi', '陕西']
    >>> sorted(search_terms("fund"))
    ['fund']
    """
    needle = _normalise(text)
    if not needle:
        return frozenset()
    return _SYNONYMS.get(needle, frozenset({needle}))


def search_haystack(frame: pd.DataFrame) -> pd.Series:
    """One casefolded text per record: names, aliases, and city and province in both languages.

    The store keeps it as a column (``_haystack``), so the SQL search
    (:mod:`geodata.query.sql`) matches exactly what :func:`search_matches` does.
    """
    parts = []
    for col in _SEARCHED_COLUMNS:
        if col not in frame.columns:
            continue
        values = frame[col].map(
            lambda v: " ".join(v) if isinstance(v, (list, tuple)) else ("" if v is None else v)
        ).fillna("").astype(str)
        parts.append(values)
        if col == "city":
            parts.append(values.map(lambda c: CITIES_ZH.get(c, "")))
        elif col == "province":
            parts.append(values.map(lambda p: PROVINCES.get(p, "")))
    if not parts:
        return pd.Series("", index=frame.index)
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + "\n" + part
    return joined.str.casefold()


def search_matches(frame: pd.DataFrame, text: str) -> pd.Series:
    """Which records a search for ``text`` finds (a boolean Series on ``frame``'s index).

    A record matches when any of :func:`search_terms` is a substring of its
    English or Chinese name, its aliases (a column the data may add), its
    city or its province, each in English and in Chinese
    (:data:`geodata.model.schema.CITIES_ZH`, :data:`geodata.model.schema.PROVINCES`).
    Blank text matches everything.

    >>> df = pd.DataFrame({"name_en": ["A lab", "B fund"], "name_zh": ["甲", "乙"],
    ...                    "city": ["Mianyang", None], "province": ["Sichuan", "Beijing"]})
    >>> search_matches(df, "绵阳").tolist(), search_matches(df, "北京").tolist()
    ([True, False], [False, True])
    """
    terms = search_terms(text)
    if not terms:
        return pd.Series(True, index=frame.index)
    hay = frame[HAYSTACK_COLUMN] if HAYSTACK_COLUMN in frame.columns else search_haystack(frame)
    mask = pd.Series(False, index=frame.index)
    for term in terms:
        mask |= hay.str.contains(term, regex=False)
    return mask


def _fund_size_ok(frame: pd.DataFrame, fs: FundSizeRange) -> pd.Series:
    size = frame["fund_size_rmb_bn"]
    is_fund = frame["kind"] == "fund"
    known = size.notna()
    in_range = pd.Series(True, index=frame.index)
    if fs.min_bn is not None:
        in_range &= size >= fs.min_bn
    if fs.max_bn is not None:
        in_range &= size <= fs.max_bn
    fund_ok = (known & in_range) | (~known & fs.include_unknown)
    return ~is_fund | fund_ok


def filter_records(
    frame: gpd.GeoDataFrame, flt: RecordFilter, columns: Sequence[str] | None = None
) -> gpd.GeoDataFrame:
    """Rows of ``frame`` that the filter keeps, in their original order.

    ``columns``: only these columns of the kept rows (a million-record selection
    copies a few columns, not all of them); default all.
    """
    mask = frame["kind"].isin(flt.kinds)
    # Undated records (organisations or funds without a year) pass the year filter.
    if flt.year_min is not None:
        mask &= (frame["year"] >= flt.year_min).fillna(True).astype(bool)
    if flt.year_max is not None:
        mask &= (frame["year"] <= flt.year_max).fillna(True).astype(bool)
    mask &= _fund_size_ok(frame, flt.fund_size)
    if flt.domains:
        wanted = flt.domains
        mask &= frame["domains"].map(lambda ds: not wanted.isdisjoint(ds)).astype(bool)
    if flt.search.strip():
        mask &= search_matches(frame, flt.search)
    if flt.provinces:
        mask &= frame["province"].isin(flt.provinces)
    if flt.group is not None:
        mask &= in_group(frame, flt.group)
    if flt.org_categories:
        is_org = frame["kind"] == "organisation"
        mask &= ~is_org | frame["category"].isin(flt.org_categories)
    if flt.designated is not None:
        on_list = _designated(frame)
        mask &= on_list if flt.designated else ~on_list
    if flt.sponsor_levels:
        level = frame["sponsor_level"].fillna("unknown") if "sponsor_level" in frame else None
        mask &= level.isin(flt.sponsor_levels) if level is not None else False
    if columns is not None:
        frame = frame[list(columns)]  # a lazy copy (copy-on-write)
    if bool(mask.all()):
        # Nothing filtered out (the default view): a lazy copy (copy-on-write), not
        # a copy of every column: 0.4 s and 800 MB at 1,000,000 records.
        return frame.copy(deep=False)
    return frame.loc[mask]


def fund_size_text(min_bn: float | None, max_bn: float | None) -> str:
    """A fund-size range in words, for subtitles and notices.

    >>> fund_size_text(10, None), fund_size_text(None, 50), fund_size_text(2.5, 50)
    ('funds of RMB 10 bn or more', 'funds of up to RMB 50 bn', 'funds of RMB 2.5–50 bn')
    """
    if min_bn is not None and max_bn is not None:
        return f"funds of RMB {min_bn:,.4g}–{max_bn:,.4g} bn"
    if min_bn is not None:
        return f"funds of RMB {min_bn:,.4g} bn or more"
    if max_bn is not None:
        return f"funds of up to RMB {max_bn:,.4g} bn"
    return "funds of any size"


def in_group(frame: pd.DataFrame, group: str) -> pd.Series:
    """Rows that are ``group`` or under it via ``parent_of`` links (transitively)."""
    mask = frame["id"] == group
    if "ancestors" in frame.columns:
        mask |= frame["ancestors"].map(lambda a: group in a).astype(bool)
    return mask


def _designated(frame: pd.DataFrame) -> pd.Series:
    if "designated" not in frame.columns:
        return pd.Series(False, index=frame.index)
    return frame["designated"].fillna(False).astype(bool)


def describe_filter(flt: RecordFilter) -> str:
    """The active filters in words, e.g. for a figure subtitle or a notice."""
    parts = []
    if set(flt.kinds) != set(KINDS):
        parts.append("layers: " + ", ".join(KINDS[k] for k in KINDS if k in flt.kinds))
    if flt.year_min is not None and flt.year_max is not None:
        parts.append(f"years {flt.year_min}–{flt.year_max}" if flt.year_min != flt.year_max
                     else f"year {flt.year_min}")
    elif flt.year_max is not None:
        parts.append(f"years up to {flt.year_max}")
    elif flt.year_min is not None:
        parts.append(f"years from {flt.year_min}")
    fs = flt.fund_size
    if fs.min_bn is not None or fs.max_bn is not None:
        parts.append(fund_size_text(fs.min_bn, fs.max_bn))
    if not fs.include_unknown:
        parts.append("funds of unknown size excluded")
    if flt.domains:
        parts.append("domains: " + ", ".join(DOMAINS[d] for d in sorted(flt.domains)))
    if flt.provinces:
        parts.append("provinces: " + ", ".join(sorted(flt.provinces)))
    if flt.search.strip():
        parts.append(f"search “{flt.search.strip()}”")
    if flt.group is not None:
        parts.append(f"group: {flt.group} and everything under it")
    if flt.org_categories:
        parts.append("organisations: " + ", ".join(
            ORG_CATEGORIES[c].split(" (")[0] for c in sorted(flt.org_categories)))
    if flt.designated is not None:
        parts.append("on a US list" if flt.designated else "not on a US list")
    if flt.sponsor_levels:
        parts.append("sponsor: " + ", ".join(
            SPONSOR_LEVELS[s].lower() for s in sorted(flt.sponsor_levels)))
    return "; ".join(parts) if parts else "all records"


@dataclass(frozen=True)
class FilterBounds:
    """The extent of the data, which sets the sliders' ends and defaults."""

    year_min: int
    year_max: int
    fund_max_bn: float


def follow_extent(value: tuple[float, float], old: tuple[float, float],
                  new: tuple[float, float]) -> tuple[float, float]:
    """A slider's range after the data's extent changed from ``old`` to ``new``.

    An end that sat at the old extent's end follows it, so "every year" stays every
    year when an upload adds a 2019 record; an end the user moved stays where it
    was (clamped into the new extent).

    >>> follow_extent((2016, 2018), (2016, 2018), (2016, 2019))
    (2016, 2019)
    >>> follow_extent((2016, 2017), (2016, 2018), (2015, 2019))
    (2015, 2017)
    """
    lo = new[0] if value[0] == old[0] else min(max(value[0], new[0]), new[1])
    hi = new[1] if value[1] == old[1] else min(max(value[1], new[0]), new[1])
    return (lo, hi) if lo <= hi else (new[0], new[1])


def bounds_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The few rows of ``frame`` that decide :func:`filter_bounds` (at most five).

    ``filter_bounds(bounds_rows(f), *more) == filter_bounds(f, *more)``, so a server
    can keep these rows of a million-record atlas instead of scanning it on every
    rerun.

    >>> a = pd.DataFrame({"kind": ["cluster", "fund", "organisation", "zone"],
    ...                   "year": [2015, 2020, 1895, 2017],
    ...                   "fund_size_rmb_bn": [None, 3.2, None, None]})
    >>> sorted(bounds_rows(a)["year"].tolist())
    [1895, 2015, 2020]
    """
    part = frame[["kind", "year", "fund_size_rmb_bn"]]
    picks: list = []
    sizes = part["fund_size_rmb_bn"]
    if sizes.notna().any():
        picks.append(sizes.idxmax())
    dated = part[part["year"].notna()]
    for rows in (dated[dated["kind"] != "organisation"], dated):
        if not rows.empty:
            picks += [rows["year"].idxmin(), rows["year"].idxmax()]
    return part.loc[list(dict.fromkeys(picks))]


def filter_bounds(frame: pd.DataFrame, *more: pd.DataFrame | None) -> FilterBounds:
    """Slider extents for ``frame`` and ``more``: their year span and largest fund (rounded up).

    ``more`` are further records the filters apply to (the user's own), so a
    2022 upload is inside the year slider's range. The span is that of places,
    funds and zones: an old university's founding year (1895) would squeeze
    the 2015-2019 records into a sliver; organisations outside it are kept
    while the slider is at its ends.

    >>> a = pd.DataFrame({"kind": ["cluster", "fund"], "year": [2015, 2020],
    ...                   "fund_size_rmb_bn": [None, 3.2]})
    >>> b = pd.DataFrame({"kind": ["cluster"], "year": [2022], "fund_size_rmb_bn": [None]})
    >>> filter_bounds(a, b)
    FilterBounds(year_min=2015, year_max=2022, fund_max_bn=4.0)
    """
    frames = [f for f in (frame, *more) if f is not None and not f.empty]
    if not frames:
        return FilterBounds(2000, 2030, 1.0)
    both = pd.concat([f[["kind", "year", "fund_size_rmb_bn"]] for f in frames])
    sizes = both["fund_size_rmb_bn"].dropna()
    top = float(sizes.max()) if not sizes.empty else 1.0
    dated = both[both["year"].notna()]
    not_orgs = dated[dated["kind"] != "organisation"]
    years = (not_orgs if not not_orgs.empty else dated)["year"]
    if years.empty:
        return FilterBounds(2000, 2030, float(-(-top // 1)) if not sizes.empty else 1.0)
    return FilterBounds(int(years.min()), int(years.max()), float(-(-top // 1)))


def filter_from_controls(
    bounds: FilterBounds,
    *,
    kinds: frozenset[str],
    years: tuple[int, int],
    fund_range: tuple[float, float],
    include_unknown_size: bool,
    domains: frozenset[str],
    search: str,
    provinces: frozenset[str] = frozenset(),
    group: str | None = None,
    org_categories: frozenset[str] = frozenset(),
    designated: bool | None = None,
    sponsor_levels: frozenset[str] = frozenset(),
) -> RecordFilter:
    """The filter that sidebar controls describe.

    A range left at the data's full extent becomes an open bound (``None``),
    so "everything" reads as no filter in subtitles and links.
    """
    y0, y1 = years
    f0, f1 = fund_range
    return RecordFilter(
        kinds=frozenset(kinds),
        year_min=None if y0 <= bounds.year_min else int(y0),
        year_max=None if y1 >= bounds.year_max else int(y1),
        fund_size=FundSizeRange(
            min_bn=None if f0 <= 0 else float(f0),
            max_bn=None if f1 >= bounds.fund_max_bn else float(f1),
            include_unknown=include_unknown_size,
        ),
        domains=frozenset(domains),
        search=search,
        provinces=frozenset(provinces),
        group=group or None,
        org_categories=frozenset(org_categories),
        designated=designated,
        sponsor_levels=frozenset(sponsor_levels),
    )
