"""The server gives freed memory back (dashboard/memory.py) and limits its malloc arenas."""

from __future__ import annotations

import subprocess

import pyarrow as pa
import pytest

from dashboard import launch
from dashboard.memory import _malloc_trim, return_free_memory


def test_freed_arrow_and_heap_memory_is_returned():
    assert _malloc_trim() is not None  # this project's machines run glibc (Debian)
    data = pa.array(["x" * 100] * 200_000)
    del data
    return_free_memory()
    assert pa.default_memory_pool().bytes_allocated() < 10_000_000


def test_the_server_is_started_with_two_malloc_arenas(monkeypatch, tmp_path):
    seen = {}

    class StoppedError(Exception):
        pass

    def popen(args, **kwargs):
        seen.update(kwargs["env"])
        raise StoppedError

    monkeypatch.setattr(subprocess, "Popen", popen)
    with pytest.raises(StoppedError):
        launch.start_dashboard({"CMF_ATLAS_DATA": "x"}, tmp_path / "log")
    assert seen["MALLOC_ARENA_MAX"] == "2"
    assert seen["CMF_ATLAS_DATA"] == "x"
