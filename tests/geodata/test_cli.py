"""The CLI validates, lists with the sidebar's semantics, and fails clearly."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from geodata.cli import main
from geodata.query.filters import FundSizeRange, RecordFilter, filter_records


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_ok(capsys, sample_path):
    code, out, _ = run(capsys, "validate", str(sample_path))
    assert code == 0
    assert "7 records" in out


def test_validate_reports_and_exits_1(capsys, tmp_path, sample_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(sample_path.read_text(encoding="utf-8").replace("year: 2016", "year: soon"))
    code, _, err = run(capsys, "validate", str(bad))
    assert code == 1
    assert str(bad) in err
    assert "'fund-small'" in err
    assert "'year'" in err


def test_list_matches_filter_records(capsys, sample_path, sample_frame):
    code, out, _ = run(
        capsys, "list", "--data", str(sample_path), "--kind", "fund", "--kind", "cluster",
        "--fund-min", "1", "--fund-max", "100", "--no-unknown-size", "--year-min", "2016",
    )
    expected = filter_records(sample_frame, RecordFilter(
        kinds=frozenset({"fund", "cluster"}), year_min=2016,
        fund_size=FundSizeRange(1, 100, include_unknown=False)))
    assert code == 0
    fc = json.loads(out)
    assert [f["id"] for f in fc["features"]] == list(expected["id"])
    assert "fund-small" in list(expected["id"])


def test_list_csv_with_domain_and_search(capsys, sample_path, sample_frame):
    code, out, _ = run(capsys, "list", "--data", str(sample_path), "--domain", "maritime",
                       "--search", "lab", "--format", "csv")
    assert code == 0
    assert [r["id"] for r in csv.DictReader(io.StringIO(out))] == ["cluster-beta"]


def test_list_refuses_contradictory_filters(capsys, sample_path):
    code, _, err = run(capsys, "list", "--data", str(sample_path), "--year-min", "2020",
                       "--year-max", "2010")
    assert code == 2
    assert "year_min 2020 is after year_max 2010" in err


def test_unknown_flag_value_is_an_argparse_error(sample_path):
    with pytest.raises(SystemExit) as info:
        main(["list", "--kind", "tank"])
    assert info.value.code == 2


def test_module_entry_point_validates_curated_datasets():
    proc = subprocess.run([sys.executable, "-m", "geodata", "validate"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("OK:")
