"""About page: what the atlas is, its vocabularies, how totals work, and its limits.

The vocabulary tables are generated from :mod:`geodata.schema`, so they
cannot drift from what the loader accepts. Text from data appears only in
tables (plain text), never in Markdown or HTML.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.sidebar import atlas_bounds, current_filter
from geodata.filters import filter_records
from geodata.schema import (
    CATEGORIES,
    DOMAINS,
    KINDS,
    LOCATION_PRECISION_MEANINGS,
    LOCATION_PRECISIONS,
    STATUS_MEANINGS,
    STATUSES,
    ZONE_STATUSES,
)
from geodata.summary import format_rmb_bn, summarize

frame = cache.atlas_frame()
selected = filter_records(frame, current_filter(atlas_bounds(frame)))
everything, shown = summarize(frame), summarize(selected)


def _vocabulary(
    labels: dict[str, str], counts: Counter, meanings: dict[str, str] | None = None
) -> pd.DataFrame:
    table = pd.DataFrame({"Label": list(labels.values()), "Code": list(labels)})
    if meanings is not None:
        table["What it means"] = [meanings[key] for key in labels]
    table["Records"] = [counts.get(key, 0) for key in labels]
    return table


def _funds(n: int) -> str:
    return f"{n} fund{'' if n == 1 else 's'}"


# Long lines are hard to read; the tables stay readable at this width too.
with st.container(width=1000):
    st.markdown("## About CMF Atlas")
    st.markdown(
        "CMF Atlas maps places and funds that open sources tie to China's military-civil "
        "fusion (军民融合) strategy: industrial clusters and related bodies, state-backed "
        "funds, and national innovation demonstration zones. Every record cites at least "
        "one source; the **Sources** page lists them. The atlas describes what the sources "
        "report; it does not assess the entities or their activities."
    )
    st.markdown(
        f"The data holds **{everything.total} records**: "
        + ", ".join(f"{everything.counts[k]} {KINDS[k].lower()}" for k in KINDS)
        + ". The sidebar's filters apply to every page."
    )

    st.subheader("How totals are computed")
    st.markdown(
        "- **Records** are counted once each, except in the by-domain views, where a record "
        "tagged with several domains counts once in each.\n"
        "- **Fund capital** is the sum of the *published* fund sizes, in RMB billion. Sizes "
        "are headline figures (often a first phase or a target); paid-in capital is unknown, "
        "so read sums as orders of magnitude.\n"
        "- **Funds of unknown size** are never counted as 0: they are left out of every sum, "
        "and each page says how many were left out.\n"
        "- **Year** is the year established or, where that is unknown, the year first "
        "reported; nothing has an end date, so the as-of-year views only ever add records."
    )
    st.markdown(
        f"Currently **{_funds(everything.funds_unknown_size)}** in the data "
        f"{'has' if everything.funds_unknown_size == 1 else 'have'} no published size. With "
        f"the current filters, {_funds(shown.funds_unknown_size)} of unknown size "
        f"{'is' if shown.funds_unknown_size == 1 else 'are'} among the records shown, left out "
        f"of their fund capital of {format_rmb_bn(shown.fund_capital_rmb_bn)}."
    )

    st.subheader("Vocabularies")
    st.caption("From geodata/schema.py, which the loader enforces. Records: in the whole data.")
    domain_counts = Counter(d for domains in frame["domains"] for d in domains)
    category_counts = Counter(zip(frame["kind"], frame["category"], strict=True))
    status_counts = Counter(frame["status"].dropna())
    precision_counts = Counter(frame["location_precision"])

    st.markdown("**Technology domains.** A record carries one or more.")
    st.table(_vocabulary(DOMAINS, domain_counts), hide_index=True)

    st.markdown("**Categories**, by layer: what sort of thing a record is.")
    st.table(
        pd.DataFrame([
            {"Layer": KINDS[kind], "Label": label, "Code": code,
             "Records": category_counts.get((kind, code), 0)}
            for kind, categories in CATEGORIES.items()
            for code, label in categories.items()
        ]),
        hide_index=True,
    )

    st.markdown(
        f"**Statuses.** A zone carries one of the {len(ZONE_STATUSES)} zone statuses; other "
        "records may carry one of the others, or none where the sources do not say."
    )
    st.table(_vocabulary(STATUSES, status_counts, STATUS_MEANINGS), hide_index=True)

    st.markdown("**Location precisions**: how exactly a point places its record.")
    st.table(
        _vocabulary(LOCATION_PRECISIONS, precision_counts, LOCATION_PRECISION_MEANINGS),
        hide_index=True,
    )

    st.subheader("Coverage caveats")
    st.markdown(
        "- **A sample, not a census.** The records are what five English-language analyses "
        "(2018–2023, one undated) name and tie to a place, plus references they cite. Many "
        "provincial funds, parks, bases and local zones are not in them, and so not here.\n"
        "- **Zones.** More than 20 local governments reportedly applied for national "
        "demonstration-zone status; only those named in the sources have records.\n"
        "- **Time.** Most records date from 2016–2019, when the term was promoted openly. It "
        "was largely withdrawn from public use in 2019, so later activity is under-reported. "
        "The data does not say whether an entity still exists or how much was invested.\n"
        "- **Places.** Many points stand for a city, district or headquarters rather than a "
        "site (see location precision); records known only to the same city share a point.\n"
        "- **Not mapped:** central bodies without a site of their own, individual companies, "
        "research budgets that are not funds, and exercises.\n"
        "\nThe full notes, record by record, are in `datasets/README.md`."
    )

    st.subheader("Boundaries and offline use")
    st.markdown(
        "Provincial and national boundaries are Natural Earth's (public domain), in its "
        "default view, which draws boundaries as they are administered (de facto). Showing "
        "them is not an endorsement of any claim.\n\n"
        "The atlas runs offline: the basemap, the map library and the chart renderer are "
        "bundled, no web fonts are fetched, and chart and map exports are drawn on this "
        "machine. Only what you choose leads to the web: a source's link, or one of the "
        "map's optional online tile layers (marked “online”, off by default)."
    )
