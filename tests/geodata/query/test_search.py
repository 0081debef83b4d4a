"""The name search: names, city and province, in English and Chinese, give the same records."""

from __future__ import annotations

import pandas as pd
import pytest

from geodata.model.frame import records_to_frame
from geodata.model.schema import CITIES_ZH, PROVINCES
from geodata.query.filters import RecordFilter, filter_records, search_matches, search_terms
from geodata.store.load import default_dataset_paths, load_records


@pytest.fixture(scope="module")
def curated():
    return records_to_frame(load_records(default_dataset_paths()))


def found(frame: pd.DataFrame, text: str) -> list[str]:
    return list(filter_records(frame, RecordFilter(search=text))["id"])


@pytest.mark.parametrize("which", ["curated", "sample"])
def test_each_records_city_in_either_language_finds_the_same_set(which, curated, sample_frame):
    frame = curated if which == "curated" else sample_frame
    for _, row in frame[frame["city"].notna()].iterrows():
        assert row["city"] in CITIES_ZH, f"{row['id']}: city {row['city']!r} not in CITIES_ZH"
        en, zh = found(frame, row["city"]), found(frame, CITIES_ZH[row["city"]])
        assert row["id"] in en
        assert en == zh, (row["city"], en, zh)


@pytest.mark.parametrize("which", ["curated", "sample"])
def test_each_records_province_in_either_language_finds_the_same_set(which, curated, sample_frame):
    frame = curated if which == "curated" else sample_frame
    for province in frame["province"].dropna().unique():
        en, zh = found(frame, province), found(frame, PROVINCES[province])
        assert en == zh
        assert set(frame.loc[frame["province"] == province, "id"]) <= set(en)


def test_mianyang_and_its_chinese_name_agree(curated):
    en, zh = found(curated, "Mianyang"), found(curated, "绵阳")
    assert en == zh
    # Every record placed in Mianyang, whatever its name says.
    assert set(curated.loc[curated["city"] == "Mianyang", "id"]) <= set(en)
    assert len(en) >= 4


def test_search_is_case_and_space_insensitive(curated):
    assert found(curated, "  mIaNyAnG ") == found(curated, "Mianyang")


def test_search_still_finds_names_and_partial_text(sample_frame):
    row = sample_frame.iloc[0]
    assert row["id"] in found(sample_frame, row["name_zh"])
    assert row["id"] in found(sample_frame, row["name_en"][1:6].upper())
    assert found(sample_frame, "") == list(sample_frame["id"])
    assert found(sample_frame, "no such place at all") == []


def test_aliases_are_searched_when_the_data_has_them():
    frame = pd.DataFrame({"name_en": ["Alpha"], "name_zh": ["甲"], "city": [None],
                          "province": ["Hubei"], "aliases": [("Old Alpha Works",)]})
    assert search_matches(frame, "old alpha").tolist() == [True]


def test_search_terms_pair_the_two_languages():
    assert search_terms("Xi'an") == search_terms("西安") == frozenset({"xi'an", "西安"})
    assert search_terms("Inner Mongolia") == search_terms("内蒙古")
    assert search_terms("  ") == frozenset()
