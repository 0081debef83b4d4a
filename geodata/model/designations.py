"""Match organisation records to the US DoD 1260H and 1286 lists: candidates for review.

A wrong match is the worst error this feature can make, so nothing here
decides: :func:`find_candidates` proposes pairs and says why, and a person
reads both entries and records the decision (``geodata.io.importers.designations``
holds the decisions; ``datasets/designations.yaml`` the outcome).

Matching rules
--------------
Names compared are, on our side, ``name_en``, ``name_zh`` and every alias;
on the list side the entry's name, clean name, aliases and previous names
(1260H) or name and aliases (1286).

``exact_name``
    The same text after trimming and case-folding (our name_en/name_zh vs the
    list's name or clean name).
``alias``
    The same text, where at least one side is an alias or previous name.
``normalised_name``
    Equal after :func:`normalise_name`: NFKC, case-folded, '&' as 'and',
    punctuation dropped, and company-form words (Co., Ltd., Inc., Corporation,
    Group, 有限公司, 集团 ...) dropped *at the end only*, so "China Electronics
    Corporation" -> "china electronics" and "China Electronics Technology Group
    Corporation" -> "china electronics technology" stay different.
``fuzzy`` (candidate only)
    rapidfuzz ``token_sort_ratio`` >= :data:`FUZZY_MIN` on normalised names of
    at least :data:`FUZZY_MIN_LENGTH` characters. Such a pair is never
    accepted without a reviewer's note; its basis is recorded as ``manual``.

Abbreviations (up to 6 characters, e.g. "CETC", "AMS") are too ambiguous to
match on their own; a pair matched only by an abbreviation is a candidate with
basis ``alias`` that the reviewer must confirm.

Example
-------
>>> normalise_name("China Electronics Technology Group Corporation (CETC)")
'china electronics technology'
>>> normalise_name("China Electronics Corporation")
'china electronics'
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from geodata.model.reference_data import REFERENCE_DATA_DIR
from geodata.model.schema import Record

SHARED_DATA = REFERENCE_DATA_DIR
LIST_1260H = SHARED_DATA / "us-dod-1260h.csv"
LIST_1286 = SHARED_DATA / "us-dod-section-1286.csv"

FUZZY_MIN = 90.0
FUZZY_MIN_LENGTH = 12
ABBREVIATION_MAX = 6

#: Company-form words dropped from the end of a name (repeatedly), English and Chinese.
_SUFFIXES = (
    "co", "company", "ltd", "limited", "inc", "incorporated", "corp", "corporation",
    "group", "holdings", "holding", "plc", "llc", "sa", "ag", "gmbh",
)
_ZH_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团公司", "集团", "公司")
_PARENS = re.compile(r"[(（][^()（）]*[)）]")


def normalise_name(name: str) -> str:
    """A name reduced for comparison (see the module docstring); '' if nothing is left."""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    text = text.rstrip("*.").strip()
    text = _PARENS.sub(" ", text)
    text = text.replace("&", " and ").replace("’", "'").replace("'", "")
    text = re.sub(r"[^\w\s]", " ", text)
    words = text.split()
    while words and words[-1] in _SUFFIXES:
        words.pop()
    text = " ".join(words)
    changed = True
    while changed:
        changed = False
        for suffix in _ZH_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix) + 1:
                text = text[: -len(suffix)].strip()
                changed = True
    return text


def _fold(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).casefold().rstrip("*.").split())


def is_abbreviation(name: str) -> bool:
    """Short all-caps or alphanumeric tokens such as 'CETC', 'AMS', 'S-SEA'."""
    bare = name.strip()
    return len(bare) <= ABBREVIATION_MAX and " " not in bare and bare.upper() == bare


@dataclass(frozen=True)
class ListEntry:
    """One entity of a US list, its tranche rows folded together."""

    list: str
    entry_name: str
    names: tuple[str, ...]
    aliases: tuple[str, ...]
    parent: str | None
    date_added: str | None
    date_removed: str | None
    in_latest: bool
    note: str = ""

    @property
    def all_names(self) -> tuple[str, ...]:
        return (*self.names, *self.aliases)


def _split(cell: str) -> list[str]:
    return [x.strip() for x in re.split(r";", cell or "") if x.strip()]


def read_1260h(path: Path = LIST_1260H) -> list[ListEntry]:
    """The 1260H list as entities: tranche rows of one clean name folded into one entry.

    ``date_added`` is the earliest start date; ``date_removed`` the latest end
    date when every row of the entity has one (a removal), else ``None``.
    ``in_latest`` says whether the entity is in the newest tranche.
    """
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    latest = max(r["Start date"] for r in rows if r["Start date"])
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        groups.setdefault(normalise_name(r["Clean Name"] or r["Name"]), []).append(r)
    out = []
    for rows_ in groups.values():
        rows_.sort(key=lambda r: r["Start date"])
        last = rows_[-1]
        ends = [r["End date"] for r in rows_]
        removed = max(ends) if all(ends) else None
        aliases = {a for r in rows_ for a in (*_split(r["Alias"]), *_split(r["Previous Name"]))}
        out.append(ListEntry(
            list="us_dod_1260h",
            entry_name=last["Name"].rstrip("*").rstrip(".").strip(),
            names=tuple(dict.fromkeys(x for r in rows_ for x in (r["Clean Name"], r["Name"]) if x)),
            aliases=tuple(sorted(aliases)),
            parent=last["Parent Name"] or None,
            date_added=rows_[0]["Start date"] or None,
            date_removed=removed,
            in_latest=any(r["Start date"] == latest for r in rows_),
            note=last["Note"],
        ))
    return out


def read_1286(path: Path = LIST_1286) -> list[ListEntry]:
    """The 1286 list as entities; ``date_added`` is the first report year listing it."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    latest = max(r["report-date"] for r in rows)
    groups: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        # One entity per normalised name: "Sun Yat-Sen"/"Sun Yat-sen", "Xi'an"/"Xi’an".
        groups.setdefault(normalise_name(r["name"]), []).append(r)
    out = []
    for rows_ in groups.values():
        rows_.sort(key=lambda r: r["report-date"])
        years = [r["report-date"] for r in rows_]
        name = rows_[-1]["name"].strip()
        out.append(ListEntry(
            list="us_dod_1286", entry_name=name,
            names=tuple(dict.fromkeys(r["name"].strip() for r in reversed(rows_))),
            aliases=tuple(sorted({a for r in rows_ for a in _split(r["aliases"])})),
            parent=None, date_added=years[0], date_removed=None,
            in_latest=latest in years,
        ))
    return out


