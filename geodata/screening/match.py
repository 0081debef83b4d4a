"""Candidate matches for each name on a list, with score and basis.

A wrong match is the worst error screening can make (it accuses an innocent
supplier), so the matcher is conservative and explains itself: every
candidate says what it matched, the text it matched on, its score and its
*basis*, in order of strength:

``exact name``      the name as written equals a target's name (case and
                    full-width forms aside);
``alias``           it equals one of the target's aliases or bracketed
                    abbreviations;
``normalised name`` equal after normalisation (script, legal suffixes,
                    brackets: :func:`~geodata.screening.normalise.normalise_name`);
``fuzzy``           rapidfuzz's ``token_sort_ratio`` of the normalised forms is at
                    least :data:`FUZZY_MIN` — close spellings, never one name
                    contained in a longer one;
``name prefix``     the name begins with a listed group's name or alias
                    ("AVIC Xi'an Aircraft…" and AVIC): a *possible
                    subsidiary*, always for review, never a listing.

Every candidate is for the user to accept or reject; :func:`best_candidate`
is what an unattended run would report, and the labelled test set measures it.

Example
-------
>>> from geodata.screening.targets import ScreenTarget
>>> cetc = ScreenTarget(key="l:cetc", source="us_dod_1260h",
...     label="China Electronics Technology Group Corporation",
...     names=("China Electronics Technology Group Corporation",), aliases=("CETC",))
>>> cec = ScreenTarget(key="l:cec", source="us_dod_1260h", label="China Electronics Corporation",
...     names=("China Electronics Corporation",), aliases=("CEC",))
>>> screener = Screener([cetc, cec])
>>> [(c.target.key, c.basis) for c in screener.candidates("China Electronics Corp.")]
[('l:cec', 'normalised name')]
>>> [(c.target.key, c.basis) for c in screener.candidates("CETC")]
[('l:cetc', 'alias')]
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rapidfuzz import fuzz, process

from geodata.screening.normalise import bracketed_abbreviations, exact_key, normalise_name
from geodata.screening.targets import ScreenTarget, listed_parent, parent_index

if TYPE_CHECKING:
    from geodata.screening.name_index import StoreHits, StoreNames

#: Lowest fuzzy score (0–100, rapidfuzz token_sort_ratio on normalised names)
#: that is offered as a candidate. Chosen on the labelled set
#: (tests/data/screening/labelled.csv): below it, near-misses such as
#: "China Electronics" against "China Electronics Technology" appear.
FUZZY_MIN = 90.0
#: Shortest normalised name that fuzzy matching is tried on: two short names
#: are "close" by accident ("CEC" and "CETC" differ by one letter).
FUZZY_MIN_CHARS = 8
#: Shortest short name of a listed group that a longer name may begin with to
#: be flagged as a possible subsidiary ("AVIC", "中航"): shorter ones are coincidences.
PREFIX_MIN_CHARS = 4
PREFIX_MIN_CHARS_CJK = 2
#: Most candidates reported per name.
MAX_CANDIDATES = 5

BASES: dict[str, str] = {
    "exact name": "The name as written equals the target's name.",
    "alias": "The name equals one of the target's aliases or bracketed abbreviations.",
    "normalised name": "Equal once script, width, legal suffixes and brackets are folded away.",
    "fuzzy": f"Normalised names at least {FUZZY_MIN:g}% alike (rapidfuzz token_sort_ratio).",
    "name prefix": "The name begins with a listed group's name: a possible subsidiary.",
}
_BASIS_RANK = {b: i for i, b in enumerate(BASES)}

#: Kinds of hit, from the list's point of view.
HIT_KINDS: dict[str, str] = {
    "listed": "On a US list",
    "listed_subsidiary": "On a US list, and its parent is listed too",
    "formerly_listed": "Was on a US list; since removed",
    "atlas_record": "An MCF Atlas record",
    "atlas_designated": "An MCF Atlas record that is on a US list",
    "atlas_subsidiary": "An MCF Atlas record whose parent is on a US list",
    "possible_subsidiary": "Possibly a subsidiary of a listed group (name prefix)",
}


@dataclass(frozen=True)
class Candidate:
    """One possible match of one input name."""

    target: ScreenTarget
    matched_text: str
    basis: str
    score: float
    hit_kind: str
    parent: ScreenTarget | None = None

    def explain(self) -> str:
        """One line for a report: what, how, and the list's dates."""
        what = f"{self.target.label} [{self.target.source}]"
        dates = self.target.dates_text()
        parent = f"; parent {self.parent.label} is listed" if self.parent else ""
        return f"{what}: {self.basis} '{self.matched_text}' ({self.score:.0f}){parent}" + (
            f"; {dates}" if dates else ""
        )


