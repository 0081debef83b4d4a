"""The designation matcher: normalisation, candidates, traps, and the reviewed file."""

from __future__ import annotations

import pytest
import yaml

from geodata.model.designations import (
    LIST_1260H,
    LIST_1286,
    ListEntry,
    find_candidates,
    normalise_name,
    read_1260h,
    read_1286,
)
from geodata.model.schema import Record
from geodata.store.load import DATASET_DIR

needs_lists = pytest.mark.skipif(
    not (LIST_1260H.is_file() and LIST_1286.is_file()), reason="shared US lists not present"
)


def _org(rid, name_en, name_zh="某机构", aliases=()):
    return Record.model_validate({
        "id": rid, "kind": "organisation", "category": "company", "name_en": name_en,
        "name_zh": name_zh, "aliases": list(aliases), "domains": ["general"],
        "unplaced_reason": "test", "description": "A test organisation of some length.",
        "sources": [{"publisher": "P", "title": "T"}],
    })


def _entry(name, aliases=(), lst="us_dod_1260h"):
    return ListEntry(list=lst, entry_name=name, names=(name,), aliases=tuple(aliases),
                     parent=None, date_added="2021-06-03", date_removed=None, in_latest=True)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("China Electronics Technology Group Corporation (CETC)",
         "China Electronics Corporation", False),
        ("China Aerospace Science and Technology Corporation",
         "China Aerospace Science and Industry Corporation", False),
        ("Aviation Industry Corporation of China, Ltd.",
         "Aviation Industry Corporation of China", True),
        ("Foo Technology Co., Ltd.", "FOO TECHNOLOGY COMPANY LIMITED", True),
        ("Xi'an Jiaotong University", "Xi’an Jiaotong University", True),
        ("中国电子科技集团有限公司", "中国电子科技集团公司", True),
        ("中国电子科技集团公司", "中国电子信息产业集团有限公司", False),
        ("Harbin Institute of Technology", "Harbin Engineering University", False),
    ],
)
def test_normalise_name(a, b, same):
    assert (normalise_name(a) == normalise_name(b)) is same


def test_trap_cec_is_never_matched_to_cetc():
    cetc = _org("org-cetc", "China Electronics Technology Group Corporation",
                "中国电子科技集团公司", ["CETC"])
    cec_entry = _entry("China Electronics Corporation (CEC)", ["CEC"])
    cetc_entry = _entry("China Electronics Technology Group Corporation (CETC)", ["CETC"])
    found = find_candidates([cetc], [cec_entry, cetc_entry])
    assert [(c.entry.entry_name, c.basis) for c in found] == [
        ("China Electronics Technology Group Corporation (CETC)", "normalised_name")]
    cands = find_candidates([cetc], [cec_entry])
    assert cands == []


def test_near_names_are_candidates_for_review_not_matches():
    casc = _org("org-casc", "China Aerospace Science and Technology Corporation")
    casic = _entry("China Aerospace Science and Industry Corporation")
    assert find_candidates([casc], [casic]) == []
    hunan = _org("org-hunan", "Hunan University of Science and Technology")
    found = find_candidates([hunan], [_entry("Nanjing University of Science and Technology",
                                             lst="us_dod_1286")])
    assert len(found) == 1
    assert found[0].basis == "manual"  # a fuzzy candidate: a person must decide
    assert found[0].score < 100


def test_chinese_names_and_aliases_match():
    rec = _org("org-x", "Some Institute", "某某研究所", ["SI Lab"])
    by_zh = find_candidates([rec], [_entry("Other Name", ["某某研究所"])])
    assert [(c.basis, c.matched[1]) for c in by_zh] == [("alias", "某某研究所")]
    by_alias = find_candidates([rec], [_entry("SI Lab")])
    assert by_alias[0].basis == "alias"


def test_abbreviation_only_matches_are_flagged():
    rec = _org("org-ams", "Academy of Military Science", aliases=["AMS"])
    found = find_candidates([rec], [_entry("Advanced Micro Systems", ["AMS"])])
    assert found[0].abbreviation_only


def test_non_organisations_are_not_matched(sample_frame):
    from geodata.store.load import load_records

    recs = load_records([DATASET_DIR / "clusters.yaml"])
    assert find_candidates(recs, [_entry(recs[0].name_en)]) == []


@needs_lists
def test_lists_fold_tranches_and_keep_removals():
    entries = {e.entry_name: e for e in read_1260h()}
    cetc = entries["China Electronics Technology Group Corporation (CETC)"]
    assert cetc.date_added == "2021-06-03"
    assert cetc.date_removed is None
    assert cetc.in_latest
    removed = next(e for e in entries.values() if e.entry_name.startswith("Anhui Sun Create"))
    assert removed.date_removed == "2026-02-17"
    assert removed.parent == "China Electronics Technology Group Corporation"
    sysu = [e for e in read_1286() if "Sun Yat" in e.entry_name]
    assert len(sysu) == 1  # "Sun Yat-Sen" (2022) and "Sun Yat-sen" (2025) are one entity
    assert sysu[0].date_added == "2022"


@needs_lists
def test_committed_designations_are_complete_and_reviewed():
    from geodata.io.importers.designations import build

    rows, unreviewed = build()
    assert unreviewed == []
    committed = yaml.safe_load((DATASET_DIR / "designations.yaml").read_text(encoding="utf-8"))
    assert committed == rows  # re-running the converter changes nothing
    pairs = {(r["record"], r["entry_name"]): r for r in committed}
    assert ("org-cetc", "China Electronics Corporation (CEC)") not in pairs
    assert pairs[("org-cetc", "China Electronics Technology Group Corporation (CETC)")][
        "review"] == "accepted"
    assert pairs[("org-norinco", "China South Industries Group Corporation (CSGC)")][
        "review"] == "rejected"
    sub = pairs[("org-cetc-28th-institute",
                 "China Electronics Technology Group Corporation (CETC)")]
    assert sub["relation"] == "subsidiary_of_listed"
    assert sub["listed_parent"] == "org-cetc"
    assert all(r["review_note"].strip() for r in committed)
