"""Load and validate the curated datasets.

Every dataset file is a YAML list of records. Loading validates each record
against :class:`geodata.model.schema.Record` and collects *all* problems before
failing, so a curator sees every mistake in one run, each naming the file,
the line, the record id and the field. Files are read by
:func:`geodata.io.safe_yaml.read_yaml_list`, the project's one YAML reader (no
aliases, no duplicate keys, YAML 1.2 decimal numbers, bounded output).

Example
-------
>>> from geodata.store.load import load_records, default_dataset_paths
>>> records = load_records(default_dataset_paths())
>>> len(records) > 0
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from geodata.io.quoting import quote_input
from geodata.io.safe_yaml import ItemProblem, RefusedYamlError, read_yaml_list
from geodata.model.limits import MESSAGE_MAX_CHARS, PROBLEMS_MAX, PROBLEMS_SHOWN
from geodata.model.schema import ALLOW_OUTSIDE_CHINA, Record

DATASET_DIR = Path(__file__).resolve().parents[2] / "datasets"

@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record, located precisely."""

    file: str
    line: int | None
    record: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        if self.record == "-":
            return f"{where}: {self.message}"
        if self.field == "-":
            return f"{where}: record {self.record}: {self.message}"
        return f"{where}: record {self.record}, field '{self.field}': {self.message}"


def problems_summary(problems: Sequence[Problem], shown: int = PROBLEMS_SHOWN) -> str:
    """The first ``shown`` problems, one per line, then how many more there are.

    The one way a list of problems becomes text for a terminal or a message,
    so no message grows with the number of problems.

    >>> print(problems_summary([Problem("a.yaml", 3, "#1", "year", "bad")] * 3, shown=2))
      - a.yaml:3: record #1, field 'year': bad
      - a.yaml:3: record #1, field 'year': bad
      … and 1 more problem
    """
    lines = [f"  - {p}" for p in problems[:shown]]
    more = len(problems) - shown
    if more > 0:
        lines.append(f"  … and {more:,} more problem{'s' if more != 1 else ''}")
    return "\n".join(lines)


class DatasetError(ValueError):
    """Raised when one or more records fail validation; holds every problem.

    Its message lists the first :data:`geodata.model.limits.PROBLEMS_SHOWN` problems;
    ``problems`` holds them all.
    """

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        super().__init__(
            f"{len(self.problems):,} problem(s) in the datasets:\n"
            f"{problems_summary(self.problems)}"
        )


#: Files in ``datasets/`` that hold links and designations, not records
#: (read by :mod:`geodata.model.relations`).
RELATION_FILES: frozenset[str] = frozenset({"links.yaml", "designations.yaml"})


def default_dataset_paths(directory: Path = DATASET_DIR) -> list[Path]:
    """The record files: every ``*.yaml`` directly in ``datasets/`` but the relation files."""
    return sorted(p for p in Path(directory).glob("*.yaml") if p.name not in RELATION_FILES)


def _record_label(index: int, raw: object) -> str:
    rid = raw.get("id") if isinstance(raw, dict) else None
    return f"#{index + 1} (id {quote_input(rid)})" if rid else f"#{index + 1}"


def _problems_from_validation(
    file: str, line: int | None, label: str, exc: ValidationError
) -> list[Problem]:
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "-"
        msg = err["msg"].removeprefix("Value error, ")
        if "input" in err and err["type"] in ("missing",):
            msg = "required field is missing"
        elif "input" in err and "got " not in msg and (
            err["loc"] or not isinstance(err["input"], dict)  # not the whole record
        ):
            msg = f"{msg} (got {quote_input(err['input'])})"
        out.append(Problem(file, line, label, field, bounded_message(msg)))
    return out


def bounded_message(message: str) -> str:
    """``message`` cut to :data:`geodata.model.limits.MESSAGE_MAX_CHARS`, marked where cut."""
    if len(message) <= MESSAGE_MAX_CHARS:
        return message
    return message[: MESSAGE_MAX_CHARS - 1] + "…"


def _reject_non_finite(raw: dict) -> list[str]:
    return [
        str(k)
        for k, v in raw.items()
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v))
    ]


