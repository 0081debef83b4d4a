"""How the core scales: validate, filter and build the map for N synthetic records.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--n 1000 10000 100000]``

Records are generated (random places inside China, every layer, a third of
funds without a size), written as YAML to a temporary folder, then timed:
YAML parse + validation, frame building, a typical filter, and building the
map's record layers (the GeoJSON payload sent to the browser, whose size is
reported too). Prints one line per N; nothing is asserted.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import yaml

from geodata.filters import FundSizeRange, RecordFilter, filter_records
from geodata.frame import records_to_frame
from geodata.layers import build_map
from geodata.load import load_records
from geodata.schema import DOMAINS, PROVINCES


def synthetic(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    kinds = ["cluster"] * 6 + ["fund"] * 3 + ["zone"]
    out = []
    for i in range(n):
        kind = rng.choice(kinds)
        rec = {
            "id": f"{kind}-{i}", "kind": kind,
            "category": {"cluster": "industrial_park", "fund": "industry_fund",
                         "zone": "demonstration_zone"}[kind],
            "name_en": f"Synthetic {kind} {i}", "name_zh": f"合成记录{i}",
            "province": rng.choice(list(PROVINCES)), "city": "X",
            "lat": round(rng.uniform(22, 45), 4), "lon": round(rng.uniform(100, 122), 4),
            "location_precision": "city", "year": rng.randint(2012, 2024),
            "domains": rng.sample(list(DOMAINS), 2),
            "description": "A synthetic record for measuring speed only.",
            "sources": [{"publisher": "Bench", "title": f"Item {i}", "date": "2020"}],
        }
        if kind == "fund" and rng.random() > 0.33:
            rec["fund_size_rmb_bn"] = round(rng.uniform(0.5, 200), 1)
        if kind == "zone":
            rec["status"] = rng.choice(["approved", "applied_not_approved", "local_pilot"])
        out.append(rec)
    return out


def run(n: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic.yaml"
        path.write_text(
            yaml.dump(synthetic(n), Dumper=yaml.CSafeDumper, allow_unicode=True), encoding="utf-8"
        )
        t0 = time.perf_counter()
        records = load_records([path])
        t1 = time.perf_counter()
        frame = records_to_frame(records)
        t2 = time.perf_counter()
        flt = RecordFilter(year_min=2016, domains=frozenset({"ai", "cyber"}),
                           fund_size=FundSizeRange(min_bn=5), search="1")
        selected = filter_records(frame, flt)
        t3 = time.perf_counter()
        html = build_map(frame, {"type": "FeatureCollection", "features": []}).get_root().render()
        t4 = time.perf_counter()
    return (f"n={n:>7,}  load+validate {t1 - t0:6.2f} s  frame {t2 - t1:5.2f} s  "
            f"filter {1000 * (t3 - t2):7.1f} ms ({len(selected):,} kept)  "
            f"map layers {t4 - t3:5.2f} s, {len(html) / 1e6:6.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    for n in parser.parse_args().n:
        print(run(n), flush=True)


if __name__ == "__main__":
    main()
