"""Links between records and US-list designations: load, validate, attach to the frame.

``datasets/links.yaml`` holds typed, directed links (:class:`geodata.model.schema.Link`);
``datasets/designations.yaml`` holds reviewed matches of organisations to
the US DoD 1260H and 1286 lists (:class:`geodata.model.schema.Designation`).
Both are validated against the records, collecting every problem with its
file, line and field as :mod:`geodata.store.load` does:

- a link's two ends exist; its type is in ``LINK_TYPES`` and fits the ends
  (``parent_of`` starts at an organisation; ``sub_fund_of`` joins two funds;
  ``partner_in`` and ``invests_in`` start at an organisation or fund);
  no (from, to, type) repeats; ``parent_of`` has no cycle;
- a designation's record exists and is an organisation; a
  ``subsidiary_of_listed`` names a ``listed_parent`` that exists; no
  (record, list, entry) repeats.

:func:`attach_relations` adds derived columns to the records' frame
(``RELATION_COLUMNS`` plus ``ancestors``), which the filters, exports, detail
panel and map read.

Example
-------
>>> from geodata.model.relations import load_atlas
>>> atlas = load_atlas()
>>> len(atlas.links) > 0 and "links" in atlas.frame.columns
True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from pydantic import ValidationError

from geodata.io.quoting import quote_input
from geodata.io.safe_yaml import RefusedYamlError, read_yaml_list
from geodata.model.frame import records_to_frame
from geodata.model.schema import (
    LINK_FORWARD_LABELS,
    LINK_INVERSE_LABELS,
    Designation,
    Link,
    Record,
)
from geodata.store.load import (
    DATASET_DIR,
    DatasetError,
    Problem,
    _problems_from_validation,
    default_dataset_paths,
    load_records,
)

LINKS_FILE = "links.yaml"
DESIGNATIONS_FILE = "designations.yaml"

#: Which kinds may stand at each end of a link type; ``None`` allows any kind.
LINK_ENDS: dict[str, tuple[frozenset[str] | None, frozenset[str] | None]] = {
    "parent_of": (frozenset({"organisation"}), None),
    "partner_in": (frozenset({"organisation", "fund"}), None),
    "invests_in": (frozenset({"organisation", "fund"}), None),
    "sub_fund_of": (frozenset({"fund"}), frozenset({"fund"})),
    "located_in": (None, frozenset({"zone", "cluster"})),
    "organised_by": (None, frozenset({"organisation"})),
    "successor_of": (None, None),
}


def _items(path: Path, problems: list[Problem]) -> list[tuple[int | None, str, dict]]:
    """The mappings of a links or designations file, with their lines (missing file: none).

    Read with the project's one YAML reader (:func:`geodata.io.safe_yaml.read_yaml_list`);
    an empty file is allowed (a dataset may have no links yet).
    """
    if not path.is_file():
        return []
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(Problem(name, None, "-", "-", f"file is not UTF-8 text ({exc.reason})"))
        return []
    except OSError as exc:
        problems.append(Problem(name, None, "-", "-", f"cannot read file: {exc.strerror}"))
        return []
    try:
        parsed = read_yaml_list(text)
    except RefusedYamlError as exc:
        problems.append(Problem(name, exc.line, "-", "-", exc.message))
        return []
    if parsed is None:
        return []
    broken = {p.index for p in parsed.problems}
    for p in parsed.problems:
        problems.append(Problem(name, p.line, f"#{p.index + 1}", p.field, p.message))
    out = []
    for index, (raw, line) in enumerate(zip(parsed.items, parsed.lines, strict=True)):
        label = f"#{index + 1}"
        if index in broken:
            continue
        if not isinstance(raw, dict):
            problems.append(
                Problem(name, line, label, "-", f"expected a mapping, got {quote_input(raw)}")
            )
            continue
        out.append((line, label, raw))
    return out


def load_links(path: Path, records: Sequence[Record]) -> list[Link]:
    """Links from ``path`` (missing file: none), validated against ``records``.

    Raises
    ------
    DatasetError
        With every problem, each naming file, line, link and field.
    """
    problems: list[Problem] = []
    by_id = {r.id: r for r in records}
    links: list[Link] = []
    seen: dict[tuple[str, str, str], int | None] = {}
    name = str(path)
    for line, label, raw in _items(Path(path), problems):
        label = (f"{label} ({quote_input(raw.get('from'))} -{quote_input(raw.get('type'))}-> "
                 f"{quote_input(raw.get('to'))})")
        try:
            link = Link.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_problems_from_validation(name, line, label, exc))
            continue
        bad = False
        for end, rid in (("from", link.from_id), ("to", link.to_id)):
            if rid not in by_id:
                problems.append(
                    Problem(name, line, label, end, f"no record has id {quote_input(rid)}")
                )
                bad = True
        if bad:
            continue
        allowed_from, allowed_to = LINK_ENDS[link.type]
        for end, rid, allowed in (("from", link.from_id, allowed_from),
                                  ("to", link.to_id, allowed_to)):
            kind = by_id[rid].kind
            if allowed is not None and kind not in allowed:
                problems.append(Problem(
                    name, line, label, end,
                    f"a {link.type} link cannot {'start' if end == 'from' else 'end'} at a "
                    f"{kind} ({rid}); expected {' or '.join(sorted(allowed))}",
                ))
                bad = True
        if link.key in seen:
            problems.append(Problem(name, line, label, "-",
                                    f"duplicate link, first at line {seen[link.key]}"))
            bad = True
        if bad:
            continue
        seen[link.key] = line
        links.append(link)
    problems.extend(_parent_cycles(name, links))
    if problems:
        raise DatasetError(problems)
    return links


def _parent_cycles(name: str, links: Sequence[Link]) -> list[Problem]:
    children: dict[str, list[str]] = defaultdict(list)
    for link in links:
        if link.type == "parent_of":
            children[link.from_id].append(link.to_id)
    state: dict[str, int] = {}
    out: list[Problem] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for child in children.get(node, ()):
            if state.get(child) == 1:
                cycle = " -> ".join([*path[path.index(child):], child])
                out.append(Problem(name, None, "-", "-", f"parent_of links form a cycle: {cycle}"))
            elif child not in state:
                visit(child, [*path, child])
        state[node] = 2

    for node in list(children):
        if node not in state:
            visit(node, [node])
    return out


def load_designations(path: Path, records: Sequence[Record]) -> list[Designation]:
    """Designations from ``path`` (missing file: none), validated against ``records``."""
    problems: list[Problem] = []
    by_id = {r.id: r for r in records}
    out: list[Designation] = []
    seen: dict[tuple[str, str, str], int | None] = {}
    name = str(path)
    for line, label, raw in _items(Path(path), problems):
        label = f"{label} ({quote_input(raw.get('record'))} on {quote_input(raw.get('list'))})"
        try:
            d = Designation.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_problems_from_validation(name, line, label, exc))
            continue
        rec = by_id.get(d.record)
        if rec is None:
            problems.append(Problem(name, line, label, "record",
                                    f"no record has id {quote_input(d.record)}"))
            continue
        if rec.kind != "organisation":
            problems.append(Problem(name, line, label, "record",
                                    f"{d.record} is a {rec.kind}; designations are for "
                                    "organisations"))
            continue
        if d.listed_parent and d.listed_parent not in by_id:
            problems.append(Problem(name, line, label, "listed_parent",
                                    f"no record has id {quote_input(d.listed_parent)}"))
            continue
        key = (d.record, d.list, d.entry_name)
        if key in seen:
            problems.append(Problem(name, line, label, "-",
                                    f"duplicate designation, first at line {seen[key]}"))
            continue
        seen[key] = line
        out.append(d)
    if problems:
        raise DatasetError(problems)
    return out


@dataclass(frozen=True)
class Atlas:
    """Everything the app shows: records, their frame (with relations), links, designations."""

    records: list[Record]
    links: list[Link]
    designations: list[Designation]
    frame: gpd.GeoDataFrame


def relation_paths(directory: Path) -> tuple[Path, Path]:
    """The links and designations files that go with the datasets in ``directory``."""
    return Path(directory) / LINKS_FILE, Path(directory) / DESIGNATIONS_FILE


def load_atlas(
    paths: Iterable[Path | str] | None = None, directory: Path | None = None
) -> Atlas:
    """Records, links and designations, each validated, and the frame with relations.

    ``directory`` holds ``links.yaml`` and ``designations.yaml`` (default: the
    folder of the first dataset file, else ``datasets/``).

    Raises
    ------
    DatasetError
        With every problem of the records, then of the links and designations.
    """
    paths = [Path(p) for p in (paths if paths is not None else default_dataset_paths())]
    if directory is None:
        directory = paths[0].parent if paths else DATASET_DIR
    records = load_records(paths)
    links_path, designations_path = relation_paths(directory)
    problems: list[Problem] = []
    links: list[Link] = []
    designations: list[Designation] = []
    try:
        links = load_links(links_path, records)
    except DatasetError as exc:
        problems.extend(exc.problems)
    try:
        designations = load_designations(designations_path, records)
    except DatasetError as exc:
        problems.extend(exc.problems)
    if problems:
        raise DatasetError(problems)
    frame = attach_relations(records_to_frame(records), links, designations)
    return Atlas(records, links, designations, frame)


def ancestors_map(links: Sequence[Link]) -> dict[str, tuple[str, ...]]:
    """Every record's ``parent_of`` ancestors, nearest first (transitive)."""
    parents: dict[str, list[str]] = defaultdict(list)
    for link in links:
        if link.type == "parent_of":
            parents[link.to_id].append(link.from_id)
    out: dict[str, tuple[str, ...]] = {}
    for node in parents:
        seen: list[str] = []
        queue = list(parents[node])
        while queue:
            p = queue.pop(0)
            if p in seen or p == node:
                continue
            seen.append(p)
            queue.extend(parents.get(p, ()))
        out[node] = tuple(seen)
    return out


