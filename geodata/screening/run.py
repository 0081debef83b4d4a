"""Screen a whole list: candidates and a placement for every row.

:func:`screen_list` is the one entry point used by the page and the CLI. It
never decides for the user: every row keeps all its candidates, each with a
decision that starts *undecided* (the review step sets it), and
:func:`screened_records` turns the placed rows into map records for the
user's layer, each naming the atlas records and list entries it was matched to.

Example
-------
>>> from geodata.screening.listfile import read_list
>>> from geodata.screening.targets import ScreenTarget
>>> table = read_list("name,address\\nCETC,北京市海淀区\\n".encode(), "x.csv")
>>> screener = Screener([ScreenTarget(key="l:cetc", source="us_dod_1260h",
...     label="CETC Group", names=("CETC Group",), aliases=("CETC",))])
>>> row = screen_list(table, screener, name_column="name", address_column="address")[0]
>>> row.candidates[0].basis, row.placement.precision
('alias', 'district')
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from geodata.screening.geocode import Placement, place_addresses
from geodata.screening.listfile import NameList
from geodata.screening.match import HIT_KINDS, Candidate, Screener, best_candidate
from geodata.screening.normalise import exact_key
from geodata.screening.targets import ScreenTarget, atlas_targets, reference_targets

if TYPE_CHECKING:
    from geodata.query.engine import AtlasStore

#: Names screened at a time (one look-up of a store-backed index per batch).
SCREEN_BATCH = 200

DECISIONS: dict[str, str] = {
    "undecided": "Not reviewed yet",
    "accepted": "Reviewed: the same organisation",
    "rejected": "Reviewed: a different organisation",
}


@dataclass
class ScreenedRow:
    """One row of the user's list with its candidates and placement."""

    row: int
    where: str
    name: str
    alias: str = ""
    address: str = ""
    candidates: list[Candidate] = field(default_factory=list)
    placement: Placement | None = None

    @property
    def best(self) -> Candidate | None:
        return best_candidate(self.candidates)


def build_screener(
    records: Iterable[object] = (), *,
    listed_as: Mapping[str, Sequence[str]] | None = None,
    parent_listed_as: Mapping[str, Sequence[str]] | None = None,
) -> Screener:
    """The atlas ``records`` and both US lists, ready to screen against.

    ``listed_as`` maps a record id to the keys of the list entries it is
    designated as (``"us_dod_1286:Harbin Institute of Technology"``), and
    ``parent_listed_as`` to those of its listed parent, so a hit on that
    record in Chinese also says which US list it is on.
    """
    records = list(records)
    references = reference_targets()
    if listed_as is None and parent_listed_as is None:
        listed_as, parent_listed_as = designation_keys(records, references)
    atlas = atlas_targets(records)
    if listed_as or parent_listed_as:
        from dataclasses import replace

        own, parent = listed_as or {}, parent_listed_as or {}
        atlas = [replace(t, listed_as=tuple(own.get(t.record_id or "", ())),
                         parent_listed_as=tuple(parent.get(t.record_id or "", ())))
                 for t in atlas]
    return Screener([*atlas, *references])


