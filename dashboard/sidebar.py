"""The shared sidebar: every filter widget, its state and its defaults.

Widgets are drawn once, in the app frame, so their values persist across
pages; pages read the resulting filter with :func:`current_filter`.
"""

from __future__ import annotations

import streamlit as st

from dashboard import cache
from dashboard.user_layer import (
    USER_DATASETS_KEY,
    USER_LAYER_KEY,
    has_user_records,
    session_user_frame,
)
from geodata.model.schema import DOMAINS, KINDS, ORG_CATEGORIES, PROVINCES, SPONSOR_LEVELS
from geodata.query.filters import (
    SEARCH_HELP,
    FilterBounds,
    RecordFilter,
    filter_bounds,
    filter_from_controls,
    follow_extent,
)

LAYER_KEYS = {kind: f"layer_{kind}" for kind in KINDS}
YEARS_KEY = "years"
FUND_KEY = "fund_range"
UNKNOWN_KEY = "keep_unknown_size"
DOMAINS_KEY = "domains"
SEARCH_KEY = "search"
PROVINCES_KEY = "provinces"
GROUP_KEY = "org_group"
ORG_CATEGORIES_KEY = "org_categories"
DESIGNATED_KEY = "designated"
SPONSOR_KEY = "sponsor_levels"
#: Display option: draw every link among the records shown.
NETWORK_KEY = "network"

#: The designation filter's choices (stored value -> label).
DESIGNATED_OPTIONS: dict[str, str] = {
    "any": "Any",
    "yes": "On a US list",
    "no": "Not on a US list",
}
#: What each choice means for RecordFilter.designated (None: no restriction).
DESIGNATED_VALUES: dict[str, bool | None] = {"any": None, "yes": True, "no": False}

# View state: not filters, but part of a shared link.
PRESENT_KEY = "present"
VIEW_KEY = "view"
SELECTED_KEY = "selected_id"
CENTER_KEY = "map_center"
ZOOM_KEY = "map_zoom"
AS_OF_MODE_KEY = "as_of_mode"
AS_OF_YEAR_KEY = "as_of_year"
PLAYING_KEY = "playing"
PROVINCE_LAYER_KEY = "province_layer"
#: Widget values set by the page for the next run (a widget's value cannot be
#: changed once it is drawn); applied by init_state before any widget is drawn.
PENDING_KEY = "_pending_widget_values"
#: The data's extent at the last run: sliders at its ends follow it when it grows.
BOUNDS_SEEN_KEY = "_filter_bounds_seen"

PROVINCE_LAYER_OPTIONS: dict[str, str] = {
    "off": "Off",
    "records": "Record count",
    "capital": "Fund capital (RMB bn)",
}
#: The geodata.query.frame_aggregates measure each shading option colours provinces by.
PROVINCE_LAYER_MEASURES: dict[str, str] = {"records": "records", "capital": "capital_rmb_bn"}


def atlas_bounds() -> FilterBounds:
    """The sliders' extent: the atlas records' and this session's own records'."""
    return filter_bounds(cache.atlas_bounds_rows(),
                         session_user_frame() if has_user_records() else None)


def _defaults(bounds: FilterBounds) -> dict[str, object]:
    return {
        **{key: True for key in LAYER_KEYS.values()},
        USER_LAYER_KEY: True,
        YEARS_KEY: (bounds.year_min, bounds.year_max),
        FUND_KEY: (0.0, bounds.fund_max_bn),
        UNKNOWN_KEY: True,
        DOMAINS_KEY: [],
        SEARCH_KEY: "",
        PROVINCES_KEY: [],
        GROUP_KEY: "",
        ORG_CATEGORIES_KEY: [],
        DESIGNATED_KEY: "any",
        SPONSOR_KEY: [],
        NETWORK_KEY: False,
        AS_OF_MODE_KEY: False,
        AS_OF_YEAR_KEY: bounds.year_max,
        PROVINCE_LAYER_KEY: "off",
    }


def set_widget_values_next_run(**values: object) -> None:
    """Queue widget values for the next run (call ``st.rerun()`` after)."""
    st.session_state.setdefault(PENDING_KEY, {}).update(values)