def attach_relations(
    frame: gpd.GeoDataFrame, links: Sequence[Link], designations: Sequence[Designation]
) -> gpd.GeoDataFrame:
    """``frame`` with ``parent_id``, ``ancestors``, ``links``, ``designations``, ``designated``.

    ``links`` of a row: dicts ``{type, direction ("out"|"in"), other, other_name,
    label}``, where ``label`` reads from this record ("Parent of", "Subsidiary
    of"). ``designations``: the accepted ones only, as dicts. ``designated``:
    an accepted designation not removed (listed, or subsidiary of a listed parent).
    """
    names = dict(zip(frame["id"], frame["name_en"], strict=True))
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for link in links:
        per[link.from_id].append({
            "type": link.type, "direction": "out", "other": link.to_id,
            "other_name": names.get(link.to_id, link.to_id),
            "label": LINK_FORWARD_LABELS[link.type],
        })
        per[link.to_id].append({
            "type": link.type, "direction": "in", "other": link.from_id,
            "other_name": names.get(link.from_id, link.from_id),
            "label": LINK_INVERSE_LABELS[link.type],
        })
    accepted: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in designations:
        if d.review == "accepted":
            accepted[d.record].append(
                d.model_dump(include={"list", "entry_name", "relation", "listed_parent",
                                      "date_added", "date_removed"}, exclude_none=True)
            )
    in_force = {d.record for d in designations if d.in_force}
    anc = ancestors_map(links)
    out = frame.copy()
    ids = out["id"]
    out["ancestors"] = ids.map(lambda i: anc.get(i, ()))
    out["parent_id"] = pd.Series([a[0] if a else None for a in out["ancestors"]],
                                 index=out.index, dtype=object)
    # Records without links share one empty list (never changed: the frame is
    # read-only), not a million of them (56 MB each column at 1,000,000 records).
    none: list[dict[str, Any]] = []
    out["links"] = ids.map(lambda i: per.get(i, none))
    out["designations"] = ids.map(lambda i: accepted.get(i, none))
    out["designated"] = ids.isin(in_force)
    return out


