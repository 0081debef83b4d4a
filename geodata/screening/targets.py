"""What a name is screened against: atlas records and the two US lists.

Each thing a name can match is one :class:`ScreenTarget`, whatever it comes
from, so the matcher treats an atlas organisation and a list entry alike and
the report can say exactly what was hit. The US lists are read from the
copies in ``shared/data`` (see its README): the DoD Section 1260H list of
Chinese military companies (one entry per company, its tranches merged: first
listed, latest listing, removal) and the Section 1286 list of foreign
institutions of concern (one entry per institution, with the report years).

Example
-------
>>> t = ScreenTarget(key="x", source="atlas", label="Example Institute",
...                  names=("Example Institute",))
>>> t.all_names()
('Example Institute',)
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from geodata.model.reference_data import REFERENCE_DATA_DIR
from geodata.screening.normalise import bracketed_abbreviations, normalise_name

#: Where the reference lists live (:mod:`geodata.model.reference_data`).
SHARED_DATA_DIR = REFERENCE_DATA_DIR
LIST_1260H_FILE = "us-dod-1260h.csv"
LIST_1286_FILE = "us-dod-section-1286.csv"

#: The lists a name can be screened against, key -> label shown to users.
SCREEN_SOURCES: dict[str, str] = {
    "atlas": "CMF Atlas record",
    "us_dod_1260h": "US DoD Section 1260H list (Chinese military companies)",
    "us_dod_1286": "US DoD Section 1286 list (institutions of concern)",
}


@dataclass(frozen=True)
class ScreenTarget:
    """One thing a name can match: an atlas record or a list entry."""

    key: str
    source: str
    label: str
    names: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    listed_from: str | None = None
    listed_until: str | None = None
    listings: tuple[str, ...] = ()
    parent: str | None = None
    record_id: str | None = None
    url: str | None = None
    note: str | None = None
    #: Atlas records only: keys of the list entries this record is listed as,
    #: and of those its listed parent group is (a subsidiary is not itself listed).
    listed_as: tuple[str, ...] = field(default=())
    parent_listed_as: tuple[str, ...] = field(default=())

    def stands_for(self) -> tuple[str, ...]:
        """This target's key and the list entries it is designated as."""
        return (self.key, *self.listed_as)

    def all_names(self) -> tuple[str, ...]:
        """Names then aliases, without repeats."""
        return tuple(dict.fromkeys((*self.names, *self.aliases)))

    @property
    def current(self) -> bool:
        """Whether a list entry is still on its list (atlas records: always)."""
        return self.listed_until is None

    def dates_text(self) -> str:
        """The list's dates in words, for reports: 'listed 2021-06-03; removed 2025-01-07'."""
        if self.source == "atlas":
            return ""
        parts = []
        if self.listed_from:
            parts.append(f"listed {self.listed_from}")
        if len(self.listings) > 1:
            parts.append("listings " + ", ".join(self.listings))
        parts.append(f"removed {self.listed_until}" if self.listed_until else "still listed")
        return "; ".join(parts)


def _split_aliases(text: str) -> list[str]:
    return [a.strip() for a in text.replace("；", ";").split(";") if a.strip()]


def load_1260h(path: Path | None = None) -> list[ScreenTarget]:
    """The Section 1260H list, one target per company (tranches merged).

    The file has one row per company per tranche; a company whose latest row
    carries an end date has been removed from the list on that date.
    """
    path = path or SHARED_DATA_DIR / LIST_1260H_FILE
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_name: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_name[row["Clean Name"].strip()].append(row)
    out = []
    for name, group in by_name.items():
        group.sort(key=lambda r: r["Start date"])
        aliases = {a for r in group for a in _split_aliases(r["Alias"])}
        aliases |= {a for r in group for a in _split_aliases(r["Previous Name"])}
        aliases |= {a for r in group for a in bracketed_abbreviations(r["Name"])}
        # The name as printed ("… (Qihoo 360)*"), which designations quote.
        aliases |= {r["Name"].rstrip("*").strip() for r in group}
        aliases.discard(name)
        last = group[-1]
        parent = next((r["Parent Name"].strip() for r in reversed(group) if r["Parent Name"]), None)
        url = next((r["Source Url"] for r in reversed(group) if r["Source Url"]), None)
        note = next((r["Note"] for r in reversed(group) if r["Note"]), None)
        out.append(ScreenTarget(
            key=f"us_dod_1260h:{name}", source="us_dod_1260h", label=name,
            names=(name,), aliases=tuple(sorted(aliases)),
            listed_from=group[0]["Start date"] or None,
            listed_until=last["End date"] or None,
            listings=tuple(dict.fromkeys(r["Start date"] for r in group if r["Start date"])),
            parent=parent or None, url=url, note=note,
        ))
    return out