def init_state(bounds: FilterBounds) -> None:
    """Give every widget a default once, and keep ranges inside the data's extent."""
    for key, value in _defaults(bounds).items():
        st.session_state.setdefault(key, value)
    ss = st.session_state
    ss.update(ss.pop(PENDING_KEY, {}))
    ss.setdefault(PRESENT_KEY, False)
    ss.setdefault(PLAYING_KEY, False)
    ss.setdefault(USER_DATASETS_KEY, ())
    ss[AS_OF_YEAR_KEY] = min(max(int(ss[AS_OF_YEAR_KEY]), bounds.year_min), bounds.year_max)
    if ss[PROVINCE_LAYER_KEY] not in PROVINCE_LAYER_OPTIONS:
        ss[PROVINCE_LAYER_KEY] = "off"
    # Sliders left at the data's ends follow them when an upload widens the extent.
    old = ss.get(BOUNDS_SEEN_KEY, bounds)
    years, fund = (bounds.year_min, bounds.year_max), (0.0, bounds.fund_max_bn)
    ss[YEARS_KEY] = follow_extent(tuple(ss[YEARS_KEY]), (old.year_min, old.year_max), years)
    ss[FUND_KEY] = follow_extent(tuple(ss[FUND_KEY]), (0.0, old.fund_max_bn), fund)
    if ss[AS_OF_YEAR_KEY] == old.year_max:
        ss[AS_OF_YEAR_KEY] = bounds.year_max
    ss[BOUNDS_SEEN_KEY] = bounds
    ss[DOMAINS_KEY] = [d for d in ss[DOMAINS_KEY] if d in DOMAINS]
    ss[PROVINCES_KEY] = [p for p in ss[PROVINCES_KEY] if p in PROVINCES]
    ss[ORG_CATEGORIES_KEY] = [c for c in ss[ORG_CATEGORIES_KEY] if c in ORG_CATEGORIES]
    ss[SPONSOR_KEY] = [x for x in ss[SPONSOR_KEY] if x in SPONSOR_LEVELS]
    if ss[DESIGNATED_KEY] not in DESIGNATED_OPTIONS:
        ss[DESIGNATED_KEY] = "any"


def reset_filters(bounds: FilterBounds) -> None:
    """Back to the defaults: every layer, every year, every fund, no search."""
    for key, value in _defaults(bounds).items():
        st.session_state[key] = value
    st.session_state[PLAYING_KEY] = False


def render_sidebar(bounds: FilterBounds, groups: dict[str, str] | None = None) -> None:
    """Draw the filter widgets in the sidebar.

    ``groups`` are the organisation-group choices (id -> label), from
    :func:`geodata.model.relations.group_options`.
    """
    init_state(bounds)
    groups = groups or {}
    if st.session_state.get(GROUP_KEY) and st.session_state[GROUP_KEY] not in groups:
        st.session_state[GROUP_KEY] = ""
    sb = st.sidebar
    sb.header("Filters")
    sb.caption("Layers")
    for kind, key in LAYER_KEYS.items():
        sb.checkbox(KINDS[kind], key=key)
    if has_user_records():
        sb.checkbox(
            "Your data", key=USER_LAYER_KEY,
            help="The records you added on the Your data page (this session only). "
            "Every other filter applies to them too.",
        )
    sb.toggle(
        "As-of-year view", key=AS_OF_MODE_KEY,
        help="Show everything established up to a year, and play through the years.",
    )
    if bounds.year_min < bounds.year_max and ss_get(AS_OF_MODE_KEY):
        sb.slider(
            "Established up to (year)",
            min_value=bounds.year_min, max_value=bounds.year_max, key=AS_OF_YEAR_KEY, step=1,
        )
        play_button(sb, bounds, key="play_button")
    elif bounds.year_min < bounds.year_max:
        sb.slider(
            "Year (founded, or first reported)",
            min_value=bounds.year_min, max_value=bounds.year_max, key=YEARS_KEY, step=1,
            help="Each record's year: when it was founded, announced, signed, unveiled, held "
            "or approved where a source says so, else when it was first reported (the detail "
            "panel's 'Year is the date' says which). Applies to records with a year: "
            "organisations without one are always shown.",
        )
    sb.slider(
        "Fund size (RMB billion)",
        min_value=0.0, max_value=bounds.fund_max_bn, step=0.5, key=FUND_KEY, format="%g bn",
        help="Published fund size, in RMB billion. Applies to funds only: clusters and "
        "demonstration zones are not affected.",
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
        "Search", key=SEARCH_KEY, placeholder="Name, city or province: Mianyang, 绵阳",
        help=SEARCH_HELP,
    )
    _organisation_filters(groups)
    sb.button("Reset filters", on_click=reset_filters, args=(bounds,), width="stretch")
    sb.header("Display")
    sb.selectbox(
        "Province shading", options=list(PROVINCE_LAYER_OPTIONS),
        format_func=PROVINCE_LAYER_OPTIONS.__getitem__, key=PROVINCE_LAYER_KEY,
        help="Shade provinces by the records shown (classed colours). "
        "Click a province on the map to filter to it.",
    )
    sb.toggle(
        "Network: draw every link", key=NETWORK_KEY,
        help="Draw every link (parent of, partner in, invests in, located in …) among the "
        "records shown as lines. The selected record's links are always drawn, in bold.",
    )
    sb.toggle(
        "Presentation mode", key=PRESENT_KEY,
        help="Full-screen map with larger symbols and text, for a briefing screen.",
    )


