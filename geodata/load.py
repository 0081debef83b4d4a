"""Load and validate the curated datasets.

Every dataset file is a YAML list of records. Loading validates each record
against :class:`geodata.schema.Record` and collects *all* problems before
failing, so a curator sees every mistake in one run, each naming the file,
the line, the record id and the field.

Example
-------
>>> from geodata.load import load_records, DATASET_DIR
>>> records = load_records(sorted(DATASET_DIR.glob("*.yaml")))
>>> len(records) > 0
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from geodata.schema import ALLOW_OUTSIDE_CHINA, Record

DATASET_DIR = Path(__file__).resolve().parent.parent / "datasets"

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


class DatasetError(ValueError):
    """Raised when one or more records fail validation; holds every problem."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s) in the datasets:\n{lines}")


#: Files in ``datasets/`` that hold links and designations, not records
#: (read by :mod:`geodata.relations`).
RELATION_FILES: frozenset[str] = frozenset({"links.yaml", "designations.yaml"})


def default_dataset_paths(directory: Path = DATASET_DIR) -> list[Path]:
    """The record files: every ``*.yaml`` directly in ``datasets/`` but the relation files."""
    return sorted(p for p in Path(directory).glob("*.yaml") if p.name not in RELATION_FILES)


def _record_label(index: int, raw: object) -> str:
    rid = raw.get("id") if isinstance(raw, dict) else None
    return f"#{index + 1} (id {rid!r})" if rid else f"#{index + 1}"


def _parse_yaml(path: Path) -> tuple[list[object], list[int | None]] | Problem:
    """Parse a YAML list, returning items and the line each starts on."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return Problem(name, None, "-", "-", f"file is not UTF-8 text ({exc.reason})")
    except OSError as exc:
        return Problem(name, None, "-", "-", f"cannot read file: {exc.strerror}")
    # One parse gives both the data and each record's line; libyaml's C loader,
    # when the wheel has it, is ~10x faster than the pure-Python one.
    loader = _YAML_LOADER(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        return Problem(name, line, "-", "-", f"not valid YAML: {getattr(exc, 'problem', exc)}")
    finally:
        loader.dispose()
    if data is None:
        return Problem(name, None, "-", "-", "file is empty; expected a list of records")
    if not isinstance(data, list):
        return Problem(
            name, 1, "-", "-", f"expected a YAML list of records, got {type(data).__name__}"
        )
    lines = [item.start_mark.line + 1 for item in node.value]
    return data, lines


def _problems_from_validation(
    file: str, line: int | None, label: str, exc: ValidationError
) -> list[Problem]:
    out = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "-"
        msg = err["msg"].removeprefix("Value error, ")
        if "input" in err and err["type"] in ("missing",):
            msg = "required field is missing"
        elif "input" in err and not isinstance(err["input"], dict):
            msg = f"{msg} (got {err['input']!r})"
        out.append(Problem(file, line, label, field, msg))
    return out


def _reject_non_finite(raw: dict) -> list[str]:
    return [
        k
        for k, v in raw.items()
        if isinstance(v, float) and (math.isnan(v) or math.isinf(v))
    ]


def load_records(
    paths: Iterable[Path | str] | None = None, *, allow_outside_china: bool = False
) -> list[Record]:
    """Load and validate records from YAML files.

    Parameters
    ----------
    paths
        Dataset files; defaults to every ``datasets/*.yaml``.
    allow_outside_china
        Skip the China-bounds check. Only for a user's own imported data
        (see :func:`geodata.importer.load_user_records`); curated data never.

    Raises
    ------
    DatasetError
        With every problem found, including ids repeated across files.
    """
    paths = [Path(p) for p in (paths if paths is not None else default_dataset_paths())]
    if not paths:
        raise DatasetError([Problem(str(DATASET_DIR), None, "-", "-", "no dataset files found")])
    problems: list[Problem] = []
    records: list[Record] = []
    seen: dict[str, str] = {}
    for path in paths:
        parsed = _parse_yaml(path)
        if isinstance(parsed, Problem):
            problems.append(parsed)
            continue
        items, lines = parsed
        for index, (raw, line) in enumerate(zip(items, lines, strict=True)):
            label = _record_label(index, raw)
            if not isinstance(raw, dict):
                problems.append(
                    Problem(str(path), line, label, "-", f"expected a mapping, got {raw!r}")
                )
                continue
            bad = _reject_non_finite(raw)
            if bad:
                problems.extend(
                    Problem(str(path), line, label, f, "must be a finite number") for f in bad
                )
                continue
            try:
                rec = Record.model_validate(
                    raw, context={ALLOW_OUTSIDE_CHINA: allow_outside_china}
                )
            except ValidationError as exc:
                problems.extend(_problems_from_validation(str(path), line, label, exc))
                continue
            where = f"{path}:{line}"
            if rec.id in seen:
                problems.append(
                    Problem(
                        str(path), line, label, "id",
                        f"duplicate id {rec.id!r}, first used at {seen[rec.id]}",
                    )
                )
                continue
            seen[rec.id] = where
            records.append(rec)
    if problems:
        raise DatasetError(problems)
    return records
