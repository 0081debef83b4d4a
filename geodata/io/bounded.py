"""Run work on untrusted input in a child process that can be abandoned.

A hostile file can make a library loop forever inside C code (a GeoPackage
whose layer is a recursive SQL view kept GDAL busy for good), and no Python
thread can be stopped from outside. So the work runs in its own process,
with a hard wall-clock bound (the process is killed when it passes) and a
memory bound (``RLIMIT_AS``, set in the child), at a lower CPU priority, and
at most :data:`~geodata.model.limits.MAX_CONCURRENT_READS` at a time, so the
server keeps a core for everyone else. When the bound passes the child is
killed, so a closed browser tab never leaves a core spinning.

Children are forked from a ``forkserver`` process that has already imported
the importer, so a small file costs tens of milliseconds, not the seconds a
fresh interpreter would (see ``benchmarks/bench_bounded_read.py``). The
function run must belong to an importable module: the caller's ``__main__``
is not loaded in the child (under Streamlit it is the page itself).

Example
-------
>>> run_bounded(divmod, 7, 2).value
(3, 1)
>>> run_bounded(pow, 2, 10, bounds=Bounds(seconds=5)).value
1024
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.context import set_spawning_popen
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from geodata.io.readers import DEFAULT_MAX_BYTES
from geodata.model.limits import (
    MAX_CONCURRENT_READS,
    READ_MEMORY_BYTES,
    READ_NICENESS,
    READ_TIMEOUT_S,
)

if TYPE_CHECKING:
    from geodata.io.importer import ImportPreview

#: Modules the fork server imports once, so each child starts with them loaded.
#: Not ``__main__``: under Streamlit that is the page being run.
PRELOAD = ["geodata.io.reader_warmup"]

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)
_SLOTS = threading.BoundedSemaphore(MAX_CONCURRENT_READS)


class _Popen(popen_forkserver.Popen):
    """The fork server's launcher, minus re-running the caller's ``__main__`` in the child.

    multiprocessing runs the parent's main module again in every child so
    that functions defined there can be found. Streamlit runs each page as a
    module named ``__main__``, so every read would run the whole page again
    (1.5 s, and in bare mode); the work here is always a function of an
    importable module, so the child needs no main module at all.
    """

    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_name", None)
        prep_data.pop("init_main_from_path", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(_CONTEXT.Process):  # type: ignore[name-defined,misc]
    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:  # noqa: N802 (multiprocessing's name)
        return _Popen(process_obj)


@dataclass(frozen=True)
class Bounds:
    """How long (wall clock, seconds) the work may take, and how much address space
    (bytes) it may map on top of what the loaded reader maps before it starts."""

    seconds: float = READ_TIMEOUT_S
    memory_bytes: int = READ_MEMORY_BYTES


@dataclass(frozen=True)
class Outcome:
    """What the work returned, how long it took, and the child's peak resident memory."""

    value: Any
    seconds: float
    peak_rss_bytes: int


class BoundExceededError(Exception):
    """The work passed a bound or died.

    ``what`` is ``"time"``, ``"memory"``, ``"busy"`` or ``"crash"``.
    """

    def __init__(self, what: str, message: str):
        super().__init__(message)
        self.what = what
        self.message = message


def start_reader() -> None:
    """Start the fork server now (about 2 s, once per process), not at the first read."""
    forkserver.ensure_running()


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
    if not _SLOTS.acquire(timeout=bounds.seconds):
        raise BoundExceededError(
            "busy",
            f"the server is busy reading {MAX_CONCURRENT_READS} other file(s) and none "
            f"finished within {bounds.seconds:g} s; try again in a minute",
        )
    try:
        return _run_in_child(func, args, kwargs, bounds)
    finally:
        _SLOTS.release()


def _run_in_child(
    func: Callable[..., Any], args: tuple, kwargs: dict, bounds: Bounds
) -> Outcome:
    receive, send = _CONTEXT.Pipe(duplex=False)
    child = _Process(
        target=_child_main, args=(send, bounds.memory_bytes, func, args, kwargs),
        name="cmf-bounded-read", daemon=True,
    )
    child.start()  # the first call also starts the fork server (about 2 s, once)
    started = time.monotonic()
    send.close()
    try:
        if not receive.poll(bounds.seconds):
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
                "crash",
                f"reading stopped without an answer (exit code {child.exitcode}); the file "
                f"may need more than {bounds.memory_bytes / 2**20:,.0f} MB of memory, the "
                "limit per file, or crash the reader",
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


def _address_space() -> int:
    """This process's mapped address space in bytes (``VmSize``), 0 if unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _child_main(
    send: Any, memory_bytes: int, func: Callable[..., Any], args: tuple, kwargs: dict
) -> None:
    """In the child: lower priority, cap memory, run, send (status, value, peak RSS)."""
    with contextlib.suppress(OSError):
        os.nice(READ_NICENESS)
    # On top of what the child has mapped already: GDAL, PROJ and numpy's thread
    # buffers reserve over a gigabyte of address space before anything is read.
    limit = _address_space() + memory_bytes
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard == resource.RLIM_INFINITY or limit < hard:
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
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


def preview_import_bounded(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    filename: str | None = None,
    mapping: Any = None,
    *,
    bounds: Bounds | None = None,
    **options: Any,
) -> ImportPreview:
    """:func:`geodata.io.importer.preview_import` in a child process, within ``bounds``.

    The CLI's ``import`` and the Your data page read every user file this
    way. A passed bound comes back as the file's one error, like any other
    reason a file is refused; arguments are those of ``preview_import``.

    Example
    -------
    >>> preview_import_bounded(b"name,lat,lon,year\\nLab,39,117,2018\\n", "a.csv").ok
    True
    """
    from geodata.io.importer import preview_import

    if isinstance(source, (str, os.PathLike)):
        name = filename or Path(os.fspath(source)).name
    else:
        name = filename or "upload"
        if not isinstance(source, (bytes, bytearray, memoryview)) and hasattr(source, "read"):
            # A file object cannot cross to the child; its bytes (within the cap) can.
            cap = options.get("max_bytes", DEFAULT_MAX_BYTES)
            source = source.read(cap + 1) if isinstance(cap, int) and cap > 0 else source.read()
    try:
        outcome = run_bounded(preview_import, source, filename, mapping, bounds=bounds, **options)
    except BoundExceededError as exc:
        return refused_preview(name, exc)
    return outcome.value


def refused_preview(name: str, exc: BoundExceededError) -> ImportPreview:
    """The preview of a file whose read passed a bound: nothing imported, one error saying why."""
    from geodata.io.importer import ImportPreview
    from geodata.store.load import Problem

    return ImportPreview(name, errors=(Problem(name, None, "-", "-", exc.message),))