def store_screener(
    store: AtlasStore, directory: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Screener:
    """A large atlas's screener: its records through the name index beside ``store``
    (:mod:`geodata.screening.name_index`, built on first use), and both US lists.

    A store compiled from GeoParquet or CSV carries no designations, so its
    records are screened as plain atlas records.
    """
    from geodata.screening.name_index import StoreNames, ensure_name_index
    from geodata.store.cache import cache_dir

    names = StoreNames(ensure_name_index(store, directory or cache_dir(), progress))
    return Screener(reference_targets(), atlas_names=names)


def designation_keys(
    records: Sequence[object], references: Sequence[ScreenTarget]
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """From the atlas frame's ``designations`` column: which list entries each record is.

    A designation quotes the entry's name as listed; it is resolved to the
    entry's target by that exact text (names and aliases, case and width
    folded). Returns ``(listed_as, parent_listed_as)``, record id -> target keys.
    """
    by_text = {(t.source, exact_key(n)): t.key for t in references for n in t.all_names()}
    listed: dict[str, list[str]] = {}
    parent: dict[str, list[str]] = {}
    for rec in records:
        for d in getattr(rec, "designations", None) or ():
            key = by_text.get((d.get("list"), exact_key(str(d.get("entry_name", "")))))
            if key is None:
                continue
            which = listed if d.get("relation") == "listed" else parent
            which.setdefault(rec.id, []).append(key)
    return listed, parent


def screen_list(table: NameList, screener: Screener, *, name_column: str,
                alias_column: str | None = None, address_column: str | None = None,
                progress: Callable[[int, int], None] | None = None) -> list[ScreenedRow]:
    """Screen every row of ``table``; rows with an empty name are skipped.

    Raises
    ------
    ValueError
        If a named column is not in the table.
    """
    for col in (name_column, alias_column, address_column):
        if col is not None and col not in table.headers:
            raise ValueError(f"{table.file}: no column {col!r}; the columns are {table.headers}")
    out = []
    total = len(table.rows)
    wanted: list[tuple[str, list[str]]] = []
    for i, row in enumerate(table.rows, start=1):
        name = row.get(name_column, "").strip()
        if not name:
            continue
        alias = row.get(alias_column, "").strip() if alias_column else ""
        address = row.get(address_column, "").strip() if address_column else ""
        aliases = [a.strip() for a in alias.replace("；", ";").split(";") if a.strip()]
        out.append(ScreenedRow(
            row=i, where=table.places[i - 1] if i <= len(table.places) else f"row {i}",
            name=name, alias=alias, address=address,
        ))
        wanted.append((name, aliases))
    # A batch at a time: a store-backed index answers each batch in one query.
    for lo in range(0, len(out), SCREEN_BATCH):
        batch = out[lo:lo + SCREEN_BATCH]
        for row, found in zip(batch, screener.candidates_many(wanted[lo:lo + SCREEN_BATCH]),
                              strict=True):
            row.candidates = found
        if progress is not None:
            progress(batch[-1].row if lo + SCREEN_BATCH < len(out) else total, total)
    if progress is not None and not out:
        progress(total, total)
    if address_column:
        for row, placement in zip(out, place_addresses([r.address for r in out]), strict=True):
            row.placement = placement
    return out


def hit_targets(row: ScreenedRow, decisions: Mapping[tuple[int, str], str]) -> list[ScreenTarget]:
    """The targets of ``row`` that the user has not rejected."""
    return [c.target for c in row.candidates
            if decisions.get((row.row, c.target.key), "undecided") != "rejected"]


#: Words in a name that say what kind of organisation it is; the first that
#: matches decides the category of a screened row on the map (else company).
_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("university", ("大学", "学院", "university", "college")),
    ("research_institute", ("研究所", "研究院", "研究中心", "institute", "laboratory", "实验室")),
)


def _category(name: str) -> str:
    folded = name.casefold()
    return next((cat for cat, words in _CATEGORY_WORDS if any(w in folded for w in words)),
                "company")


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:40] or "list"


def screened_records(rows: Sequence[ScreenedRow], decisions: Mapping[tuple[int, str], str],
                     file: str) -> tuple[list[object], dict[str, list[str]]]:
    """The placed rows as map records of the user's layer, and the atlas records each hit.

    Every placed row becomes an organisation record (its category from the
    words of its name, said in its notes), at the point of the administrative
    unit its address names, with that precision. Rows that were not placed are
    left out: they are listed with their reason on the page. The description
    names every candidate the user has not rejected; the second value maps each
    new record id to the atlas records among them, so the map can link them.
    """
    from geodata.model.schema import Record

    out: list[object] = []
    hits: dict[str, list[str]] = {}
    stem = _slug(file.rsplit(".", 1)[0])
    for r in rows:
        p = r.placement
        if p is None or p.status != "placed":
            continue
        kept = [c for c in r.candidates
                if decisions.get((r.row, c.target.key), "undecided") != "rejected"]
        matched = "; ".join(
            f"{c.target.label} ({HIT_KINDS[c.hit_kind].lower()}, {c.basis}, "
            f"{decisions.get((r.row, c.target.key), 'undecided')})" for c in kept
        ) or "no match in the atlas or the US lists"
        rid = f"user-{stem}-{r.row}"
        cjk = any("\u3400" <= ch <= "\u9fff" for ch in r.name)
        out.append(Record.model_validate({
            "id": rid, "kind": "organisation", "category": _category(r.name),
            "name_en": r.name, "name_zh": r.name,
            "aliases": [a.strip() for a in r.alias.split(";") if a.strip()],
            "name_en_ours": cjk,
            "province": p.province, "city": p.unit, "lat": p.lat, "lon": p.lon,
            "location_precision": p.precision, "domains": ["general"],
            "confidence": "low",
            "confidence_reason": "From a user's list; placed at the "
                                 f"{p.precision} its address names.",
            "description": f"Screened from {file}, {r.where}. Matches: {matched}.",
            "sources": [{"publisher": "User-supplied data", "title": f"{file}, {r.where}"}],
            "notes": f"Address as given: {r.address}. Placed: {p.reason}. The category "
                     "is inferred from words in the name.",
        }))
        hits[rid] = [c.target.record_id for c in kept if c.target.record_id]
    return out, hits
