"""The compiled store, kept in a cache folder and rebuilt when a source changes.

Compiling 100,000 YAML records takes tens of seconds (parsing and
validation); reading the compiled GeoParquet takes a fraction of one. The
cache file's name holds two digests:

- of the source set (the files' absolute paths), so two data folders never
  share a file;
- of everything that makes the compiled file stale: each file's size and
  modification time (nanoseconds) and :func:`~geodata.store.geoparquet.schema_version`.

So an edited, added or removed source file, or a new schema, gives a new
name and a rebuild; unchanged sources reuse the file without reading them.
A rebuild validates every record (an invalid source raises
:class:`geodata.store.load.DatasetError` and leaves no store), is written
atomically, and removes the stale files of the same source set.

The folder is ``.cache/atlas/`` in the project (git-ignored), or the one
``CMF_ATLAS_CACHE`` names.

Example
-------
>>> import tempfile, pathlib
>>> from geodata.store.load import default_dataset_paths
>>> cache = pathlib.Path(tempfile.mkdtemp())
>>> first = compiled_store(default_dataset_paths(), cache)
>>> compiled_store(default_dataset_paths(), cache) == first
True
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from geodata.store.geoparquet import schema_version, write_store
from geodata.store.sources import load_source_frame

#: The environment variable that moves the cache folder.
CACHE_DIR_ENV = "CMF_ATLAS_CACHE"

#: The default cache folder: ``.cache/atlas/`` at the project root.
DEFAULT_CACHE_DIR = Path(__file__).resolve().parents[2] / ".cache" / "atlas"

_PREFIX = "store-"  # store-<sources digest>-<state digest>.parquet


def cache_dir() -> Path:
    """The cache folder in use: ``$CMF_ATLAS_CACHE`` or ``.cache/atlas/``."""
    return Path(os.environ.get(CACHE_DIR_ENV) or DEFAULT_CACHE_DIR)


def _digest(parts: Sequence[str]) -> str:
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:16]


def cache_key(paths: Sequence[Path | str]) -> tuple[str, str]:
    """``(source-set digest, state digest)`` for ``paths``; see the module docstring.

    Raises
    ------
    FileNotFoundError
        If a source file does not exist.
    """
    resolved = sorted(str(Path(p).resolve()) for p in paths)
    state = [schema_version()]
    for path in resolved:
        st = os.stat(path)
        state.append(f"{path}\0{st.st_size}\0{st.st_mtime_ns}")
    return _digest(resolved), _digest(state)


def store_path(paths: Sequence[Path | str], directory: Path | None = None) -> Path:
    """Where the compiled store of ``paths`` lives (whether or not it exists yet)."""
    sources, state = cache_key(paths)
    return (directory or cache_dir()) / f"{_PREFIX}{sources}-{state}.parquet"


def writable_dir(directory: Path) -> Path:
    """``directory`` if a file can be written there, else a private temporary folder.

    A read-only checkout (a USB stick, a shared install) still gets a store,
    only not one that outlives the machine's temporary folder.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-"):
            pass
    except OSError:
        fallback = Path(tempfile.gettempdir()) / f"cmf-atlas-cache-{os.getuid()}"
        fallback.mkdir(mode=0o700, exist_ok=True)
        return fallback
    return directory


def compiled_store(paths: Sequence[Path | str], directory: Path | None = None) -> Path:
    """The GeoParquet store compiled from ``paths``, rebuilt only when it is stale.

    Parameters
    ----------
    paths
        Source files: YAML, GeoParquet or CSV (see :mod:`geodata.store.sources`).
    directory
        The cache folder; default :func:`cache_dir`.

    Raises
    ------
    geodata.store.load.DatasetError
        If any source is invalid (every problem listed); no store is written.
    """
    directory = writable_dir(directory or cache_dir())
    target = store_path(paths, directory)
    if target.is_file():
        return target
    write_store(load_source_frame(paths), target)
    remove_stale(target)
    return target


def store_family(store: Path) -> str:
    """The key of the cache files made from ``store`` (its query and name indexes).

    A compiled store is named ``store-<sources>-<state>.parquet``: its indexes
    take the sources digest, so when the store is rebuilt (a new state) the
    new indexes share the old ones' key and :func:`remove_stale` deletes the
    old ones. Any other store file: a digest of its path.

    >>> store_family(Path("/cache/store-0123456789abcdef-fedcba9876543210.parquet"))
    '0123456789abcdef'
    """
    kind, _, rest = store.stem.partition("-")
    sources, _, state = rest.partition("-")
    if f"{kind}-" == _PREFIX and len(sources) == len(state) == 16 and "-" not in state:
        return sources
    return _digest([str(store.resolve())])


def remove_stale(target: Path) -> None:
    """Delete the cache files that ``target`` replaces: same prefix and first digest.

    ``target`` is named ``<prefix>-<sources>-<state>.<suffix>``; a file with
    the same sources digest and another state is an older build.
    """
    prefix, sources, _ = target.stem.rsplit("-", 2)
    for stale in target.parent.glob(f"{prefix}-{sources}-*{target.suffix}"):
        if stale != target:
            stale.unlink(missing_ok=True)