class Screener:
    """Indexes the targets once, then screens any number of names quickly.

    ``targets`` are held in memory. A large atlas's records are screened
    through ``atlas_names`` instead (:class:`~geodata.screening.name_index.StoreNames`,
    an index in a DuckDB file beside the store), with the same candidates in
    the same order as if its records were among ``targets``, first.
    """

    def __init__(self, targets: Sequence[ScreenTarget], *,
                 atlas_names: StoreNames | None = None):
        self.targets = list(targets)
        self._parents = parent_index(self.targets)
        self._exact: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
        self._normal: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self._prefix: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for i, t in enumerate(self.targets):
            for n in t.names:
                self._exact[exact_key(n)].append((i, "exact name", n))
            for a in t.aliases:
                self._exact[exact_key(a)].append((i, "alias", a))
            for n in t.all_names():
                key = normalise_name(n)
                if key:
                    self._normal[key].append((i, n))
            if t.source != "atlas" or t.listed_as:
                for a in t.aliases:
                    key = normalise_name(a)
                    if _short_name_ok(key):
                        self._prefix[key].append((i, a))
        self._fuzzy_keys = [k for k in self._normal if fuzzy_key_ok(k)]
        # token_sort_ratio sorts both names' words on every comparison; sorting
        # the index's side once makes each comparison a plain ratio (the same
        # score), several times faster over a large index.
        self._fuzzy_sorted = [token_sorted(k) for k in self._fuzzy_keys]
        self._atlas = atlas_names

    def close(self) -> None:
        """Release the store's name index, if there is one (the screener is unusable after)."""
        if self._atlas is not None:
            self._atlas.close()

    def candidates(self, name: str, aliases: Iterable[str] = ()) -> list[Candidate]:
        """Every candidate for ``name`` (and the row's own aliases), strongest first."""
        return self.candidates_many([(name, tuple(aliases))])[0]

    def candidates_many(
        self, items: Sequence[tuple[str, Sequence[str]]]
    ) -> list[list[Candidate]]:
        """:meth:`candidates` of each ``(name, aliases)``, with one look-up of the
        atlas names for them all (a store-backed index answers a batch in one query)."""
        texts = [
            [t for t in dict.fromkeys([name, *aliases, *bracketed_abbreviations(name)]) if t]
            for name, aliases in items
        ]
        keys = {t: normalise_name(t) for ts in texts for t in ts}
        fuzzy = self._fuzzy_matches(sorted({k for k in keys.values() if fuzzy_key_ok(k)}))
        store = self._atlas.look_up(
            exact_keys={exact_key(t) for t in keys},
            normal_keys={*keys.values(), *(o for m in fuzzy.values() for o, _ in m)},
        ) if self._atlas is not None else None
        return [self._candidates(name, ts, keys, fuzzy, store)
                for (name, _), ts in zip(items, texts, strict=True)]

    def _fuzzy_matches(self, keys: Sequence[str]) -> dict[str, list[tuple[str, float]]]:
        """For each key, the closest normalised names (at most :data:`MAX_CANDIDATES`),
        over the store's index and this one, as one list of both would rank them."""
        queries = [token_sorted(k) for k in keys]
        # (score, which list, position, name): the store's names come first,
        # as atlas records precede the US lists in one in-memory index.
        ranked: list[list[tuple[float, int, int, str]]] = [[] for _ in keys]
        if self._atlas is not None and self._atlas.fuzzy_sorted:
            found = close_matches(queries, self._atlas.fuzzy_sorted)
            names = self._atlas.fuzzy_keys(sorted({i for hits in found for _, i in hits}))
            at = dict(zip(sorted({i for hits in found for _, i in hits}), names, strict=True))
            for out, hits in zip(ranked, found, strict=True):
                out += [(-score, 0, i, at[i]) for score, i in hits[:MAX_CANDIDATES]]
        if self._fuzzy_sorted:
            for out, query in zip(ranked, queries, strict=True):
                # Every hit here (a short list): one may repeat a store name.
                out += [(-score, 1, i, self._fuzzy_keys[i]) for _, score, i in process.extract(
                    query, self._fuzzy_sorted, scorer=fuzz.ratio, processor=None,
                    score_cutoff=FUZZY_MIN, limit=None)]
        result: dict[str, list[tuple[str, float]]] = {}
        for key, hits in zip(keys, ranked, strict=True):
            best: dict[str, float] = {}
            for neg_score, _, _, other in sorted(hits):
                if other not in best and len(best) < MAX_CANDIDATES:
                    best[other] = -neg_score
            result[key] = [(o, sc) for o, sc in best.items() if _words_correspond(key, o)]
        return result

    def _candidates(self, name: str, texts: list[str], keys: dict[str, str],
                    fuzzy: dict[str, list[tuple[str, float]]],
                    store: StoreHits | None) -> list[Candidate]:
        found: dict[str, Candidate] = {}
        for text in texts:
            typed_key = exact_key(text)
            if store is not None:
                for target, basis, matched in store.exact.get(typed_key, ()):
                    self._keep_target(found, target, matched, basis, 100.0)
            for i, basis, matched in self._exact.get(typed_key, ()):
                self._keep(found, i, matched, basis, 100.0)
            key = keys[text]
            if store is not None:
                for target, matched in store.normal.get(key, ()):
                    self._keep_target(found, target, matched, "normalised name", 100.0)
            for i, matched in self._normal.get(key, ()):
                self._keep(found, i, matched, "normalised name", 100.0)
            for other, score in fuzzy.get(key, ()):
                if store is not None:
                    for target, matched in store.normal.get(other, ()):
                        self._keep_target(found, target, matched, "fuzzy", score)
                for i, matched in self._normal.get(other, ()):
                    self._keep(found, i, matched, "fuzzy", score)
            for prefix in _prefixes(key):
                for i, matched in self._prefix.get(prefix, ()):
                    self._keep(found, i, matched, "name prefix", 60.0)
        typed = exact_key(name)
        ranked = sorted(found.values(), key=lambda c: (
            _BASIS_RANK[c.basis], -c.score,
            # Among equals: the spelling closest to what was typed ("…Corporation"
            # before "…(Beijing) Corporation"), then listed before unlisted.
            -fuzz.ratio(typed, exact_key(c.matched_text)),
            c.target.source == "atlas" and not c.target.listed_as, c.target.key,
        ))
        return ranked[:MAX_CANDIDATES]

    def _keep(self, found: dict[str, Candidate], i: int, matched: str, basis: str,
              score: float) -> None:
        self._keep_target(found, self.targets[i], matched, basis, score)

    def _keep_target(self, found: dict[str, Candidate], target: ScreenTarget, matched: str,
                     basis: str, score: float) -> None:
        old = found.get(target.key)
        if old is not None and (_BASIS_RANK[old.basis], -old.score) <= (_BASIS_RANK[basis], -score):
            return
        parent = listed_parent(target, self._parents)
        found[target.key] = Candidate(target, matched, basis, score,
                                      _hit_kind(target, basis, parent), parent)


