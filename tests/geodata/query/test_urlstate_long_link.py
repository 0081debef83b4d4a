"""What the browser reports of a link too long for the server is checked like any link."""

from __future__ import annotations

import pytest

from geodata.query.filters import FilterBounds
from geodata.query.urlstate import VALUE_MAX_CHARS, params_to_state, salvaged_params

BOUNDS = FilterBounds(2016, 2018, 200.0)


def test_only_the_maps_keys_are_kept_and_the_notice_counts_the_parameters():
    params, notices = salvaged_params(
        {"fields": 1_201, "params": {"layers": "fund", "utm0": "x", "q": "Fund"}}
    )
    assert params == {"layers": ["fund"], "q": ["Fund"]}
    assert notices == [
        "This link has 1,201 parameters, more than the 1,000 a link may carry; the map read "
        "the 2 of its own it found (layers, q) and ignored the rest."
    ]
    state, more = params_to_state(params, BOUNDS, set())
    assert state.layers == frozenset({"fund"})
    assert state.search == "Fund"
    assert more == []


def test_a_link_too_long_in_characters_says_so():
    _, notices = salvaged_params({"fields": 3, "params": {}})
    assert "more than 512 Ki characters" in notices[0]
    assert "(none)" in notices[0]


def test_over_long_values_are_still_refused_by_the_reader():
    params, _ = salvaged_params({"fields": 2_000, "params": {"layers": "x" * 100_000}})
    assert len(params["layers"][0]) == VALUE_MAX_CHARS + 1
    _, notices = params_to_state(params, BOUNDS, set())
    assert any("longer than" in n for n in notices)


@pytest.mark.parametrize(
    "report",
    [None, "x", [], {"params": "x"}, {"params": {"q": 5}}, {"fields": "many", "params": None}],
)
def test_malformed_reports_read_as_nothing(report):
    params, _ = salvaged_params(report)
    assert params == {}
