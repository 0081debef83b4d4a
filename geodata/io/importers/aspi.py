"""ASPI's China Defence Universities Tracker -> ``datasets/organisations.yaml``.

Run ``python -m geodata.io.importers.aspi`` (re-runnable; the output is
deterministic). The input is the MISP-galaxy copy of the tracker in
``/work/shared/data`` (see its README for source and terms): 159 entries,
130 with coordinates. Each entry becomes one organisation record that keeps
ASPI's facts (names, aliases, category, supervising agencies, research
topics, laboratories, subsidiaries, address, coordinates) and cites the
tracker and the entry's own page. ASPI's prose is *not* copied: the
description is a neutral sentence generated from the structured fields.

Entries without coordinates stay unplaced (``lat``/``lon`` null with
``unplaced_reason``); no coordinates are guessed. The province of a placed
entry is the basemap province holding its point (:func:`geodata.model.quality.province_at`).

Hand decisions (ids, the few category overrides) are the module constants
below, so a re-run reproduces them; edit them here, not in the YAML.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from geodata.io.yaml_style import write_yaml_file
from geodata.model.reference_data import REFERENCE_DATA_DIR
from geodata.model.schema import CATEGORIES, DOMAINS, PROVINCES, Record
from geodata.store.load import DATASET_DIR

DEFAULT_INPUT = REFERENCE_DATA_DIR / "aspi-china-defence-universities.json"
DEFAULT_OUTPUT = DATASET_DIR / "organisations.yaml"
ACCESSED = "2026-12-03"
PUBLISHER = "Australian Strategic Policy Institute (ASPI)"
VIA = (
    "MISP galaxy copy of the tracker (MISP/misp-galaxy, clusters/china-defence-universities.json, "
    "commit 9434ace4eb925c9a1c9b3bccf014a25f9d14f0b0)"
)

#: ASPI category (as published) -> our organisation category.
CATEGORY_MAP: dict[str, str] = {
    "Civilian": "university",
    "Seven sons of national defence": "university",
    "Military": "military_institution",
    "Defence industry conglomerate": "defence_conglomerate",
    "Security": "security_body",
}
#: Entries whose category is not the mapped one, and why (English name as in the tracker).
CATEGORY_OVERRIDES: dict[str, tuple[str, str]] = {
    "Chinese Academy of Engineering Physics": (
        "defence_conglomerate",
        "ASPI files CAEP under 'Military'; our model counts it with the defence groups "
        "(it runs the nuclear-weapons complex through its own institutes)",
    ),
    "China Aerodynamics Research and Development Center": (
        "military_institution", "a PLA research centre, as ASPI files it",
    ),
}
#: Short, stable ids for the groups and bodies other records link to.
ID_OVERRIDES: dict[str, str] = {
    "China Electronics Technology Group Corporation": "org-cetc",
    "China Electronics Corporation": "org-cec",
    "China Aerospace Science and Technology Corporation": "org-casc",
    "China Aerospace Science and Industry Corporation": "org-casic",
    "Aviation Industry Corporation of China": "org-avic",
    "Aero Engine Corporation of China": "org-aecc",
    "China North Industries Group": "org-norinco",
    "China South Industries Group": "org-csgc",
    "China Shipbuilding Industry Corporation": "org-csic",
    "China State Shipbuilding Corporation": "org-cssc",
    "China National Nuclear Corporation": "org-cnnc",
    "Commercial Aircraft Corporation of China": "org-comac",
    "Chinese Academy of Engineering Physics": "org-caep",
    "Academy of Military Science": "org-ams",
    "National University of Defense Technology": "org-nudt",
    "Harbin Institute of Technology": "org-hit",
    "Tianjin University": "org-tianjin-university",
}
#: Unplaced entries whose place is recorded elsewhere in the Atlas.
UNPLACED_NOTES: dict[str, str] = {
    "Chinese Academy of Engineering Physics": (
        " Its presence in Mianyang is mapped as the cluster record cluster-caep-mianyang "
        "(seed-sourced, city precision)."
    ),
}

#: ASPI research topic -> our technology domain (topics not listed map to none).
TOPIC_DOMAINS: dict[str, str] = {
    "Artificial intelligence": "ai",
    "Aeronautical and astronautical science and technology": "aerospace",
    "Cyber": "cyber", "Cryptography": "cyber",
    "Electronics science and technology": "electronics", "Optical engineering": "electronics",
    "Information and communication engineering": "information",
    "Computer science and technology": "information",
    "Robotics": "robotics",
    "Naval architecture and ocean engineering": "maritime",
    "Materials science and technology": "materials", "Metallurgical engineering": "materials",
    "Mechanical engineering": "manufacturing",
    "Power engineering and engineering thermophysics": "energy",
    "Nuclear science and technology": "nuclear", "Nuclear weapons": "nuclear",
    "Biology": "biotech", "Biomedical engineering": "biotech", "Medicine": "biotech",
    "Quantum": "quantum",
}
_CENTRAL = re.compile(
    r"Ministry|Commission|SASTIND|PLA|People's Armed Police|Central Military|CCP|State |"
    r"National |Academy of Military|Chinese Academy of Sciences"
)
_PROVINCIAL_CITIES = ("Beijing", "Shanghai", "Tianjin", "Chongqing")
_CJK_TAIL = re.compile(r"^(?P<en>.*?)\s*[(（](?P<zh>[^()（）]*[\u4e00-\u9fff][^()（）]*)[)）]\s*$")


def split_name(value: str) -> tuple[str, str | None]:
    """ASPI's ``"English (中文)"`` as (English, Chinese).

    >>> split_name("Tianjin University (天津大学)")
    ('Tianjin University', '天津大学')
    """
    m = _CJK_TAIL.match(value)
    if not m:
        return value.strip(), None
    return m.group("en").strip(), m.group("zh").strip()


def slug(text: str) -> str:
    """A lowercase hyphenated id part.

    >>> slug("Xi'an University of Posts & Telecommunications")
    'xian-university-of-posts-telecommunications'
    """
    text = text.replace("'", "").replace("’", "")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def sponsor_level(agencies: Sequence[str]) -> str:
    """The highest level among the supervising agencies (central > provincial > ...)."""
    levels = set()
    for a in agencies:
        if "Provincial Government" in a or any(a.startswith(c) for c in _PROVINCIAL_CITIES):
            levels.add("provincial")
        elif "Municipal Government" in a:
            levels.add("municipal")
        elif _CENTRAL.search(a):
            levels.add("central")
        elif re.search(r"Corporation|Group|Company", a):
            levels.add("enterprise")
    for level in ("central", "provincial", "municipal", "enterprise"):
        if level in levels:
            return level
    return "unknown"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def describe(name: str, category: str, province: str | None, meta: dict[str, Any]) -> str:
    """A neutral sentence from the structured fields (never ASPI's prose)."""
    label = CATEGORIES["organisation"][category].split(" (")[0].lower()
    where = f" in {province}" if province else ""
    article = "an" if re.match(r"[aeio]|u(?!ni)", label) else "a"
    text = f"{name} is {article} {label}{where}"
    agencies = [a.split(" (")[0] for a in meta.get("supervising agencies", [])]
    if agencies:
        text += f", supervised by {_join(['the ' + a for a in agencies])}"
    text += "."
    counts = []
    for key, word in (("topics", "research topic"), ("major defence laboratories",
                      "defence laboratory"), ("subsidiaries", "subsidiary")):
        n = len(meta.get(key) or [])
        if n:
            plural = word[:-1] + "ies" if word.endswith("y") else word + "s"
            counts.append(f"{n} {word if n == 1 else plural}")
    cats = ", ".join(meta.get("categories", []))
    text += f" ASPI's China Defence Universities Tracker files it under '{cats}'"
    text += f" and lists {_join(counts)}." if counts else "."
    return text


def _domains(topics: Sequence[str]) -> list[str]:
    found = {TOPIC_DOMAINS[t] for t in topics if t in TOPIC_DOMAINS}
    return [d for d in DOMAINS if d in found] or ["general"]


def convert_entry(entry: dict[str, Any], province_at: Any) -> dict[str, Any]:
    """One tracker entry as a record mapping in the datasets' key order."""
    meta = entry["meta"]
    name_en, name_zh = split_name(entry["value"])
    aspi_cats = list(meta.get("categories", []))
    category, why = CATEGORY_OVERRIDES.get(name_en, (CATEGORY_MAP[aspi_cats[0]], ""))
    aliases = [a.strip() for a in meta.get("aliases", []) if a.strip()]
    aliases = list(dict.fromkeys(a for a in aliases if a not in (name_en, name_zh)))
    rec: dict[str, Any] = {
        "id": ID_OVERRIDES.get(name_en, "org-" + slug(name_en)),
        "kind": "organisation",
        "category": category,
        "name_en": name_en,
        "name_zh": name_zh or (aliases[0] if aliases else name_en),
    }
    if aliases:
        rec["aliases"] = aliases
    lat, lon = meta.get("lat"), meta.get("long")
    if lat and lon:
        lat, lon = round(float(lat), 4), round(float(lon), 4)
        province = province_at(lat, lon)
        if province is None or province not in PROVINCES:
            raise ValueError(f"{name_en}: point ({lat}, {lon}) is in no province of the basemap")
        rec.update(province=province, lat=lat, lon=lon, location_precision="site")
    else:
        province = None
        rec["unplaced_reason"] = (
            "ASPI's tracker gives no coordinates or address for this entry; left unplaced "
            "rather than guessed." + UNPLACED_NOTES.get(name_en, "")
        )
    rec["domains"] = _domains(meta.get("topics", []))
    rec["sponsor_level"] = sponsor_level(meta.get("supervising agencies", []))
    rec["confidence"] = "medium"
    rec["confidence_reason"] = (
        "One reference list (ASPI's tracker, 2019-2020) gives identity"
        + (", address and coordinates." if province else "; no place given.")
    )
    if meta.get("address"):
        rec["address"] = meta["address"].strip()
    for key, field in (("supervising agencies", "supervising_agencies"),
                       ("topics", "research_topics"),
                       ("major defence laboratories", "laboratories"),
                       ("subsidiaries", "subsidiaries_as_published")):
        values = [v.strip() for v in meta.get(key) or [] if v.strip()]
        if values:
            rec[field] = values
    rec["org_tags"] = aspi_cats
    rec["description"] = describe(name_en, category, province, meta)
    rec["sources"] = [{
        "publisher": PUBLISHER,
        "title": f"China Defence Universities Tracker: {name_en}",
        "date": "2019",
        "url": meta["refs"][0],
        "via": VIA,
        "type": "reference_list",
        "accessed": ACCESSED,
    }]
    note = (f"Imported from ASPI's tracker (entry uuid {entry['uuid']}) "
            "by geodata.io.importers.aspi.")
    if why:
        note += f" Category {category}: {why}."
    rec["notes"] = note
    return rec


HEADER = """CMF Atlas: organisations from ASPI's China Defence Universities Tracker
(kind: organisation). GENERATED by `python -m geodata.io.importers.aspi` from
/work/shared/data/aspi-china-defence-universities.json; do not edit by hand
(re-run the converter; hand decisions live in geodata/io/importers/aspi.py).
Organisations from the seeds are in organisations-curated.yaml. Format: datasets/README.md."""


def convert(path: Path = DEFAULT_INPUT) -> list[dict[str, Any]]:
    """Every tracker entry as a validated record mapping, sorted by id."""
    from geodata.model.quality import province_at

    data = json.loads(Path(path).read_text(encoding="utf-8"))
    records = [convert_entry(e, province_at) for e in data["values"]]
    ids = [r["id"] for r in records]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"ids repeat: {sorted(dupes)}; add an ID_OVERRIDES entry")
    for r in records:
        Record.model_validate(r)
    return sorted(records, key=lambda r: r["id"])


def main(argv: Sequence[str] | None = None) -> int:
    """Write the organisations file; print a summary."""
    p = argparse.ArgumentParser(prog="python -m geodata.io.importers.aspi", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", type=Path, default=DEFAULT_INPUT)
    p.add_argument("--out", type=Path, default=DEFAULT_OUTPUT)
    args = p.parse_args(argv)
    try:
        records = convert(args.input)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_yaml_file(args.out, records, HEADER)
    placed = sum(1 for r in records if "lat" in r)
    print(f"wrote {args.out}: {len(records)} organisations, {placed} placed, "
          f"{len(records) - placed} unplaced")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
