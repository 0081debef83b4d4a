"""Every hostile file, read as the app reads it: in its own process, within bounds.

Each file of ``tests/data/hostile`` is read with
:func:`geodata.io.bounded.run_bounded` (the child process the CLI and the Your
data page use) and must finish within its ``bounds`` in ``expected.yaml``
(default :data:`DEFAULT_SECONDS` and :data:`DEFAULT_MB`), measured there:
wall time, and the child's peak resident memory (``ru_maxrss``). No message
may grow with its input. Then the bounded runner itself: it kills work that
passes its time bound (including GDAL looping in a SQL view), refuses work
that passes its memory bound, and passes exceptions through.
"""

from __future__ import annotations

import multiprocessing
import re
import time
from pathlib import Path

import pyogrio
import pytest
import yaml

from geodata.io.bounded import BoundExceededError, Bounds, preview_import_bounded, run_bounded
from geodata.io.importer import preview_import

CORPUS = Path(__file__).resolve().parents[2] / "data" / "hostile"
EXPECTED: dict[str, dict] = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))
#: Wall time a hostile file may take to be answered (seconds), unless its case says.
DEFAULT_SECONDS = 5.0
#: Peak resident memory of the reading process (MB), unless its case says; the
#: loaded reader alone is about 120 MB.
DEFAULT_MB = 300
#: Longest message about a file, unless its case says.
DEFAULT_MESSAGE_CHARS = 2_000


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file_is_answered_within_its_bounds(name):
    spec = EXPECTED[name]
    bounds = spec.get("bounds", {})
    seconds = bounds.get("seconds", DEFAULT_SECONDS)
    mb = bounds.get("mb", DEFAULT_MB)

    outcome = run_bounded(preview_import, CORPUS / name, bounds=Bounds(seconds=seconds * 4),
                          **spec.get("options", {}))

    preview = outcome.value
    assert outcome.seconds <= seconds, f"{name}: {outcome.seconds:.2f} s"
    assert outcome.peak_rss_bytes <= mb * 2**20, f"{name}: {outcome.peak_rss_bytes / 2**20:.0f} MB"
    longest = max((len(str(p)) for p in preview.errors + preview.problems + preview.warnings),
                  default=0)
    assert longest <= spec.get("max_message_chars", DEFAULT_MESSAGE_CHARS), name
    if "error" in spec:
        assert any(spec["error"] in p.message for p in preview.errors + preview.problems), name


def test_a_small_csv_reads_the_same_bounded_as_in_process():
    data = b"name,lat,lon,year\nLab,39.1,117.2,2018\nHub,30.5,114.4,2017\n"
    bounded = preview_import_bounded(data, "small.csv")
    assert bounded == preview_import(data, "small.csv")
    assert bounded.ok
    assert len(bounded.records) == 2


def test_endless_work_is_killed_when_the_time_bound_passes():
    started = time.monotonic()
    with pytest.raises(BoundExceededError, match="stopped after 1 s, the time limit") as info:
        # Catastrophic backtracking: pure CPU, no memory, never returns in practice.
        run_bounded(re.match, r"(a+)+$", "a" * 64 + "b", bounds=Bounds(seconds=1))
    assert info.value.what == "time"
    assert time.monotonic() - started < 10
    assert multiprocessing.active_children() == [], "the child was killed, not left spinning"


def test_gdal_looping_in_a_recursive_view_is_abandoned():
    """The backstop under the importer's own check: GDAL told to read the view."""
    started = time.monotonic()
    with pytest.raises(BoundExceededError) as info:
        run_bounded(pyogrio.read_dataframe, CORPUS / "gpkg_view_recursive.gpkg",
                    layer="sites_view", bounds=Bounds(seconds=2))
    assert info.value.what == "time"
    assert time.monotonic() - started < 12
    assert multiprocessing.active_children() == []


def test_work_over_the_memory_bound_is_refused():
    with pytest.raises(BoundExceededError, match="more than 200 MB of memory") as info:
        run_bounded(bytearray, 2**31, bounds=Bounds(memory_bytes=200 * 2**20))
    assert info.value.what == "memory"


def test_an_exception_in_the_child_is_raised_here():
    with pytest.raises(ValueError, match="invalid literal"):
        run_bounded(int, "not a number")


def test_a_passed_bound_is_the_files_one_error(tmp_path):
    path = tmp_path / "slow.csv"
    path.write_bytes(b"name,lat,lon,year\n" + b"Lab,39.1,117.2,2018\n" * 20_000)
    preview = preview_import_bounded(path, bounds=Bounds(seconds=0.01))
    assert not preview.ok
    assert preview.errors[0].file == "slow.csv"
    assert "the time limit per file" in preview.errors[0].message


def test_a_file_object_is_read_within_the_cap():
    with open(CORPUS / "province_long_forms.csv", "rb") as fh:
        preview = preview_import_bounded(fh, "provinces.csv")
    assert len(preview.records) == 19
