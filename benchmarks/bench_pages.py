"""The pages other than the map at scale: the Sources index, detail reads, the screener.

For each size N a store of N generated records (bench_store.py's generator)
is written and opened, and the script measures, in this process:

- the Sources page's index of the whole selection, one page of 500 rows, as
  SQL over the store (:func:`geodata.query.source_index.sources_page`): blank,
  with a search, and with a search that matches nothing; and, up to
  ``--python-max`` records, the Python path it replaced for large atlases
  (every source decoded, then :func:`~geodata.query.frame_aggregates.sources_index`);
- reading the detail columns of 1,000 and 100,000 scattered rows
  (``AtlasStore.with_details``, which the downloads, the figure and the
  screener use);
- the screener of a large atlas (:func:`geodata.screening.run.store_screener`):
  building its name index beside the store (the Screen page's first open),
  opening it again (a later server start), and screening a list of 200 names;
  with the resident memory before, at the peak and after (Linux's VmRSS and
  VmHWM, the peak reset before each step); and, up to ``--python-max``
  records, the in-memory screener it replaced for large atlases.

Usage: ``.venv/bin/python benchmarks/bench_pages.py --n 100000 1000000``
(about four minutes at 1M).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_store import synthetic_frame  # noqa: E402

from geodata.query.engine import open_store  # noqa: E402
from geodata.query.filters import RecordFilter  # noqa: E402
from geodata.query.frame_aggregates import sources_index  # noqa: E402
from geodata.store.cache import store_path  # noqa: E402
from geodata.store.geoparquet import read_lean_frame, write_store  # noqa: E402


def _status_mb(field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _reset_peak() -> None:
    """Start VmHWM again from the current size (Linux), so a peak is that of one step."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_mb() -> int:
    return _status_mb("VmHWM")


def _timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def _screen_list(store, n: int) -> list[tuple[str, tuple[str, ...]]]:
    """A list of 200 names as an analyst's might be: 80 atlas names as written,
    40 Chinese names, 40 misspelt (a letter changed) and 40 names of no record."""
    rng = np.random.default_rng(11)
    rows = ", ".join(str(int(r)) for r in rng.choice(n, 160, replace=False))
    picked = store.sql(f"SELECT name_en, name_zh FROM records WHERE _row IN ({rows})")
    en, zh = list(picked["name_en"]), list(picked["name_zh"])
    misspelt = [name[:-2] + "x" + name[-1] for name in en[120:160]]
    unknown = [f"Unlisted Trading Company {i}" for i in range(40)]
    return [(name, ()) for name in (*en[:80], *zh[80:120], *misspelt, *unknown)]


def run(n: int, python_max: int, workdir: Path) -> dict:
    frame = synthetic_frame(n)
    source = write_store(frame, workdir / f"records-{n}.parquet")
    store_file = write_store(frame, store_path([source], workdir))
    del frame
    gc.collect()
    _reset_peak()  # the generator's full frame is not the server's
    store = open_store(store_file, index_dir=workdir)
    lean = read_lean_frame(store_file)
    out: dict = {"n": n, "rss_mb_lean": _status_mb("VmRSS"), "peak_mb_lean": _peak_mb()}
    _reset_peak()
    for label, search in (("blank", ""), ("search", "report on record 12"), ("no_match", "zzzz")):
        seconds, page = _timed(lambda s=search: store.sources_page(RecordFilter(), s, limit=500))
        out[f"sources_sql_{label}_s"] = round(seconds, 3)
        out[f"sources_sql_{label}_matching"] = page.matching
    out["peak_mb_sources_sql"] = _peak_mb()
    if n <= python_max:
        seconds, _ = _timed(lambda: sources_index(store.with_details(lean, ("sources",))))
        out["sources_python_s"] = round(seconds, 2)
    rng = np.random.default_rng(7)
    for k in (1_000, 100_000):
        if k <= n:
            rows = np.sort(rng.choice(n, k, replace=False))
            seconds, _ = _timed(lambda r=rows: store.with_details(lean.iloc[r], ("aliases",)))
            out[f"details_{k}_rows_s"] = round(seconds, 3)
    from geodata.screening.run import build_screener, store_screener

    names = _screen_list(store, n)
    gc.collect()
    _reset_peak()
    before = _status_mb("VmRSS")
    seconds, screener = _timed(lambda: store_screener(store, workdir))
    out.update(screener_index_build_s=round(seconds, 1), rss_mb_before_screener=before,
               peak_mb_building_screener=_peak_mb(), rss_mb_with_screener=_status_mb("VmRSS"))
    screener.close()
    del screener
    gc.collect()
    before = _status_mb("VmRSS")
    seconds, screener = _timed(lambda: store_screener(store, workdir))
    out.update(screener_open_s=round(seconds, 2),
               screener_open_added_mb=_status_mb("VmRSS") - before)
    _reset_peak()
    seconds, found = _timed(lambda: screener.candidates_many(names))
    out.update(screen_names=len(names), screen_s=round(seconds, 2),
               screen_with_candidates=sum(1 for c in found if c),
               peak_mb_screening=_peak_mb())
    screener.close()
    del screener
    if n <= python_max:
        # The path before: every record's names held and indexed in Python.
        gc.collect()
        _reset_peak()
        before = _status_mb("VmRSS")
        seconds, screener = _timed(lambda: build_screener(
            store.with_details(lean, ("aliases", "sources")).itertuples(index=False)))
        out.update(python_screener_build_s=round(seconds, 1),
                   python_screener_added_mb=_status_mb("VmRSS") - before)
        seconds, _ = _timed(lambda: [screener.candidates(name) for name, _ in names])
        out["python_screen_s"] = round(seconds, 2)
        del screener
    store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100_000])
    parser.add_argument("--python-max", type=int, default=100_000,
                        help="no Python sources index above this many records")
    parser.add_argument("--json", help="write the numbers here")
    args = parser.parse_args()
    results = []
    if len(args.n) > 1:
        # One process per size: the peak memory reported is then that size's own.
        for n in args.n:
            line = subprocess.run(
                [sys.executable, __file__, "--n", str(n), "--python-max", str(args.python_max)],
                check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            print(line, flush=True)
            results.append(json.loads(line))
    else:
        with tempfile.TemporaryDirectory(prefix="bench-pages-") as tmp:
            result = run(args.n[0], args.python_max, Path(tmp))
            print(json.dumps(result), flush=True)
            results.append(result)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
