"""The one YAML reader: plain values only, every surprise reported at its line."""

from __future__ import annotations

import re

import pytest

from geodata.io.safe_yaml import RefusedYamlError, read_yaml_list
from geodata.store.load import DatasetError, load_records, load_records_text


def problems(text: str) -> list[tuple[int, int, str]]:
    return [(p.index, p.line, p.field) for p in read_yaml_list(text).problems]


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("2017", 2017), ("-3", -3), ("+7", 7), ("0", 0), ("1.5", 1.5), ("1e3", 1000.0),
        (".5", 0.5), ("null", None), ("~", None), ("", None), ("true", True),
        ("False", False), ("yes", "yes"), ("no", "no"), ("on", "on"),
        ("2018-11-14", "2018-11-14"), ("'0x7E1'", "0x7E1"), ('"33:37"', "33:37"),
        ("!!str 2017", "2017"), ("!!float 2", 2.0), ("Tianjin", "Tianjin"),
        ("10:30 meeting", "10:30 meeting"), ("0.5e-3", 0.0005), ("09", "09"),
    ],
)
def test_plain_scalars_resolve_as_yaml_1_2_decimal(scalar, value):
    item = read_yaml_list(f"- v: {scalar}\n").items[0]["v"]
    assert item == value
    assert type(item) is type(value)


@pytest.mark.parametrize("scalar", ["33:37", "0x7E1", "0o3741", "03741", "0b11111100001",
                                    "2_017", "1:02:03.5", "-0x10"])
def test_yaml_1_1_numbers_are_reported_at_their_line(scalar):
    text = f"- id: a\n- id: b\n  year: {scalar}\n"
    assert problems(text) == [(1, 3, "year")]
    assert "is a number in YAML 1.1" in read_yaml_list(text).problems[0].message


def test_non_finite_floats_are_read_for_the_loader_to_refuse():
    items = read_yaml_list("- [.inf, -.Inf, .nan]\n").items[0]
    assert items[:2] == [float("inf"), float("-inf")]
    assert items[2] != items[2]


def test_duplicate_keys_are_reported_at_the_second_key_even_when_nested():
    text = "- id: a\n  lat: 39.9\n  sources:\n  - {title: x, title: y}\n  lat: 22.5\n"
    assert problems(text) == [(0, 4, "title"), (0, 5, "lat")]
    assert read_yaml_list(text).items[0]["lat"] == 39.9, "the first value is kept"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- &a {id: a}\n- *a\n", 2, "an alias (*a) repeats"),
        ("- id: a\n  notes: &n x\n  city: *n\n", 3, "an alias (*n)"),
        ("- !!python/object/apply:os.system [ls]\n", 1, "is not supported"),
        ("- !!set {a: null}\n", 1, "is not supported"),
        ("- {? [a, b] : c}\n", 1, "a mapping key must be a plain value"),
        ("id: a\n", 1, "expected a YAML list of records, got a mapping"),
        ("just text\n", 1, "got a single value"),
        ("- a\n---\n- b\n", 2, "more than one YAML document"),
        ("- [a\n", 2, "not valid YAML"),
    ],
)
def test_refused_files_name_the_line(text, line, message):
    with pytest.raises(RefusedYamlError, match=re.escape(message)) as info:
        read_yaml_list(text)
    assert info.value.line == line


def test_empty_documents_are_none():
    assert read_yaml_list("") is None
    assert read_yaml_list("# only a comment\n") is None
    assert read_yaml_list("null\n") is None


def test_deep_nesting_is_read_without_recursion_or_refused_by_libyaml():
    depth = 500
    item = read_yaml_list("- " + "[" * depth + "]" * depth + "\n").items[0]
    for _ in range(depth - 1):
        item = item[0]
    assert item == []
    with pytest.raises(RefusedYamlError, match="not valid YAML: exceeded maximum nesting"):
        read_yaml_list("- " + "[" * 50_000 + "]" * 50_000 + "\n")


def test_max_items_stops_at_the_first_extra_item():
    text = "".join(f"- {i}\n" for i in range(10)) + "- [unterminated\n"
    with pytest.raises(RefusedYamlError, match="more than 3 records") as info:
        read_yaml_list(text, max_items=3)
    assert info.value.line == 4
    assert len(read_yaml_list("- 1\n- 2\n", max_items=2).items) == 2


def test_loader_reports_reader_problems_with_record_and_every_other_problem(sample_path):
    text = sample_path.read_text("utf-8")
    broken = text.replace("year: 2016", "year: 0x7E0", 1) + "- {id: x, kind: cluster}\n"
    with pytest.raises(DatasetError) as info:
        load_records_text(broken, "mine.yaml")
    found = info.value.problems
    assert any("0x7E0" in p.message and p.field == "year" for p in found)
    last = f"#{len(load_records([sample_path])) + 1} (id 'x')"
    assert any(p.record == last and p.field == "category" for p in found)
    assert {p.file for p in found} == {"mine.yaml"}


def test_curated_datasets_read_the_same_as_before():
    records = load_records()
    assert records
    # Organisations may be undated (year null), and so may a fund that no page read
    # dates (its notes say so); clusters and zones always have a whole year.
    assert all(isinstance(r.year, int) for r in records if r.kind in ("cluster", "zone"))
    assert all(
        "Year unknown" in (r.notes or "") for r in records if r.kind == "fund" and r.year is None
    )
    assert all(r.year is None or isinstance(r.year, int) for r in records)
    assert all(s.date is None or isinstance(s.date, str) for r in records for s in r.sources)