class _Collector:
    """Problems of one load, up to :data:`geodata.model.limits.PROBLEMS_MAX`."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.full = False

    def add(self, *problems: Problem) -> None:
        for problem in problems:
            if len(self.problems) >= PROBLEMS_MAX:
                self.full = True
                return
            self.problems.append(problem)


def _validate_text(
    text: str,
    name: str,
    *,
    allow_outside_china: bool,
    max_records: int | None,
    seen: dict[str, str],
    found: _Collector,
) -> list[Record]:
    """The valid records of one YAML text; every problem goes to ``found``, reported as ``name``.

    ``seen`` maps ids already used (in this or earlier files) to where.
    """
    try:
        parsed = read_yaml_list(text, max_items=max_records)
    except RefusedYamlError as exc:
        found.add(Problem(name, exc.line, "-", "-", exc.message))
        return []
    if parsed is None:
        found.add(Problem(name, None, "-", "-", "file is empty; expected a list of records"))
        return []
    broken: dict[int, list[ItemProblem]] = {}
    for item_problem in parsed.problems:
        broken.setdefault(item_problem.index, []).append(item_problem)
    records: list[Record] = []
    for index, (raw, line) in enumerate(zip(parsed.items, parsed.lines, strict=True)):
        if found.full:
            break
        label = _record_label(index, raw)
        if index in broken:
            found.add(*(Problem(name, p.line, label, p.field, p.message) for p in broken[index]))
            continue
        if not isinstance(raw, dict):
            found.add(Problem(
                name, line, label, "-", f"expected a mapping, got {quote_input(raw)}"
            ))
            continue
        bad = _reject_non_finite(raw)
        if bad:
            found.add(*(Problem(name, line, label, f, "must be a finite number") for f in bad))
            continue
        try:
            rec = Record.model_validate(raw, context={ALLOW_OUTSIDE_CHINA: allow_outside_china})
        except ValidationError as exc:
            found.add(*_problems_from_validation(name, line, label, exc))
            continue
        if rec.id in seen:
            found.add(Problem(
                name, line, label, "id",
                f"duplicate id {quote_input(rec.id)}, first used at {seen[rec.id]}",
            ))
            continue
        seen[rec.id] = f"{name}:{line}"
        records.append(rec)
    return records


def _stop_note(name: str) -> Problem:
    return Problem(
        name, None, "-", "-",
        f"stopped after {PROBLEMS_MAX:,} problems; fix these (is it the right file?) and "
        "check again",
    )


def load_records_text(
    text: str,
    name: str,
    *,
    allow_outside_china: bool = False,
    max_records: int | None = None,
) -> list[Record]:
    """Records from the text of one YAML file, every problem reported as file ``name``.

    For a file that is not on disk under its own name, such as an upload:
    messages name the user's file, never a temporary copy.

    Raises
    ------
    DatasetError
        With every problem (up to :data:`geodata.model.limits.PROBLEMS_MAX`).
    """
    found = _Collector()
    records = _validate_text(
        text, name, allow_outside_china=allow_outside_china, max_records=max_records,
        seen={}, found=found,
    )
    if found.full:
        found.problems.append(_stop_note(name))
    if found.problems:
        raise DatasetError(found.problems)
    return records


def load_records(
    paths: Iterable[Path | str] | None = None,
    *,
    allow_outside_china: bool = False,
    max_records: int | None = None,
) -> list[Record]:
    """Load and validate records from YAML files.

    Parameters
    ----------
    paths
        Dataset files; defaults to every ``datasets/*.yaml``.
    allow_outside_china
        Skip the China-bounds check. Only for a user's own imported data
        (see :func:`geodata.io.importer.load_user_records`); curated data never.
    max_records
        Refuse a file with more records than this, before validating any.

    Raises
    ------
    DatasetError
        With every problem found (up to :data:`geodata.model.limits.PROBLEMS_MAX`),
        including ids repeated across files.
    """
    paths = [Path(p) for p in (paths if paths is not None else default_dataset_paths())]
    if not paths:
        raise DatasetError([Problem(str(DATASET_DIR), None, "-", "-", "no dataset files found")])
    found = _Collector()
    records: list[Record] = []
    seen: dict[str, str] = {}
    for path in paths:
        name = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            found.add(Problem(name, None, "-", "-", f"file is not UTF-8 text ({exc.reason})"))
            continue
        except OSError as exc:
            found.add(Problem(name, None, "-", "-", f"cannot read file: {exc.strerror or exc}"))
            continue
        records.extend(_validate_text(
            text, name, allow_outside_china=allow_outside_china, max_records=max_records,
            seen=seen, found=found,
        ))
        if found.full:
            found.problems.append(_stop_note(name))
            break
    if found.problems:
        raise DatasetError(found.problems)
    return records
