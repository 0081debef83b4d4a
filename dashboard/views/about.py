"""About page: what the atlas is, its vocabularies, how totals work, and its limits.

The vocabulary tables are generated from :mod:`geodata.model.schema`, so they
cannot drift from what the loader accepts. Text from data appears only in
tables (plain text), never in Markdown or HTML.
"""

from __future__ import annotations

from collections import Counter

import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.sidebar import atlas_bounds, current_filter
from geodata.model.designations import FUZZY_MIN
from geodata.model.schema import (
    CATEGORIES,
    CONFIDENCE_LEVELS,
    DATE_TYPES,
    DESIGNATION_LISTS,
    DESIGNATION_RELATIONS,
    DOMAINS,
    KINDS,
    LINK_TYPES,
    LOCATION_PRECISION_MEANINGS,
    LOCATION_PRECISIONS,
    MATCH_BASES,
    ORG_CATEGORIES,
    ORG_CATEGORY_MEANINGS,
    REVIEW_OUTCOMES,
    SOURCE_TYPES,
    SPONSOR_LEVELS,
    STATUS_MEANINGS,
    STATUSES,
    ZONE_STATUSES,
)
from geodata.query.filters import filter_records
from geodata.query.summary import format_rmb_bn, summarize

frame = cache.atlas_frame()
selected = filter_records(frame, current_filter(atlas_bounds()))
everything, shown = summarize(frame), summarize(selected)


def _vocabulary(
    labels: dict[str, str], counts: Counter, meanings: dict[str, str] | None = None
) -> pd.DataFrame:
    table = pd.DataFrame({"Label": list(labels.values()), "Code": list(labels)})
    if meanings is not None:
        table["What it means"] = [meanings[key] for key in labels]
    table["Records"] = [counts.get(key, 0) for key in labels]
    return table


def _table(labels: dict[str, str], counts: Counter | None = None,
           meanings: dict[str, str] | None = None) -> pd.DataFrame:
    table = pd.DataFrame({"Code": list(labels), "Label": list(labels.values())})
    if meanings is not None:
        table["What it means"] = [meanings[k] for k in labels]
    if counts is not None:
        table["Count"] = [counts.get(k, 0) for k in labels]
    return table


def _model_section() -> None:
    """Organisations, links, designations, dates and confidence: the model and its vocabularies."""
    orgs = frame[frame["kind"] == "organisation"]
    link_counts = Counter(
        ln["type"] for links in frame["links"] for ln in links if ln["direction"] == "out"
    ) if "links" in frame else Counter()
    reviews = cache.designation_review_counts()
    st.subheader("Organisations, links and US designations")
    st.markdown(
        f"**Organisations** ({len(orgs)}) are the actors behind the places. Most come from "
        "ASPI's China Defence Universities Tracker (2019–2020): its facts (names, aliases, "
        "supervising agencies, research topics, laboratories, subsidiaries, address, "
        "coordinates) are kept and cited to the entry's tracker page; descriptions are ours. "
        f"{int(orgs['lat'].isna().sum())} organisations have no known place: they are listed, "
        "linkable and counted, but not drawn, and each says why. A few organisations that "
        "links need come from the seeds, cited by paragraph or footnote."
    )
    st.table(_table(ORG_CATEGORIES, Counter(orgs["category"]), ORG_CATEGORY_MEANINGS),
             hide_index=True)
    st.markdown(
        "**Links** are typed and directed (from → to), each with its own sources. The "
        "*organisation group* filter follows *parent of* links at any depth. Click a record "
        "to draw its links; switch on *Network* to draw every link among the records shown."
    )
    st.table(_table(LINK_TYPES, link_counts), hide_index=True)
    st.markdown(
        "**US designations.** Organisations are matched to the US Department of Defense "
        "Section 1260H list (Chinese military companies, by tranche, with removals) and the "
        "Section 1286 list (institutions of concern in DoD-funded research). A wrong match "
        "is the worst error here, so every candidate was reviewed by reading both entries, "
        f"and its basis and a note are recorded: **{reviews['accepted']} accepted, "
        f"{reviews['rejected']} rejected** (kept with the reason), "
        f"{reviews['records']} organisations on a list now. A subsidiary of a listed parent "
        "is marked as such, not as listed. On the map a designated organisation has a thick "
        "black ring."
    )
    st.table(_table(DESIGNATION_LISTS), hide_index=True)
    st.table(_table(DESIGNATION_RELATIONS), hide_index=True)
    st.markdown(
        "*Matching rules.* Names compared: our English and Chinese names and every alias, "
        "against the entry's name, clean name, aliases and previous names. "
        "Names are normalised (case, punctuation, '&', and company-form words such as Co., "
        "Ltd., Corporation, Group, 有限公司, 集团 at the end), so *China Electronics "
        "Corporation* and *China Electronics Technology Group Corporation* stay different. "
        f"Near names (rapidfuzz token-sort ratio ≥ {FUZZY_MIN:g}) are only candidates; "
        "abbreviations alone never decide. *Caveats:* the lists give no addresses; spellings "
        "vary between tranches (e.g. 'Changchung'), so one institution can match several "
        "entries; an organisation ASPI does not track cannot be matched, so *not on a US "
        "list* means *not matched here*, not *not listed*."
    )
    st.table(_table(MATCH_BASES), hide_index=True)
    st.table(_table(REVIEW_OUTCOMES), hide_index=True)
    st.markdown(
        "**Dates** keep *founded*, *announced*, *signed*, *unveiled*, *held*, *approved* and "
        "*first reported* apart; a date's form is its precision (2017 = year, 2017-07 = "
        "month, 2017-07-01 = day). The year filter uses each record's `year`, and "
        "`year_basis` names the date it comes from; organisations without a year always pass "
        "the year filter."
    )
    st.table(_table(DATE_TYPES), hide_index=True)
    st.markdown("**Confidence** in a record's identity, place and date, with a reason.")
    conf_counts = Counter(frame["confidence"].dropna()) if "confidence" in frame else None
    st.table(_table(CONFIDENCE_LEVELS, conf_counts), hide_index=True)
    sponsor_counts = Counter(frame["sponsor_level"].dropna()) if "sponsor_level" in frame else None
    st.markdown("**Sponsor level**: which level of the state (or an enterprise) stands behind "
                "a record.")
    st.table(_table(SPONSOR_LEVELS, sponsor_counts), hide_index=True)
    st.markdown("**Source types.** Every source also says when we read it (`accessed`) and, "
                "for a seed, where in it (paragraph, note or table row).")
    st.table(_table(SOURCE_TYPES), hide_index=True)


def _funds(n: int) -> str:
    return f"{n} fund{'' if n == 1 else 's'}"


# Long lines are hard to read; the tables stay readable at this width too.
with st.container(width=1000):
    st.markdown("## About CMF Atlas")
    st.markdown(
        "CMF Atlas maps places and funds that open sources tie to China's military-civil "
        "fusion (军民融合) strategy: industrial clusters and related bodies, state-backed "
        "funds, national innovation demonstration zones, and the organisations behind them "
        "(defence groups and their institutes, universities, military bodies, companies), "
        "with typed links between records and the US government lists that name an "
        "organisation. Every record cites at least "
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
    st.caption(
        "From geodata/model/schema.py, which the loader enforces. Records: in the whole data."
    )
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

    _model_section()

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
        "- **Not mapped:** central bodies without a site of their own, companies the seeds "
        "name only in passing, research budgets that are not funds, and exercises. "
        "Organisations without a known place are listed and linkable but not drawn.\n"
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
