"""Hostile files: each is refused (or kept as plain text) with a specific message.

The files come from ``tests/data/hostile/make_corpus.py`` and their expected
outcomes from ``tests/data/hostile/expected.yaml``. For every file the
importer must report the expected problem, let no exception escape, and
write nothing anywhere: not beside the file, not in the working directory,
not in the temp directory.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import tempfile
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from geodata.io.importer import preview_import
from geodata.model.frame import records_to_frame
from geodata.model.schema import Source
from geodata.render.layers import build_map

CORPUS = Path(__file__).resolve().parents[2] / "data" / "hostile"
EXPECTED: dict[str, dict] = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))
NOT_DATA = {"make_corpus.py", "expected.yaml"}
EMPTY_BASE = {"type": "FeatureCollection", "features": []}


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in directory.rglob("*")
    }


@pytest.fixture
def sandbox(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """Empty temp and working directories, to prove nothing is written to either."""
    temp = tmp_path / "temp"
    work = tmp_path / "work"
    temp.mkdir()
    work.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.chdir(work)
    return temp, work


def test_corpus_and_manifest_match():
    files = {p.name for p in CORPUS.iterdir()} - NOT_DATA
    assert files == set(EXPECTED)
    assert len(files) >= 50


def test_corpus_is_what_the_script_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    make_corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_corpus)
    make_corpus.main(tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == set(EXPECTED)
    changed = [
        p.name for p in tmp_path.iterdir()
        if p.name not in make_corpus.GDAL_MADE and p.read_bytes() != (CORPUS / p.name).read_bytes()
    ]
    assert changed == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file(name, sandbox):
    spec = EXPECTED[name]
    before = snapshot(CORPUS)

    preview = preview_import(CORPUS / name, **spec.get("options", {}))

    issues = preview.errors + preview.problems
    if "error" in spec:
        matching = [p for p in issues if spec["error"] in p.message]
        assert matching, f"no problem says {spec['error']!r}; got {[str(p) for p in issues]}"
        if "field" in spec:
            assert spec["field"] in {p.field for p in matching}, [str(p) for p in matching]
        if "record" in spec:
            assert spec["record"] in {p.record for p in matching}, [str(p) for p in matching]
        if "line" in spec:
            assert spec["line"] in {p.line for p in matching}, [str(p) for p in matching]
        assert all(p.file == name for p in issues)
        assert not preview.ok
    else:
        assert not issues, [str(p) for p in issues]
    if "warning" in spec:
        assert any(spec["warning"] in w.message for w in preview.warnings)
    # Messages name the user's file and are bounded, whatever the file holds.
    for problem in issues + preview.warnings:
        assert "cmf-import-" not in str(problem), str(problem)
        assert len(problem.message) < 2_000, problem.message[:200]
    assert len(preview.records) == spec.get("accepted", 0)
    for field, value in spec.get("text", {}).items():
        assert getattr(preview.records[0], field) == value
    if preview.records:
        # Accepted text reaches the map's page unchanged: never run as markup or template.
        frame = records_to_frame(preview.records)
        html = build_map(frame.iloc[:0], EMPTY_BASE, user_frame=frame).get_root().render()
        shown = json.loads(re.search(r"CMF\.addUserRecords\(map, (\{.*?\})\);\n", html)[1])
        props = shown["features"][0]["properties"]
        for field, value in spec.get("text", {}).items():
            assert props[field] == value
    assert snapshot(CORPUS) == before
    temp, work = sandbox
    assert list(temp.iterdir()) == []
    assert list(work.iterdir()) == []


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)",
     "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
     "https://example.org/<script>", "http://example.org/a b"],
)
def test_schema_url_validator_refuses_script_urls(url):
    with pytest.raises(ValidationError, match="expected an http"):
        Source(publisher="p", title="t", url=url)


def test_schema_url_validator_accepts_plain_https():
    assert Source(publisher="p", title="t", url="https://example.org/a?b=1").url


def test_mutated_corpus_files_never_raise(sandbox):
    """A fixed-seed fuzz: flipped, cut and spliced bytes are reported, never raised."""
    rng = random.Random(0)
    seeds = sorted(p for p in CORPUS.iterdir() if p.name not in NOT_DATA)
    splices = [b",", b"\n", b'"', b"{", b"]", b"NaN", b"1e999", b"\xff", b"\x00", b"null"]
    for _ in range(300):
        source = rng.choice(seeds)
        data = bytearray(source.read_bytes() or b"x")
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data) or 1)
            roll = rng.random()
            if roll < 0.5:
                data[at:at + 1] = bytes([rng.randrange(256)])
            elif roll < 0.7:
                del data[at:at + rng.randint(1, 20)]
            else:
                data[at:at] = rng.choice(splices)
        preview = preview_import(bytes(data), source.name)
        assert preview.errors or preview.problems or preview.records
    temp, work = sandbox
    assert list(temp.iterdir()) == []
    assert list(work.iterdir()) == []
