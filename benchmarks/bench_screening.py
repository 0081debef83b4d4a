"""Screening: throughput on a 10,000-name list, and precision/recall on the labelled set.

Usage: ``.venv/bin/python benchmarks/bench_screening.py [--names 10000]``

The list mixes the labelled names (English, Chinese, traditional script,
near-misses, unrelated) with generated company names that match nothing, in
the proportion a real supplier list has (mostly nobody). Half the rows carry
an address, so placing is timed too. Prints names per second for matching
alone and for matching plus placing, and the labelled-set scores.
"""

from __future__ import annotations

import argparse
import random
import time

from geodata.model.relations import load_atlas
from geodata.screening.evaluate import evaluate, read_labelled
from geodata.screening.geocode import place_addresses
from geodata.screening.run import build_screener

WORDS = ("Golden", "Bright", "Harmony", "Pacific", "Star", "Union", "Grand", "Ever", "Rising",
         "Summit", "Ocean", "Jade", "Lotus", "Phoenix", "River", "Mountain")
TRADES = ("Trading", "Textiles", "Logistics", "Foods", "Furniture", "Printing", "Ceramics",
          "Plastics", "Garments", "Hardware", "Tea", "Paper")
PLACES = ("Shenzhen", "Ningbo", "Xiamen", "Wuxi", "Foshan", "Dongguan", "Suzhou", "Hefei")
ADDRESSES = ("广东省深圳市南山区", "浙江省宁波市鄞州区", "Xiamen, Fujian", "江苏省无锡市",
             "Chaoyang District, Beijing", "四川省成都市武侯区", "朝阳区", "Unit 3, Harbour Road")


def synthetic_addresses(n: int, seed: int = 11) -> list[str]:
    """Distinct street addresses (a number each), so the dedup cache is not what is timed."""
    rng = random.Random(seed)
    return [f"{rng.choice(ADDRESSES)}{rng.randint(1, 999)}号" if i % 2 else rng.choice(ADDRESSES)
            for i in range(n)]


def synthetic_names(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    labelled = [r["name"] for r in read_labelled()]
    out = []
    for i in range(n):
        if i % 10 == 0:
            out.append(rng.choice(labelled))
        else:
            out.append(f"{rng.choice(PLACES)} {rng.choice(WORDS)} {rng.choice(WORDS)} "
                       f"{rng.choice(TRADES)} Co., Ltd.")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=10_000)
    args = parser.parse_args()
    t0 = time.perf_counter()
    screener = build_screener(load_atlas().frame.itertuples(index=False))
    print(f"index {len(screener.targets):,} targets: {time.perf_counter() - t0:.2f} s")
    names = synthetic_names(args.names)
    t0 = time.perf_counter()
    hits = sum(1 for n in names if screener.candidates(n))
    match_s = time.perf_counter() - t0
    print(f"match {len(names):,} names: {match_s:.2f} s = {len(names) / match_s:,.0f} names/s "
          f"({hits:,} with a candidate)")
    addresses = synthetic_addresses(len(names) // 2)
    t0 = time.perf_counter()
    placed = sum(1 for p in place_addresses(addresses) if p.status == "placed")
    place_s = time.perf_counter() - t0
    print(f"place {len(addresses):,} addresses: {place_s:.2f} s = "
          f"{len(addresses) / place_s:,.0f} addresses/s ({placed:,} placed)")
    scores = evaluate(read_labelled(), screener)
    print(f"labelled set: {scores.total} names, precision {scores.precision:.3f} "
          f"({scores.correct}/{scores.predicted}), recall {scores.recall:.3f} "
          f"({scores.correct}/{scores.expected})")
    for cat, c in scores.by_category.items():
        print(f"  {cat}: {dict(c)}")


if __name__ == "__main__":
    main()
