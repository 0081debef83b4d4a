"""Compare page: the map as of two years, or for two technology domains, side by side.

Each side is the sidebar's filter narrowed once more (to a last year, or to
one domain), so its counts are ``filter_records`` of that filter, and its map
is the static report figure of :mod:`geodata.render.figure` for it.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.sidebar import atlas_bounds, current_filter
from geodata.model.schema import DOMAINS, KINDS
from geodata.query.filters import RecordFilter, describe_filter, filter_records
from geodata.query.frame_aggregates import by_domain
from geodata.query.summary import SelectionSummary, capital_text, summarize
from geodata.render.detail import escape_markdown
from geodata.render.figure import FigureFontError, FigureSizeError

MODE_KEY = "compare_mode"
COMPARE_WIDTH_IN = 3.4
MODES: dict[str, str] = {"year": "Two years (as of)", "domain": "Two domains"}
SIDE_KEYS: dict[str, tuple[str, str]] = {
    "year": ("compare_year_left", "compare_year_right"),
    "domain": ("compare_domain_left", "compare_domain_right"),
}

frame = cache.atlas_frame()
bounds = atlas_bounds()
flt = current_filter(bounds)
selected = filter_records(frame, flt)


def _options_and_defaults(mode: str) -> tuple[list, list]:
    """What each side can show, and what it shows first."""
    if mode == "year":
        first = bounds.year_min if flt.year_min is None else flt.year_min
        last = bounds.year_max if flt.year_max is None else flt.year_max
        years = list(range(first, last + 1))
        return years, [years[(len(years) - 1) // 2], years[-1]]
    # The two domains with most records shown; "general" says least, so it goes last.
    table = by_domain(selected)
    table["is_general"] = table["domain"] == "general"
    ranked = table.sort_values(["is_general", "records"], ascending=[True, False], kind="stable")
    return list(DOMAINS), ranked["domain"].head(2).tolist()


def _init_state(mode: str, options: list, defaults: list) -> None:
    """Start each side at its default, and move it back there if the filters rule it out."""
    for key, default in zip(SIDE_KEYS[mode], defaults, strict=True):
        if st.session_state.get(key) not in options:
            st.session_state[key] = default


def _side(mode: str, value: object) -> tuple[str, RecordFilter]:
    """A side's title and filter: the sidebar's, narrowed to a last year or one domain."""
    if mode == "year":
        # Up to and including ``value``: the same as as_of_year() of the selection.
        return f"As of {value}", replace(flt, year_max=int(value))
    return DOMAINS[value], replace(flt, domains=frozenset({value}))


def _delta(diff: float, fmt: str) -> dict[str, str | None]:
    """Metric arguments for the right side's difference from the left."""
    # Grey, not green or red: more or fewer records is neither good nor bad here.
    return {
        "delta": fmt.format(diff) if diff else "no difference",
        "delta_color": "off",
        "delta_arrow": "auto" if diff else "off",
        "delta_description": "vs left" if diff else None,
    }


def _row(a: float, b: float, fmt: str) -> list[str]:
    diff = b - a
    return [format(a, fmt), format(b, fmt), format(diff, "+" + fmt) if diff else "0"]


def _difference_table(titles: list[str], summaries: list[SelectionSummary]) -> pd.DataFrame:
    if titles[0] == titles[1]:
        titles = [f"{titles[0]} (left)", f"{titles[1]} (right)"]
    left, right = summaries
    rows = {
        label: _row(left.counts[kind], right.counts[kind], ",d") for kind, label in KINDS.items()
    }
    rows["All records"] = _row(left.total, right.total, ",d")
    rows["Fund capital (RMB bn, known sizes)"] = _row(
        left.fund_capital_rmb_bn, right.fund_capital_rmb_bn, ",.1f"
    )
    rows["Funds of unknown size (not in sums)"] = _row(
        left.funds_unknown_size, right.funds_unknown_size, ",d"
    )
    table = pd.DataFrame.from_dict(
        rows, orient="index", columns=[*titles, "Difference (right − left)"]
    )
    table.index.name = "Measure"
    return table


st.markdown("## Compare")
st.segmented_control(
    "Compare", options=list(MODES), format_func=MODES.__getitem__, key=MODE_KEY,
    default="year", required=True,
)
mode = st.session_state.get(MODE_KEY) or "year"
options, defaults = _options_and_defaults(mode)
_init_state(mode, options, defaults)

if mode == "year":
    note = (
        "Each side shows every record established (or first reported) up to and including "
        "its year, within the sidebar's filters."
    )
else:
    note = (
        "Each side shows the records tagged with its domain, within the sidebar's filters; "
        "a record tagged with both domains is on both sides."
    )
    if flt.domains:
        note += " The sidebar's domain choice is set aside here."
st.caption(f"{note} Filters: {escape_markdown(describe_filter(flt))}.")

funds_on = "fund" in flt.kinds
titles: list[str] = []
filters: list[RecordFilter] = []
summaries: list[SelectionSummary] = []
for i, (col, key) in enumerate(zip(st.columns(2, gap="large"), SIDE_KEYS[mode], strict=True)):
    side_name = ("left", "right")[i]
    with col:
        value = st.selectbox(
            f"As of year ({side_name})" if mode == "year" else f"Domain ({side_name})",
            options=options, key=key,
            format_func=str if mode == "year" else DOMAINS.__getitem__,
        )
        title, side_flt = _side(mode, value)
        summary = summarize(filter_records(frame, side_flt))
        titles.append(title)
        filters.append(side_flt)
        summaries.append(summary)
        records, capital = st.columns(2)
        if i == 0:
            records.metric("Records", f"{summary.total:,}")
            capital.metric("Fund capital", capital_text(summary, funds_on))
        else:
            left = summaries[0]
            records.metric(
                "Records", f"{summary.total:,}",
                **_delta(summary.total - left.total, "{:+,}"),
            )
            capital.metric(
                "Fund capital", capital_text(summary, funds_on),
                **(_delta(summary.fund_capital_rmb_bn - left.fund_capital_rmb_bn, "{:+,.1f} bn")
                   if funds_on else {}),
            )

# The maps in a row of their own, so they line up whatever the metrics above them show.
try:
    for col, title, side_flt in zip(
        st.columns(2, gap="large"), titles, filters, strict=True
    ):
        col.image(
            # Narrow, so the figure's text (sized in points) is large on screen: at
            # 1366 px a column is about 375 px wide, and 6.8 pt labels show at ~10 px.
            cache.figure_png(side_flt, title, width_in=COMPARE_WIDTH_IN, dpi=200),
            width="stretch",
            alt=f"Map of the records shown: {title}",
        )
except (FigureFontError, FigureSizeError) as exc:
    st.warning(f"The maps cannot be drawn: {escape_markdown(str(exc))}")

st.subheader("Side by side")
st.table(_difference_table(titles, summaries))
unknown = [s.funds_unknown_size for s in summaries]
st.caption(
    "Fund capital sums the published sizes only; funds of unknown size "
    f"({unknown[0]} left, {unknown[1]} right) are counted as records and left out of the sums."
)
