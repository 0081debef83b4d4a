"""The curated files are kept in the form the tools write them.

The team store exports a dataset file byte for byte as ``write_yaml_file``
writes it (tests/db/test_roundtrip.py, which needs PostgreSQL). This check
runs without a database, so a hand edit that drops the blank line between two
records, or re-quotes a value, is caught by the quick dataset tests too.
"""

from __future__ import annotations

import difflib

import pytest
import yaml

from geodata.db.transfer import split_header
from geodata.io.yaml_style import write_yaml_file
from geodata.store.load import DATASET_DIR

FILES = sorted(DATASET_DIR.glob("*.yaml"))


def test_there_are_curated_files_to_check():
    assert len(FILES) >= 10


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_curated_dataset_file_is_in_written_form(path, tmp_path):
    text = path.read_text(encoding="utf-8")
    items = yaml.safe_load(text) or []
    written = write_yaml_file(tmp_path / path.name, items, header=split_header(text))
    rewritten = written.read_text(encoding="utf-8")
    if rewritten != text:
        diff = "".join(list(difflib.unified_diff(
            text.splitlines(keepends=True), rewritten.splitlines(keepends=True),
            fromfile=f"datasets/{path.name}", tofile="as written", n=1))[:20])
        pytest.fail(f"datasets/{path.name} is not in written form; rewrite it "
                    f"with geodata.io.yaml_style.write_yaml_file:\n{diff}")


def test_a_missing_blank_line_between_records_is_caught(tmp_path):
    items = [{"id": "a", "kind": "fund"}, {"id": "b", "kind": "fund"}]
    written = write_yaml_file(tmp_path / "x.yaml", items).read_text(encoding="utf-8")
    squeezed = written.replace("\n\n- id: b", "\n- id: b")
    assert squeezed != written
    again = write_yaml_file(tmp_path / "y.yaml", yaml.safe_load(squeezed))
    assert again.read_text(encoding="utf-8") == written
