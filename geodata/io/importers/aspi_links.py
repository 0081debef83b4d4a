"""``parent_of`` links from the subsidiaries ASPI's tracker lists, where both ends exist.

Run ``python -m geodata.io.importers.aspi_links`` after the organisations
change. It reads ``datasets/links.yaml``, adds each missing link
``parent -> subsidiary`` whose subsidiary (as published in the parent's
``subsidiaries_as_published``) names a record exactly (after folding case,
spaces and punctuation; any of its names or aliases; a published
"X, a.k.a. Y (Z)" offers X, Y and Z), and writes the file back in the house
style. Links already in the file, hand-curated ones included, are kept as
they are; nothing is removed. Exact names only: a subsidiary that does not
name a record is left for a curator, never guessed.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from geodata.io.importers.aspi import ACCESSED, PUBLISHER
from geodata.io.yaml_style import write_yaml_file
from geodata.model.quality import name_key
from geodata.model.schema import Record
from geodata.store.load import DATASET_DIR, default_dataset_paths, load_records

LINKS_PATH = DATASET_DIR / "links.yaml"
HEADER = """CMF Atlas: typed, directed links between records (from -> to). Format and
vocabulary: datasets/README.md. Hand-curated links cite the seeds (paragraph or
note); parent_of links citing ASPI's tracker are added by
`python -m geodata.io.importers.aspi_links` (existing links are never changed)."""

_AKA = re.compile(r",?\s*a\.k\.a\.?\s*", re.IGNORECASE)
_PAREN = re.compile(r"\(([^()]*)\)")


def name_variants(published: str) -> list[str]:
    """The names a published subsidiary offers.

    >>> name_variants("CASC 1st Academy, a.k.a China Academy of Launch Vehicle Technology (CALT)")
    ['CASC 1st Academy', 'China Academy of Launch Vehicle Technology', 'CALT']
    """
    out: list[str] = []
    for part in _AKA.split(published):
        inner = _PAREN.findall(part)
        bare = _PAREN.sub("", part).strip(" ,")
        for text in (bare, *inner):
            text = text.strip()
            if text and text not in out:
                out.append(text)
    return out


def subsidiary_links(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Proposed ``parent_of`` links (mappings in links.yaml form), in record order."""
    index: dict[str, set[str]] = {}
    for rec in records:
        for n in (rec.name_en, rec.name_zh, *rec.aliases):
            key = name_key(n)
            if len(key) >= 4:
                index.setdefault(key, set()).add(rec.id)
    out = []
    for rec in records:
        for published in rec.subsidiaries_as_published:
            hits = set()
            for variant in name_variants(published):
                hits |= index.get(name_key(variant), set())
            hits.discard(rec.id)
            if len(hits) != 1:
                continue  # none, or ambiguous: left for a curator
            aspi = next(s for s in rec.sources if s.publisher == PUBLISHER)
            out.append({
                "from": rec.id, "to": hits.pop(), "type": "parent_of",
                "sources": [{
                    "publisher": PUBLISHER, "title": aspi.title, "date": aspi.date,
                    "url": aspi.url, "type": "reference_list", "locator": "Subsidiaries",
                    "accessed": ACCESSED,
                }],
                "notes": f"ASPI lists '{published}' among its subsidiaries.",
            })
    return out


def merge_links(existing: list[dict[str, Any]], proposed: list[dict[str, Any]]) -> list[dict]:
    """``existing`` plus each proposed link whose (from, to, type) is not there yet."""
    have = {(x.get("from"), x.get("to"), x.get("type")) for x in existing}
    added = [p for p in proposed if (p["from"], p["to"], p["type"]) not in have]
    return [*existing, *added]


def main(argv: Sequence[str] | None = None) -> int:
    """Add the missing ASPI subsidiary links to links.yaml."""
    p = argparse.ArgumentParser(prog="python -m geodata.io.importers.aspi_links",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--links", type=Path, default=LINKS_PATH)
    args = p.parse_args(argv)
    records = load_records(default_dataset_paths(args.links.parent))
    existing = []
    if args.links.is_file():
        existing = yaml.safe_load(args.links.read_text(encoding="utf-8")) or []
    merged = merge_links(existing, subsidiary_links(records))
    write_yaml_file(args.links, merged, HEADER)
    print(f"{args.links}: {len(merged)} links ({len(merged) - len(existing)} added)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
