"""``import --save`` and ``--report`` write only what the user named, atomically, or say why not.

Exit status: 2 for a target that may not be used (exists without --force, a
folder, a device, a link, a missing folder), 3 when writing fails (disk full,
read-only, no permission); one line of message, never a traceback, and
nothing left behind.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from geodata.cli import main
from geodata.io import safe_write

REPO = Path(__file__).resolve().parents[2]
GOOD_CSV = b"name,lat,lon,year\nLab,39.1,117.2,2018\nPark,23.1,113.3,2019\n"


@pytest.fixture
def csv_file(tmp_path) -> Path:
    path = tmp_path / "in" / "sites.csv"
    path.parent.mkdir()
    path.write_bytes(GOOD_CSV)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_save_writes_a_new_file_and_nothing_else(capsys, csv_file, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, _ = run(capsys, "import", csv_file, "--save", out_dir / "mine.yaml")
    assert code == 0
    assert "saved 2 record(s)" in out
    assert [p.name for p in out_dir.iterdir()] == ["mine.yaml"]
    assert len(yaml.safe_load((out_dir / "mine.yaml").read_text("utf-8"))) == 2


def test_save_refuses_an_existing_file_unless_force(capsys, csv_file, tmp_path):
    target = tmp_path / "funds.yaml"
    target.write_text("curated: keep me\n")
    code, out, err = run(capsys, "import", csv_file, "--save", target)
    assert code == 2
    assert "already exists; expected a new file name, or allow overwriting it (CLI: --force)" in err
    assert out == "", "refused before the file is even read"
    assert target.read_text() == "curated: keep me\n"

    target.chmod(0o640)
    code, out, _ = run(capsys, "import", csv_file, "--save", target, "--force")
    assert code == 0
    assert len(yaml.safe_load(target.read_text("utf-8"))) == 2
    assert target.stat().st_mode & 0o777 == 0o640, "the replaced file keeps its mode"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["funds.yaml", "in"]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/dev/full", "is not a regular file"),
        ("/dev/null", "is not a regular file"),
        ("{tmp}", "is a folder; expected a file name inside it"),
        ("{tmp}/missing/out.yaml", "the folder '{tmp}/missing' does not exist"),
        ("{tmp}/in/sites.csv/out.yaml", "is not a folder"),
        ("{tmp}/link.yaml", "is a symbolic link"),
    ],
)
@pytest.mark.parametrize("force", [False, True])
def test_save_refuses_targets_that_are_not_new_or_regular_files(
    capsys, csv_file, tmp_path, target, message, force
):
    (tmp_path / "link.yaml").symlink_to(tmp_path / "elsewhere.yaml")
    target = target.format(tmp=tmp_path)
    before = sorted(os.listdir(tmp_path))
    code, _, err = run(capsys, "import", csv_file, "--save", target, *(["--force"] * force))
    assert code == 2
    assert message.format(tmp=tmp_path) in err
    assert err.count("\n") == 1, err
    assert sorted(os.listdir(tmp_path)) == before
    assert not (tmp_path / "elsewhere.yaml").exists(), "never written through a link"
    assert Path("/dev/full").is_char_device()


def test_save_into_proc_is_a_write_error(capsys, csv_file):
    code, _, err = run(capsys, "import", csv_file, "--save", "/proc/cmf-atlas-test.yaml")
    assert code == 3
    assert "could not write '/proc/cmf-atlas-test.yaml'" in err
    assert ".tmp" not in err, "the message names the user's file, not ours"


@pytest.mark.parametrize(
    ("code", "reason"),
    [(errno.EROFS, "Read-only file system"), (errno.EACCES, "Permission denied"),
     (errno.ENOSPC, "No space left on device")],
)
def test_write_failures_name_the_users_file(capsys, csv_file, tmp_path, monkeypatch, code, reason):
    def failing(*args, **kwargs):
        raise OSError(code, reason, str(tmp_path / ".mine.yaml.x.tmp"))

    monkeypatch.setattr(safe_write.tempfile, "mkstemp", failing)
    exit_code, _, err = run(capsys, "import", csv_file, "--save", tmp_path / "mine.yaml")
    assert exit_code == 3
    assert f"could not write '{tmp_path / 'mine.yaml'}': {reason}; nothing was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def _run_cli_limited(args: list[str], preexec) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "geodata", *args], cwd=REPO, capture_output=True, text=True,
        preexec_fn=preexec, timeout=120, check=False,
    )


def test_full_disk_leaves_nothing_behind(csv_file, tmp_path):
    big = tmp_path / "big.csv"
    big.write_bytes(b"name,lat,lon,year\n" + b"".join(
        b"Lab %d,39.1,117.2,2018\n" % i for i in range(2000)))
    target = tmp_path / "out.yaml"

    def small_disk() -> None:  # a file system with 64 KB free, as the process sees it
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

    result = _run_cli_limited(["import", str(big), "--save", str(target)], small_disk)
    assert result.returncode == 3, result.stderr
    assert f"could not write '{target}': File too large; nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv", "in"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_folder_without_permission_is_a_write_error(capsys, csv_file, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    code, _, err = run(capsys, "import", csv_file, "--save", locked / "out.yaml")
    assert code == 3
    assert f"could not write '{locked / 'out.yaml'}': Permission denied" in err
    assert list(locked.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-mb", "inf"], "argument --max-mb: expected a number greater than 0"),
        (["--max-mb", "nan"], "argument --max-mb: expected a number greater than 0"),
        (["--max-mb", "1e308"], "at most 1,024, got '1e308'"),
        (["--max-rows", "10000000000"], "at most 1,000,000"),
        (["--max-rows", "2.5"], "expected a whole number, got '2.5'"),
    ],
)
def test_limits_must_be_finite_and_sane(csv_file, args, message):
    result = _run_cli_limited(["import", str(csv_file), *args], None)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_fund_filters_must_be_finite(capsys, value):
    with pytest.raises(SystemExit) as info:
        main(["list", f"--fund-min={value}"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --fund-min: expected a finite number, got '{value}'" in err


def test_validate_report_writes_every_problem(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("".join(f"- {{id: bad-{i}}}\n" for i in range(20)), encoding="utf-8")
    report = tmp_path / "problems.csv"
    code, _, err = run(capsys, "validate", bad, "--report", report)
    assert code == 1
    rows = report.read_text("utf-8-sig").splitlines()
    count = int(err.split(" problem(s) in the datasets")[0].split("error: ")[-1])
    assert len(rows) - 1 == count > 50
    assert err.count(f"\n  - {bad}:") == 50
    assert "… and " in err
    code, _, err = run(capsys, "validate", bad, "--report", report)
    assert code == 2
    assert "already exists" in err
