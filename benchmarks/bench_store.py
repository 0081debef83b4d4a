"""The columnar store at scale: compile, open, filter, aggregate, page, memory.

Run: ``.venv/bin/python benchmarks/bench_store.py [--n 10000 100000 1000000]``

For each N, synthetic records are generated in-process as a records frame
(the form :func:`geodata.model.frame.records_to_frame` gives) with realistic
distributions: 60 % clusters, 30 % funds, 10 % zones; points scattered
around provincial capitals, weighted towards the eastern provinces; years
skewed to the last decade; fund sizes log-normal (median RMB 5 bn, long
tail) with a third unknown; one to three domains; descriptions and sources
of real length. Then, each in a fresh process so its memory is its own:

1. **compile**: the frame written as the GeoParquet store
   (:func:`geodata.store.geoparquet.write_store`); for N up to ``--yaml-max``
   also the whole path from YAML (parse, validate, frame, write), which is
   what a curator's edit costs;
2. **serve**: open the store once (which builds its query index), then
   open it again (median of 5 opens, the index cached), then the median and 95th
   percentile of ``--repeat`` filters drawn from sidebar-like settings
   (layers, years, fund size with and without unknown sizes, domains,
   provinces, name search), as row positions and as counts; the three chart
   tables; a 50-row page of the records table; and the process's peak RSS.

The machine's other load shows in the numbers; nothing is asserted (the
targets are in issue 13 and the README).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

#: Approximate provincial capitals (lat, lon) and a weight for how many records land there.
CAPITALS: dict[str, tuple[float, float, float]] = {
    "Beijing": (39.90, 116.41, 9), "Tianjin": (39.08, 117.20, 3), "Hebei": (38.04, 114.51, 3),
    "Shanxi": (37.87, 112.55, 2), "Inner Mongolia": (40.84, 111.75, 1),
    "Liaoning": (41.80, 123.43, 3), "Jilin": (43.82, 125.32, 1.5),
    "Heilongjiang": (45.80, 126.53, 2), "Shanghai": (31.23, 121.47, 7),
    "Jiangsu": (32.06, 118.80, 8), "Zhejiang": (30.27, 120.15, 6), "Anhui": (31.82, 117.23, 4),
    "Fujian": (26.07, 119.30, 3), "Jiangxi": (28.68, 115.86, 2), "Shandong": (36.65, 117.12, 6),
    "Henan": (34.75, 113.63, 4), "Hubei": (30.59, 114.31, 5), "Hunan": (28.23, 112.94, 4),
    "Guangdong": (23.13, 113.26, 9), "Guangxi": (22.82, 108.37, 1.5),
    "Hainan": (20.04, 110.35, 1), "Chongqing": (29.56, 106.55, 3),
    "Sichuan": (30.57, 104.07, 6), "Guizhou": (26.65, 106.63, 2), "Yunnan": (25.04, 102.71, 1.5),
    "Tibet": (29.65, 91.14, 0.2), "Shaanxi": (34.34, 108.94, 5), "Gansu": (36.06, 103.83, 1),
    "Qinghai": (36.62, 101.78, 0.3), "Ningxia": (38.49, 106.23, 0.3),
    "Xinjiang": (43.83, 87.62, 0.8), "Hong Kong": (22.32, 114.17, 0.5),
    "Macau": (22.20, 113.55, 0.1),
}
CATEGORY = {"cluster": ["industrial_park", "industrial_cluster", "innovation_center",
                        "research_institute", "joint_lab"],
            "fund": ["guidance_fund", "industry_fund", "conversion_fund"],
            "zone": ["demonstration_zone"]}
DOMAIN_WEIGHTS = {"general": 8, "information": 7, "electronics": 6, "ai": 6, "aerospace": 5,
                  "manufacturing": 5, "materials": 4, "robotics": 3, "cyber": 3, "energy": 3,
                  "maritime": 2, "command_control": 1, "nuclear": 1, "biotech": 2, "quantum": 1}
WORDS = ["Aerospace", "Electronics", "Materials", "Robotics", "Innovation", "Industrial",
         "Defence", "Technology", "Ocean", "Quantum", "Software", "Precision", "Photonics"]
ZH = "航天电子材料机器人创新产业技术海洋量子软件精密光电军民融合基金园区中心研究院"


def synthetic_frame(n: int, seed: int = 13):
    """``n`` records as a records frame, generated vectorised (a million in seconds)."""
    import geopandas as gpd

    from geodata.model.schema import LIST_COLUMNS, RECORD_COLUMNS

    rng = np.random.default_rng(seed)
    kinds = rng.choice(["cluster", "fund", "zone"], size=n, p=[0.6, 0.3, 0.1])
    names = list(CAPITALS)
    weights = np.array([CAPITALS[p][2] for p in names], dtype=float)
    prov_idx = rng.choice(len(names), size=n, p=weights / weights.sum())
    centre = np.array([CAPITALS[p][:2] for p in names])[prov_idx]
    lat = np.clip(centre[:, 0] + rng.normal(0, 0.6, n), 17.5, 53.5).round(5)
    lon = np.clip(centre[:, 1] + rng.normal(0, 0.8, n), 73.5, 135.5).round(5)
    year = np.clip(2026 - rng.gamma(2.0, 3.5, n).astype(int), 1990, 2026)
    size = np.round(np.exp(rng.normal(np.log(5), 1.3, n)), 2)
    size[(kinds != "fund") | (rng.random(n) < 0.33)] = np.nan
    dom_names = list(DOMAIN_WEIGHTS)
    dom_p = np.array(list(DOMAIN_WEIGHTS.values()), dtype=float)
    dom_p /= dom_p.sum()
    py = random.Random(seed)
    domains, sources, name_en, name_zh, category, status = [], [], [], [], [], []
    for i in range(n):
        k = int(rng.integers(1, 4))
        picked = rng.choice(dom_names, size=k, replace=False, p=dom_p)
        domains.append(tuple(str(d) for d in picked))
        kind = kinds[i]
        category.append(py.choice(CATEGORY[kind]))
        status.append(py.choice(["approved", "applied_not_approved", "local_pilot"])
                      if kind == "zone" else py.choice([None, "established", "announced"]))
        name_en.append(f"{names[prov_idx[i]]} {py.choice(WORDS)} {py.choice(WORDS)} {i}")
        name_zh.append("".join(py.sample(ZH, 6)) + str(i))
        sources.append([{"publisher": "Benchmark Daily", "title": f"Report on record {i}",
                         "date": f"{year[i]}-0{py.randint(1, 9)}",
                         "url": f"https://example.org/r/{i}"}])
    frame = pd.DataFrame({
        "id": [f"{k}-{i}" for i, k in enumerate(kinds)], "kind": kinds.astype(object),
        "category": category, "name_en": name_en, "name_zh": name_zh,
        "province": np.array(names, dtype=object)[prov_idx], "city": None,
        "lat": lat, "lon": lon, "location_precision": "city", "year": year.astype("int64"),
        "date_as_published": None, "fund_size_rmb_bn": size, "fund_size_as_published": None,
        "region_as_published": None, "domains": domains, "status": status,
        "description": "A synthetic record for measuring the store: a research and "
                       "production base with a published source and a stated year.",
        "sources": sources, "notes": None,
    })
    # Fields the generator leaves empty, as records_to_frame gives them.
    for column in RECORD_COLUMNS:
        if column not in frame.columns:
            frame[column] = ([()] * n if column in LIST_COLUMNS
                             else [[] for _ in range(n)] if column == "dates" else None)
    frame = frame[RECORD_COLUMNS]
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat, crs="EPSG:4326"),
                            crs="EPSG:4326")


def sidebar_filters(count: int, seed: int = 5) -> list:
    """Filters like the ones people set: a few controls at a time, some search text."""
    from geodata.model.schema import DOMAINS, KINDS, PROVINCES
    from geodata.query.filters import FundSizeRange, RecordFilter

    rng = random.Random(seed)
    out = []
    for _ in range(count):
        y0 = rng.choice([None, 2010, 2015, 2018])
        out.append(RecordFilter(
            kinds=frozenset(rng.sample(list(KINDS), rng.randint(1, 3))),
            year_min=y0, year_max=rng.choice([None, 2024]) if y0 else None,
            fund_size=FundSizeRange(min_bn=rng.choice([None, 1.0, 10.0]),
                                    max_bn=rng.choice([None, 100.0]),
                                    include_unknown=rng.random() < 0.7),
            domains=frozenset(rng.sample(list(DOMAINS), rng.choice([0, 0, 1, 3]))),
            search=rng.choice(["", "", "", "robotics", "航天", "quantum 12"]),
            provinces=frozenset(rng.sample(list(PROVINCES), rng.choice([0, 0, 1, 4]))),
        ))
    return out


def _timed(fn, repeat: int) -> tuple[float, float, float]:
    """Median and 95th percentile wall time, and median CPU time, of ``repeat`` calls (ms).

    CPU time (all of the process's threads) is the fairer figure on a shared
    machine, where the wall time includes waiting for a core.
    """
    wall, cpu = [], []
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    wall.sort()
    return (statistics.median(wall), wall[min(len(wall) - 1, int(0.95 * len(wall)))],
            statistics.median(cpu))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compile_phase(n: int, out: Path, yaml_max: int) -> dict:
    import yaml

    from geodata.model.frame import records_to_frame
    from geodata.store.geoparquet import write_store
    from geodata.store.load import load_records

    t0 = time.perf_counter()
    frame = synthetic_frame(n)
    generated = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_store(frame, out)
    result = {"generate_s": generated, "write_s": time.perf_counter() - t0,
              "bytes": out.stat().st_size}
    if n <= yaml_max:
        rows = frame.drop(columns="geometry").to_dict("records")
        for row in rows:
            row["domains"] = list(row["domains"])
            for key in [k for k, v in row.items() if v is None or v != v]:
                del row[key]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "records.yaml"
            path.write_text(yaml.dump(rows, Dumper=yaml.CSafeDumper, allow_unicode=True),
                            encoding="utf-8")
            t0 = time.perf_counter()
            write_store(records_to_frame(load_records([path])), Path(tmp) / "s.parquet")
            result["yaml_compile_s"] = time.perf_counter() - t0
    result["rss_mb"] = _peak_rss_mb()
    return result


def serve_phase(path: Path, repeat: int) -> dict:
    from geodata.query import aggregates
    from geodata.query.engine import open_store

    t0 = time.perf_counter()
    open_store(path, index_dir=path.parent).close()  # builds the query index
    first_open = time.perf_counter() - t0
    opens, opens_cpu = [], []
    for _ in range(5):
        c0, t0 = time.process_time(), time.perf_counter()
        store = open_store(path, index_dir=path.parent)
        opens.append(time.perf_counter() - t0)
        opens_cpu.append(time.process_time() - c0)
        store.close()
    store = open_store(path, index_dir=path.parent)
    filters = sidebar_filters(repeat)
    it = iter(filters * 2)
    rows = _timed(lambda: store.filter_rows(next(it)), repeat)
    it = iter(filters * 2)
    count = _timed(lambda: store.count(next(it)), repeat)
    it = iter(filters * 2)

    def charts():
        flt = next(it)
        aggregates.by_year(store, flt)
        aggregates.by_domain(store, flt)
        aggregates.by_province(store, flt)

    charts_ms = _timed(charts, max(5, repeat // 4))
    it = iter(filters * 2)
    page = _timed(lambda: store.filter_frame(next(it), limit=50), max(5, repeat // 4))
    kept = statistics.median(store.count(f) for f in filters)
    return {"first_open_s": first_open, "open_s": statistics.median(opens),
            "open_cpu_s": statistics.median(opens_cpu),
            "filter_rows_ms": rows, "count_ms": count,
            "charts_ms": charts_ms, "page_ms": page, "kept_median": kept,
            "rss_mb": _peak_rss_mb()}


def _child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True,
                          check=False)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(n: int, repeat: int, yaml_max: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.parquet"
        c = _child(["--compile", str(n), str(path), str(yaml_max)])
        s = _child(["--serve", str(path), str(repeat)])
    yaml_part = (f", from YAML {c['yaml_compile_s']:.1f} s" if "yaml_compile_s" in c else "")

    def ms(key: str) -> str:
        wall, p95, cpu = s[key]
        return f"{wall:.1f} ms (p95 {p95:.1f}, CPU {cpu:.1f})"

    return (
        f"n={n:>9,}  load {os.getloadavg()[0]:.1f}  compile: write {c['write_s']:.2f} s"
        f"{yaml_part}, {c['bytes'] / 1e6:.1f} MB ({c['bytes'] / n:.0f} B/record), "
        f"peak RSS {c['rss_mb']:.0f} MB\n"
        f"{'':13}first open (builds the index) {s['first_open_s']:.2f} s; "
        f"open {s['open_s']:.3f} s (CPU {s['open_cpu_s']:.3f}); filter, rows: "
        f"{ms('filter_rows_ms')}; count: {ms('count_ms')}\n"
        f"{'':13}3 chart tables: {ms('charts_ms')}; 50-row page: {ms('page_ms')}; "
        f"median kept {s['kept_median']:,.0f}; serving peak RSS {s['rss_mb']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=60, help="filters timed per N")
    parser.add_argument("--yaml-max", type=int, default=10_000,
                        help="also time the YAML compile up to this N (100,000 takes a minute)")
    parser.add_argument("--compile", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compile:
        n, out, yaml_max = args.compile
        print(json.dumps(compile_phase(int(n), Path(out), int(yaml_max))))
        return
    if args.serve:
        path, repeat = args.serve
        print(json.dumps(serve_phase(Path(path), int(repeat))))
        return
    for n in args.n:
        print(run(n, args.repeat, args.yaml_max), flush=True)


if __name__ == "__main__":
    main()