def link_lines(
    frame: pd.DataFrame,
    *,
    selected: str | None = None,
    shown: Iterable[str] | None = None,
    network: bool = False,
    linked: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The link lines the map draws: the selected record's links, and the network.

    Parameters
    ----------
    frame
        Every record with its relation columns (:func:`attach_relations`); the
        other end of a selected record's link is drawn even when the filters
        hide it, so the line shows where the link goes.
    selected
        The selected record's id: each of its links becomes a bold line.
    shown
        Ids of the records shown (after the filters); with ``network`` every
        link whose two ends are both shown becomes a thin line.
    linked
        The rows of ``frame`` that have links, when the caller keeps them
        (finding them costs 0.15 s at 1,000,000 records); found here otherwise.

    Returns
    -------
    dict
        ``{"lines": [{"from": [lat, lon], "to": [lat, lon], "type", "from_name",
        "to_name", "selected"}], "title": str, "hidden": str, "origin": [lat, lon]}``;
        ``hidden`` says how many links could not be drawn because an end is
        unplaced; ``origin`` (only when the selected record is placed) is where
        the map rings the selection.

    Example
    -------
    >>> link_lines(pd.DataFrame(columns=["id", "lat", "lon", "name_en", "links"]))["lines"]
    []
    """
    if frame.empty or "links" not in frame.columns:
        return {"lines": [], "title": "Links", "hidden": ""}
    # Only records with links (and the selected one) are looked at: at 100,000
    # records, dicts of every record cost 0.65 s on every rerun.
    if linked is None:
        linked = frame[frame["links"].map(bool).astype(bool)]
    with_links = linked
    if selected is not None and selected not in set(linked["id"]):
        with_links = pd.concat([linked, frame[frame["id"] == selected]])
    links_of = dict(zip(with_links["id"], with_links["links"], strict=True))
    ends = {selected, *links_of} | {ln["other"] for lns in links_of.values() for ln in lns or []}
    near = frame[frame["id"].isin(ends)]
    pos = {
        rid: (float(lat), float(lon))
        for rid, lat, lon in zip(near["id"], near["lat"], near["lon"], strict=True)
        if pd.notna(lat) and pd.notna(lon)
    }
    names = dict(zip(near["id"], near["name_en"], strict=True))
    lines: list[dict[str, Any]] = []
    drawn: set[tuple[str, str, str]] = set()
    unplaced = 0

    def add(a: str, b: str, kind: str, bold: bool) -> None:
        nonlocal unplaced
        if (a, b, kind) in drawn:
            return
        drawn.add((a, b, kind))
        if a not in pos or b not in pos:
            unplaced += bold
            return
        lines.append({"from": list(pos[a]), "to": list(pos[b]), "type": kind,
                      "from_name": names.get(a, a), "to_name": names.get(b, b),
                      "selected": bold})

    if selected is not None:
        for ln in links_of.get(selected) or []:
            a, b = (selected, ln["other"]) if ln["direction"] == "out" else (ln["other"], selected)
            add(a, b, ln["type"], True)
    if network and shown is not None:
        # Only the linked records' ids are looked up among the shown ones.
        shown = shown if isinstance(shown, pd.Series) else pd.Series(list(shown), dtype=object)
        keep = set(shown[shown.isin(list(ends))])
        for rid in keep & links_of.keys():
            for ln in links_of.get(rid) or []:
                if ln["direction"] == "out" and ln["other"] in keep:
                    add(rid, ln["other"], ln["type"], False)
    title = "Links of the selected record" if selected else "Links among the records shown"
    if selected and network:
        title = "Links (bold: the selected record's)"
    hidden = (f"{unplaced} link(s) of the selected record end at an organisation "
              "that is not on the map" if unplaced else "")
    out: dict[str, Any] = {"lines": lines, "title": title, "hidden": hidden}
    if selected in pos:
        out["origin"] = list(pos[selected])  # a ring marks where the bold lines start
    return out


def group_options(frame: pd.DataFrame) -> dict[str, str]:
    """Records with something under them (via ``parent_of``): id -> label, by name.

    The choices of the "organisation group" filter.
    """
    if "ancestors" not in frame.columns:
        return {}
    parents = {a for anc in frame["ancestors"] for a in anc}
    rows = frame[frame["id"].isin(parents)].sort_values("name_en")
    out = {}
    for rid, name, ids in zip(rows["id"], rows["name_en"], rows["id"], strict=True):
        n = sum(ids in anc for anc in frame["ancestors"])
        out[rid] = f"{name} ({n} under it)"
    return out