def best_candidate(candidates: Sequence[Candidate]) -> Candidate | None:
    """What an unattended run reports: the strongest candidate that is not a mere prefix."""
    return next((c for c in candidates if c.basis != "name prefix"), None)


def _hit_kind(target: ScreenTarget, basis: str, parent: ScreenTarget | None) -> str:
    if basis == "name prefix":
        return "possible_subsidiary"
    if target.source == "atlas":
        if target.listed_as:
            return "atlas_designated"
        return "atlas_subsidiary" if target.parent_listed_as else "atlas_record"
    if not target.current:
        return "formerly_listed"
    return "listed_subsidiary" if parent else "listed"


#: Shortest word that must find its counterpart for a fuzzy match to stand.
WORD_MIN_CHARS = 4
#: How alike two words must be to count as the same word misspelt.
WORD_MATCH_MIN = 75.0


def _words_correspond(a: str, b: str) -> bool:
    """Every substantial word of each name has a close counterpart in the other.

    Whole-name similarity forgives a differing place word ("Harbin University of
    Science and Technology" is 90% like "Nanjing University of …"); this check
    does not. Names without spaces (Chinese) are left to the whole-name score.
    """
    wa, wb = a.split(" "), b.split(" ")
    # Words that name a different thing however alike they look: compass points
    # (Northwestern / Northeastern) and numbers (14th / 15th institute).
    if {w for w in wa if _exact_word(w)} != {w for w in wb if _exact_word(w)}:
        return False
    if len(wa) == 1 and len(wb) == 1:
        return True
    for words, others in ((wa, wb), (wb, wa)):
        for w in words:
            if len(w) >= WORD_MIN_CHARS and not any(
                fuzz.ratio(w, o) >= WORD_MATCH_MIN for o in others
            ):
                return False
    return True


