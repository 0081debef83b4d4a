"""Time the report figure: PNG at 300 dpi, SVG and PDF of the full curated dataset.

Run: ``.venv/bin/python benchmarks/bench_figure.py [--repeat N] [--data FILE ...]``

Each format is exported ``--repeat`` times to a temporary directory; the
script prints the median and minimum seconds and the file size. The first,
cold export (font lookup, basemap loading and projection) is timed apart.
Falls back to tests/data/sample.yaml when datasets/ holds no records.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from geodata.model.frame import records_to_frame
from geodata.query.filters import RecordFilter, filter_records
from geodata.render.figure import export_figure
from geodata.store.load import DatasetError, default_dataset_paths, load_records

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "tests" / "data" / "sample.yaml"
FORMATS = (("png", 300), ("svg", None), ("pdf", None))


def _paths(given: list[Path] | None) -> list[Path]:
    if given:
        return given
    paths = default_dataset_paths()
    try:
        if paths and load_records(paths):
            return paths
    except DatasetError as exc:
        print(f"datasets/ does not load ({len(exc.problems)} problems); using the sample")
    return [SAMPLE]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", action="append", type=Path)
    args = parser.parse_args(argv)

    paths = _paths(args.data)
    flt = RecordFilter()
    frame = filter_records(records_to_frame(load_records(paths)), flt)
    print(f"{len(frame)} records from {', '.join(p.name for p in paths)}; "
          f"{args.repeat} runs per format")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        export_figure(frame, flt, Path(tmp) / "cold.png", dpi=300, data_as_of="2025-01-01")
        print(f"cold first export (png): {time.perf_counter() - start:.2f} s")
        print(f"{'format':<8}{'median s':>10}{'min s':>9}{'size':>12}")
        for fmt, dpi in FORMATS:
            out = Path(tmp) / f"figure.{fmt}"
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                export_figure(frame, flt, out, dpi=dpi or 300, data_as_of="2025-01-01")
                times.append(time.perf_counter() - start)
            label = f"{fmt}@{dpi}" if dpi else fmt
            size = out.stat().st_size
            print(f"{label:<8}{statistics.median(times):>10.2f}{min(times):>9.2f}"
                  f"{size / 1024:>9,.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