def load_1286(path: Path | None = None) -> list[ScreenTarget]:
    """The Section 1286 list, one target per institution (report years merged)."""
    path = path or SHARED_DATA_DIR / LIST_1286_FILE
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by_name: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_name[row["name"].strip()].append(row)
    out = []
    for name, group in by_name.items():
        years = sorted({r["report-date"] for r in group if r["report-date"]})
        aliases = {a for r in group for a in _split_aliases(r["aliases"])}
        aliases |= {a for r in group for a in bracketed_abbreviations(name)}
        aliases.discard(name)
        url = next((r["source_url"] for r in reversed(group) if r["source_url"]), None)
        note = "; ".join(dict.fromkeys(r["notes"] for r in group if r["notes"])) or None
        out.append(ScreenTarget(
            key=f"us_dod_1286:{name}", source="us_dod_1286", label=name,
            names=(name,), aliases=tuple(sorted(aliases)),
            listed_from=years[0] if years else None, listed_until=None,
            listings=tuple(years), url=url, note=note,
        ))
    return out


def atlas_targets(records: Iterable[object]) -> list[ScreenTarget]:
    """Atlas records as targets: English and Chinese names and every alias.

    ``records`` are :class:`~geodata.model.schema.Record` objects or rows of the
    atlas frame (``frame.itertuples()``): anything with ``id``, ``name_en``,
    ``name_zh`` and optionally ``aliases`` and ``sources``.

    Records carry their designations (if the data model has them) so a hit
    on an atlas organisation also says which US list it is on.
    """
    out = []
    for rec in records:
        names = tuple(
            n for n in (getattr(rec, "name_en", None), getattr(rec, "name_zh", None))
            if isinstance(n, str) and n
        )
        raw_aliases = getattr(rec, "aliases", None)
        aliases = tuple(raw_aliases) if isinstance(raw_aliases, list | tuple) else ()
        aliases += tuple(a for n in names for a in bracketed_abbreviations(n))
        urls = (_field(s, "url") for s in (getattr(rec, "sources", None) or ()))
        out.append(ScreenTarget(
            key=f"atlas:{rec.id}", source="atlas", label=f"{names[0]} ({rec.id})",
            names=names, aliases=tuple(dict.fromkeys(aliases)), record_id=rec.id,
            url=next((u for u in urls if u), None),
        ))
    return out


def _field(source: object, name: str) -> object:
    """A source's field, whether the source is a model (records) or a dict (frame rows)."""
    return source.get(name) if isinstance(source, dict) else getattr(source, name, None)


def reference_targets(shared_dir: Path | None = None) -> list[ScreenTarget]:
    """Both US lists as targets (the files in ``shared/data``)."""
    base = shared_dir or SHARED_DATA_DIR
    return [*load_1260h(base / LIST_1260H_FILE), *load_1286(base / LIST_1286_FILE)]


def parent_index(targets: Sequence[ScreenTarget]) -> dict[str, ScreenTarget]:
    """Listed entries by normalised name and alias, to resolve a subsidiary's parent.

    Lists spell a parent differently from its own entry ("…of China, Ltd." vs
    "…of China Ltd."), so parents are looked up by normalised name.
    """
    index: dict[str, ScreenTarget] = {}
    for t in targets:
        if t.source == "atlas":
            continue
        for n in t.all_names():
            index.setdefault(normalise_name(n), t)
    return index


def listed_parent(target: ScreenTarget, index: dict[str, ScreenTarget]) -> ScreenTarget | None:
    """The listed entry that ``target``'s parent names, if the parent is itself listed."""
    if not target.parent:
        return None
    parent = index.get(normalise_name(target.parent))
    return parent if parent is not None and parent.key != target.key else None
