"""One folder for the reference lists, movable with CMF_ATLAS_REFERENCE_DATA."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from geodata.model.reference_data import DEFAULT_REFERENCE_DATA_DIR, REFERENCE_DATA_ENV

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import json
from geodata.io.importers import aspi
from geodata.model import designations
from geodata.screening import targets
print(json.dumps({
    "designations": str(designations.LIST_1260H.parent),
    "screening": str(targets.SHARED_DATA_DIR),
    "aspi": str(aspi.DEFAULT_INPUT.parent),
    "entries_1260h": len(targets.load_1260h()),
}))
"""


def _probe(env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_every_reader_uses_the_one_folder_and_the_setting_moves_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != REFERENCE_DATA_ENV}
    default = _probe(env)
    assert {default["designations"], default["screening"], default["aspi"]} == {
        str(DEFAULT_REFERENCE_DATA_DIR)}
    assert default["entries_1260h"] > 0

    moved = tmp_path / "lists"
    moved.mkdir()
    shutil.copy(DEFAULT_REFERENCE_DATA_DIR / "us-dod-1260h.csv", moved)
    got = _probe({**env, REFERENCE_DATA_ENV: str(moved)})
    assert {got["designations"], got["screening"], got["aspi"]} == {str(moved)}
    assert got["entries_1260h"] == default["entries_1260h"]
