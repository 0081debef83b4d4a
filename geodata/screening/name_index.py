"""A large atlas's names for screening, kept in a DuckDB file beside the store.

Screening compares every name of a list with every name and alias of every
record. Held in Python, a million records' names cost 3.4 GB and 48.8 s to
index each time a server starts (every name normalised: script, width, legal
suffixes). Here they are normalised once per store file and written to a
DuckDB file in the cache folder (keyed, like the query index, on the store
file and on the code that decides the normal form); a server then holds only
the sorted forms of the names that fuzzy matching scans, and looks up exact
and normalised names for a whole batch of the list in one query.

Tables of the file: ``exact`` (every name and alias as written, with its
basis, in the order an in-memory :class:`~geodata.screening.match.Screener`
would meet them), ``normal`` (every distinct name of a record, normalised),
``fuzzy`` (each normalised name long enough for fuzzy matching, once, in
first-seen order, with its words sorted) and ``targets`` (what a hit reports).

Example
-------
>>> import tempfile, pathlib
>>> from geodata.store.load import default_dataset_paths
>>> from geodata.store.cache import compiled_store
>>> from geodata.query.engine import open_store
>>> cache = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(compiled_store(default_dataset_paths(), cache), index_dir=cache)
>>> names = StoreNames(ensure_name_index(store, cache))
>>> len(names) == len(store)
True
>>> key = exact_key("Shunde Military-Civil Fusion Innovation Industry Park")
>>> [(t.record_id, basis) for t, basis, _ in names.look_up(
...     exact_keys={key}, normal_keys=set()).exact[key]]
[('cluster-shunde-cmf-innovation-industry-park', 'exact name')]
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from geodata.model.limits import STORE_QUERY_MEMORY_MB
from geodata.query.engine import AtlasStore
from geodata.query.index import written_database
from geodata.screening import match, normalise, targets
from geodata.screening.match import fuzzy_key_ok, token_sorted
from geodata.screening.normalise import exact_key, normalise_name
from geodata.screening.targets import ScreenTarget, atlas_targets
from geodata.store.cache import remove_stale, store_family, writable_dir

#: Bumped when the file's tables change; older files are rebuilt.
NAME_INDEX_FORMAT = 1
#: Records read from the store and indexed at a time (bounds the memory of a build).
BUILD_CHUNK = 50_000


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else str(part).encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()[:16]


def _rules_digest() -> str:
    """The code that decides what is stored: a change to it rebuilds the file."""
    return _digest(*(Path(m.__file__).read_bytes() for m in (normalise, targets, match)))


def name_index_path(store: AtlasStore, directory: Path) -> Path:
    """Where the name index of ``store`` lives in ``directory`` (whether or not it exists)."""
    resolved = store.path.resolve()
    st = resolved.stat()
    state = _digest(st.st_size, st.st_mtime_ns, NAME_INDEX_FORMAT, _rules_digest())
    return directory / f"names-{store_family(resolved)}-{state}.duckdb"


def _chunk_tables(records: pd.DataFrame, seq0: int) -> tuple[pd.DataFrame, ...]:
    """One chunk of records as rows of ``exact``, ``normal_raw`` and ``targets``
    (``seq0``: the number of the chunk's first ``exact`` row)."""
    exact: list[tuple[str, str, str, str]] = []
    normal: list[tuple[str, str, str, bool]] = []
    rows: list[tuple[str, str, list[str], list[str], str | None]] = []
    for t in atlas_targets(records.itertuples(index=False)):
        rid = str(t.record_id)
        rows.append((rid, t.label, list(t.names), list(t.aliases), t.url))
        exact += [(rid, "exact name", n, exact_key(n)) for n in t.names]
        exact += [(rid, "alias", a, exact_key(a)) for a in t.aliases]
        for n in t.all_names():
            key = normalise_name(n)
            if key:
                normal.append((rid, n, key, fuzzy_key_ok(key)))
    exact_df = pd.DataFrame(exact, columns=["id", "basis", "text", "key"])
    exact_df.insert(0, "seq", np.arange(seq0, seq0 + len(exact_df), dtype="int64"))
    normal_df = pd.DataFrame(normal, columns=["id", "text", "key", "fuzzy"])
    targets_df = pd.DataFrame(rows, columns=["id", "label", "names", "aliases", "url"])
    return exact_df, normal_df, targets_df


def _append(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    con.register("_chunk", frame)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _chunk")
    finally:
        con.unregister("_chunk")


def build_name_index(store: AtlasStore, target: Path,
                     progress: Callable[[int, int], None] | None = None) -> Path:
    """Write the name index of ``store`` to ``target``, atomically; ``progress(done, total)``."""
    total = len(store)
    with written_database(target, {"memory_limit": f"{STORE_QUERY_MEMORY_MB}MB"}) as con:
        con.execute("CREATE TABLE exact (seq BIGINT, id VARCHAR, basis VARCHAR, "
                    "text VARCHAR, key VARCHAR)")
        con.execute("CREATE TABLE normal_raw (seq BIGINT, id VARCHAR, text VARCHAR, "
                    "key VARCHAR, fuzzy BOOLEAN)")
        con.execute("CREATE TABLE targets (id VARCHAR, label VARCHAR, names VARCHAR[], "
                    "aliases VARCHAR[], url VARCHAR)")
        seq = normal_seq = 0
        for lo in range(0, total, BUILD_CHUNK):
            rows = np.arange(lo, min(lo + BUILD_CHUNK, total), dtype="int64")
            part = store.rows_frame(rows, columns=["id", "name_en", "name_zh", "aliases",
                                                   "sources"])
            exact_df, normal_df, targets_df = _chunk_tables(part, seq)
            normal_df.insert(0, "seq", np.arange(normal_seq, normal_seq + len(normal_df),
                                                 dtype="int64"))
            seq += len(exact_df)
            normal_seq += len(normal_df)
            for table, frame in (("exact", exact_df), ("normal_raw", normal_df),
                                 ("targets", targets_df)):
                _append(con, table, frame)
            if progress is not None:
                progress(int(rows[-1]) + 1, total)
        # One row per record and normalised name (a record's names may fold
        # to the same form); the fuzzy list holds each form once, first seen first.
        con.execute("CREATE TABLE normal AS SELECT min(seq) AS seq, id, key, "
                    "arg_min(text, seq) AS text FROM normal_raw GROUP BY id, key ORDER BY seq")
        con.execute("CREATE TABLE fuzzy AS SELECT (row_number() OVER (ORDER BY first) - 1) "
                    "AS pos, key FROM (SELECT key, min(seq) AS first FROM normal_raw "
                    "WHERE fuzzy GROUP BY key) ORDER BY pos")
        con.execute("DROP TABLE normal_raw")
        sorted_keys = [token_sorted(k) for (k,) in
                       con.execute("SELECT key FROM fuzzy ORDER BY pos").fetchall()]
        con.execute("CREATE TABLE fuzzy_sorted (pos BIGINT, sorted VARCHAR)")
        _append(con, "fuzzy_sorted", pd.DataFrame(
            {"pos": np.arange(len(sorted_keys), dtype="int64"), "sorted": sorted_keys}))
    return target


def ensure_name_index(store: AtlasStore, directory: Path,
                      progress: Callable[[int, int], None] | None = None) -> Path:
    """The name index of ``store`` in ``directory``, built if missing or stale."""
    target = name_index_path(store, writable_dir(directory))
    if not target.is_file():
        build_name_index(store, target, progress)
        remove_stale(target)
    return target


@dataclass
class StoreHits:
    """What one batch's keys found in the store: exact key -> (target, basis, text),
    normalised key -> (target, text), each in the in-memory index's order."""

    exact: dict[str, list[tuple[ScreenTarget, str, str]]] = field(default_factory=dict)
    normal: dict[str, list[tuple[ScreenTarget, str]]] = field(default_factory=dict)


class StoreNames:
    """An open name index (:func:`ensure_name_index`), shared by every session.

    Holds the sorted forms of the fuzzy names in memory (what
    ``rapidfuzz.process.extract`` scans); everything else is a query.
    """

    def __init__(self, path: Path):
        self.path = path
        self._con = duckdb.connect(str(path), read_only=True,
                                   config={"memory_limit": f"{STORE_QUERY_MEMORY_MB}MB"})
        self.fuzzy_sorted: list[str] = [
            s for (s,) in self._con.execute("SELECT sorted FROM fuzzy_sorted ORDER BY pos")
            .fetchall()
        ]
        self._count = int(self._con.execute("SELECT count(*) FROM targets").fetchone()[0])

    def __len__(self) -> int:
        return self._count

    def _rows(self, sql: str, params: Sequence[object]) -> list[tuple]:
        return self._con.cursor().execute(sql, list(params)).fetchall()

    def fuzzy_keys(self, positions: Sequence[int]) -> list[str]:
        """The normalised names at these positions of :attr:`fuzzy_sorted`, in that order."""
        if not positions:
            return []
        found = dict(self._rows("SELECT pos, key FROM fuzzy WHERE pos IN "
                                "(SELECT unnest(?::BIGINT[]))", [list(map(int, positions))]))
        return [found[int(p)] for p in positions]

    def look_up(self, *, exact_keys: Collection[str],
                normal_keys: Collection[str]) -> StoreHits:
        """Every exact name and normalised name of the store among these keys."""
        exact = self._rows(
            "SELECT key, id, basis, text FROM exact WHERE key IN (SELECT unnest(?::VARCHAR[])) "
            "ORDER BY seq", [sorted(exact_keys)]) if exact_keys else []
        normal = self._rows(
            "SELECT key, id, text FROM normal WHERE key IN (SELECT unnest(?::VARCHAR[])) "
            "ORDER BY seq", [sorted(normal_keys)]) if normal_keys else []
        ids = {r[1] for r in exact} | {r[1] for r in normal}
        found = self.targets(ids)
        hits = StoreHits()
        for key, rid, basis, text in exact:
            hits.exact.setdefault(key, []).append((found[rid], basis, text))
        for key, rid, text in normal:
            hits.normal.setdefault(key, []).append((found[rid], text))
        return hits

    def targets(self, ids: Collection[str]) -> dict[str, ScreenTarget]:
        """The screening targets of these record ids (as :func:`atlas_targets` makes them)."""
        if not ids:
            return {}
        rows = self._rows("SELECT id, label, names, aliases, url FROM targets "
                          "WHERE id IN (SELECT unnest(?::VARCHAR[]))", [sorted(ids)])
        return {rid: ScreenTarget(key=f"atlas:{rid}", source="atlas", label=label,
                                  names=tuple(names), aliases=tuple(aliases), record_id=rid,
                                  url=url)
                for rid, label, names, aliases, url in rows}

    def close(self) -> None:
        """Release the file."""
        self._con.close()
