"""The store's query index: the filter columns in a DuckDB database file beside the cache.

Loading the filter columns of 100,000 records from Parquet into memory takes
a quarter of a second of CPU each time a server starts; attaching a DuckDB
file that already holds them takes a hundredth, and DuckDB then reads only
the blocks a query touches. The index is built once per store file (keyed,
like the store, on the file's path, size, modification time and the schema
version), atomically, in the cache folder; a changed store gets a new one and
the old is removed.

Example
-------
>>> import tempfile, pathlib
>>> from geodata.store.load import default_dataset_paths
>>> from geodata.store.cache import compiled_store
>>> cache = pathlib.Path(tempfile.mkdtemp())
>>> index = ensure_index(compiled_store(default_dataset_paths(), cache), cache)
>>> index.name.startswith("index-"), index.suffix
(True, '.duckdb')
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from geodata.query.sql import DOMAIN_BITS
from geodata.store.cache import remove_stale, store_family, writable_dir
from geodata.store.geoparquet import ROW_COLUMN, schema_version

#: Bumped when the index's tables change; older index files are rebuilt.
INDEX_FORMAT = 3

#: The columns kept in the index (what filters, aggregates and map symbols
#: read), with their SQL types: a column that is empty in the file (an empty
#: store) has no type of its own, and the filters need one.
INDEX_COLUMNS: dict[str, str] = {
    ROW_COLUMN: "BIGINT", "id": "VARCHAR", "kind": "VARCHAR", "year": "BIGINT",
    "fund_size_rmb_bn": "DOUBLE", "domains": "VARCHAR[]", "province": "VARCHAR",
    "lon": "DOUBLE", "lat": "DOUBLE", "_haystack": "VARCHAR", "category": "VARCHAR",
    "sponsor_level": "VARCHAR", "designated": "BOOLEAN", "ancestors": "VARCHAR[]",
}


def sql_path(path: Path) -> str:
    """``path`` as a SQL string literal.

    DuckDB binds no parameters in ``ATTACH`` or ``CREATE VIEW``; the paths are
    the cache's own or one the operator gave, and quoting doubles any quote.
    """
    return "'" + str(path).replace("'", "''") + "'"


def _digest(*parts: object) -> str:
    return hashlib.sha256("\0".join(map(str, parts)).encode("utf-8")).hexdigest()[:16]


def index_path(store: Path, directory: Path) -> Path:
    """Where the index of ``store`` lives in ``directory`` (whether or not it exists)."""
    resolved = store.resolve()
    st = resolved.stat()
    state = _digest(st.st_size, st.st_mtime_ns, schema_version(), INDEX_FORMAT)
    return directory / f"index-{store_family(resolved)}-{state}.duckdb"


@contextmanager
def written_database(target: Path, config: dict | None = None
                     ) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a new DuckDB file that becomes ``target`` only when the block ends
    without an error (a temporary file, then a rename): a reader never sees half a file,
    and a failed build leaves nothing behind."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.unlink(tmp)  # DuckDB creates the file itself
    try:
        con = duckdb.connect(tmp, config=config or {})
        try:
            yield con
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, target)
    finally:
        for leftover in (Path(tmp), Path(tmp + ".wal")):
            leftover.unlink(missing_ok=True)


def build_index(store: Path, target: Path) -> Path:
    """Write the index of ``store`` to ``target``, atomically (:func:`written_database`)."""
    # Relation columns (designated, ancestors) exist only in a store compiled
    # from a frame with relations; elsewhere they are NULL, which the filters
    # read as "not designated" and "no ancestors", as the Python filters do.
    present = set(pq.read_schema(store).names)
    sources = {c: f'"{c}"' if c in present else "NULL" for c in INDEX_COLUMNS}
    columns = ", ".join(f'CAST({sources[c]} AS {t}) AS "{c}"' for c, t in INDEX_COLUMNS.items())
    # Each record's domains as one integer (bit i for the i-th domain of the
    # vocabulary), so the any-of domain filter is a bitwise AND.
    bits = (
        "coalesce(list_aggregate(list_transform(CAST(domains AS VARCHAR[]), "
        "d -> (1::BIGINT << (list_position(?::VARCHAR[], d) - 1))), 'bit_or'), 0)::BIGINT"
    )
    with written_database(target) as con:
        con.execute(
            f"CREATE TABLE idx AS SELECT {columns}, {bits} AS _domain_bits "
            f"FROM read_parquet({sql_path(store)}) ORDER BY {ROW_COLUMN}",
            [list(DOMAIN_BITS)],
        )
    return target


def ensure_index(store: Path, directory: Path) -> Path:
    """The index of ``store`` in ``directory``, built if missing or stale."""
    target = index_path(Path(store), writable_dir(directory))
    if not target.is_file():
        build_index(Path(store).resolve(), target)
        remove_stale(target)
    return target
