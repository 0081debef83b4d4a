"""Write the hostile-input corpus: small files that each break one rule of the importer.

Run from the repository root: ``.venv/bin/python tests/data/hostile/make_corpus.py``.
The expected outcome of every file is in ``expected.yaml`` beside this script,
written by hand so a change in the importer's behaviour shows up as a failing
test. Files that would be big (a real million-row CSV, a real zip bomb) are
not committed: tests generate them in ``tmp_path``, and here they appear only
as tiny files that *claim* to be huge. Zip entries carry a fixed timestamp;
the shapefile zips come from GDAL, whose ``.dbf`` header records the date it
was written, so those few files differ by a date byte between runs.
"""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
import struct
import sys
import tempfile
import unicodedata
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = "name,lat,lon,year"
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


def csv_text(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join((header, *lines)) + "\n").encode("utf-8")


def one_row(extra_header: str, extra_value: str, *, name: str = "Test Lab") -> bytes:
    return csv_text(f"{name},39.1,117.2,2018,{extra_value}", header=f"{HEADER},{extra_header}")


def zip_of(entries: list[tuple[str | zipfile.ZipInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = name if isinstance(name, zipfile.ZipInfo) else zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def feature_collection(*features: object, **extra: object) -> bytes:
    return json.dumps({"type": "FeatureCollection", **extra, "features": list(features)}).encode()


def feature(geometry: object, **props: object) -> dict:
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {"name": "Test Lab", "year": 2018, **props},
    }


POINT = {"type": "Point", "coordinates": [117.2, 39.1]}
#: An engineering (local) CRS: no relation to the Earth, so no way to WGS 84.
LOCAL_CS = (
    'LOCAL_CS["Site grid",LOCAL_DATUM["Site",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'
)
POLYGON = {"type": "Polygon", "coordinates": [[[116, 39], [117, 39], [117, 40], [116, 39]]]}


def shapefile_parts(kind: str, *, prj: bool = True) -> dict[str, bytes]:
    """A real shapefile written by GDAL, as {extension: bytes}."""
    import geopandas as gpd
    from shapely.geometry import Point, Polygon

    geometry = (
        [Point(117.2, 39.1)] if kind == "point"
        else [Polygon([(116, 39), (117, 39), (117, 40)])]
    )
    frame = gpd.GeoDataFrame({"name": ["Test Lab"], "year": [2018]}, geometry=geometry,
                             crs="EPSG:4326")
    with tempfile.TemporaryDirectory() as tmp:
        frame.to_file(Path(tmp) / "layer.shp")
        parts = {p.suffix: p.read_bytes() for p in Path(tmp).iterdir()}
    if not prj:
        parts.pop(".prj")
    parts.pop(".cpg", None)
    return parts


def shapefile_zip(kind: str = "point", *, prj: bool = True, drop: str = "",
                  stem: str = "layer") -> bytes:
    parts = shapefile_parts(kind, prj=prj)
    return zip_of([(f"{stem}{ext}", data) for ext, data in sorted(parts.items()) if ext != drop])


def symlink_zip() -> bytes:
    info = zipfile.ZipInfo("layer.shp", FIXED_TIME)
    info.create_system = 3
    info.external_attr = (0o120777 << 16)
    return zip_of([(info, b"/etc/passwd")])


def encrypted_zip() -> bytes:
    """An archive whose entry is marked encrypted (zipfile cannot write real encryption)."""
    data = bytearray(zip_of([("layer.shp", b"not really encrypted")]))
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        flags = struct.unpack_from("<H", data, at + offset)[0]
        struct.pack_into("<H", data, at + offset, flags | 0x1)
    return bytes(data)


def declared_bomb_zip() -> bytes:
    """A tiny archive whose central directory claims a ~4 GB member."""
    data = bytearray(zip_of([("layer.shp", b"tiny")]))
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 24, 0xFFFFFFF0)  # uncompressed size
    return bytes(data)


def ratio_bomb_zip() -> bytes:
    return zip_of([("layer.shp", b"\x00" * (2 * 1024 * 1024))])


def duplicate_names_zip() -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate, as it should
        return zip_of([("layer.shp", b"x"), ("layer.shp", b"y")])


def xlsx_like() -> bytes:
    return zip_of([
        ("[Content_Types].xml", b"<?xml version='1.0'?><Types/>"),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/worksheets/sheet1.xml", b"<worksheet/>"),
    ])


FILES: dict[str, Callable[[], bytes]] = {
    # --- not data at all, or not UTF-8
    "empty.csv": lambda: b"",
    "whitespace_only.csv": lambda: b"  \n\n \t\n",
    "header_only.csv": lambda: csv_text(),
    "png_renamed.csv": lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
    "jpeg_renamed.csv": lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    "pdf_renamed.csv": lambda: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n",
    "gzip_renamed.csv": lambda: gzip.compress(csv_text("A,39,117,2018"), mtime=0),
    "xlsx_renamed.csv": xlsx_like,
    "workbook.xlsx": xlsx_like,
    "xls_renamed.csv": lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 24,
    "exe_renamed.csv": lambda: b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 54,
    "elf_renamed.csv": lambda: b"\x7fELF\x02\x01\x01" + b"\x00" * 9,
    "html_page.csv": lambda: b"<!DOCTYPE html><html><body>Not a CSV</body></html>\n",
    "doc.kml": lambda: b"<?xml version='1.0'?><kml><Placemark/></kml>\n",
    "latin1.csv": lambda: csv_text("Caf\xe9 Lab,39.1,117.2,2018").replace(
        "é".encode(), b"\xe9"),
    "gbk.csv": lambda: "名称,纬度,经度,年份\n天津实验室,39.1,117.2,2018\n".encode("gbk"),
    "utf16.csv": lambda: csv_text("A,39,117,2018").decode().encode("utf-16"),
    "nul_bytes.csv": lambda: csv_text("A\x00B,39.1,117.2,2018"),
    # --- the wrong columns
    "no_lat_column.csv": lambda: csv_text("A,117.2,2018", header="name,lon,year"),
    "no_lon_column.csv": lambda: csv_text("A,39.1,2018", header="name,lat,year"),
    "no_name_column.csv": lambda: csv_text("39.1,117.2,2018", header="lat,lon,year"),
    "no_year_column.csv": lambda: csv_text("A,39.1,117.2", header="name,lat,lon"),
    "duplicate_headers.csv": lambda: csv_text("A,39.1,117.2,2018,39.2",
                                              header="name,lat,lon,year,lat"),
    "unterminated_quote.csv": lambda: csv_text('"A,39.1,117.2,2018', "B,39.1,117.2,2018"),
    "ragged_row.csv": lambda: csv_text("A,39.1,117.2,2018,extra"),
    # --- bad coordinates
    "lat_text.csv": lambda: csv_text("A,north,117.2,2018"),
    "lat_comma_decimal.csv": lambda: csv_text('A,"39,1",117.2,2018'),
    "lat_dms.csv": lambda: csv_text("A,39°54'N,117.2,2018"),
    "lat_out_of_range.csv": lambda: csv_text("A,95,117.2,2018"),
    "lon_out_of_range.csv": lambda: csv_text("A,39.1,200,2018"),
    "lat_nan.csv": lambda: csv_text("A,NaN,117.2,2018"),
    "lon_infinity.csv": lambda: csv_text("A,39.1,-inf,2018"),
    "huge_exponent.csv": lambda: csv_text("A,1e999,117.2,2018"),
    "blank_coordinate.csv": lambda: csv_text("A,,117.2,2018"),
    "swapped_latlon.csv": lambda: csv_text("A,117.2,39.1,2018"),
    "outside_china.csv": lambda: csv_text("London Lab,51.5,-0.12,2018,Beijing",
                                          header=f"{HEADER},province"),
    "outside_china_no_province.csv": lambda: csv_text("London Lab,51.5,-0.12,2018"),
    # --- bad fields
    "duplicate_ids.csv": lambda: csv_text("a-1,A,39.1,117.2,2018", "a-1,B,39.2,117.3,2018",
                                          header=f"id,{HEADER}"),
    "unknown_domain.csv": lambda: one_row("domains", "ai;death_rays"),
    "missing_year_value.csv": lambda: csv_text("A,39.1,117.2,"),
    "year_text.csv": lambda: csv_text("A,39.1,117.2,soon"),
    "year_out_of_range.csv": lambda: csv_text("A,39.1,117.2,1800"),
    "unknown_kind.csv": lambda: one_row("kind", "tank"),
    "wrong_category.csv": lambda: one_row("category", "guidance_fund"),
    "unknown_province.csv": lambda: one_row("province", "Atlantis"),
    "zone_without_status.csv": lambda: one_row("kind", "zone"),
    "negative_fund_size.csv": lambda: csv_text("A,39.1,117.2,2018,fund,-5",
                                               header=f"{HEADER},kind,fund_size_rmb_bn"),
    "short_description.csv": lambda: one_row("description", "Too short"),
    "missing_name_value.csv": lambda: csv_text(",39.1,117.2,2018"),
    "oversized_cell.csv": lambda: one_row("notes", "x" * 12_000),
    # --- script payloads: text is kept as text, javascript:/data: URLs are refused
    "javascript_url.csv": lambda: one_row("source_url", "javascript:alert(1)"),
    "data_url.csv": lambda: one_row("url", '"data:text/html;base64,PHNjcmlwdD4="'),
    "xss_script_name.csv": lambda: csv_text("<script>alert(1)</script>,39.1,117.2,2018"),
    "xss_img_description.csv": lambda: one_row(
        "description", "<img src=x onerror=alert(1)> hides in this description"),
    "template_injection.csv": lambda: csv_text(
        '"{{ cycler.__init__.__globals__.os.getcwd() }} {% raw %}",39.1,117.2,2018'),
    "formula_injection.csv": lambda: csv_text('"=HYPERLINK(""http://x.test"",""y"")",39.1,'
                                              '117.2,2018'),
    # --- limits and CRS (options in expected.yaml)
    "rows_over_cap.csv": lambda: csv_text(*(f"L{i},39.1,117.2,2018" for i in range(10))),
    "size_over_cap.csv": lambda: csv_text(*(f"Lab {i},39.1,117.2,2018" for i in range(5))),
    "bad_crs.csv": lambda: csv_text("A,4852000,12958000,2018"),
    "projected_out_of_domain.csv": lambda: csv_text("A,1e30,1e30,2018"),
    # --- GeoJSON
    "not_json.geojson": lambda: b'{"type": "FeatureCollection", "features": [\n',
    "json_array.geojson": lambda: b"[1, 2, 3]",
    "single_feature.geojson": lambda: json.dumps(feature(POINT)).encode(),
    "no_features.geojson": lambda: feature_collection(),
    "features_not_list.geojson": lambda: b'{"type": "FeatureCollection", "features": {}}',
    "polygon.geojson": lambda: feature_collection(feature(POLYGON)),
    "linestring.geojson": lambda: feature_collection(
        feature({"type": "LineString", "coordinates": [[116, 39], [117, 40]]})),
    "multipoint.geojson": lambda: feature_collection(
        feature({"type": "MultiPoint", "coordinates": [[116, 39]]})),
    "mixed_geometries.geojson": lambda: feature_collection(feature(POINT), feature(POLYGON)),
    "null_geometry.geojson": lambda: feature_collection(feature(None)),
    "string_coordinates.geojson": lambda: feature_collection(
        feature({"type": "Point", "coordinates": ["117.2", "39.1"]})),
    "one_coordinate.geojson": lambda: feature_collection(
        feature({"type": "Point", "coordinates": [117.2]})),
    "nan_coordinates.geojson": lambda: (
        b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": '
        b'{"type": "Point", "coordinates": [117.2, NaN]}, '
        b'"properties": {"name": "A", "year": 2018}}]}'),
    "deep_nesting.geojson": lambda: b"[" * 20_000 + b"]" * 20_000,
    "huge_integer.geojson": lambda: b'{"type": "FeatureCollection", "n": ' + b"9" * 5000 + b"}",
    "properties_not_object.geojson": lambda: feature_collection(
        {"type": "Feature", "geometry": POINT, "properties": [1, 2]}),
    "feature_not_object.geojson": lambda: feature_collection(42),
    "legacy_crs_unknown.geojson": lambda: feature_collection(
        feature(POINT), crs={"type": "name", "properties": {"name": "EPSG:999999"}}),
    "javascript_url.geojson": lambda: feature_collection(
        feature(POINT, url="javascript:alert(document.cookie)")),
    # --- GeoPackage
    "sqlite_garbage.gpkg": lambda: b"SQLite format 3\x00" + b"\x00\x10" + b"\xff" * 200,
    "text_as.gpkg": lambda: csv_text("A,39.1,117.2,2018"),
    # --- zip archives
    "zip_slip.zip": lambda: zip_of([("../../evil.shp", b"x")]),
    "zip_absolute.zip": lambda: zip_of([("/tmp/evil.shp", b"x")]),
    "zip_windows_drive.zip": lambda: zip_of([("C:\\Windows\\evil.shp", b"x")]),
    "zip_backslash_traversal.zip": lambda: zip_of([("..\\..\\evil.shp", b"x")]),
    "zip_symlink.zip": symlink_zip,
    "zip_encrypted.zip": encrypted_zip,
    "zip_bomb_declared.zip": declared_bomb_zip,
    "zip_bomb_ratio.zip": ratio_bomb_zip,
    "zip_too_many_entries.zip": lambda: zip_of([(f"f{i}.txt", b"") for i in range(101)]),
    "zip_duplicate_names.zip": duplicate_names_zip,
    "zip_empty.zip": lambda: zip_of([]),
    "zip_truncated.zip": lambda: shapefile_zip()[:300],
    "zip_no_shp.zip": lambda: zip_of([("readme.txt", b"hello")]),
    "zip_nested_zip.zip": lambda: zip_of([("inner.zip", shapefile_zip())]),
    "zip_two_shapefiles.zip": lambda: zip_of(
        [(f"a{ext}", d) for ext, d in shapefile_parts("point").items()]
        + [(f"b{ext}", d) for ext, d in shapefile_parts("point").items()]),
    "zip_missing_dbf.zip": lambda: shapefile_zip(drop=".dbf"),
    "zip_missing_prj.zip": lambda: shapefile_zip(prj=False),
    "zip_polygons.zip": lambda: shapefile_zip("polygon"),
    "zip_corrupt_shp.zip": lambda: zip_of(
        [(f"layer{ext}", b"\x00\x00\x27\x0a" + b"\xab" * 96)
         for ext in (".shp", ".shx", ".dbf", ".prj")]),
    "layer.shp": lambda: b"\x00\x00\x27\x0a" + b"\x00" * 96,
}

# --- YAML and records (issue10-data)

#: One valid record in the datasets' YAML format, as Save to disk writes it.
YAML_RECORD = """\
- id: user-test-lab
  kind: cluster
  category: industrial_cluster
  name_en: Test Lab
  name_zh: 测试实验室
  province: Tianjin
  lat: 39.1
  lon: 117.2
  location_precision: site
  year: 2018
  domains: [general]
  description: A record made for the hostile-input corpus only.
  sources: [{publisher: Test, title: Test}]
"""
FUND_RECORD = YAML_RECORD.replace("user-test-lab", "user-test-fund").replace(
    "kind: cluster\n  category: industrial_cluster", "kind: fund\n  category: industry_fund")


def yaml_record(**changes: str) -> bytes:
    """:data:`YAML_RECORD` with ``field: value`` lines replaced (or added) as written."""
    text = YAML_RECORD
    for field, value in changes.items():
        line = next(
            (ln for ln in text.splitlines() if ln.lstrip("- ").startswith(f"{field}:")), None
        )
        new = f"{line[: len(line) - len(line.lstrip('- '))]}{field}: {value}" if line else (
            f"  {field}: {value}")
        text = text.replace(line, new) if line else text + new + "\n"
    return text.encode()


def billion_laughs(levels: int = 9, *, in_field: bool = False) -> bytes:
    """Anchors that each repeat the one before ten times: 10**levels items from ~500 bytes."""
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    if in_field:  # the expansion sits in one field of an otherwise valid record
        return yaml_record(notes="{" + ", ".join(lines) + "}")
    return ("- " + "\n  ".join(lines) + "\n").encode()


def aliased_records(n: int = 3) -> bytes:
    """A record, then ``n`` aliases of it, each on its own line."""
    first = YAML_RECORD.replace("- id:", "- &r\n  id:", 1)
    return (first + "- *r\n" * n).encode()


def many_bad_records(n: int = 3000) -> bytes:
    return "".join(f"- {{id: bad-{i}}}\n" for i in range(n)).encode()


FILES.update({
    "billion_laughs.yaml": billion_laughs,
    "billion_laughs_in_notes.yaml": lambda: billion_laughs(in_field=True),
    "aliased_records.yaml": aliased_records,
    "yaml_duplicate_key.yaml": lambda: yaml_record(province="Tianjin") + b"  lat: 22.5\n",
    "yaml_sexagesimal_year.yaml": lambda: yaml_record(year="33:37"),
    "yaml_hex_year.yaml": lambda: yaml_record(year="0x7E1"),
    "yaml_octal_year.yaml": lambda: yaml_record(year="03741"),
    "yaml_python_tag.yaml": lambda: yaml_record(notes="!!python/object/apply:os.system [ls]"),
    "yaml_huge_integer.yaml": lambda: yaml_record(year="9" * 5000),
    "yaml_nan_fund_size.yaml": lambda: FUND_RECORD.encode() + b"  fund_size_rmb_bn: .nan\n",
    "yaml_huge_fund_size.yaml": lambda: FUND_RECORD.encode() + b"  fund_size_rmb_bn: 1.7e308\n",
    "yaml_name_object.yaml": lambda: yaml_record(name_en="{en: Test Lab}"),
    "yaml_duplicate_ids.yaml": lambda: (YAML_RECORD + YAML_RECORD).encode(),
    "yaml_curated_id.yaml": lambda: yaml_record(id="cluster-test-lab"),
    "yaml_many_bad_records.yaml": many_bad_records,
    "yaml_rows_over_cap.yaml": lambda: (YAML_RECORD * 4).encode(),
    "csv_huge_fund_size.csv": lambda: csv_text("A,39.1,117.2,2018,fund,9.99e23",
                                               header=f"{HEADER},kind,fund_size_rmb_bn"),
    "geojson_duplicate_key.geojson": lambda: feature_collection(feature(POINT)).replace(
        b'"year": 2018', b'"year": 2018, "year": 1999'),
    "geojson_name_object.geojson": lambda: feature_collection(feature(POINT, name={"en": "A"})),
    "geojson_nan_fund_size.geojson": lambda: feature_collection(
        feature(POINT, kind="fund", fund_size_rmb_bn=float("nan"))),
    "geojson_engineering_crs.geojson": lambda: feature_collection(feature(POINT), crs={
        "type": "name", "properties": {"name": LOCAL_CS}}),
    "local_cs.csv": lambda: csv_text("A,39.1,117.2,2018"),
})
# ============================================================================
# --- files, columns, pixels, time (issue10-files): each class of issue 10's
# points 2, 3 and 12 that concerns reading a file.
# ============================================================================

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],'
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]'
)
_GPKG_SCHEMA = f"""
PRAGMA page_size = 1024;
PRAGMA application_id = 1196444487;
PRAGMA user_version = 10300;
CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
  organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL, description TEXT);
INSERT INTO gpkg_spatial_ref_sys VALUES
  ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', NULL),
  ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', NULL),
  ('WGS 84', 4326, 'EPSG', 4326, '{_WGS84_WKT}', NULL);
CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL,
  identifier TEXT UNIQUE, description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT '2020-01-01T00:00:00.000Z',
  min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
  m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name));
"""
TEST_LAB = ("Test Lab", 2018, 117.2, 39.1)


