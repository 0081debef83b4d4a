"""The filter semantics shared by the sidebar and ``python -m geodata list``.

One frozen, hashable :class:`RecordFilter` describes a selection; the
dashboard builds it from widgets, the CLI from flags, and both call
:func:`filter_records`, so the two always give the same answer.

Semantics
---------
- ``kinds``: layers to keep.
- ``year_min`` / ``year_max``: inclusive bounds on ``year`` (established or
  first reported; ``year_basis`` says which). The year filter applies to
  records *with* a year: undated organisations pass it.
- ``fund_size``: constrains funds only (clusters and zones pass). Funds of
  unknown size pass when ``fund_size.include_unknown`` is true.
- ``domains``: any-of; empty means all.
- ``search``: case-insensitive substring of the English or Chinese name.
- ``provinces``: any-of; empty means all.
- ``group``: a record id; keeps it and everything under it through
  ``parent_of`` links, transitively (needs the frame's ``ancestors`` column,
  :func:`geodata.relations.attach_relations`).
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

from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from geodata.schema import DOMAINS, KINDS, ORG_CATEGORIES, PROVINCES, SPONSOR_LEVELS


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


def _name_matches(frame: pd.DataFrame, text: str) -> pd.Series:
    needle = " ".join(text.split()).casefold()
    if not needle:
        return pd.Series(True, index=frame.index)
    en = frame["name_en"].str.casefold().str.contains(needle, regex=False)
    zh = frame["name_zh"].str.casefold().str.contains(needle, regex=False)
    return en | zh


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


def filter_records(frame: gpd.GeoDataFrame, flt: RecordFilter) -> gpd.GeoDataFrame:
    """Rows of ``frame`` that the filter keeps, in their original order."""
    mask = frame["kind"].isin(flt.kinds)
    # Undated records (organisations without a year) pass the year filter.
    if flt.year_min is not None:
        mask &= (frame["year"] >= flt.year_min).fillna(True).astype(bool)
    if flt.year_max is not None:
        mask &= (frame["year"] <= flt.year_max).fillna(True).astype(bool)
    mask &= _fund_size_ok(frame, flt.fund_size)
    if flt.domains:
        wanted = flt.domains
        mask &= frame["domains"].map(lambda ds: not wanted.isdisjoint(ds)).astype(bool)
    if flt.search.strip():
        mask &= _name_matches(frame, flt.search)
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
    return frame.loc[mask]


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
    if flt.year_min is not None or flt.year_max is not None:
        lo = flt.year_min if flt.year_min is not None else "…"
        hi = flt.year_max if flt.year_max is not None else "…"
        parts.append(f"years {lo}–{hi}")
    fs = flt.fund_size
    if fs.min_bn is not None or fs.max_bn is not None:
        lo = f"{fs.min_bn:g}" if fs.min_bn is not None else "0"
        hi = f"{fs.max_bn:g}" if fs.max_bn is not None else "any"
        parts.append(f"funds RMB {lo}–{hi} bn")
    if not fs.include_unknown:
        parts.append("funds of unknown size excluded")
    if flt.domains:
        parts.append("domains: " + ", ".join(DOMAINS[d] for d in sorted(flt.domains)))
    if flt.provinces:
        parts.append("provinces: " + ", ".join(sorted(flt.provinces)))
    if flt.search.strip():
        parts.append(f"name contains “{flt.search.strip()}”")
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


def filter_bounds(frame: pd.DataFrame) -> FilterBounds:
    """Slider extents for ``frame``: its year span and its largest fund (rounded up)."""
    sizes = frame["fund_size_rmb_bn"].dropna()
    top = float(sizes.max()) if not sizes.empty else 1.0
    # The slider spans the years of places, funds and zones: an old university's
    # founding year (1895) would squeeze the 2015-2019 records into a sliver.
    # Organisations outside that span are kept while the slider is at its ends.
    dated = frame[frame["year"].notna()]
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
