"""Screening a large atlas through the name index beside its store.

The store-backed screener must give exactly what the in-memory one gives for
the same records: the same candidates, bases, scores, matched spellings and
order. The records here are the curated atlas plus records made to meet the
hard cases: a name shared by several records, a name that is also on a US
list, aliases that fold to a record's own name, and more than five fuzzy
neighbours (so the two indexes' fuzzy shortlists have to be merged).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geodata.model.relations import load_atlas
from geodata.query.engine import open_store
from geodata.screening import name_index
from geodata.screening.listfile import read_list
from geodata.screening.match import Screener, token_sorted
from geodata.screening.name_index import StoreNames, ensure_name_index, name_index_path
from geodata.screening.run import build_screener, screen_list, store_screener
from geodata.store.geoparquet import write_store

ROOT = Path(__file__).resolve().parents[2]

#: Records made for the hard cases: (name_en, name_zh, aliases).
MADE: list[tuple[str, str, tuple[str, ...]]] = [
    ("Harbin Institute of Technology", "哈尔滨工业大学", ("HIT",)),
    ("Harbin Institute of Technology", "哈工大", ()),
    ("Harbin Institute of Technologies", "哈尔滨工业大學", ("Harbin Institute of Technology",)),
    ("China Electronics Technology Group Corporation", "中国电子科技集团有限公司", ("CETC",)),
    ("Beijing Huaru Technology Co., Ltd.", "北京华如科技股份有限公司", ("Huaru",)),
    *[(f"Northwest Instrument Research Institute Branch {c}", f"西北仪器研究所{c}分所", ())
      for c in "ABCDEFGH"],
    *[(f"Sichuan Aerospace Fluid Control Works {n}", f"四川航天流体控制{n}厂", (f"SAFC {n}",))
      for n in range(1, 9)],
    ("Nanjing Research Institute of Electronics Technology",
     "南京电子技术研究所", ("14th Research Institute", "NRIET")),
    ("Nanjing Research Institute of Electronic Technology", "南京电子技术研究所", ()),
    # A US-list name's words in other orders: one sorted form, so every one ties
    # with the listed name on a fuzzy query, and the atlas's come first.
    *[(" ".join(words), f"宁德{i}", ()) for i, words in enumerate(
        [("Amperex", "Contemporary", "Technology"), ("Technology", "Amperex", "Contemporary"),
         ("Amperex", "Technology", "Contemporary"), ("Contemporary", "Technology", "Amperex"),
         ("Technology", "Contemporary", "Amperex")])],
]

#: Names screened beyond the labelled set: exact, folded, misspelt, unrelated.
QUERIES = [
    "Harbin Institute of Technology", "Harbin Institute of Technologies", "HIT",
    "哈爾濱工業大學", "Northwest Instrument Research Institute Branch",
    "Northwest Instrument Research Institute Branch Z", "Sichuan Aerospace Fluid Control Works",
    "Sichuan Aerospace Fluid Control Work 3", "SAFC 4", "Beijing Huaru Technology",
    "Nanjing Research Institute of Electronics Technologies", "14th Research Institute",
    "中國電子科技集團公司", "Huawei Cloud Computing Technologies", "Acme Bakery Ltd.", "",
    "Contemporary Amperex Technolog",
]


def _atlas_with_made_records() -> pd.DataFrame:
    frame = load_atlas().frame
    base = frame[frame["kind"] == "organisation"].iloc[0]
    rows = []
    for i, (en, zh, aliases) in enumerate(MADE):
        row = base.copy()
        row["id"] = f"org-made-{i}"
        row["name_en"], row["name_zh"], row["aliases"] = en, zh, list(aliases)
        row["sources"] = [{"publisher": "Test", "title": f"made {i}",
                           "url": f"https://example.org/made/{i}"}]
        rows.append(row)
    made = pd.DataFrame(rows)
    out = pd.concat([frame, made], ignore_index=True)
    return out.set_geometry("geometry", crs=frame.crs)


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> tuple[Screener, Screener, object, Path]:
    tmp = tmp_path_factory.mktemp("screen-store")
    frame = _atlas_with_made_records()
    store = open_store(write_store(frame, tmp / "atlas.parquet"), index_dir=tmp)
    records = store.rows_frame(np.arange(len(store)),
                               columns=["id", "name_en", "name_zh", "aliases", "sources"])
    in_memory = build_screener(records.itertuples(index=False))
    return in_memory, store_screener(store, tmp), store, tmp


def _labelled() -> list[str]:
    with (ROOT / "tests/data/screening/labelled.csv").open(encoding="utf-8") as fh:
        return [row["name"] for row in csv.DictReader(fh)]


def _shape(candidates) -> list[tuple]:
    return [(c.target.key, c.basis, c.matched_text, round(c.score, 6), c.hit_kind,
             c.target.label, c.target.names, c.target.aliases, c.target.url,
             c.parent.key if c.parent else None) for c in candidates]


def test_the_store_screener_gives_what_the_in_memory_one_gives(stores) -> None:
    in_memory, from_store, store, _ = stores
    atlas_names = store.sql("SELECT name_en, name_zh FROM records ORDER BY _row")
    # Every atlas name as written, with a letter dropped, and the labelled set.
    queries = [*QUERIES, *_labelled(), *atlas_names["name_en"], *atlas_names["name_zh"],
               *(n[:-1] for n in atlas_names["name_en"][::3])]
    assert len(queries) > 1000
    expected = [_shape(in_memory.candidates(q)) for q in queries]
    got = [_shape(c) for c in from_store.candidates_many([(q, ()) for q in queries])]
    assert got == expected
    # The cases the made records exist for were met, not skipped.
    flat = [c for cs in expected for c in cs]
    assert {c[1] for c in flat} == {"exact name", "alias", "normalised name", "fuzzy",
                                    "name prefix"}
    northwest = in_memory.candidates("Northwest Instrument Research Institute Branch Z")
    assert len(northwest) == 5
    assert {c.basis for c in northwest} == {"fuzzy"}
    harbin = {c.target.key for c in in_memory.candidates("Harbin Institute of Technology")}
    assert {"atlas:org-made-0", "atlas:org-made-1", "atlas:org-made-2"} <= harbin
    assert any(k.startswith("us_dod_1286:") for k in harbin)
    # Five ties: the atlas's five orderings, not the listed name that ties with them.
    ties = in_memory.candidates("Contemporary Amperex Technolog")
    assert [c.target.source for c in ties] == ["atlas"] * 5


def test_a_list_screened_through_the_store_matches_row_by_row(stores) -> None:
    in_memory, from_store, _, _ = stores
    text = "name,alias\n" + "\n".join(
        f'"{q}",' for q in [*QUERIES, *_labelled()[:300]]) + "\nSAFC 9,SAFC 2;HIT\n"
    table = read_list(text.encode("utf-8"), "list.csv")
    seen: list[tuple[int, int]] = []
    a = screen_list(table, in_memory, name_column="name", alias_column="alias")
    b = screen_list(table, from_store, name_column="name", alias_column="alias",
                    progress=lambda i, n: seen.append((i, n)))
    assert [(r.row, r.name, _shape(r.candidates)) for r in b] == \
        [(r.row, r.name, _shape(r.candidates)) for r in a]
    assert seen[-1] == (len(table.rows), len(table.rows))
    assert [i for i, _ in seen] == sorted(i for i, _ in seen)
    assert len(seen) >= 2
    aliased = b[-1]
    safc_2 = next(i for i, (en, _, _) in enumerate(MADE) if en.endswith("Works 2"))
    assert {c.target.key for c in aliased.candidates} >= {"atlas:org-made-0",
                                                          f"atlas:org-made-{safc_2}"}


def test_the_name_index_is_built_once_and_rebuilt_when_the_store_changes(stores) -> None:
    _, _, store, tmp = stores
    path = ensure_name_index(store, tmp)
    built = path.stat().st_mtime_ns
    assert ensure_name_index(store, tmp) == path
    assert path.stat().st_mtime_ns == built
    names = StoreNames(path)
    assert len(names) == len(store)
    # Each fuzzy name is there once, its words sorted as the matcher compares them.
    keys = names.fuzzy_keys(list(range(len(names.fuzzy_sorted))))
    assert len(set(keys)) == len(keys)
    assert [token_sorted(k) for k in keys] == names.fuzzy_sorted
    names.close()
    # Another store file (another size or time) gets its own index, and the old one goes.
    frame = _atlas_with_made_records().iloc[:50]
    write_store(frame, store.path)
    other = open_store(store.path, index_dir=tmp)
    rebuilt = ensure_name_index(other, tmp)
    assert rebuilt != path
    assert rebuilt.is_file()
    assert not path.exists()
    assert len(StoreNames(rebuilt)) == 50
    other.close()


def test_a_change_to_the_matching_rules_rebuilds_the_index(stores, monkeypatch) -> None:
    _, _, store, tmp = stores
    before = name_index_path(store, tmp)
    monkeypatch.setattr(name_index, "_rules_digest", lambda: "other rules")
    assert name_index_path(store, tmp) != before


def test_a_failed_build_leaves_no_file(stores, monkeypatch) -> None:
    _, _, store, tmp = stores
    target = tmp / "names-broken.duckdb"

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(name_index, "_chunk_tables", broken)
    with pytest.raises(RuntimeError):
        name_index.build_name_index(store, target)
    assert not target.exists()
    assert not list(tmp.glob(".names-broken.duckdb.*"))


def test_a_rebuilt_store_replaces_its_indexes_in_the_cache(tmp_path) -> None:
    """Edited data gives a new compiled store; its query and name indexes replace
    the old store's instead of piling up beside them."""
    import os
    import shutil

    from geodata.store.cache import compiled_store

    source = tmp_path / "sample.yaml"
    shutil.copy(ROOT / "tests/data/sample.yaml", source)
    cache = tmp_path / "cache"

    def open_and_index() -> None:
        store = open_store(compiled_store([source], cache), index_dir=cache)
        ensure_name_index(store, cache)
        store.close()

    open_and_index()
    first = sorted(p.name for p in cache.iterdir() if not p.name.startswith("."))
    st = source.stat()
    os.utime(source, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    open_and_index()
    second = sorted(p.name for p in cache.iterdir() if not p.name.startswith("."))
    kinds = sorted(name.split("-")[0] for name in second)
    assert kinds == ["index", "names", "store"]
    assert not set(first) & set(second)
