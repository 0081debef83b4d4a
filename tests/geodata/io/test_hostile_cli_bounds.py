"""Hostile YAML, records and CLI arguments are answered in bounded time, memory and output.

Each case runs the real CLI (``python -m geodata import`` or ``validate``) in
its own process, which reports its peak memory (``VmHWM``) as it exits;
``os.wait4`` gives its CPU time. One case cannot hide behind another's. Before the fixes a
520-byte YAML file took 49-98 s and 3.5 GB and ended in a traceback; a file of
50,000 bad records printed 674 MB.

The bounds are generous for a loaded two-core machine, and far below the
failures they guard against. Run ``pytest -s`` to see the measured numbers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from geodata.model.limits import PROBLEMS_MAX, PROBLEMS_SHOWN

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO / "tests" / "data" / "hostile"
LOCAL_CS = (
    'LOCAL_CS["Site grid",LOCAL_DATUM["Site",0],UNIT["metre",1],AXIS["X",EAST],AXIS["Y",NORTH]]'
)

#: Peak resident memory of one case's whole process, interpreter and libraries included.
MAX_RSS_MB = 400
#: CPU seconds of one case's whole process, start-up (about 2 s of imports) included.
MAX_CPU_S = 15
#: Everything the CLI prints for one case.
MAX_OUTPUT_BYTES = 100_000

#: One corpus file per class of the YAML-and-records section, with extra CLI arguments
#: (the others of each class differ only in the value; all are in test_hostile_corpus).
CORPUS_CASES: dict[str, list[str]] = {
    "billion_laughs.yaml": [],
    "billion_laughs_in_notes.yaml": [],
    "yaml_duplicate_key.yaml": [],
    "yaml_sexagesimal_year.yaml": [],
    "yaml_huge_integer.yaml": [],
    "yaml_python_tag.yaml": [],
    "yaml_huge_fund_size.yaml": [],
    "yaml_many_bad_records.yaml": [],
    "yaml_rows_over_cap.yaml": ["--max-rows", "3"],
    "geojson_duplicate_key.geojson": [],
    "geojson_engineering_crs.geojson": [],
}


#: Runs the CLI as ``python -m geodata`` does, and on exit writes the process's
#: peak resident memory (VmHWM, kB) to the file named by $PEAK_FILE. Read from
#: /proc rather than ``ru_maxrss``, which Linux lets a child inherit from the
#: memory of the (large) pytest process it was forked from.
RUN_CLI = """
import atexit, os, runpy, sys
def peak():
    status = open("/proc/self/status").read()
    kb = next(l.split()[1] for l in status.splitlines() if l.startswith("VmHWM:"))
    open(os.environ["PEAK_FILE"], "w").write(kb)
atexit.register(peak)
sys.argv = ["geodata", *sys.argv[1:]]
runpy.run_module("geodata", run_name="__main__", alter_sys=True)
"""


def run_measured(args: list[str], cwd: Path) -> tuple[int, str, str, float, float]:
    """Run ``python -m geodata ARGS``; return code, stdout, stderr, peak MB, CPU seconds."""
    out_path, err_path = cwd / "stdout.txt", cwd / "stderr.txt"
    peak_path = cwd / "peak-kb.txt"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", RUN_CLI, *args], cwd=REPO, stdout=out, stderr=err,
            env={**os.environ, "PEAK_FILE": str(peak_path)},
        )
        deadline = time.monotonic() + 120
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"{args} still running after 120 s")
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss_mb = int(peak_path.read_text()) / 1024
    cpu_s = usage.ru_utime + usage.ru_stime
    return (
        proc.returncode, out_path.read_text("utf-8"), err_path.read_text("utf-8"), rss_mb, cpu_s
    )


def assert_bounded(args: list[str], tmp_path: Path, expected_code: int) -> tuple[str, str]:
    code, out, err, rss_mb, cpu_s = run_measured(args, tmp_path)
    print(f"\n{' '.join(args[:2])}: exit {code}, {rss_mb:.0f} MB, {cpu_s:.2f} s CPU, "
          f"{len(out) + len(err):,} bytes printed")
    assert "Traceback" not in err, err[-2000:]
    assert code == expected_code, (out[-1000:], err[-1000:])
    assert rss_mb < MAX_RSS_MB
    assert cpu_s < MAX_CPU_S
    assert len(out.encode()) + len(err.encode()) < MAX_OUTPUT_BYTES
    return out, err


@pytest.mark.parametrize("name", sorted(CORPUS_CASES))
def test_corpus_case_is_bounded(name, tmp_path):
    out, _ = assert_bounded(["import", str(CORPUS / name), *CORPUS_CASES[name]], tmp_path, 1)
    assert name in out


def test_local_cs_option_is_an_argument_error(tmp_path):
    _, err = assert_bounded(
        ["import", str(CORPUS / "local_cs.csv"), "--crs", LOCAL_CS], tmp_path, 2
    )
    assert "argument --crs: the CRS" in err
    assert "is a local engineering CRS" in err


def test_a_million_aliased_records_is_refused_at_the_first_alias(tmp_path):
    path = tmp_path / "million.yaml"
    record = (CORPUS / "aliased_records.yaml").read_text("utf-8").split("- *r")[0]
    path.write_text(record + "- *r\n" * 1_000_000, encoding="utf-8")
    out, _ = assert_bounded(["import", str(path)], tmp_path, 1)
    assert "million.yaml:15: an alias (*r)" in out


def test_deeper_billion_laughs_in_a_data_folder(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    lines = ['a0: &a0 ["lol"]'] + [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 13)
    ]
    (folder / "laughs.yaml").write_text("- " + "\n  ".join(lines) + "\n", encoding="utf-8")
    _, err = assert_bounded(["validate", str(folder / "laughs.yaml")], tmp_path, 1)
    assert "laughs.yaml:2: an alias (*a0)" in err


def test_fifty_thousand_bad_records_print_the_first_and_report_all(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("".join(f"- {{id: bad-{i}}}\n" for i in range(50_000)), encoding="utf-8")
    report = tmp_path / "report.csv"
    out, err = assert_bounded(["import", str(path), "--report", str(report)], tmp_path, 1)
    assert out.count("\nerror: bad.yaml:") == PROBLEMS_SHOWN
    assert f"and {PROBLEMS_MAX + 1 - PROBLEMS_SHOWN:,} more (all are in {report})" in out
    lines = report.read_text("utf-8-sig").splitlines()
    assert lines[0] == "File,Line,Row,Field,Problem"
    assert len(lines) == 1 + PROBLEMS_MAX + 1
    assert "stopped after 10,000 problems" in lines[-1]
    assert f"wrote {PROBLEMS_MAX + 1:,} problem(s)" in err


def test_fifty_thousand_bad_csv_rows_are_bounded(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "name,lat,lon,year\n" + "".join(f"L{i},north,117,soon\n" for i in range(50_000)),
        encoding="utf-8",
    )
    out, _ = assert_bounded(["import", str(path)], tmp_path, 1)
    assert "50,000 rejected" in out
    assert "… and " in out
