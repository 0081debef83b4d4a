"""The ASPI tracker converter: facts kept, prose not copied, unplaced kept unplaced."""

from __future__ import annotations

import json

import pytest
import yaml

from geodata.io.importers.aspi import DEFAULT_INPUT, convert, describe, split_name
from geodata.io.importers.aspi_links import name_variants, subsidiary_links
from geodata.store.load import DATASET_DIR, load_records

needs_tracker = pytest.mark.skipif(not DEFAULT_INPUT.is_file(), reason="tracker copy absent")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tianjin University (天津大学)", ("Tianjin University", "天津大学")),
        ("Academy of Military Science (中国人民解放军军事科学院)",
         ("Academy of Military Science", "中国人民解放军军事科学院")),
        ("No Chinese Here", ("No Chinese Here", None)),
        ("Group (China) Ltd (某集团)", ("Group (China) Ltd", "某集团")),
    ],
)
def test_split_name(value, expected):
    assert split_name(value) == expected


def test_description_is_generated_from_fields():
    meta = {"categories": ["Civilian"], "supervising agencies": ["Ministry of Education (MOE)"],
            "topics": ["Cyber", "Quantum"], "major defence laboratories": ["Lab A"]}
    text = describe("X University", "university", "Anhui", meta)
    assert text.startswith("X University is a university in Anhui, supervised by the Ministry")
    assert "2 research topics and 1 defence laboratory" in text


@needs_tracker
def test_converter_keeps_every_entry_and_never_copies_aspi_prose():
    records = convert()
    assert len(records) == 159
    placed = [r for r in records if "lat" in r]
    assert len(placed) == 130
    unplaced = [r for r in records if "lat" not in r]
    assert all(r["unplaced_reason"] and "province" not in r for r in unplaced)
    source = json.loads(DEFAULT_INPUT.read_text(encoding="utf-8"))["values"]
    prose = {v["uuid"]: v.get("description", "") for v in source}
    for rec in records:
        uuid = rec["notes"].split("uuid ")[1].split(")")[0]
        first_sentence = prose[uuid].split(". ")[0]
        assert len(first_sentence) < 30 or first_sentence not in rec["description"]
        src = rec["sources"][0]
        assert src["type"] == "reference_list"
        assert src["url"].startswith("https://unitracker.aspi.org.au/")
        assert src["accessed"] == "2026-12-03"


@needs_tracker
def test_committed_file_is_the_converter_output():
    committed = yaml.safe_load((DATASET_DIR / "organisations.yaml").read_text(encoding="utf-8"))
    assert committed == convert()


def test_subsidiary_names_and_links():
    assert name_variants("Institute X (某所)") == ["Institute X", "某所"]
    records = load_records()
    links = {(x["from"], x["to"]) for x in subsidiary_links(records)}
    assert ("org-casc", "org-calt") in links
    assert ("org-ams", "cluster-ams-niidt") in links
