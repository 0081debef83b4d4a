"""Data-quality checks run by ``python -m geodata validate`` beyond the schema.

The schema (:mod:`geodata.model.schema`) rejects what cannot be right; these checks
find what is probably wrong and needs a curator's eye. Each finding is a
:class:`geodata.store.load.Problem` with a severity:

- **error** (validation fails): a source ``accessed`` date in the future, a
  URL that is not a well-formed http(s) address, a curated record without
  ``confidence``/``confidence_reason`` or a source without ``accessed``.
- **warning** (reported, validation passes): two records with the same name
  or alias within :data:`DUPLICATE_RADIUS_KM` (likely duplicates), and a point
  outside the province it names (on the basemap polygons; points within
  :data:`PROVINCE_TOLERANCE_KM` of the border are accepted, the basemap is
  generalised), and a fund whose ``fund_size_rmb_bn`` matches none of the
  亿元 / 万元 / billion figures of its ``fund_size_as_published`` (a unit slip:
  100亿元 is RMB 10 bn, not 100).

Links to missing records are errors of the link loader
(:mod:`geodata.model.relations`), not repeated here.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from geodata.model.schema import Record

DUPLICATE_RADIUS_KM = 5.0
PROVINCE_TOLERANCE_KM = 10.0
#: A host name with a top-level domain, or an IPv4 address (stored public pages include
#: government journal servers addressed by IP, e.g. http://218.28.6.71:81/...).
_URL = re.compile(
    r"^https?://([A-Za-z0-9.-]+\.[A-Za-z]{2,}|\d{1,3}(\.\d{1,3}){3})(:\d+)?(/[^\s<>\"']*)?$"
)


@dataclass(frozen=True)
class Finding:
    """One data-quality finding about one record."""

    severity: str  # "error" or "warning"
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: record {self.record}, field '{self.field}': {self.message}"


def name_key(text: str) -> str:
    """A name folded for comparison: NFKC, case-folded, punctuation and spaces removed.

    >>> name_key("Tianjin University (天津大学)") == name_key("tianjin university（天津大学）")
    True
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km.

    >>> round(haversine_km(39.9, 116.4, 31.2, 121.5))
    1071
    """
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0 * 2 * math.asin(math.sqrt(a))


@cache
def _provinces(path: str | None = None):
    from geodata.render.basemap import BASEMAP_PATH, load_basemap

    gdf = load_basemap(Path(path) if path else BASEMAP_PATH)
    return gdf[gdf["role"] == "province"].reset_index(drop=True)


def province_at(lat: float, lon: float, tolerance_km: float = PROVINCE_TOLERANCE_KM) -> str | None:
    """The province (English name, as in ``PROVINCES``) whose basemap polygon holds the point.

    A point just outside every polygon (a coastal campus on the generalised
    coastline) gets the nearest province within ``tolerance_km``; else ``None``.

    >>> province_at(39.99, 116.31)
    'Beijing'
    """
    import shapely

    provs = _provinces()
    pt = shapely.Point(lon, lat)
    inside = provs[provs.contains(pt)]
    if not inside.empty:
        return str(inside.iloc[0]["name_en"])
    with warnings.catch_warnings():
        # Degrees are what we want here (a rough tolerance, converted below);
        # geopandas' geographic-CRS warning would only reach the user as noise.
        warnings.simplefilter("ignore", UserWarning)
        dist_deg = provs.distance(pt)
    i = int(dist_deg.idxmin())
    if float(dist_deg[i]) * 111.0 <= tolerance_km:
        return str(provs.loc[i, "name_en"])
    return None


def _names(rec: Record) -> set[str]:
    keys = {name_key(n) for n in (rec.name_en, rec.name_zh, *rec.aliases)}
    return {k for k in keys if len(k) >= 2}


def likely_duplicates(records: Sequence[Record]) -> list[Finding]:
    """Pairs of placed records sharing a name or alias within DUPLICATE_RADIUS_KM."""
    out = []
    by_name: dict[str, list[Record]] = {}
    for rec in records:
        if rec.lat is None:
            continue
        for key in _names(rec):
            by_name.setdefault(key, []).append(rec)
    seen: set[tuple[str, str]] = set()
    for group in by_name.values():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                pair = tuple(sorted((a.id, b.id)))
                if a.id == b.id or pair in seen:
                    continue
                d = haversine_km(a.lat, a.lon, b.lat, b.lon)
                if d <= DUPLICATE_RADIUS_KM:
                    seen.add(pair)
                    out.append(Finding(
                        "warning", a.id, "name_en",
                        f"likely duplicate of {b.id}: a shared name or alias, {d:.1f} km apart",
                    ))
    return out


def outside_province(records: Sequence[Record]) -> list[Finding]:
    """Placed records whose point is not in the province they name."""
    out = []
    for rec in records:
        if rec.lat is None or rec.province is None:
            continue
        found = province_at(rec.lat, rec.lon)
        if found != rec.province:
            where = f"in {found}" if found else "in no province"
            out.append(Finding(
                "warning", rec.id, "province",
                f"point ({rec.lat}, {rec.lon}) is {where} on the basemap, not in {rec.province}",
            ))
    return out


def source_problems(records: Sequence[Record], today: dt.date | None = None) -> list[Finding]:
    """Malformed URLs and future accessed dates (errors)."""
    today = today or dt.date.today()
    out = []
    for rec in records:
        for i, s in enumerate(rec.sources):
            if s.url is not None and not _URL.match(s.url):
                out.append(Finding("error", rec.id, f"sources.{i}.url",
                                   f"malformed URL {s.url!r}; expected http(s)://host/path"))
            if s.accessed and dt.date.fromisoformat(s.accessed) > today:
                out.append(Finding("error", rec.id, f"sources.{i}.accessed",
                                   f"accessed {s.accessed} is in the future"))
    return out


#: Published Chinese and English amounts and their value in RMB billions.
_AMOUNTS = (
    (re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*亿"), 0.1),
    (re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*万(?!亿)"), 1e-5),
    (re.compile(r"(\d[\d,]*(?:\.\d+)?)\s*billion", re.IGNORECASE), 1.0),
)


def published_amounts_bn(text: str) -> list[float]:
    """Every amount in a published fund size, in RMB billions.

    >>> published_amounts_bn("总规模100亿元,首期设立规模 30 亿元")
    [10.0, 3.0]
    >>> published_amounts_bn("1000万元的专项基金"), published_amounts_bn("RMB 30.2 billion")
    ([0.01], [30.2])
    """
    found = []
    for pattern, factor in _AMOUNTS:
        for match in pattern.finditer(text):
            found.append(round(float(match.group(1).replace(",", "")) * factor, 6))
    return found


def fund_size_mismatches(records: Sequence[Record]) -> list[Finding]:
    """Funds whose size is none of the amounts their published text gives (warnings)."""
    out = []
    for rec in records:
        size, text = rec.fund_size_rmb_bn, rec.fund_size_as_published
        if size is None or not text:
            continue
        amounts = published_amounts_bn(text)
        if amounts and not any(math.isclose(size, a, rel_tol=1e-6) for a in amounts):
            shown = ", ".join(f"{a:g}" for a in amounts)
            out.append(Finding("warning", rec.id, "fund_size_rmb_bn",
                               f"{size:g} bn is none of the published amounts ({shown} bn "
                               f"in {text!r}); a unit slip? 100亿元 is RMB 10 bn"))
    return out


def curation_gaps(records: Sequence[Record]) -> list[Finding]:
    """Curated records must carry confidence and a reason, and date every source read."""
    out = []
    for rec in records:
        if rec.confidence is None or not rec.confidence_reason:
            out.append(Finding("error", rec.id, "confidence",
                               "curated records need confidence and confidence_reason"))
        for i, s in enumerate(rec.sources):
            if s.accessed is None:
                out.append(Finding("error", rec.id, f"sources.{i}.accessed",
                                   "curated sources need accessed (YYYY-MM-DD, when we read it)"))
    return out


def check_records(records: Sequence[Record], *, curated: bool = True) -> list[Finding]:
    """Every record-level quality finding, errors first."""
    found = [*source_problems(records), *likely_duplicates(records), *outside_province(records),
             *fund_size_mismatches(records)]
    if curated:
        found = [*curation_gaps(records), *found]
    return sorted(found, key=lambda f: f.severity != "error")
