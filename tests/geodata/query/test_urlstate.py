"""Shareable links: every valid state survives the URL; every bad parameter falls back."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.model.places import PRESET_VIEWS
from geodata.model.schema import DOMAINS, KINDS, ORG_CATEGORIES, PROVINCES, SPONSOR_LEVELS
from geodata.query.filters import FilterBounds, FundSizeRange, RecordFilter, filter_bounds
from geodata.query.urlstate import (
    PARAM_KEYS,
    SEARCH_MAX_CHARS,
    ZOOM_MAX,
    ZOOM_MIN,
    AtlasState,
    params_to_state,
    state_to_params,
)

BOUNDS = FilterBounds(2016, 2018, 200.0)
KNOWN_IDS = {"fund-big", "cluster-alpha", "zone-approved"}
DEFAULT = AtlasState.default(BOUNDS)


def through_url(params: dict[str, str]) -> dict[str, list[str]]:
    """What a browser hands back after the parameters were put in a URL."""
    return parse_qs(urlencode(params), keep_blank_values=True)


def read(params, bounds: FilterBounds = BOUNDS) -> tuple[AtlasState, list[str]]:
    return params_to_state(params, bounds, KNOWN_IDS)


def test_default_state_has_no_params():
    assert state_to_params(DEFAULT, BOUNDS) == {}
    assert read({}) == (DEFAULT, [])


def test_format_is_short_and_readable():
    state = DEFAULT.replace(
        layers=frozenset({"zone", "cluster"}), years=(2016, 2017), fund=(10.0, 200.0),
        keep_unknown_size=False, domains=frozenset({"robotics", "ai"}),
        provinces=frozenset({"Shandong", "Beijing"}), search="佛山", view="prd",
        center=(23.02, 113.12), zoom=7.5, selected="fund-big", present=True, as_of=2017,
        org_group="cluster-alpha", org_categories=frozenset({"company", "university"}),
        designated=True, sponsor_levels=frozenset({"provincial", "central"}),
    )
    assert state_to_params(state, BOUNDS) == {
        "layers": "cluster,zone", "years": "2016-2017", "fund": "10-200", "unknown": "0",
        "domains": "ai,robotics", "prov": "Beijing,Shandong", "q": "佛山", "view": "prd",
        "lat": "23.02", "lon": "113.12", "zoom": "7.5", "id": "fund-big", "present": "1",
        "asof": "2017", "group": "cluster-alpha", "orgcat": "university,company",
        "us": "yes", "sponsor": "central,provincial",
    }
    assert list(state_to_params(state, BOUNDS)) == list(PARAM_KEYS)
    assert read(state_to_params(state, BOUNDS)) == (state, [])


@pytest.mark.parametrize(
    "changes",
    [
        {"layers": frozenset({"fund"})},
        {"layers": frozenset()},
        {"years": (2017, 2017)},
        {"years": (2016, 2017)},
        {"fund": (0.5, 2.5)},
        {"fund": (0.0, 0.0)},
        {"fund": (0.00001, 199.99)},
        {"keep_unknown_size": False},
        {"domains": frozenset(DOMAINS)},
        {"provinces": frozenset({"Inner Mongolia", "Hong Kong"})},
        {"search": "示范区"},
        {"search": " a&b=c #d %20 + / ? 佛山 "},
        {"view": "china"},
        {"center": (-89.5, -179.25), "zoom": 0.0},
        {"center": (34.341, 108.94), "zoom": 18.0},
        {"selected": "zone-approved"},
        {"present": True},
        {"as_of": 2016},
    ],
    ids=lambda c: ",".join(c),
)
def test_round_trip_explicit(changes):
    state = DEFAULT.replace(**changes)
    params = state_to_params(state, BOUNDS)
    assert params, "a changed state writes at least one parameter"
    assert read(params) == (state, [])
    assert read(through_url(params)) == (state, [])


def states(bounds: FilterBounds, known_ids: set[str]) -> st.SearchStrategy[AtlasState]:
    """Every state a session can be in, within ``bounds``."""
    years = st.lists(
        st.integers(bounds.year_min, bounds.year_max), min_size=2, max_size=2
    ).map(lambda v: tuple(sorted(v)))
    fund = st.lists(
        st.floats(0.0, bounds.fund_max_bn, allow_nan=False), min_size=2, max_size=2
    ).map(lambda v: tuple(sorted(v)))
    search = st.text(
        st.characters(exclude_categories=("Cs",)), max_size=SEARCH_MAX_CHARS
    ).filter(lambda s: s == "" or s.strip())
    center = st.tuples(st.floats(-90.0, 90.0), st.floats(-180.0, 180.0))
    return st.builds(
        AtlasState,
        years=years,
        fund=fund,
        layers=st.frozensets(st.sampled_from(list(KINDS))),
        keep_unknown_size=st.booleans(),
        domains=st.frozensets(st.sampled_from(list(DOMAINS))),
        provinces=st.frozensets(st.sampled_from(list(PROVINCES))),
        search=search,
        view=st.none() | st.sampled_from(list(PRESET_VIEWS)),
        center=st.none() | center,
        zoom=st.none() | st.floats(ZOOM_MIN, ZOOM_MAX),
        selected=st.none() | st.sampled_from(sorted(known_ids)),
        present=st.booleans(),
        as_of=st.none() | st.integers(bounds.year_min, bounds.year_max),
        org_group=st.none() | st.sampled_from(sorted(known_ids)),
        org_categories=st.frozensets(st.sampled_from(list(ORG_CATEGORIES))),
        designated=st.none() | st.booleans(),
        sponsor_levels=st.frozensets(st.sampled_from(list(SPONSOR_LEVELS))),
    )


@settings(max_examples=300, deadline=None)
@given(states(BOUNDS, KNOWN_IDS))
def test_round_trip_property(state):
    params = state_to_params(state, BOUNDS)
    assert all(isinstance(v, str) and v.strip() for v in params.values())
    assert read(params) == (state, [])
    assert read(through_url(params)) == (state, [])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(
    st.sampled_from([*PARAM_KEYS, "junk"]),
    st.text(max_size=30) | st.lists(st.text(max_size=10), max_size=3),
))
def test_any_params_give_a_valid_state(params):
    """Garbage never raises, and what it reads as is itself a clean, stable link."""
    state, notices = read(params)
    state.to_filter(BOUNDS)
    assert all(isinstance(n, str) and n for n in notices)
    assert read(state_to_params(state, BOUNDS)) == (state, [])


@pytest.mark.parametrize("sep", ["\x1c", "\x1d", "\x1e", "\x1f", "\u2003", "\u3000"])
@pytest.mark.parametrize("key", ["lat", "lon", "zoom", "asof", "years", "fund"])
def test_unicode_separators_in_numbers_are_a_notice_not_a_crash(key, sep):
    """Regex ``\\s`` takes U+001C-U+001F as space but float()/int() refuse them."""
    params = {"lat": "30", "lon": "110", key: f"0{sep}"}
    if key in ("years", "fund"):
        params[key] = f"1{sep}-2"
    state, notices = read(params)
    assert notices, "an unreadable number is reported"
    assert read(state_to_params(state, BOUNDS)) == (state, [])


def test_chinese_search_survives_a_real_url():
    params = state_to_params(DEFAULT.replace(search="佛山 示范区"), BOUNDS)
    query = urlencode(params)
    assert "%E4%BD%9B" in query  # percent-encoded UTF-8, so the link copies cleanly
    assert read(parse_qs(query))[0].search == "佛山 示范区"


def test_names_are_read_case_insensitively():
    state, notices = read({"layers": "Zone,FUND", "prov": "beijing", "view": "PRD",
                           "domains": "AI"})
    assert notices == []
    assert state.layers == {"zone", "fund"}
    assert state.provinces == {"Beijing"}
    assert state.view == "prd"
    assert state.domains == {"ai"}


def test_blank_values_read_as_absent():
    assert read({"q": "", "id": " ", "layers": "", "years": ""}) == (DEFAULT, [])


def test_layers_none_means_no_layers():
    assert read({"layers": "none"}) == (DEFAULT.replace(layers=frozenset()), [])


@pytest.mark.parametrize(
    ("params", "field", "expected", "named"),
    [
        ({"years": "abc"}, "years", DEFAULT.years, "years='abc'"),
        ({"years": "2018-2016"}, "years", DEFAULT.years, "years"),
        ({"years": "1990-1995"}, "years", DEFAULT.years, "years"),
        ({"years": "2010-2017"}, "years", (2016, 2017), "years"),
        ({"years": "2017-2030"}, "years", (2017, 2018), "years"),
        ({"fund": "lots"}, "fund", DEFAULT.fund, "fund='lots'"),
        ({"fund": "-5-10"}, "fund", DEFAULT.fund, "fund"),
        ({"fund": "100-10"}, "fund", DEFAULT.fund, "fund"),
        ({"fund": "10-999"}, "fund", (10.0, 200.0), "fund"),
        ({"fund": "300-400"}, "fund", DEFAULT.fund, "fund"),
        ({"layers": "lasers"}, "layers", DEFAULT.layers, "layers"),
        ({"layers": "zone,lasers"}, "layers", frozenset({"zone"}), "'lasers'"),
        ({"unknown": "maybe"}, "keep_unknown_size", True, "unknown='maybe'"),
        ({"domains": "lasers"}, "domains", frozenset(), "domains"),
        ({"domains": "ai,lasers"}, "domains", frozenset({"ai"}), "'lasers'"),
        ({"prov": "Atlantis"}, "provinces", frozenset(), "prov"),
        ({"view": "mars"}, "view", None, "view='mars'"),
        ({"lat": "95", "lon": "100"}, "center", None, "lat"),
        ({"lat": "30", "lon": "200"}, "center", None, "lon"),
        ({"lat": "nan", "lon": "100"}, "center", None, "lat='nan'"),
        ({"lat": "30", "lon": "inf"}, "center", None, "lon='inf'"),
        ({"lat": "1" * 400, "lon": "100"}, "center", None, "lat"),
        ({"lat": "30"}, "center", None, "lat"),
        ({"lon": "100"}, "center", None, "lon"),
        ({"zoom": "99"}, "zoom", None, "zoom"),
        ({"zoom": "-1"}, "zoom", None, "zoom"),
        ({"zoom": "1e400"}, "zoom", None, "zoom"),
        ({"zoom": "Infinity"}, "zoom", None, "zoom"),
        ({"id": "nope"}, "selected", None, "'nope'"),
        ({"present": "sure"}, "present", False, "present"),
        ({"asof": "soon"}, "as_of", None, "asof"),
        ({"asof": "1900"}, "as_of", 2016, "asof"),
        ({"q": "x" * 500}, "search", "x" * SEARCH_MAX_CHARS, "q"),
        ({"years": "1" * 1200}, "years", DEFAULT.years, "years"),
    ],
)
def test_bad_param_falls_back_with_a_notice(params, field, expected, named):
    state, notices = read(params)
    assert getattr(state, field) == expected
    assert len(notices) == 1, notices
    assert named in notices[0]
    # Every other field keeps its default.
    assert state == DEFAULT.replace(**{field: expected})


def test_stale_record_notice_wording():
    assert read({"id": "fund-gone"})[1] == [
        "The record 'fund-gone' in the link is not in the data; showing the map without it."
    ]


def test_unknown_keys_are_ignored_with_one_notice():
    state, notices = read({"colour": "red", "layer": "zone", "q": "Fund"})
    assert state == DEFAULT.replace(search="Fund")
    assert len(notices) == 1
    assert "'colour'" in notices[0]
    assert "'layer'" in notices[0]


def test_repeated_key_uses_the_last_value():
    state, notices = read({"q": ["alpha", "beta"], "layers": ["zone", "zone"]})
    assert state == DEFAULT.replace(search="beta", layers=frozenset({"zone"}))
    assert len(notices) == 1
    assert "q" in notices[0]


def test_notices_quote_values_briefly():
    _, notices = read({"view": "<img src=x>" + "y" * 200})
    assert len(notices[0]) < 200
    assert "…" in notices[0]


def test_link_from_a_newer_version_still_opens():
    """A key added later is just unknown here: the rest of the link still applies."""
    state, notices = read({"layers": "fund", "basemap": "satellite"})
    assert state.layers == {"fund"}
    assert len(notices) == 1
    assert "'basemap'" in notices[0]


def test_state_to_filter_matches_the_sidebar(sample_frame):
    bounds = filter_bounds(sample_frame)
    state, _ = params_to_state(
        {"layers": "fund,zone", "fund": "1-100", "q": "Fund", "years": "2016-2017"},
        bounds, set(),
    )
    assert state.to_filter(bounds) == RecordFilter(
        kinds=frozenset({"fund", "zone"}), year_max=2017,
        fund_size=FundSizeRange(min_bn=1, max_bn=100), search="Fund",
    )
