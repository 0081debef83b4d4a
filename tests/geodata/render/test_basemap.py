"""Behaviour of the offline basemap: the committed file and the builder.

The committed ``datasets/basemap/china_admin1.geojson`` is checked as the map
uses it (counts, names, validity, topology, point look-ups). The builder is
exercised on a tiny synthetic Natural-Earth-like GeoJSON made in ``tmp_path``,
so these tests never need the 62 MB source.

Run: ``cd /work/main && .venv/bin/python -m pytest tests/geodata/test_basemap.py -q``
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import shapely

from geodata.render.basemap import (
    BASEMAP_ATTRIBUTION,
    BASEMAP_PATH,
    BASEMAP_SOURCE,
    BBOX,
    PROPERTIES,
    REGION_BBOX,
    basemap_geojson,
    build_basemap,
    load_basemap,
    main,
)

# The 31 mainland provincial-level units (22 provinces, 5 autonomous regions,
# 4 municipalities) plus the Hong Kong and Macau SARs = 33 "province" features.
MAINLAND_ISO = {
    "CN-AH", "CN-BJ", "CN-CQ", "CN-FJ", "CN-GD", "CN-GS", "CN-GX", "CN-GZ", "CN-HA",
    "CN-HB", "CN-HE", "CN-HI", "CN-HL", "CN-HN", "CN-JL", "CN-JS", "CN-JX", "CN-LN",
    "CN-NM", "CN-NX", "CN-QH", "CN-SC", "CN-SD", "CN-SH", "CN-SN", "CN-SX", "CN-TJ",
    "CN-XJ", "CN-XZ", "CN-YN", "CN-ZJ",
}  # fmt: skip
CJK = re.compile(r"[\u4e00-\u9fff]")


# --------------------------------------------------------------------------- committed file


@pytest.fixture(scope="module")
def basemap():
    return load_basemap()


@pytest.fixture(scope="module")
def provinces(basemap):
    return basemap[basemap["role"] == "province"].reset_index(drop=True)


def test_committed_file_loads_as_wgs84_with_exact_columns(basemap):
    assert basemap.crs.to_epsg() == 4326
    assert list(basemap.columns) == [*PROPERTIES, "geometry"]
    assert set(basemap["role"]) == {"province", "neighbour"}


def test_committed_file_is_small_enough_to_ship():
    assert BASEMAP_PATH.stat().st_size < 800_000


def test_geojson_dict_has_exactly_the_documented_properties():
    data = basemap_geojson()
    assert data["type"] == "FeatureCollection"
    assert len(data["features"]) == len(load_basemap())
    for feature in data["features"]:
        assert tuple(feature["properties"]) == PROPERTIES


def test_provinces_are_31_mainland_units_plus_hong_kong_and_macau(provinces):
    isos = list(provinces["iso"])
    assert len(isos) == 33
    assert len(set(isos)) == 33
    assert set(isos) == MAINLAND_ISO | {"CN-HK", "CN-MO"}


def test_every_feature_has_english_and_chinese_names(basemap):
    window = shapely.box(*BBOX)
    for row in basemap.itertuples():
        assert row.name_en.strip(), row.iso
        # Countries beyond the window (drawn at low detail, never labelled) may fall
        # back to their English name; China's neighbours may not.
        if row.role == "province" or row.geometry.intersects(window):
            assert CJK.search(row.name_zh), (row.iso, row.name_zh)
    by_iso = basemap.set_index("iso")
    assert by_iso.loc["CN-BJ", "name_zh"] == "北京市"
    assert by_iso.loc["CN-HK", "name_zh"] == "香港特别行政区"


def test_province_names_match_the_record_schema(provinces):
    # Choropleths join records to the basemap on the English province name.
    from geodata.model.schema import PROVINCES

    assert set(provinces["name_en"]) == set(PROVINCES)


def test_taiwan_is_a_neighbour_in_the_de_facto_view(basemap):
    row = basemap.set_index("iso").loc["TWN"]
    assert row["role"] == "neighbour"
    assert row["name_zh"] == "台湾"


def test_neighbours_are_unique_admin0_units_inside_the_window(basemap):
    neighbours = basemap[basemap["role"] == "neighbour"]
    assert {"MNG", "RUS", "IND", "VNM", "PRK", "KAZ", "TWN"} <= set(neighbours["iso"])
    assert neighbours["iso"].is_unique
    x0, y0, x1, y1 = basemap.total_bounds
    assert x0 >= REGION_BBOX[0]
    assert y0 >= REGION_BBOX[1]
    assert x1 <= REGION_BBOX[2]
    assert y1 <= REGION_BBOX[3]
    # The neighbourhood reaches every edge of the region, so a view never shows where
    # the drawing stops (issue 9): land at each edge of the window.
    assert (x0, y0, x1, y1) == pytest.approx(REGION_BBOX, abs=0.01)


def test_all_geometries_are_valid_polygons(basemap):
    assert basemap.geometry.is_valid.all()
    assert not basemap.geometry.is_empty.any()
    assert set(basemap.geom_type) <= {"Polygon", "MultiPolygon"}


def test_features_form_a_coverage_without_overlaps_or_gaps(basemap, provinces):
    # Edge-matched and non-overlapping, provinces and neighbours together.
    assert shapely.coverage_is_valid(basemap.geometry.values)
    # Pairwise: no two provinces overlap by more than a tiny area.
    geoms = provinces.geometry.values
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    overlaps = shapely.area(shapely.intersection(geoms[left[pairs]], geoms[right[pairs]]))
    assert pairs.sum() > 50  # the check actually compared neighbours
    assert overlaps.max() < 1e-9
    # A gap between adjacent provinces would show as a hole in their union.
    union = shapely.union_all(geoms)
    assert sum(len(p.interiors) for p in shapely.get_parts(union)) == 0


@pytest.mark.parametrize(
    ("place", "lat", "lon", "iso"),
    [
        ("Beijing", 39.9, 116.4, "CN-BJ"),
        ("Qingdao", 36.07, 120.38, "CN-SD"),
        ("Mianyang", 31.47, 104.68, "CN-SC"),
        ("Kowloon", 22.32, 114.17, "CN-HK"),
    ],
)
def test_city_falls_in_its_province(basemap, place, lat, lon, iso):
    hits = basemap[basemap.contains(shapely.Point(lon, lat))]
    assert list(hits["iso"]) == [iso], place


def test_label_points_lie_inside_their_features(basemap):
    for row in basemap.itertuples():
        assert row.geometry.contains(shapely.Point(row.label_lon, row.label_lat)), row.iso


def test_attribution_and_source_name_natural_earth():
    assert "Natural Earth" in BASEMAP_ATTRIBUTION
    assert "<" not in BASEMAP_ATTRIBUTION
    assert BASEMAP_SOURCE["url"] == "https://www.naturalearthdata.com/"
    assert {"name", "url", "version"} <= set(BASEMAP_SOURCE)


# --------------------------------------------------------------------------- builder


def _square(x: float, y: float, size: float = 1.0) -> list[list[list[float]]]:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def _ne_feature(
    adm0: str,
    iso: str,
    name_en: str,
    name_zh: str,
    ring: list[list[list[float]]],
    *,
    gu_a3: str | None = None,
    admin: str | None = None,
) -> dict[str, Any]:
    xs = [p[0] for p in ring[0]]
    ys = [p[1] for p in ring[0]]
    return {
        "type": "Feature",
        "properties": {
            "adm1_code": f"{adm0}-{iso}",
            "iso_3166_2": iso,
            "adm0_a3": adm0,
            "gu_a3": gu_a3 or adm0,
            "admin": admin or adm0,
            "name_en": name_en,
            "name_zh": name_zh,
            "latitude": (min(ys) + max(ys)) / 2,
            "longitude": (min(xs) + max(xs)) / 2,
        },
        "geometry": {"type": "Polygon", "coordinates": ring},
    }


def _write(path: Path, features: list[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
        encoding="utf-8",
    )
    return path


@pytest.fixture
def synthetic_source(tmp_path: Path) -> Path:
    """Two adjacent Chinese provinces, Paracel-like map unit, two HK districts, neighbours."""
    return _write(
        tmp_path / "ne_admin1.geojson",
        [
            _ne_feature("CHN", "CN-GD", "Guangdong", "广东省", _square(110, 30)),
            _ne_feature("CHN", "CN-HI", "Hainan", "海南省", _square(111, 30)),
            # Natural Earth's Paracel Islands: CHN, own map unit, placeholder code.
            _ne_feature("CHN", "CN-X01~", "Paracel Islands", "西沙群岛", _square(111.2, 28, 0.5),
                        gu_a3="PFA"),
            # Hong Kong comes as districts with non-ISO codes.
            _ne_feature("HKG", "HK-X01~", "Central", "中西区", _square(110, 29), admin="Hong Kong"),
            _ne_feature("HKG", "HK-X02~", "Wan Chai", "湾仔", _square(110, 28), admin="Hong Kong"),
            # Neighbour sharing the provinces' northern edge.
            # (A coverage is edge-matched: the vertex at 111 E must be on both sides.)
            _ne_feature("MNG", "MN-01", "Somewhere", "某地", [[[110, 31], [111, 31], [112, 31],
                        [112, 32], [110, 32], [110, 31]]], admin="Mongolia"),
            # Neighbour crossing the window's eastern edge: clipped at 140 E.
            _ne_feature("RUS", "RU-01", "Far East", "远东", _square(138, 45, 4), admin="Russia"),
            # Far away: not part of the basemap at all.
            _ne_feature("FRA", "FR-01", "Paris", "巴黎", _square(2, 48), admin="France"),
        ],
    )  # fmt: skip


def test_build_from_synthetic_source(synthetic_source: Path, tmp_path: Path):
    out = tmp_path / "out" / "basemap.geojson"
    stats = build_basemap(synthetic_source, out, tolerance=0.001)

    assert (stats["provinces"], stats["neighbours"], stats["features"]) == (3, 2, 5)
    assert stats["bytes"] == out.stat().st_size
    gdf = load_basemap(out)
    roles = dict(zip(gdf["iso"], gdf["role"], strict=True))
    assert roles == {
        "CN-GD": "province",
        "CN-HI": "province",
        "CN-HK": "province",
        "MNG": "neighbour",
        "RUS": "neighbour",
    }
    by_iso = gdf.set_index("iso")
    # Natural Earth's names and label point are carried over for provinces.
    assert by_iso.loc["CN-GD", "name_zh"] == "广东省"
    assert (by_iso.loc["CN-GD", "label_lon"], by_iso.loc["CN-GD", "label_lat"]) == (110.5, 30.5)
    # Hong Kong's districts are dissolved into one SAR with its ISO code.
    assert by_iso.loc["CN-HK", "name_en"] == "Hong Kong"
    assert by_iso.loc["CN-HK", "name_zh"] == "香港特别行政区"
    assert by_iso.loc["CN-HK", "geometry"].area == pytest.approx(2.0)
    # The Paracel map unit is drawn as part of Hainan, not as its own unit.
    assert by_iso.loc["CN-HI", "geometry"].contains(shapely.Point(111.45, 28.25))
    # Neighbours: admin name, Chinese name from the internal table; past the detailed
    # window at low detail, in one shape with the detailed part.
    assert by_iso.loc["MNG", "name_en"] == "Mongolia"
    assert by_iso.loc["MNG", "name_zh"] == "蒙古国"
    assert by_iso.loc["RUS", "geometry"].bounds == pytest.approx((138, 45, 142, 49))
    assert by_iso.loc["RUS", "geometry"].geom_type == "Polygon"  # no seam at 140 E
    # The two adjacent provinces still share their edge exactly.
    shared = by_iso.loc["CN-GD", "geometry"].intersection(by_iso.loc["CN-HI", "geometry"])
    assert shared.area == 0
    assert shared.length == pytest.approx(1.0)


def test_build_is_deterministic(synthetic_source: Path, tmp_path: Path):
    a, b = tmp_path / "a.geojson", tmp_path / "b.geojson"
    build_basemap(synthetic_source, a, tolerance=0.001)
    build_basemap(synthetic_source, b, tolerance=0.001)
    assert a.read_bytes() == b.read_bytes()


def test_cli_builds_and_reports(synthetic_source: Path, tmp_path: Path, capsys):
    out = tmp_path / "cli.geojson"
    argv = ["--source", str(synthetic_source), "--out", str(out), "--tolerance", "0.001"]
    assert main(argv) == 0
    assert "3 provinces + 2 neighbours" in capsys.readouterr().out
    assert main(["--source", str(tmp_path / "missing.json"), "--out", str(out)]) == 1
    assert "missing.json" in capsys.readouterr().err


def test_unknown_chinese_placeholder_code_is_refused(tmp_path: Path):
    source = _write(
        tmp_path / "odd.geojson",
        [
            _ne_feature("CHN", "CN-GD", "Guangdong", "广东省", _square(110, 30)),
            _ne_feature("CHN", "CN-X99~", "New Unit", "新", _square(111, 30), gu_a3="XYZ"),
        ],
    )
    with pytest.raises(ValueError, match="MAP_UNIT_TO_PROVINCE"):
        build_basemap(source, tmp_path / "out.geojson", tolerance=0.001)
    assert not (tmp_path / "out.geojson").exists()


def test_source_that_is_not_a_coverage_is_refused(tmp_path: Path):
    # Overlapping provinces cannot be simplified without gaps or overlaps.
    source = _write(
        tmp_path / "overlap.geojson",
        [
            _ne_feature("CHN", "CN-GD", "Guangdong", "广东省", _square(110, 30)),
            _ne_feature("CHN", "CN-HI", "Hainan", "海南省", _square(110.5, 30)),
        ],
    )
    with pytest.raises(ValueError, match="valid coverage"):
        build_basemap(source, tmp_path / "out.geojson", tolerance=0.001)
    assert not (tmp_path / "out.geojson").exists()


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("loader", [load_basemap, basemap_geojson])
def test_missing_file_error_names_file_and_rebuild_command(loader, tmp_path: Path):
    missing = tmp_path / "nowhere" / "china_admin1.geojson"
    with pytest.raises(FileNotFoundError) as info:
        loader(missing)
    assert str(missing) in str(info.value)
    assert "make basemap" in str(info.value)


@pytest.mark.parametrize("loader", [load_basemap, basemap_geojson])
def test_invalid_file_error_names_file_and_rebuild_command(loader, tmp_path: Path):
    broken = tmp_path / "china_admin1.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(ValueError, match="make basemap") as info:
        loader(broken)
    assert str(broken) in str(info.value)
    assert "make basemap" in str(info.value)


@pytest.mark.parametrize("problem", ["missing", "not_json", "bad_data"])
def test_failed_build_leaves_existing_output_untouched(problem: str, tmp_path: Path):
    out = tmp_path / "basemap" / "china_admin1.geojson"
    out.parent.mkdir()
    out.write_text("previous good basemap", encoding="utf-8")
    before = out.stat().st_mtime_ns
    source = tmp_path / "source.geojson"
    if problem == "not_json":
        source.write_text("this is not GeoJSON", encoding="utf-8")
    elif problem == "bad_data":  # valid GeoJSON, but not Natural Earth admin-1
        _write(source, [{"type": "Feature", "properties": {"x": 1},
                         "geometry": {"type": "Point", "coordinates": [110, 30]}}])  # fmt: skip

    with pytest.raises((FileNotFoundError, ValueError)):
        build_basemap(source, out)
    assert out.read_text(encoding="utf-8") == "previous good basemap"
    assert out.stat().st_mtime_ns == before
    assert os.listdir(out.parent) == [out.name]  # no temporary file left behind