_COMPASS = re.compile(r"^(north|south|east|west|northern|southern|eastern|western|"
                      r"(north|south)(east|west)(ern)?|central|middle|upper|lower)$")


def _exact_word(word: str) -> bool:
    return bool(_COMPASS.match(word)) or any(ch.isdigit() for ch in word)


#: Names compared with a large index at a time (``rapidfuzz.process.cdist``
#: holds one byte per pair: 16 names by two million keys is 32 MB).
FUZZY_BATCH = 16


def close_matches(queries: Sequence[str], choices: Sequence[str]) -> list[list[tuple[float, int]]]:
    """For each query, every choice whose ``fuzz.ratio`` is at least :data:`FUZZY_MIN`,
    as ``(score, position)``, best first and, among equals, first first (as
    ``rapidfuzz.process.extract`` orders them).

    The whole batch is scored on every core (``cdist``) with one byte per pair,
    then the few hits are scored again exactly.

    >>> choices = ["china electronic", "china", "china electronics"]
    >>> hits = close_matches(["china electronics"], choices)
    >>> [(round(score, 1), i) for score, i in hits[0]]
    [(100.0, 2), (97.0, 0)]
    """
    out: list[list[tuple[float, int]]] = []
    for lo in range(0, len(queries), FUZZY_BATCH):
        part = list(queries[lo:lo + FUZZY_BATCH])
        scores = process.cdist(part, choices, scorer=fuzz.ratio, processor=None,
                               score_cutoff=FUZZY_MIN, dtype=np.uint8, workers=-1)
        for query, row in zip(part, scores, strict=True):
            exact = ((fuzz.ratio(query, choices[i]), int(i)) for i in np.flatnonzero(row))
            out.append(sorted(((sc, i) for sc, i in exact if sc >= FUZZY_MIN),
                              key=lambda hit: (-hit[0], hit[1])))
    return out


def fuzzy_key_ok(key: str) -> bool:
    """Whether a normalised name is long enough to be matched fuzzily (:data:`FUZZY_MIN_CHARS`)."""
    return len(key) >= FUZZY_MIN_CHARS


def token_sorted(key: str) -> str:
    """``key``'s words in sorted order: ``fuzz.ratio`` of two such forms is
    ``fuzz.token_sort_ratio`` of the names.

    >>> token_sorted("technology electronics china")
    'china electronics technology'
    """
    return " ".join(sorted(key.split()))


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def _short_name_ok(key: str) -> bool:
    """Whether a listed group's alias is distinctive enough to flag names that begin with it.

    Only short names qualify (one Latin word such as "avic" or "huawei", or a
    Chinese short name such as "航天科工"): a full name that begins another
    ("China Electronics" in "China Electronics Technology") is a near-miss,
    not a parent.
    """
    if _is_cjk(key):
        return PREFIX_MIN_CHARS_CJK <= len(key) <= 8 and " " not in key
    return len(key) >= PREFIX_MIN_CHARS and " " not in key and not key.isdigit()


def _prefixes(key: str) -> list[str]:
    """Proper prefixes of ``key`` that could be a group's name.

    Latin names split at word boundaries ("avic xian aircraft" → "avic",
    "avic xian"); Chinese names at every character, since they have no spaces.
    """
    if not key:
        return []
    if _is_cjk(key):
        return [key[:n] for n in range(PREFIX_MIN_CHARS_CJK, len(key))]
    words = key.split(" ")
    return [" ".join(words[:n]) for n in range(1, len(words))]
