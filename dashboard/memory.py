"""Hand memory the server no longer uses back to the system after each run.

A filter change at 1,000,000 records copies a selection of a few hundred MB;
when the run ends it is freed, but glibc's allocator keeps the pages for
reuse, spread over one arena per thread that ran a script, and Arrow's
allocator keeps its own. The server's resident memory then grows with each
filter change although nothing is alive (measured with
``benchmarks/bench_scale.py``: +100–170 MB per change). Returning them costs
a few milliseconds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or ``None`` on a system without it (macOS, musl)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return None if libc is None else libc.malloc_trim
    except (OSError, AttributeError):
        return None


def return_free_memory() -> None:
    """Give freed heap and Arrow pool pages back to the operating system."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
