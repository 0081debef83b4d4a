"""The shared sidebar: every filter widget, its state and its defaults.

Widgets are drawn once, in the app frame, so their values persist across
pages; pages read the resulting filter with :func:`current_filter`.
"""

from __future__ import annotations

import streamlit as st

from geodata.filters import FilterBounds, RecordFilter, filter_from_controls
from geodata.schema import DOMAINS, KINDS, PROVINCES

LAYER_KEYS = {kind: f"layer_{kind}" for kind in KINDS}
YEARS_KEY = "years"
FUND_KEY = "fund_range"
UNKNOWN_KEY = "keep_unknown_size"
DOMAINS_KEY = "domains"
SEARCH_KEY = "search"
PROVINCES_KEY = "provinces"


def _defaults(bounds: FilterBounds) -> dict[str, object]:
    return {
        **{key: True for key in LAYER_KEYS.values()},
        YEARS_KEY: (bounds.year_min, bounds.year_max),
        FUND_KEY: (0.0, bounds.fund_max_bn),
        UNKNOWN_KEY: True,
        DOMAINS_KEY: [],
        SEARCH_KEY: "",
        PROVINCES_KEY: [],
    }


def _clamp(value: tuple, lo: float, hi: float) -> tuple:
    a, b = (min(max(v, lo), hi) for v in value)
    return (a, b) if a <= b else (lo, hi)


def init_state(bounds: FilterBounds) -> None:
    """Give every widget a default once, and keep ranges inside the data's extent."""
    for key, value in _defaults(bounds).items():
        st.session_state.setdefault(key, value)
    ss = st.session_state
    ss[YEARS_KEY] = _clamp(tuple(ss[YEARS_KEY]), bounds.year_min, bounds.year_max)
    ss[FUND_KEY] = _clamp(tuple(ss[FUND_KEY]), 0.0, bounds.fund_max_bn)
    ss[DOMAINS_KEY] = [d for d in ss[DOMAINS_KEY] if d in DOMAINS]
    ss[PROVINCES_KEY] = [p for p in ss[PROVINCES_KEY] if p in PROVINCES]


def reset_filters(bounds: FilterBounds) -> None:
    """Back to the defaults: every layer, every year, every fund, no search."""
    for key, value in _defaults(bounds).items():
        st.session_state[key] = value


def render_sidebar(bounds: FilterBounds) -> None:
    """Draw the filter widgets in the sidebar."""
    init_state(bounds)
    sb = st.sidebar
    sb.header("Filters")
    sb.caption("Layers")
    for kind, key in LAYER_KEYS.items():
        sb.checkbox(KINDS[kind], key=key)
    if bounds.year_min < bounds.year_max:
        sb.slider(
            "Year established or first reported",
            min_value=bounds.year_min, max_value=bounds.year_max, key=YEARS_KEY, step=1,
        )
    sb.slider(
        "Fund size (RMB billion)",
        min_value=0.0, max_value=bounds.fund_max_bn, step=0.5, key=FUND_KEY,
        help="Applies to funds only: clusters and demonstration zones are not affected.",
    )
    sb.checkbox(
        "Keep funds of unknown size", key=UNKNOWN_KEY,
        help="Some funds' sizes were never published; they are kept unless you untick this.",
    )
    sb.multiselect(
        "Technology domains", options=list(DOMAINS), format_func=DOMAINS.__getitem__,
        key=DOMAINS_KEY, placeholder="All domains",
        help="Shows records tagged with any of the chosen domains; leave empty for all.",
    )
    sb.multiselect(
        "Provinces", options=list(PROVINCES),
        format_func=lambda p: f"{p} {PROVINCES[p]}",
        key=PROVINCES_KEY, placeholder="All provinces",
        help="Shows records in any of the chosen provinces; leave empty for all.",
    )
    sb.text_input(
        "Name contains", key=SEARCH_KEY, placeholder="e.g. Foshan or 佛山",
        help="Searches the English and Chinese names (case-insensitive).",
    )
    sb.button("Reset filters", on_click=reset_filters, args=(bounds,), width="stretch")


def current_filter(bounds: FilterBounds) -> RecordFilter:
    """The :class:`RecordFilter` the widgets describe now."""
    ss = st.session_state
    return filter_from_controls(
        bounds,
        kinds=frozenset(k for k, key in LAYER_KEYS.items() if ss.get(key, True)),
        years=tuple(ss.get(YEARS_KEY, (bounds.year_min, bounds.year_max))),
        fund_range=tuple(ss.get(FUND_KEY, (0.0, bounds.fund_max_bn))),
        include_unknown_size=bool(ss.get(UNKNOWN_KEY, True)),
        domains=frozenset(ss.get(DOMAINS_KEY, [])),
        search=str(ss.get(SEARCH_KEY, "")),
        provinces=frozenset(ss.get(PROVINCES_KEY, [])),
    )
