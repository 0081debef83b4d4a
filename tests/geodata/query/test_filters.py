"""Filter semantics: the same rules the sidebar and the CLI promise."""

from __future__ import annotations

import pytest

from geodata.model.schema import KINDS
from geodata.query.filters import (
    FundSizeRange,
    RecordFilter,
    describe_filter,
    filter_bounds,
    filter_from_controls,
    filter_records,
)


def ids(frame) -> set[str]:
    return set(frame["id"])


def test_default_filter_keeps_everything(sample_frame):
    assert ids(filter_records(sample_frame, RecordFilter())) == ids(sample_frame)


def test_layers(sample_frame):
    got = filter_records(sample_frame, RecordFilter(kinds=frozenset({"zone"})))
    assert set(got["kind"]) == {"zone"}
    assert len(got) == (sample_frame["kind"] == "zone").sum()


def test_year_range_is_inclusive(sample_frame):
    got = filter_records(sample_frame, RecordFilter(year_min=2017, year_max=2017))
    assert ids(got) == {"cluster-beta", "fund-big"}


def test_fund_size_constrains_funds_only(sample_frame):
    got = filter_records(sample_frame, RecordFilter(fund_size=FundSizeRange(min_bn=10)))
    funds = got[got["kind"] == "fund"]
    assert ids(funds) == {"fund-big", "fund-unknown"}
    others = sample_frame[sample_frame["kind"] != "fund"]
    assert ids(others) <= ids(got)


def test_unknown_size_kept_or_dropped(sample_frame):
    keep = filter_records(sample_frame, RecordFilter(fund_size=FundSizeRange(max_bn=5)))
    drop = filter_records(
        sample_frame, RecordFilter(fund_size=FundSizeRange(max_bn=5, include_unknown=False))
    )
    assert "fund-unknown" in ids(keep)
    assert "fund-unknown" not in ids(drop)
    assert ids(drop[drop["kind"] == "fund"]) == {"fund-small"}


def test_domains_any_of(sample_frame):
    got = filter_records(sample_frame, RecordFilter(domains=frozenset({"robotics", "ai"})))
    assert ids(got) == {"cluster-alpha", "cluster-beta", "zone-applied"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("fund", {"fund-big", "fund-small", "fund-unknown"}), ("  big  ", {"fund-big"}),
     ("BIG", {"fund-big"}), ("示范区", {"zone-approved", "zone-applied"}), ("zzz", set())],
)
def test_search_english_or_chinese(sample_frame, text, expected):
    assert ids(filter_records(sample_frame, RecordFilter(search=text))) == expected


def test_filters_combine(sample_frame):
    flt = RecordFilter(kinds=frozenset({"fund", "zone"}), year_min=2018,
                       domains=frozenset({"general", "maritime"}))
    assert ids(filter_records(sample_frame, flt)) == {"fund-unknown", "zone-approved"}


def test_bad_filters_are_refused():
    with pytest.raises(ValueError, match="unknown layer"):
        RecordFilter(kinds=frozenset({"tanks"}))
    with pytest.raises(ValueError, match="unknown domain"):
        RecordFilter(domains=frozenset({"lasers"}))
    with pytest.raises(ValueError, match="after year_max"):
        RecordFilter(year_min=2020, year_max=2010)
    with pytest.raises(ValueError, match="exceeds maximum"):
        RecordFilter(fund_size=FundSizeRange(min_bn=5, max_bn=1))


def test_bounds_and_controls_at_full_extent_mean_no_filter(sample_frame):
    b = filter_bounds(sample_frame)
    assert (b.year_min, b.year_max, b.fund_max_bn) == (2016, 2018, 200.0)
    flt = filter_from_controls(
        b, kinds=frozenset(KINDS), years=(2016, 2018),
        fund_range=(0.0, 200.0), include_unknown_size=True, domains=frozenset(), search="",
    )
    assert flt == RecordFilter()
    assert describe_filter(flt) == "all records"


def test_describe_filter_states_each_choice():
    text = describe_filter(RecordFilter(
        kinds=frozenset({"fund"}), year_min=2017, fund_size=FundSizeRange(1, 50, False),
        domains=frozenset({"ai"}), search="Xi'an"))
    for part in ("layers: Funds", "years from 2017", "funds of RMB 1–50 bn",
                 "unknown size excluded", "Artificial intelligence", "Xi'an"):
        assert part in text


def test_provinces_any_of(sample_frame):
    got = filter_records(sample_frame, RecordFilter(provinces=frozenset({"Shandong", "Beijing"})))
    assert set(got["province"]) == {"Shandong", "Beijing"}
    expected = sample_frame["province"].isin({"Shandong", "Beijing"}).sum()
    assert len(got) == expected
    with pytest.raises(ValueError, match="unknown province"):
        RecordFilter(provinces=frozenset({"Atlantis"}))
    assert "provinces: Beijing, Shandong" in describe_filter(
        RecordFilter(provinces=frozenset({"Shandong", "Beijing"})))


def test_a_slider_at_the_data_ends_follows_a_grown_extent():
    from geodata.query.filters import follow_extent

    assert follow_extent((2016, 2018), (2016, 2018), (2016, 2019)) == (2016, 2019)
    assert follow_extent((2016, 2018), (2016, 2018), (2010, 2019)) == (2010, 2019)
    # An end the user moved stays; the other end follows.
    assert follow_extent((2017, 2018), (2016, 2018), (2010, 2019)) == (2017, 2019)
    assert follow_extent((2016, 2017), (2016, 2018), (2010, 2019)) == (2010, 2017)
    # A shrunk extent clamps what the user chose.
    assert follow_extent((2017, 2019), (2016, 2019), (2016, 2018)) == (2017, 2018)
    assert follow_extent((2017, 2018), (2016, 2019), (2018, 2019)) == (2018, 2018)
    assert follow_extent((0.0, 50.0), (0.0, 200.0), (0.0, 300.0)) == (0.0, 50.0)
