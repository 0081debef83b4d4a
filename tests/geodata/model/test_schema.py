"""The record schema accepts good records and names the field of a bad one."""

from __future__ import annotations

import copy

import pytest
from pydantic import ValidationError

from geodata.model.schema import (
    DOMAINS,
    LOCATION_PRECISION_MEANINGS,
    LOCATION_PRECISIONS,
    RECORD_COLUMNS,
    STATUS_MEANINGS,
    STATUSES,
    Record,
)

GOOD = {
    "id": "fund-x", "kind": "fund", "category": "guidance_fund",
    "name_en": "X Fund", "name_zh": "某基金", "province": "Shaanxi", "city": "Xi'an",
    "lat": 34.34, "lon": 108.94, "location_precision": "city", "year": 2016,
    "fund_size_rmb_bn": 10, "domains": ["aerospace"],
    "description": "A fund for testing the schema with.",
    "sources": [{"publisher": "P", "title": "T", "date": "2016-12", "url": "https://a.example/b"}],
}


def _with(**changes):
    rec = copy.deepcopy(GOOD)
    rec.update(changes)
    return rec


def _error_fields(raw) -> set[str]:
    with pytest.raises(ValidationError) as info:
        Record.model_validate(raw)
    return {".".join(str(p) for p in e["loc"]) or "-" for e in info.value.errors()}


def test_good_record_round_trips_every_column():
    rec = Record.model_validate(GOOD)
    assert set(rec.model_dump()) == set(RECORD_COLUMNS)
    assert rec.fund_size_rmb_bn == 10.0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": "Fund X"}, "id"),
        ({"kind": "base"}, "kind"),
        ({"province": "Atlantis"}, "province"),
        ({"domains": ["lasers"]}, "domains"),
        ({"domains": []}, "domains"),
        ({"year": 1800}, "year"),
        ({"fund_size_rmb_bn": 0}, "fund_size_rmb_bn"),
        ({"fund_size_rmb_bn": -3}, "fund_size_rmb_bn"),
        ({"location_precision": "street"}, "location_precision"),
        ({"sources": []}, "sources"),
        ({"sources": [{"publisher": "P", "title": "T", "url": "javascript:alert(1)"}]},
         "sources.0.url"),
        ({"sources": [{"publisher": "P", "title": "T", "date": "May 2018"}]}, "sources.0.date"),
        ({"description": "short"}, "description"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_field_is_named(changes, field):
    assert field in _error_fields(_with(**changes))


def test_coordinates_outside_china_are_rejected():
    with pytest.raises(ValidationError, match="outside China"):
        Record.model_validate(_with(lat=51.5, lon=-0.12))


def test_zone_needs_a_zone_status():
    zone = _with(kind="zone", category="demonstration_zone", fund_size_rmb_bn=None)
    with pytest.raises(ValidationError, match="zone needs status"):
        Record.model_validate(zone)
    assert Record.model_validate({**zone, "status": "approved"}).status == "approved"


def test_fund_size_only_on_funds():
    cluster = _with(kind="cluster", category="industrial_park")
    with pytest.raises(ValidationError, match="only for records of kind 'fund'"):
        Record.model_validate(cluster)


def test_category_must_match_kind():
    with pytest.raises(ValidationError, match="not a fund category"):
        Record.model_validate(_with(category="joint_lab"))


def test_unknown_fund_size_is_none_not_zero():
    assert Record.model_validate(_with(fund_size_rmb_bn=None)).fund_size_rmb_bn is None


def test_every_domain_has_a_label():
    assert all(isinstance(v, str) and v for v in DOMAINS.values())


@pytest.mark.parametrize(
    ("vocabulary", "meanings"),
    [(STATUSES, STATUS_MEANINGS), (LOCATION_PRECISIONS, LOCATION_PRECISION_MEANINGS)],
)
def test_every_status_and_precision_says_what_it_means(vocabulary, meanings):
    assert list(meanings) == list(vocabulary)
    assert all(len(text) > 20 for text in meanings.values())
