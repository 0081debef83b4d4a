"""What bounding a read costs, and what the worst hostile files cost once bounded.

Run: ``.venv/bin/python benchmarks/bench_bounded_read.py [--repeat 20]``

1. Overhead: a normal small CSV (4 rows) read in this process with
   :func:`geodata.io.importer.preview_import` and in a child with
   :func:`geodata.io.bounded.preview_import_bounded`; median and p95 of
   ``--repeat`` reads each, after one read that starts the fork server (its
   start-up is printed on its own: it is paid once per server process).
2. Worst cases: each file of issue 10's points 2, 3 and 12 in
   ``tests/data/hostile``, read bounded; wall time and the child's peak RSS.
3. The backstop: GDAL itself told to read the recursive-view GeoPackage
   (what the importer refuses before GDAL sees it) is stopped when the time
   bound passes; the time until the answer, and that no child is left.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import time
from pathlib import Path

import pyogrio

from geodata.io.bounded import BoundExceededError, Bounds, preview_import_bounded, run_bounded
from geodata.io.importer import preview_import
from geodata.model.limits import MAX_CONCURRENT_READS, READ_MEMORY_BYTES, READ_TIMEOUT_S

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "hostile"
SMALL = (
    b"name,lat,lon,year\nTianjin Hub,39.1,117.2,2018\nWuhan Lab,30.5,114.4,2017\n"
    b"Chengdu Park,30.6,104.0,2016\nXi'an Centre,34.3,108.9,2019\n"
)
WORST = (
    "gpkg_view_recursive.gpkg", "gpkg_view_cross_join.gpkg", "gpkg_view_slow_function.gpkg",
    "gpkg_computed_column.gpkg", "gpkg_first_layer_empty.gpkg", "too_many_columns.csv",
    "too_many_columns_wide.csv", "too_many_properties.geojson", "cell_over_128kb.csv",
    "unclosed_quote_big.csv", "geojson_named.csv", "legacy_crs_long_name.geojson",
    "zip_nfd_names.zip", "province_long_forms.csv",
)


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1000:7.1f} ms, p95 {p95 * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"{multiprocessing.cpu_count()} CPU(s); bounds: {READ_TIMEOUT_S:g} s, "
          f"{READ_MEMORY_BYTES / 2**20:,.0f} MB over the loaded reader, "
          f"{MAX_CONCURRENT_READS} read(s) at a time")

    started = time.monotonic()
    assert preview_import_bounded(SMALL, "small.csv").ok
    print(f"first bounded read (starts the fork server): {time.monotonic() - started:.2f} s")
    inline, bounded = [], []
    for _ in range(args.repeat):
        t = time.monotonic()
        assert preview_import(SMALL, "small.csv").ok
        inline.append(time.monotonic() - t)
        t = time.monotonic()
        assert preview_import_bounded(SMALL, "small.csv").ok
        bounded.append(time.monotonic() - t)
    print(f"small CSV in process : {_ms(inline)}")
    print(f"small CSV bounded    : {_ms(bounded)}")
    overhead = statistics.median(bounded) - statistics.median(inline)
    print(f"overhead (median)    : {overhead * 1000:.1f} ms")

    print("\nworst hostile files, read bounded (wall time, child's peak RSS):")
    for name in WORST:
        outcome = run_bounded(preview_import, CORPUS / name)
        preview = outcome.value
        what = preview.errors[0].message if preview.errors else preview.summary()
        print(f"  {name:32s} {outcome.seconds:6.2f} s {outcome.peak_rss_bytes / 2**20:6.0f} MB"
              f"  {what[:70]}")

    print("\nbackstop: GDAL reading the recursive view, bound 5 s:")
    t = time.monotonic()
    try:
        run_bounded(pyogrio.read_dataframe, CORPUS / "gpkg_view_recursive.gpkg",
                    bounds=Bounds(seconds=5))
        print("  finished?!")
    except BoundExceededError as exc:
        print(f"  stopped ({exc.what}) after {time.monotonic() - t:.2f} s; children left: "
              f"{len(multiprocessing.active_children())}")


if __name__ == "__main__":
    main()
