"""Run work on untrusted input in a child process that can be abandoned.

A hostile file can make a library loop forever inside C code (a GeoPackage
whose layer is a recursive SQL view kept GDAL busy for good), and no Python
thread can be stopped from outside. So the work runs in its own process,
with a hard wall-clock bound (the process is killed when it passes) and a
memory bound (``RLIMIT_AS``, set in the child), at a lower CPU priority, and
at most :data:`~geodata.limits.MAX_CONCURRENT_READS` at a time, so the
server keeps a core for everyone else. When the bound passes the child is
killed, so a closed browser tab never leaves a core spinning.

Children are forked from a ``forkserver`` process that has already imported
the importer, so a small file costs tens of milliseconds, not the seconds a
fresh interpreter would (see ``benchmarks/bench_bounded_read.py``).

Example
-------
>>> run_bounded(divmod, 7, 2).value
(3, 1)
>>> run_bounded(pow, 2, 10, bounds=Bounds(seconds=5)).value
1024
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from geodata.limits import (
    MAX_CONCURRENT_READS,
    READ_MEMORY_BYTES,
    READ_NICENESS,
    READ_TIMEOUT_S,
)

#: Modules the fork server imports once, so each child starts with them loaded.
PRELOAD = ["__main__", "geodata.importer"]

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)
_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_READS)


@dataclass(frozen=True)
class Bounds:
    """How long (wall clock, seconds) and how much address space (bytes) the work may use."""

    seconds: float = READ_TIMEOUT_S
    memory_bytes: int = READ_MEMORY_BYTES


@dataclass(frozen=True)
class Outcome:
    """What the work returned, how long it took, and the child's peak resident memory."""

    value: Any
    seconds: float
    peak_rss_bytes: int


class BoundExceededError(Exception):
    """The work passed a bound (``what`` is ``"time"``, ``"memory"`` or ``"busy"``) or crashed."""

    def __init__(self, what: str, message: str):
        super().__init__(message)
        self.what = what
        self.message = message


def run_bounded(
    func: Callable[..., Any], *args: Any, bounds: Bounds | None = None, **kwargs: Any
) -> Outcome:
    """``func(*args, **kwargs)`` in a child process, within ``bounds``.

    ``func`` must be a module-level function and its arguments and result
    picklable. An exception ``func`` raises is raised here again.

    Raises
    ------
    BoundExceededError
        When the time or memory bound passes (the child is killed), when the
        child dies without an answer, or when no slot frees up within the
        time bound because other reads are running.
    """
    bounds = bounds or Bounds()
    started = time.monotonic()
    if not _SLOTS.acquire(timeout=bounds.seconds):
        raise BoundExceededError(
            "busy",
            f"the server is busy reading {MAX_CONCURRENT_READS} other file(s) and none "
            f"finished within {bounds.seconds:g} s; try again in a minute",
        )
    try:
        return _run_in_child(func, args, kwargs, bounds, started)
    finally:
        _SLOTS.release()


def _run_in_child(
    func: Callable[..., Any], args: tuple, kwargs: dict, bounds: Bounds, started: float
) -> Outcome:
    receive, send = _CONTEXT.Pipe(duplex=False)
    child = _CONTEXT.Process(
        target=_child_main, args=(send, bounds.memory_bytes, func, args, kwargs),
        name="cmf-bounded-read", daemon=True,
    )
    child.start()
    send.close()
    try:
        remaining = max(0.0, bounds.seconds - (time.monotonic() - started))
        if not receive.poll(remaining):
            raise BoundExceededError(
                "time",
                f"reading stopped after {bounds.seconds:g} s, the time limit per file; the "
                "file may hold something that makes reading it endless (such as a SQL view "
                "or a computed column), or be too large to check in time",
            )
        try:
            status, payload, peak_rss = receive.recv()
        except (EOFError, OSError):
            child.join(5)
            raise BoundExceededError(
                "memory",
                f"reading stopped without an answer (exit code {child.exitcode}); the file "
                f"probably needs more than {bounds.memory_bytes / 2**20:,.0f} MB of memory, "
                "the limit per file",
            ) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
    if status == "memory":
        raise BoundExceededError(
            "memory",
            f"reading needed more than {bounds.memory_bytes / 2**20:,.0f} MB of memory, the "
            "limit per file",
        )
    if status == "raised":
        raise payload
    return Outcome(payload, time.monotonic() - started, peak_rss)


def _child_main(
    send: Any, memory_bytes: int, func: Callable[..., Any], args: tuple, kwargs: dict
) -> None:
    """In the child: lower priority, cap memory, run, send (status, value, peak RSS)."""
    with contextlib.suppress(OSError):
        os.nice(READ_NICENESS)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or memory_bytes < hard:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, hard))
    try:
        message: tuple[str, Any] = ("ok", func(*args, **kwargs))
    except MemoryError:
        message = ("memory", None)
    except Exception as exc:
        message = ("raised", exc)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:
        send.send((*message, peak))
    except MemoryError:
        send.send(("memory", None, peak))
    except Exception as exc:  # an unpicklable exception or value: say what it was
        send.send(("raised", RuntimeError(f"{type(exc).__name__}: {exc}"), peak))
    send.close()