@dataclass
class Candidate:
    """A proposed match of one record to one list entry, with what matched."""

    record: str
    record_name: str
    entry: ListEntry
    basis: str
    matched: tuple[str, str]
    score: float = 100.0
    abbreviation_only: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.record, self.entry.list, self.entry.entry_name)


def _our_names(rec: Record) -> list[tuple[str, bool]]:
    """(name, is_alias) pairs."""
    return [(rec.name_en, False), (rec.name_zh, False), *((a, True) for a in rec.aliases)]


def find_candidates(records: Sequence[Record], entries: Sequence[ListEntry]) -> list[Candidate]:
    """Every (organisation, list entry) pair that any rule above links, best basis first."""
    ours = [(r, _our_names(r)) for r in records if r.kind == "organisation"]
    out: list[Candidate] = []
    rank = {"exact_name": 0, "alias": 1, "normalised_name": 2, "manual": 3}
    for entry in entries:
        theirs = [(n, False) for n in entry.names] + [(a, True) for a in entry.aliases]
        their_norm = {normalise_name(n): n for n, _ in theirs if normalise_name(n)}
        for rec, names in ours:
            best: Candidate | None = None
            for our, our_alias in names:
                for their, their_alias in theirs:
                    if _fold(our) != _fold(their):
                        continue
                    basis = "alias" if (our_alias or their_alias) else "exact_name"
                    abbr = is_abbreviation(our) and is_abbreviation(their)
                    cand = Candidate(rec.id, rec.name_en, entry, basis, (our, their),
                                     abbreviation_only=abbr)
                    if best is None or (best.abbreviation_only and not abbr) or (
                        rank[basis] < rank[best.basis] and best.abbreviation_only == abbr
                    ):
                        best = cand
                norm = normalise_name(our)
                if best is None and norm and not is_abbreviation(our) and norm in their_norm:
                    best = Candidate(rec.id, rec.name_en, entry, "normalised_name",
                                     (our, their_norm[norm]))
            if best is None:
                best = _fuzzy(rec, names, entry, their_norm)
            if best is not None:
                out.append(best)
    return sorted(out, key=lambda c: (c.record, c.entry.list, rank[c.basis], c.entry.entry_name))


def _fuzzy(rec: Record, names: list[tuple[str, bool]], entry: ListEntry,
           their_norm: dict[str, str]) -> Candidate | None:
    best: Candidate | None = None
    for our, _ in names:
        norm = normalise_name(our)
        if len(norm) < FUZZY_MIN_LENGTH:
            continue
        for tn, their in their_norm.items():
            if len(tn) < FUZZY_MIN_LENGTH:
                continue
            score = fuzz.token_sort_ratio(norm, tn)
            if score >= FUZZY_MIN and (best is None or score > best.score):
                best = Candidate(rec.id, rec.name_en, entry, "manual", (our, their), score)
    return best
