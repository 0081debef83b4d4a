"""Analyst views: records and fund capital by year, domain and province.

Pure pandas, no Streamlit and no plotting: the dashboard's charts
(:mod:`geodata.render.charts`), its province choropleth and its sources page all
read these tables, and the tests check them against the records directly.

Two rules hold everywhere:

- Funds of unknown size are left out of every capital sum and counted in a
  ``funds_unknown_size`` column beside it, so a sum is never silently
  understated as if they were 0.
- Tables are zero-filled (every year of the span, every province, every
  domain), so a line never skips a year and a province with nothing shows
  as 0 rather than disappearing.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({
...     "id": ["a", "b", "c"], "kind": ["fund", "fund", "zone"],
...     "year": [2016, 2018, 2018], "fund_size_rmb_bn": [2.0, None, None],
...     "domains": [("ai",), ("ai", "cyber"), ("cyber",)],
...     "province": ["Beijing", "Beijing", "Hubei"]})
>>> by_year(frame)[["year", "records", "capital_rmb_bn", "records_cumulative"]]
   year  records  capital_rmb_bn  records_cumulative
0  2016        1             2.0                   1
1  2017        0             0.0                   1
2  2018        2             0.0                   3
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.utilities import color_brewer

from geodata.model.schema import DOMAINS, KINDS, PROVINCES

#: Count columns, one per layer, in layer order; every table below has them.
KIND_COLUMNS: list[str] = list(KINDS)

#: What a province (or domain) table can be coloured or ranked by, with the
#: label and unit to show.
MEASURES: dict[str, str] = {
    "records": "Records",
    "cluster": KINDS["cluster"],
    "fund": KINDS["fund"],
    "zone": KINDS["zone"],
    "organisation": KINDS["organisation"],
    "capital_rmb_bn": "Fund capital (RMB bn)",
    "funds_unknown_size": "Funds of unknown size",
}

#: mapclassify schemes offered for the choropleth, with a label for a widget.
#: FisherJenks comes first because it is deterministic: NaturalBreaks runs
#: k-means from random starts, so the same data can give different classes on
#: two reruns unless it is seeded (which :func:`classify_provinces` does).
CLASSIFICATION_SCHEMES: dict[str, str] = {
    "FisherJenks": "Natural breaks (Fisher–Jenks, optimal)",
    "NaturalBreaks": "Natural breaks (k-means)",
    "Quantiles": "Quantiles (equal counts)",
    "EqualInterval": "Equal intervals",
    "JenksCaspall": "Jenks–Caspall",
    "HeadTailBreaks": "Head/tail breaks (for heavy tails; ignores k)",
}

#: ColorBrewer sequential schemes (colour-blind safe) for the choropleth.
CHOROPLETH_PALETTES: tuple[str, ...] = ("YlOrBr", "Greys", "Purples", "Greens")

#: Fill of a province whose measure is 0: a neutral grey, set apart from the
#: palette's classes (whose lightest tint is dropped for that reason).
ZERO_COLOR = "#f0f0f0"
ZERO_LABEL = "0 (none)"

K_MAX = 8

_REQUIRED = {
    "by_year": ("kind", "year", "fund_size_rmb_bn"),
    "by_domain": ("kind", "domains", "fund_size_rmb_bn"),
    "by_province": ("kind", "province", "fund_size_rmb_bn"),
    "sources_index": ("id", "name_en", "name_zh", "sources"),
}


def _check_frame(frame: object, what: str) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"'frame' should be a (Geo)DataFrame of records, got {type(frame)}")
    missing = [c for c in _REQUIRED[what] if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{what}() needs record columns {list(_REQUIRED[what])}; missing {missing}"
        )
    return frame


def _tally(frame: pd.DataFrame, key: str, keys: Iterable) -> pd.DataFrame:
    """Counts per kind, known capital and unknown-size funds, per ``key``, zero-filled."""
    keys = list(keys)
    counts = (
        pd.crosstab(frame[key], frame["kind"])
        .reindex(index=keys, columns=KIND_COLUMNS, fill_value=0)
        .fillna(0)
        .astype("int64")
    )
    funds = frame[frame["kind"] == "fund"]
    known = funds[funds["fund_size_rmb_bn"].notna()]
    capital = known.groupby(key)["fund_size_rmb_bn"].sum().reindex(keys, fill_value=0.0)
    unknown = (
        funds[funds["fund_size_rmb_bn"].isna()]
        .groupby(key)
        .size()
        .reindex(keys, fill_value=0)
    )
    out = counts.copy()
    out.columns.name = None
    out["records"] = counts.sum(axis=1).astype("int64")
    out["capital_rmb_bn"] = capital.astype("float64").to_numpy()
    out["funds_unknown_size"] = unknown.astype("int64").to_numpy()
    out.index.name = key
    return out.reset_index()


def by_year(frame: pd.DataFrame, years: tuple[int, int] | None = None) -> pd.DataFrame:
    """Records and fund capital per year, with running totals.

    One row per year from the first to the last (years with nothing are
    rows of zeros, so lines do not skip). Columns: ``year``; one count per
    layer (``cluster``, ``fund``, ``zone``) and ``records``, their sum;
    ``capital_rmb_bn`` (known sizes only) and ``funds_unknown_size``; and
    each of those again with a ``_cumulative`` suffix.

    Parameters
    ----------
    frame
        Records, as from :func:`geodata.model.frame.records_to_frame`.
    years
        ``(first, last)`` to fix the span, e.g. the data's full extent while
        a play control steps through it, so the axis stays put. Records
        before ``first`` still count in the running totals.

    Example
    -------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"kind": ["fund", "zone"], "year": [2017, 2019],
    ...                   "fund_size_rmb_bn": [5.0, None]})
    >>> by_year(f, years=(2018, 2020))[["year", "records", "records_cumulative"]]
       year  records  records_cumulative
    0  2018        0                   1
    1  2019        1                   2
    2  2020        0                   2
    """
    frame = _check_frame(frame, "by_year")
    # Undated records (organisations or funds without a year) have no place on a year axis.
    frame = frame[frame["year"].notna()]
    value_columns = [*KIND_COLUMNS, "records", "capital_rmb_bn", "funds_unknown_size"]
    columns = ["year", *value_columns, *(f"{c}_cumulative" for c in value_columns)]
    if years is not None:
        first, last = (int(y) for y in years)
        if first > last:
            raise ValueError(f"years should be (first, last) with first <= last, got {years}")
    if frame.empty and years is None:
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns}).astype(
            {"capital_rmb_bn": "float64", "capital_rmb_bn_cumulative": "float64"}
        )
    data_years = [int(frame["year"].min()), int(frame["year"].max())] if not frame.empty else []
    span = data_years + ([first, last] if years is not None else [])
    table = _tally(frame, "year", range(min(span), max(span) + 1))
    for c in value_columns:
        table[f"{c}_cumulative"] = table[c].cumsum()
    if years is not None:
        table = table[(table["year"] >= first) & (table["year"] <= last)]
    return table[columns].reset_index(drop=True)


def by_domain(frame: pd.DataFrame) -> pd.DataFrame:
    """Records and fund capital per technology domain, in :data:`DOMAINS` order.

    A record tagged with several domains counts once in *each*, and a fund's
    whole size is added to each of its domains, so sums down the table
    exceed the number of records and the total capital. Every domain is a
    row (zeros filled). Columns: ``domain``, ``domain_label``, one count per
    layer, ``records``, ``capital_rmb_bn`` (known sizes only),
    ``funds_unknown_size``.

    Example
    -------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"kind": ["fund"], "fund_size_rmb_bn": [3.0],
    ...                   "domains": [("ai", "cyber")]})
    >>> t = by_domain(f).set_index("domain")
    >>> t.loc[["ai", "cyber", "nuclear"], "capital_rmb_bn"].tolist()
    [3.0, 3.0, 0.0]
    """
    frame = _check_frame(frame, "by_domain")
    exploded = pd.DataFrame(frame[["kind", "fund_size_rmb_bn", "domains"]]).explode("domains")
    exploded = exploded.rename(columns={"domains": "domain"})
    exploded = exploded[exploded["domain"].notna()]
    table = _tally(exploded, "domain", DOMAINS)
    table.insert(1, "domain_label", table["domain"].map(DOMAINS))
    return table


def by_province(frame: pd.DataFrame) -> pd.DataFrame:
    """Records and fund capital per province, every province present.

    Rows follow :data:`PROVINCES` order; provinces without records are rows
    of zeros. Columns: ``province``, ``province_zh``, one count per layer,
    ``records``, ``capital_rmb_bn`` (known sizes only), ``funds_unknown_size``.

    Example
    -------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"kind": ["cluster"], "fund_size_rmb_bn": [None],
    ...                   "province": ["Hubei"]})
    >>> t = by_province(f)
    >>> len(t) == len(PROVINCES), int(t["records"].sum())
    (True, 1)
    """
    frame = _check_frame(frame, "by_province")
    table = _tally(frame, "province", PROVINCES)
    table.insert(1, "province_zh", table["province"].map(PROVINCES))
    return table


class Classification(NamedTuple):
    """Classes of a choropleth: a class per province, the breaks, and labels.

    ``classes`` holds 0 … n-1 for positive values and -1 for 0 or missing
    (drawn as "none", not as the lowest class, so a province with nothing
    never looks like one with a little). ``edges`` has n + 1 entries: the
    smallest positive value, then each class's upper bound; class i covers
    ``(edges[i], edges[i + 1]]`` (the first includes its lower edge).
    ``labels`` has one legend label per class.
    """

    classes: pd.Series
    edges: tuple[float, ...]
    labels: tuple[str, ...]


def _fmt(value: float, integral: bool) -> str:
    if integral:
        return f"{int(value):,}"
    return f"{value:,.1f}" if value >= 1 else f"{value:,.2g}"


def _class_labels(edges: list[float], integral: bool) -> list[str]:
    labels = []
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        if integral:
            lo = lo if i == 0 else lo + 1
        if lo == hi:
            labels.append(_fmt(hi, integral))
        else:
            labels.append(f"{_fmt(lo, integral)}–{_fmt(hi, integral)}")
    return labels


def _breaks(values: np.ndarray, k: int, scheme: str) -> np.ndarray:
    """Upper bounds of the classes of positive ``values``, via mapclassify."""
    distinct = np.unique(values)
    if len(distinct) <= k and scheme != "HeadTailBreaks":
        # Each distinct value is its own class; mapclassify would warn or,
        # for some schemes, fail.
        return distinct
    # Imported here: mapclassify pulls in scikit-learn, about 2 s at import,
    # which only the choropleth needs.
    import mapclassify

    cls = getattr(mapclassify, scheme)
    with warnings.catch_warnings():
        # FisherJenks falls back to pure Python without numba; for 33
        # provinces that takes milliseconds, so the warning is noise.
        warnings.filterwarnings("ignore", message="Numba not installed")
        if scheme == "HeadTailBreaks":
            result = cls(values)
        elif scheme == "NaturalBreaks":
            # k-means from random starts: seed it so a rerun draws the same
            # map, and put the global state back for everyone else.
            state = np.random.get_state()
            try:
                np.random.seed(0)
                result = cls(values, k=k)
            finally:
                np.random.set_state(state)
        else:
            result = cls(values, k=k)
    return np.asarray(result.bins, dtype="float64")


def classify_provinces(
    values: pd.Series | Iterable[float], k: int = 5, scheme: str = "FisherJenks"
) -> Classification:
    """Sort positive values into at most ``k`` classes for a choropleth.

    Zeros and missing values get class -1 (none). When there are no more
    distinct positive values than ``k``, each value is its own class; when
    all are zero there are no classes at all. Count data (all integers) gets
    integer breaks and labels like ``"3–5"``.

    Parameters
    ----------
    values
        One non-negative value per province, e.g. ``by_province(f)["fund"]``
        indexed by province; the index is kept in ``classes``.
    k
        The most classes wanted, 1 to 8 (ColorBrewer's limit for a palette
        with a tint to spare for "none").
    scheme
        A mapclassify classifier named in :data:`CLASSIFICATION_SCHEMES`.

    Example
    -------
    >>> c = classify_provinces([0, 1, 1, 2, 8, 9], k=3)
    >>> c.classes.tolist(), c.labels
    ([-1, 0, 0, 1, 2, 2], ('1', '2', '3–9'))
    >>> classify_provinces([0, 0]).labels
    ()
    """
    if scheme not in CLASSIFICATION_SCHEMES:
        raise ValueError(
            f"unknown classification scheme {scheme!r}; expected one of "
            f"{list(CLASSIFICATION_SCHEMES)}"
        )
    if not isinstance(k, int | np.integer) or not 1 <= k <= K_MAX:
        raise ValueError(f"k should be an integer from 1 to {K_MAX}, got {k!r}")
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype="float64")
    series = pd.to_numeric(series, errors="raise").astype("float64")
    if (series < 0).any():
        raise ValueError(
            f"values should be non-negative counts or sums, got {series[series < 0].tolist()}"
        )
    positive = series[series > 0]
    classes = pd.Series(-1, index=series.index, dtype="int64")
    if positive.empty:
        return Classification(classes, (), ())
    integral = bool(np.all(np.mod(series.dropna().to_numpy(), 1) == 0))
    bins = _breaks(positive.to_numpy(), k, scheme)
    if integral:
        # Values are whole numbers, so a break at 2.5 is the same as one at 2.
        bins = np.floor(bins)
    bins = np.unique(bins)
    # Some schemes put the last bound below the maximum or above it; pin it.
    bins = bins[bins < positive.max()]
    bins = np.append(bins, positive.max())
    classes.loc[positive.index] = np.searchsorted(bins, positive.to_numpy(), side="left")
    edges = [float(positive.min()), *(float(b) for b in bins)]
    if len(bins) == positive.nunique():
        # One class per distinct value: name the value, not a range.
        labels = [_fmt(b, integral) for b in bins]
    else:
        labels = _class_labels(edges, integral)
    return Classification(classes, tuple(edges), tuple(labels))


def class_colors(n: int, palette: str = "YlOrBr") -> list[str]:
    """``n`` ColorBrewer colours, light to dark, skipping the lightest tint.

    The lightest tint is left for nothing so it cannot be confused with
    :data:`ZERO_COLOR`.

    >>> class_colors(5)
    ['#fee391', '#fec44f', '#fe9929', '#d95f0e', '#993404']
    """
    if palette not in CHOROPLETH_PALETTES:
        raise ValueError(f"unknown palette {palette!r}; expected one of {CHOROPLETH_PALETTES}")
    if not 0 <= n <= K_MAX:
        raise ValueError(f"n should be from 0 to {K_MAX}, got {n}")
    if n == 0:
        return []
    return color_brewer(palette, max(n + 1, 3))[-n:]


@dataclass(frozen=True)
class LegendEntry:
    """One swatch of a choropleth legend."""

    color: str
    label: str


@dataclass
class Choropleth:
    """Province polygons coloured by a measure, ready for a folium layer.

    ``frame`` holds the basemap's provinces with ``value`` (the measure),
    ``value_label`` (formatted, with unit), ``klass`` (-1 for none) and
    ``fill_color``; ``to_geojson()`` gives the same as a dict for
    ``folium.GeoJson`` with ``style_function=lambda f: {"fillColor":
    f["properties"]["fill_color"], ...}``. ``legend`` lists "none" first,
    then the classes from low to high.
    """

    frame: gpd.GeoDataFrame
    legend: list[LegendEntry]
    title: str
    measure: str
    scheme: str

    def to_geojson(self) -> dict:
        """The provinces as a GeoJSON FeatureCollection dict."""
        return self.frame.__geo_interface__


_NOUNS: dict[str, tuple[str, str]] = {
    "records": ("record", "records"),
    "cluster": ("cluster", "clusters"),
    "fund": ("fund", "funds"),
    "zone": ("demonstration zone", "demonstration zones"),
    "funds_unknown_size": ("fund of unknown size", "funds of unknown size"),
}


def _value_label(value: float, measure: str) -> str:
    if measure == "capital_rmb_bn":
        return f"RMB {value:,.1f} bn"
    n = int(value)
    one, many = _NOUNS[measure]
    return f"{n:,} {one if n == 1 else many}"


def province_choropleth_geojson(
    basemap_gdf: gpd.GeoDataFrame,
    province_table: pd.DataFrame,
    measure: str = "records",
    *,
    k: int = 5,
    scheme: str = "FisherJenks",
    palette: str = "YlOrBr",
) -> Choropleth:
    """The basemap's provinces, classed and coloured by ``measure``.

    Parameters
    ----------
    basemap_gdf
        From :func:`geodata.render.basemap.load_basemap`; neighbours are dropped.
    province_table
        From :func:`by_province` (of the filtered records, usually).
    measure
        A column named in :data:`MEASURES`, e.g. ``"records"`` or
        ``"capital_rmb_bn"``.
    k, scheme
        Passed to :func:`classify_provinces`.
    palette
        A ColorBrewer sequential scheme from :data:`CHOROPLETH_PALETTES`.

    Example
    -------
    >>> from geodata.render.basemap import load_basemap
    >>> import pandas as pd
    >>> f = pd.DataFrame({"kind": ["zone"], "fund_size_rmb_bn": [None],
    ...                   "province": ["Hubei"]})
    >>> ch = province_choropleth_geojson(load_basemap(), by_province(f), "records")
    >>> [(e.label, e.color) for e in ch.legend]
    [('0 (none)', '#f0f0f0'), ('1', '#d95f0e')]
    """
    if not isinstance(basemap_gdf, gpd.GeoDataFrame):
        raise TypeError(f"'basemap_gdf' should be a GeoDataFrame, got {type(basemap_gdf)}")
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; expected one of {list(MEASURES)}")
    for col in ("province", measure):
        if col not in province_table.columns:
            raise ValueError(
                f"'province_table' should come from by_province(); it has no {col!r} column"
            )
    provinces = basemap_gdf[basemap_gdf["role"] == "province"].copy()
    if provinces.crs is not None and provinces.crs.to_epsg() != 4326:
        provinces = provinces.to_crs("EPSG:4326")
    values = (
        province_table.set_index("province")[measure]
        .reindex(provinces["name_en"])
        .fillna(0)
        .astype("float64")
    )
    values.index = provinces.index
    result = classify_provinces(values, k=k, scheme=scheme)
    colors = class_colors(len(result.labels), palette)
    provinces["measure"] = measure
    provinces["value"] = values
    provinces["value_label"] = [_value_label(v, measure) for v in values]
    provinces["klass"] = result.classes
    provinces["class_label"] = [
        result.labels[c] if c >= 0 else ZERO_LABEL for c in result.classes
    ]
    provinces["fill_color"] = [colors[c] if c >= 0 else ZERO_COLOR for c in result.classes]
    legend = [LegendEntry(ZERO_COLOR, ZERO_LABEL)]
    legend += [LegendEntry(c, lab) for c, lab in zip(colors, result.labels, strict=True)]
    # ``role`` lets a click on the map be read as "this province" (geodata.render.mapevents).
    keep = [
        "name_en", "name_zh", "iso", "role", "label_lon", "label_lat", "measure", "value",
        "value_label", "klass", "class_label", "fill_color", "geometry",
    ]
    return Choropleth(
        frame=gpd.GeoDataFrame(provinces[keep], geometry="geometry", crs="EPSG:4326"),
        legend=legend,
        title=MEASURES[measure],
        measure=measure,
        scheme=scheme,
    )


def as_of_year(frame: pd.DataFrame, year: int) -> pd.DataFrame:
    """Records established in or before ``year``: the map as it stood then.

    The as-of-year mode shows the landscape accumulating; a record's
    ``year`` is when it was established or first reported, and nothing is
    ever removed (the data has no end dates).

    >>> import pandas as pd
    >>> as_of_year(pd.DataFrame({"year": [2015, 2018, 2020]}), 2018)["year"].tolist()
    [2015, 2018]
    """
    # Undated organisations are not "established later": they stay on the map.
    return frame.loc[(frame["year"] <= int(year)).fillna(True).astype(bool)]


def play_years(frame: pd.DataFrame) -> list[int]:
    """Every year from the first record to the last: the steps of a play control.

    Years without new records are kept so time advances evenly.

    >>> import pandas as pd
    >>> play_years(pd.DataFrame({"year": [2019, 2016]}))
    [2016, 2017, 2018, 2019]
    >>> play_years(pd.DataFrame({"year": []}))
    []
    """
    if frame.empty:
        return []
    return list(range(int(frame["year"].min()), int(frame["year"].max()) + 1))


_SOURCE_KEY = ("publisher", "title", "date", "url")


def sources_index(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct source, with the records that cite it.

    A source is identified by publisher, title, date and URL (missing date or
    URL is ``""``). Columns: those four, ``via`` (every distinct "via" note,
    joined by "; "), ``record_ids``, ``record_names`` and ``record_names_zh``
    (tuples, in record order) and ``n_records``. Sorted by ``n_records``,
    most cited first, then publisher and title.

    >>> import pandas as pd
    >>> f = pd.DataFrame({"id": ["a", "b"], "name_en": ["A", "B"], "name_zh": ["甲", "乙"],
    ...                   "sources": [[{"publisher": "P", "title": "T"}],
    ...                               [{"publisher": "P", "title": "T"}]]})
    >>> sources_index(f)[["publisher", "record_ids", "n_records"]]
      publisher record_ids  n_records
    0         P     (a, b)          2
    """
    frame = _check_frame(frame, "sources_index")
    cited: dict[tuple[str, ...], dict] = {}
    for rid, name, name_zh, sources in zip(
        frame["id"], frame["name_en"], frame["name_zh"], frame["sources"], strict=True
    ):
        for src in sources:
            key = tuple(str(src.get(f) or "") for f in _SOURCE_KEY)
            entry = cited.setdefault(key, {"via": [], "ids": [], "names": [], "names_zh": []})
            via = src.get("via")
            if via and via not in entry["via"]:
                entry["via"].append(via)
            if rid not in entry["ids"]:
                entry["ids"].append(rid)
                entry["names"].append(name)
                entry["names_zh"].append(name_zh)
    rows = [
        {
            **dict(zip(_SOURCE_KEY, key, strict=True)),
            "via": "; ".join(e["via"]),
            "record_ids": tuple(e["ids"]),
            "record_names": tuple(e["names"]),
            "record_names_zh": tuple(e["names_zh"]),
            "n_records": len(e["ids"]),
        }
        for key, e in cited.items()
    ]
    columns = [*_SOURCE_KEY, "via", "record_ids", "record_names", "record_names_zh", "n_records"]
    index = pd.DataFrame(rows, columns=columns).astype({"n_records": "int64"})
    index = index.sort_values(
        ["n_records", "publisher", "title", "date"],
        ascending=[False, True, True, True],
        key=lambda s: s if s.name == "n_records" else s.str.casefold(),
        kind="stable",
    )
    return index.reset_index(drop=True)


def search_sources(index: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows of a :func:`sources_index` whose publisher, title, URL or citing
    records' names (English or Chinese) contain ``text``, ignoring case.

    Blank ``text`` keeps every row.

    >>> import pandas as pd
    >>> idx = pd.DataFrame({"publisher": ["Xinhua", "CAICT"], "title": ["a", "b"],
    ...                     "url": ["", ""], "record_names": [("Big Fund",), ()],
    ...                     "record_names_zh": [("大基金",), ()]})
    >>> search_sources(idx, "big fund")["publisher"].tolist()
    ['Xinhua']
    """
    needle = " ".join(str(text).split()).casefold()
    if not needle:
        return index
    haystack = (
        index["publisher"].fillna("")
        + "\n" + index["title"].fillna("")
        + "\n" + index["url"].fillna("")
        + "\n" + index["record_names"].map("\n".join)
        + "\n" + index["record_names_zh"].map("\n".join)
    )
    return index.loc[haystack.str.casefold().str.contains(needle, regex=False)]