def gpkg_point(lon: float, lat: float) -> bytes:
    """A GeoPackage geometry blob: header (no envelope, SRS 4326) and a WKB point."""
    return b"GP\x00\x01" + struct.pack("<i", 4326) + struct.pack("<BIdd", 1, 1, lon, lat)


def register(layer: str, geometry: str = "POINT") -> list[str]:
    return [
        f"INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
        f"VALUES ('{layer}', 'features', '{layer}', 4326)",
        f"INSERT INTO gpkg_geometry_columns VALUES ('{layer}', 'geom', '{geometry}', 4326, 0, 0)",
    ]


def geopackage(
    layers: tuple[tuple[str, list[tuple[str, int, float, float]]], ...] = (("sites", [TEST_LAB]),),
    statements: tuple[str, ...] = (),
) -> bytes:
    """A small GeoPackage written with sqlite3 alone, byte for byte the same on every run.

    Each layer is a registered table of points with ``name`` and ``year``;
    ``statements`` then add views, computed columns or other tables.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "layer.gpkg"
        con = sqlite3.connect(path)
        con.executescript(_GPKG_SCHEMA)
        for name, rows in layers:
            con.execute(f'CREATE TABLE "{name}" (fid INTEGER PRIMARY KEY AUTOINCREMENT, '
                        "geom POINT, name TEXT, year INTEGER)")
            for statement in register(name):
                con.execute(statement)
            con.executemany(f'INSERT INTO "{name}" (geom, name, year) VALUES (?, ?, ?)',
                            [(gpkg_point(lon, lat), n, y) for n, y, lon, lat in rows])
        for statement in statements:
            con.execute(statement)
        con.commit()
        con.execute("VACUUM")
        con.close()
        return path.read_bytes()


def view_geopackage(select: str, *extra: str) -> bytes:
    """A GeoPackage whose only point layer, ``sites_view``, is a view running ``select``."""
    return geopackage(statements=(
        *extra,
        f"CREATE VIEW sites_view AS {select}",
        "DELETE FROM gpkg_contents", "DELETE FROM gpkg_geometry_columns",
        *register("sites_view"),
    ))


def numbers_table(n: int) -> tuple[str, ...]:
    return (
        "CREATE TABLE t (n INTEGER)",
        f"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {n}) "
        "INSERT INTO t SELECT i FROM c",
    )


def computed_column_geopackage() -> bytes:
    return geopackage(layers=(), statements=(
        "CREATE TABLE sites (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom POINT, name TEXT, "
        "year INTEGER, slow TEXT AS (length(hex(zeroblob(100000000)))))",
        *register("sites"),
        f"INSERT INTO sites (geom, name, year) VALUES (x'{gpkg_point(117.2, 39.1).hex()}', "
        "'Test Lab', 2018)",
    ))


def shapefile_zip_named(stem_shp: str, stem_rest: str) -> bytes:
    """A shapefile zip whose .shp is named in one Unicode form and the rest in another."""
    parts = shapefile_parts("point")
    return zip_of([(f"{stem_shp if ext == '.shp' else stem_rest}{ext}", data)
                   for ext, data in sorted(parts.items())])


FILES_FILES_COLUMNS_TIME: dict[str, Callable[[], bytes]] = {
    # point 2: a GeoPackage whose layer runs an endless query
    "gpkg_view_recursive.gpkg": lambda: view_geopackage(
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) "
        "SELECT n AS fid, geom, name, year FROM r, sites"),
    "gpkg_view_cross_join.gpkg": lambda: view_geopackage(
        "SELECT a.n * 1000000000 + b.n * 1000000 + c.n * 1000 + d.n AS fid, geom, name, year "
        "FROM sites, t a, t b, t c, t d", *numbers_table(1000)),
    "gpkg_view_slow_function.gpkg": lambda: view_geopackage(
        "SELECT t.n AS fid, geom, name, year, length(hex(zeroblob(100000000))) AS slow "
        "FROM sites, t", *numbers_table(1000)),
    "gpkg_computed_column.gpkg": computed_column_geopackage,
    # point 12: the first layer is empty, the second holds the points
    "gpkg_first_layer_empty.gpkg": lambda: geopackage(
        layers=(("a_template", []), ("b_sites", [TEST_LAB]))),
    # point 3: too many columns; duplicates found in linear time
    "too_many_columns.csv": lambda: csv_text(
        "A,39.1,117.2,2018" + ",x" * 10_000,
        header=HEADER + "".join(f",c{i}" for i in range(10_000))),
    "too_many_columns_wide.csv": lambda: csv_text(
        "A,39.1,117.2,2018", header=HEADER + ",c" * 100_000),
    "too_many_properties.geojson": lambda: feature_collection(
        *(feature(POINT, **{f"p{i}": 1}) for i in range(300))),
    # point 12: wording
    "excel_sep_line.csv": lambda: b"sep=;\nname;lat;lon;year\nTest Lab;39.1;117.2;2018\n",
    "geojson_named.csv": lambda: feature_collection(feature(POINT)),
    "cell_over_128kb.csv": lambda: one_row("notes", "x" * 140_000),
    "unclosed_quote_big.csv": lambda: csv_text('A,39.1,117.2,2018,"' + "x" * 140_000,
                                               header=f"{HEADER},notes"),
    "vertical_crs.csv": lambda: csv_text("A,39.1,117.2,2018"),
    "geocentric_crs.csv": lambda: csv_text("A,4000000,-2000000,2018"),
    "legacy_crs_long_name.geojson": lambda: feature_collection(
        feature(POINT), crs={"type": "name", "properties": {"name": "EPSG:" + "x" * 200_000}}),
    "legacy_crs_vertical.geojson": lambda: feature_collection(
        feature(POINT), crs={"type": "name", "properties": {"name": "EPSG:5703"}}),
    "zip_nfd_names.zip": lambda: shapefile_zip_named(
        unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")),
    "province_long_forms.csv": lambda: csv_text(
        *(f"Lab {i},39.1,117.2,2018,{p}" for i, p in enumerate(PROVINCE_LONG_FORMS, 1)),
        header=f"{HEADER},province"),
}

#: Province names as officials write them: each must be accepted (issue 10, point 12).
PROVINCE_LONG_FORMS = (
    "Guangxi Zhuang Autonomous Region", "Inner Mongolia Autonomous Region",
    "Xinjiang Uygur Autonomous Region", "Ningxia Hui Autonomous Region",
    "Tibet Autonomous Region", "Sichuan Province", "Beijing Municipality",
    "Hong Kong SAR", "Macao SAR", "Hong Kong Special Administrative Region",
    "广西壮族自治区", "内蒙古自治区", "新疆维吾尔自治区", "宁夏回族自治区", "西藏自治区",
    "北京市", "四川省", "香港特别行政区", "澳门特别行政区",
)
FILES.update(FILES_FILES_COLUMNS_TIME)


#: Files holding a GDAL-written shapefile, whose .dbf header records the day it was written.
GDAL_MADE = frozenset({
    "zip_truncated.zip", "zip_nested_zip.zip", "zip_two_shapefiles.zip", "zip_missing_dbf.zip",
    "zip_missing_prj.zip", "zip_polygons.zip",
    "zip_nfd_names.zip",
})


def main(out_dir: Path = HERE) -> None:
    for name, build in FILES.items():
        (out_dir / name).write_bytes(build())
    print(f"wrote {len(FILES)} files to {out_dir}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
