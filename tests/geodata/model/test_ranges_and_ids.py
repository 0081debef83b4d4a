"""Every number has a sane range; a user's record never takes a curated record's id."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from geodata.io.importer import preview_import
from geodata.model.schema import FUND_SIZE_MAX_RMB_BN, Record
from geodata.store.load import DatasetError, load_records_text
from geodata.store.userdata import add_dataset, avoid_reserved_ids, file_digest

FUND = {
    "id": "fund-x", "kind": "fund", "category": "industry_fund", "name_en": "X Fund",
    "name_zh": "X基金", "province": "Beijing", "lat": 39.9, "lon": 116.4,
    "location_precision": "city", "year": 2017, "domains": ["general"],
    "description": "A fund used in range tests only.",
    "sources": [{"publisher": "Test", "title": "Test"}],
}


@pytest.mark.parametrize("size", [1e308, 1.7e308, 9.99e23, FUND_SIZE_MAX_RMB_BN * 1.0001, 0, -5])
def test_absurd_fund_sizes_are_refused(size):
    with pytest.raises(ValidationError, match="fund size out of range; expected greater than 0"):
        Record.model_validate({**FUND, "fund_size_rmb_bn": size})


@pytest.mark.parametrize("size", [0.001, 20, FUND_SIZE_MAX_RMB_BN])
def test_real_fund_sizes_pass(size):
    assert Record.model_validate({**FUND, "fund_size_rmb_bn": size}).fund_size_rmb_bn == size


@pytest.mark.parametrize(
    ("field", "value"),
    [("fund_size_rmb_bn", float("nan")), ("fund_size_rmb_bn", float("inf")),
     ("lat", float("nan")), ("lon", float("-inf"))],
)
def test_non_finite_numbers_are_refused_by_the_schema(field, value):
    with pytest.raises(ValidationError):
        Record.model_validate({**FUND, field: value})


def test_a_data_folder_with_absurd_sizes_is_refused_with_file_and_line():
    text = (
        "- {id: fund-a, kind: fund, category: industry_fund, name_en: A, name_zh: A,\n"
        "   province: Beijing, lat: 39.9, lon: 116.4, location_precision: city, year: 2017,\n"
        "   domains: [general], description: A fund used in range tests only.,\n"
        "   sources: [{publisher: T, title: T}], fund_size_rmb_bn: 1.7e308}\n"
    )
    with pytest.raises(DatasetError) as info:
        load_records_text(text, "funds.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == ("funds.yaml", 1, "fund_size_rmb_bn")


SAVED = (
    "- {id: ID, kind: cluster, category: industrial_cluster, name_en: A, name_zh: A,\n"
    "   province: Tianjin, lat: 39.1, lon: 117.2, location_precision: site, year: 2018,\n"
    "   domains: [general], description: A record used in id tests only.,\n"
    "   sources: [{publisher: T, title: T}]}\n"
)


def test_saved_yaml_ids_get_the_user_prefix_with_a_note():
    preview = preview_import(SAVED.replace("ID", "fund-big").encode(), "copy.yaml")
    assert [r.id for r in preview.records] == ["user-fund-big"]
    (note,) = preview.warnings
    assert note.field == "id"
    assert "'fund-big' → 'user-fund-big'" in note.message


def test_a_clash_with_the_maps_own_ids_is_renamed_in_the_preview_and_when_added():
    data = SAVED.replace("ID", "user-lab").encode()
    preview = preview_import(data, "mine.yaml")
    reserved = frozenset({"user-lab", "fund-big"})
    shown = avoid_reserved_ids(preview, reserved)
    assert [r.id for r in shown.records] == ["user-lab-2"]
    assert "also used by the map's own datasets" in shown.warnings[-1].message
    assert "'user-lab' → 'user-lab-2'" in shown.warnings[-1].message
    (dataset,) = add_dataset((), shown, file_digest(data), reserved)
    assert [r.id for r in dataset.records] == ["user-lab-2"]
    # Even a preview that was not checked first never takes a reserved id.
    (unchecked,) = add_dataset((), preview, file_digest(data), reserved)
    assert not {r.id for r in unchecked.records} & reserved


def test_no_clash_leaves_the_preview_alone():
    preview = preview_import(SAVED.replace("ID", "user-lab").encode(), "mine.yaml")
    assert avoid_reserved_ids(preview, frozenset({"fund-big"})) is preview
