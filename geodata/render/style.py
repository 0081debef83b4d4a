"""Symbols and colours of the three layers, shared by the web map and figures.

Colours are from the Okabe–Ito palette, which stays distinct for the common
forms of colour blindness; each layer also differs in shape and each zone
status in fill (solid, hollow, hatched), so the map survives greyscale print.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from geodata.model.schema import ZONE_STATUSES

LAYER_COLORS: dict[str, str] = {
    "cluster": "#0072B2",  # blue
    "fund": "#E69F00",  # orange
    "zone": "#CC79A7",  # reddish purple
    "organisation": "#D55E00",  # vermillion
}
LAYER_STROKES: dict[str, str] = {
    "cluster": "#ffffff",
    "fund": "#8a5a00",
    "zone": "#6d2a55",
    "organisation": "#ffffff",
}
#: The user's own records (issue 5): a black-outlined triangle in bluish green, a shape
#: and colour no curated layer uses, so "mine" never reads as curated data.
USER_COLOR = "#009E73"
USER_STROKE = "#000000"
USER_SIZE_PX = 16
USER_LAYER_LABEL = "Your data (this session)"
#: Up to this many user records are drawn as DOM elements (each can be hovered and
#: clicked by tests); more go on one canvas, which draws 50,000 in seconds.
USER_DOM_MAX = 1000

LAYER_SHAPES: dict[str, str] = {
    "cluster": "dot",
    "fund": "proportional circle",
    "zone": "diamond",
    "organisation": "square",
}

#: Organisations: a vermillion square. One on a US list (an accepted designation in
#: force, or under a listed parent) gets a thick black ring and a black corner tab:
#: shape, not colour, so it reads in greyscale and for colour-blind viewers.
ORG_SIZE_PX = 11
DESIGNATED_STROKE = "#000000"
DESIGNATED_LABEL = "On a US list (1260H or 1286)"
#: Link lines drawn from the selected record, and in the Network view.
LINK_COLOR = "#333333"
LINK_SELECTED_COLOR = "#000000"
#: Dash pattern per link type (SVG stroke-dasharray), so types differ without colour.
LINK_DASHES: dict[str, str | None] = {
    "parent_of": None,
    "partner_in": "7 4",
    "invests_in": "2 4",
    "sub_fund_of": "2 4",
    "located_in": "10 3 2 3",
    "organised_by": "4 4",
    "successor_of": "12 4",
}

#: Zone status -> fill treatment; readable without colour.
ZONE_STATUS_FILLS: dict[str, str] = {
    "approved": "solid",
    "applied_not_approved": "hollow",
    "local_pilot": "hatched",
}

CLUSTER_RADIUS_PX = 6.0
ZONE_SIZE_PX = 18
FUND_UNKNOWN_RADIUS_PX = 7.0
#: A fund of FUND_REFERENCE_BN is drawn with FUND_REFERENCE_RADIUS_PX; the scale
#: is fixed, not relative to the selection, so sizes compare across filters.
FUND_REFERENCE_BN = 200.0
FUND_REFERENCE_RADIUS_PX = 34.0
FUND_LEGEND_SIZES_BN: tuple[float, ...] = (200.0, 50.0, 10.0)


def fund_radius_px(size_rmb_bn: float, scale: float = 1.0) -> float:
    """Radius that makes a circle's *area* proportional to the fund size.

    >>> round(fund_radius_px(50) / fund_radius_px(200), 3)
    0.5
    """
    if not size_rmb_bn > 0:
        raise ValueError(f"fund size must be positive, got {size_rmb_bn!r}")
    return scale * FUND_REFERENCE_RADIUS_PX * math.sqrt(size_rmb_bn / FUND_REFERENCE_BN)


# --------------------------------------------------------------------------- legend wording
# One source of legend text for the web map (geodata.render.layers.legend_html) and the
# report figure (geodata.render.figure), so the two never word a symbol differently.

#: The heading of each layer's legend block.
LEGEND_HEADINGS: dict[str, str] = {
    "cluster": "Clusters",
    "fund": "Funds: circle area ∝ size (RMB bn)",
    "zone": "Demonstration zones",
}
#: What the cluster dot stands for.
LEGEND_CLUSTER_TEXT = "Parks, centres, labs, alliances"
#: The dashed circle of a fund whose size was never published.
LEGEND_FUND_UNKNOWN_TEXT = "Size unknown"


def legend_fund_size_label(size_rmb_bn: float) -> str:
    """The label beside a reference circle of the fund-size scale.

    >>> legend_fund_size_label(50.0)
    '50 bn'
    """
    return f"{size_rmb_bn:g} bn"


def legend_zone_statuses(present: Iterable[object]) -> list[str]:
    """The zone statuses a legend lists: those some record has, in vocabulary order.

    A status no record carries (e.g. *Local pilot zone* today) would explain a
    symbol that appears nowhere, so it is left out; with no zone at all the
    approved zone's symbol stands for the layer.

    >>> legend_zone_statuses(["approved", "applied_not_approved", None])
    ['approved', 'applied_not_approved']
    >>> legend_zone_statuses([])
    ['approved']
    """
    have = set(present)
    return [s for s in ZONE_STATUSES if s in have] or ["approved"]
