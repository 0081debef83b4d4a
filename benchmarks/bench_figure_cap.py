"""Time and peak memory of the largest figure the pixel cap allows, and of refusing a larger one.

Run: ``.venv/bin/python benchmarks/bench_figure_cap.py``

Each case runs ``python -m geodata figure`` on ``tests/data/sample.yaml`` in
its own process and reports its wall time, exit code and peak resident
memory (``ru_maxrss`` of the child), so the numbers include Python,
matplotlib and the data, as a user's run would. The cap is
:data:`geodata.model.limits.MAX_FIGURE_PIXELS`; the largest allowed dpi at each
width is taken from the refusal message of the next dpi up.
"""

from __future__ import annotations

import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from geodata.model.limits import MAX_FIGURE_PIXELS

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "sample.yaml"


def run(width_in: float, dpi: float, out: Path) -> tuple[int, float, float, str]:
    """(exit code, seconds, peak MB of the child, last line of stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "geodata", "figure", "--data", str(SAMPLE), "--out", str(out),
         "--width-in", str(width_in), "--dpi", str(dpi)],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # RUSAGE_CHILDREN is the largest child so far: run the cases smallest first.
    return proc.returncode, seconds, max(peak, before) / 1024, proc.stderr.strip()[-200:]


def main() -> None:
    print(f"cap: {MAX_FIGURE_PIXELS / 1e6:g} million pixels")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figure.png"
        cases = [(7.5, 300.0), (16.5, 300.0)]
        code, _, _, message = run(40, 1200, out)
        allowed = int(re.search(r"at most (\d+) dpi", message)[1])
        cases.append((40, float(allowed)))
        for width_in, dpi in cases:
            code, seconds, peak, err = run(width_in, dpi, out)
            print(f"{width_in:5g} in at {dpi:5g} dpi: exit {code}, {seconds:5.1f} s, "
                  f"peak {peak:5.0f} MB {err[:80]}")
        code, seconds, peak, err = run(40, 1200, out)
        print(f"   40 in at  1200 dpi: exit {code}, {seconds:5.1f} s, peak {peak:5.0f} MB "
              f"(peak so far), refused: {err[:90]}…")


if __name__ == "__main__":
    main()