def play_button(container: object, bounds: FilterBounds, *, key: str) -> None:
    """*Play the years* / *Pause*: text and a Material icon (bundled, renders offline).

    A glyph such as U+23F8 shows as a missing-glyph box in Debian's Chromium.
    """
    playing = bool(ss_get(PLAYING_KEY))
    container.button(
        "Pause" if playing else "Play the years",
        icon=":material/pause:" if playing else ":material/play_arrow:",
        on_click=toggle_play, args=(bounds,), width="stretch", key=key,
        help="Step through the years on the map, one a second or so.",
    )


def _organisation_filters(groups: dict[str, str]) -> None:
    sb = st.sidebar
    sb.caption("Organisations and links")
    sb.selectbox(
        "Organisation group", options=["", *groups],
        format_func=lambda g: groups.get(g, "All (no group filter)") if g else
        "All (no group filter)",
        key=GROUP_KEY,
        help="Shows a group and everything under it through 'parent of' links, at any "
        "depth (e.g. CETC and its institutes). Other records are hidden.",
    )
    sb.multiselect(
        "Organisation category", options=list(ORG_CATEGORIES),
        format_func=lambda c: ORG_CATEGORIES[c].split(" (")[0], key=ORG_CATEGORIES_KEY,
        placeholder="All categories",
        help="Applies to organisations only: clusters, funds and zones are not affected.",
    )
    sb.selectbox(
        "US designation", options=list(DESIGNATED_OPTIONS),
        format_func=DESIGNATED_OPTIONS.__getitem__, key=DESIGNATED_KEY,
        help="On a US list: an organisation matched (and reviewed) to the DoD Section 1260H "
        "or 1286 list, or a subsidiary of a listed parent. Only organisations can be on one.",
    )
    sb.multiselect(
        "Sponsor level", options=list(SPONSOR_LEVELS), format_func=SPONSOR_LEVELS.__getitem__,
        key=SPONSOR_KEY, placeholder="All levels",
        help="Which level of the state (or an enterprise) sponsors a record. A record "
        "without one counts as Unknown.",
    )


def ss_get(key: str, default: object = None) -> object:
    return st.session_state.get(key, default)


def toggle_play(bounds: FilterBounds) -> None:
    """Start playing from the first year (or from the chosen one), or pause."""
    ss = st.session_state
    if ss.get(PLAYING_KEY):
        ss[PLAYING_KEY] = False
        return
    ss[AS_OF_MODE_KEY] = True
    if int(ss.get(AS_OF_YEAR_KEY, bounds.year_max)) >= bounds.year_max:
        ss[AS_OF_YEAR_KEY] = bounds.year_min
    ss[PLAYING_KEY] = True


def current_filter(bounds: FilterBounds) -> RecordFilter:
    """The :class:`RecordFilter` the widgets describe now.

    In the as-of-year view the years run from the first to the chosen one.
    """
    ss = st.session_state
    if ss.get(AS_OF_MODE_KEY):
        years = (bounds.year_min, int(ss.get(AS_OF_YEAR_KEY, bounds.year_max)))
    else:
        years = tuple(ss.get(YEARS_KEY, (bounds.year_min, bounds.year_max)))
    return filter_from_controls(
        bounds,
        kinds=frozenset(k for k, key in LAYER_KEYS.items() if ss.get(key, True)),
        years=years,
        fund_range=tuple(ss.get(FUND_KEY, (0.0, bounds.fund_max_bn))),
        include_unknown_size=bool(ss.get(UNKNOWN_KEY, True)),
        domains=frozenset(ss.get(DOMAINS_KEY, [])),
        search=str(ss.get(SEARCH_KEY, "")),
        provinces=frozenset(ss.get(PROVINCES_KEY, [])),
        group=ss.get(GROUP_KEY) or None,
        org_categories=frozenset(ss.get(ORG_CATEGORIES_KEY, [])),
        designated=DESIGNATED_VALUES.get(str(ss.get(DESIGNATED_KEY, "any"))),
        sponsor_levels=frozenset(ss.get(SPONSOR_KEY, [])),
    )
