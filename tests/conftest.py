"""Shared fixtures: the small sample dataset in tests/data/."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from geodata.frame import records_to_frame
from geodata.load import load_records

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def sample_path() -> Path:
    return DATA / "sample.yaml"


@pytest.fixture
def sample_frame(sample_path):
    return records_to_frame(load_records([sample_path]))


# --- a small model-v2 dataset: a group, its institute and sub-institute, a lab, links ----

SRC = '[{publisher: P, title: T, accessed: "2026-12-01", type: news}]'


def _org(rid, name, *, lat=39.9, lon=116.4, province="Beijing", category="company"):
    rec = {
        "id": rid, "kind": "organisation", "category": category, "name_en": name,
        "name_zh": name + "中文", "domains": ["general"], "confidence": "medium",
        "confidence_reason": "one source",
        "description": "A test organisation record of some length.",
        "sources": [{"publisher": "P", "title": "T", "accessed": "2026-12-01", "type": "news"}],
    }
    if lat is None:
        rec["unplaced_reason"] = "no address in our sources"
    else:
        rec.update(province=province, lat=lat, lon=lon, location_precision="site")
    return yaml.safe_dump([rec], allow_unicode=True, sort_keys=False)


CLUSTER = textwrap.dedent(f"""\
- id: cluster-lab
  kind: cluster
  category: joint_lab
  name_en: "Lab"
  name_zh: "实验室"
  province: Jiangsu
  lat: 32.06
  lon: 118.79
  location_precision: city
  year: 2018
  year_basis: unveiled
  dates: [{{type: unveiled, date: "2018-01-23"}}]
  domains: [ai]
  sponsor_level: enterprise
  confidence: medium
  confidence_reason: "one seed"
  description: "A test joint laboratory of a group institute and a company."
  sources: {SRC}
""")


@pytest.fixture
def atlas_dir(tmp_path) -> Path:
    records = "".join([
        _org("org-group", "Group Corp", category="defence_conglomerate"),
        _org("org-inst", "Group 28th Institute", lat=32.06, lon=118.79, province="Jiangsu",
             category="group_subsidiary"),
        _org("org-sub", "Institute Subsidiary", lat=None),
        _org("org-firm", "Search Firm", lat=40.05, lon=116.30),
        _org("org-other", "Other Corp"),
    ])
    (tmp_path / "organisations.yaml").write_text(records, encoding="utf-8")
    (tmp_path / "clusters.yaml").write_text(CLUSTER, encoding="utf-8")
    (tmp_path / "links.yaml").write_text(textwrap.dedent(f"""\
    - {{from: org-group, to: org-inst, type: parent_of, sources: {SRC}}}
    - {{from: org-inst, to: org-sub, type: parent_of, sources: {SRC}}}
    - {{from: org-inst, to: cluster-lab, type: partner_in, sources: {SRC}}}
    - {{from: org-firm, to: cluster-lab, type: partner_in, sources: {SRC}}}
    """), encoding="utf-8")
    (tmp_path / "designations.yaml").write_text(textwrap.dedent("""\
    - {record: org-group, list: us_dod_1260h, entry_name: "Group Corp (GC)", relation: listed,
       date_added: "2021-06-03", basis: exact_name, review: accepted, review_note: "same"}
    - {record: org-inst, list: us_dod_1260h, entry_name: "Group Corp (GC)",
       relation: subsidiary_of_listed, listed_parent: org-group, date_added: "2021-06-03",
       basis: manual, review: accepted, review_note: "institute of the listed group"}
    - {record: org-other, list: us_dod_1260h, entry_name: "Other Corporation Group",
       relation: listed, basis: normalised_name, review: rejected,
       review_note: "a different company"}
    """), encoding="utf-8")
    return tmp_path


