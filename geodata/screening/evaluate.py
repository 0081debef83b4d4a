"""Precision and recall of the matcher on a labelled list.

The labelled set (``tests/data/screening/labelled.csv``) gives, for each
name, the list entries it truly is (``|``-separated keys) or nothing. An
unattended run reports :func:`~geodata.screening.match.best_candidate`; it is
*correct* when that candidate stands for one of the expected entries (an atlas
organisation stands for the entries it is designated as), a *false positive*
when the name should match nothing or something else, and a *miss* when it
found nothing for a true name.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from geodata.screening.match import Screener, best_candidate

LABELLED_SET = Path(__file__).resolve().parents[2] / "tests" / "data" / "screening" / "labelled.csv"


@dataclass
class Scores:
    """Counts and rates over a labelled set, overall and per category."""

    total: int = 0
    predicted: int = 0
    correct: int = 0
    expected: int = 0
    by_category: dict[str, Counter] = field(default_factory=dict)
    errors: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.expected if self.expected else 1.0


def read_labelled(path: Path = LABELLED_SET) -> list[dict[str, str]]:
    """The labelled names: columns name, expected, category."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def evaluate(rows: Iterable[dict[str, str]], screener: Screener) -> Scores:
    """Score the unattended best candidate of every labelled name."""
    scores = Scores()
    for row in rows:
        expected = {k for k in row["expected"].split("|") if k}
        best = best_candidate(screener.candidates(row["name"]))
        got = set(best.target.stands_for()) if best else set()
        cat = scores.by_category.setdefault(row["category"], Counter())
        scores.total += 1
        cat["names"] += 1
        scores.expected += bool(expected)
        if best is None:
            if expected:
                cat["missed"] += 1
                scores.errors.append((row["category"], row["name"], "miss", ""))
            continue
        scores.predicted += 1
        cat["predicted"] += 1
        if expected & got:
            scores.correct += 1
            cat["correct"] += 1
        else:
            cat["wrong"] += 1
            scores.errors.append((row["category"], row["name"], "wrong", best.target.key))
    return scores
