"""Screen a list page: upload names, match them, review every candidate, export.

Steps as shown: upload a CSV or XLSX list; choose the name (and optional
alias and address) columns; screen; review each candidate (accept or
reject); download the result with the decisions; add the placed rows to the
map. The work is done by :mod:`geodata.screening`; this page draws widgets.
Text from the list is only ever shown as text (tables, escaped Markdown).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.user_layer import add_to_session, session_datasets, upload_cap_mb
from geodata.io.importer import ImportPreview
from geodata.render.detail import escape_markdown
from geodata.render.style import USER_LAYER_LABEL
from geodata.screening.listfile import (
    LIST_FORMATS,
    ListFileError,
    NameList,
    read_list,
    suggest_columns,
)
from geodata.screening.match import BASES, HIT_KINDS
from geodata.screening.report import (
    NO_MATCH,
    decision_counts,
    results_csv,
    results_frame,
    results_xlsx,
)
from geodata.screening.run import DECISIONS, ScreenedRow, screen_list, screened_records
from geodata.store.userdata import file_digest

UPLOAD_KEY = "screen_upload"
NAME_COL_KEY = "screen_name_col"
ALIAS_COL_KEY = "screen_alias_col"
ADDRESS_COL_KEY = "screen_address_col"
ONLY_HITS_KEY = "screen_only_hits"
REVIEW_KEY = "screen_review"
#: (digest, columns, rows) of the last screening run in this session.
RESULTS_KEY = "_screen_results"
#: Reviewed decisions: {(row, target key): decision}.
DECISIONS_KEY = "_screen_decisions"
NONE = "— none —"
#: Review table rows drawn at once; the export always holds everything.
MAX_REVIEW_LINES = 5000

ss = st.session_state


def _md(text: object) -> str:
    return escape_markdown(str(text))


@st.cache_data(show_spinner=False, max_entries=4)
def _read(data: bytes, name: str, cap: int) -> NameList | str:
    try:
        return read_list(data, name, max_bytes=cap)
    except ListFileError as exc:
        return str(exc)


def _review_frame(rows: list[ScreenedRow], only_hits: bool) -> pd.DataFrame:
    frame = results_frame(rows, ss.get(DECISIONS_KEY, {}))
    # The same order as results_frame's lines: one per candidate, one per row without.
    frame["_key"] = [c.target.key if c else "" for r in rows for c in (r.candidates or [None])]
    if only_hits:
        frame = frame[frame["_key"] != ""]
    return frame


def _store_decisions(edited: pd.DataFrame) -> None:
    decisions = dict(ss.get(DECISIONS_KEY, {}))
    for row, key, decision in edited[["Row", "_key", "Decision"]].itertuples(index=False):
        if key:
            decisions[(int(row), key)] = decision
    ss[DECISIONS_KEY] = decisions


def _add_to_map(file: str, records: tuple, hits: dict[str, list[str]], digest: str) -> None:
    add_to_session(ImportPreview(filename=file, records=records), digest)
    ss["_screen_hits"] = {**ss.get("_screen_hits", {}), **hits}


st.title("Screen a list")
st.markdown(
    "Match a list of names — suppliers, affiliations, grant recipients — against the "
    "atlas's records and the two US lists: the DoD **Section 1260H** list of Chinese "
    "military companies and the **Section 1286** list of institutions of concern. "
    "Every candidate says what it matched, on what basis and how closely; **nothing is "
    "decided for you**: accept or reject each one before you export. Addresses are placed "
    "offline at the province, city or district they name."
)
cap = upload_cap_mb()
upload = st.file_uploader(
    f"1. Your list: {', '.join(sorted(LIST_FORMATS))} (up to {cap} MB)",
    type=[s.lstrip(".") for s in LIST_FORMATS], key=UPLOAD_KEY,
    help="One row per name, with a header row. CSV may be UTF-8 or GBK (as Excel saves it "
    "on a Chinese system); in a workbook the first sheet with rows is read.",
)
if upload is None:
    st.info("Upload a list to begin. Names may be in English or Chinese (simplified or "
            "traditional); an address column is optional.")
    st.stop()

data = upload.getvalue()
table = _read(data, upload.name, cap * 1024 * 1024)
if isinstance(table, str):
    st.error(_md(table))
    st.stop()
digest = file_digest(data)
for note in table.notes:
    st.caption(_md(note))

st.markdown("#### 2. Columns")
guess = suggest_columns(table.headers)
options = [NONE, *table.headers]
c1, c2, c3 = st.columns(3)
name_col = c1.selectbox("Names", table.headers, key=NAME_COL_KEY,
                        index=table.headers.index(guess["name"]) if guess["name"] else 0)
alias_col = c2.selectbox("Other names (optional, ';'-separated)", options, key=ALIAS_COL_KEY,
                         index=options.index(guess["alias"]) if guess["alias"] else 0)
address_col = c3.selectbox("Address or place (optional)", options, key=ADDRESS_COL_KEY,
                           index=options.index(guess["address"]) if guess["address"] else 0)
columns = (name_col, None if alias_col == NONE else alias_col,
           None if address_col == NONE else address_col)
st.caption(f"{len(table.rows):,} rows in {_md(table.file)}.")

if st.button(f"3. Screen {len(table.rows):,} names", type="primary", key="screen_run"):
    bar = st.progress(0.0, text="Screening…")
    screener = cache.screener(progress=lambda i, n: bar.progress(
        i / max(n, 1), text=f"Indexing the atlas's names (once per dataset): {i:,} of {n:,}"))
    rows = screen_list(
        table, screener, name_column=columns[0], alias_column=columns[1],
        address_column=columns[2],
        progress=lambda i, n: bar.progress(i / max(n, 1), text=f"Screened {i:,} of {n:,}"),
    )
    bar.empty()
    ss[RESULTS_KEY] = (digest, columns, rows)
    ss[DECISIONS_KEY] = {}

results = ss.get(RESULTS_KEY)
if not results or results[0] != digest or results[1] != columns:
    st.stop()
rows: list[ScreenedRow] = results[2]

hits = [r for r in rows if r.candidates]
listed = [r for r in hits if r.best and r.best.target.source != "atlas"]
m = st.columns(5)
m[0].metric("Names screened", f"{len(rows):,}")
m[1].metric("With a candidate", f"{len(hits):,}")
m[2].metric("Best candidate on a US list", f"{len(listed):,}")
m[3].metric("Only a name-prefix hint", f"{sum(1 for r in hits if r.best is None):,}")
if columns[2]:
    placed = sum(1 for r in rows if r.placement and r.placement.status == "placed")
    m[4].metric("Placed", f"{placed:,} of {len(rows):,}")

st.markdown("#### 4. Review")
st.caption("Set *Decision* on each candidate: **accepted** (the same organisation) or "
           "**rejected** (a different one). Bases, strongest first: "
           + "; ".join(f"*{_md(k)}*: {_md(v)}" for k, v in BASES.items()))
only_hits = st.toggle("Only rows with a candidate", value=True, key=ONLY_HITS_KEY)
review = _review_frame(rows, only_hits)
if len(review) > MAX_REVIEW_LINES:
    st.warning(f"{len(review):,} lines; the first {MAX_REVIEW_LINES:,} are shown here. "
               "The downloads hold every line.")
    review = review.head(MAX_REVIEW_LINES)
edited = st.data_editor(
    review, key=REVIEW_KEY, hide_index=True, width="stretch",
    disabled=[c for c in review.columns if c != "Decision"],
    column_order=[c for c in review.columns if c != "_key"],
    column_config={
        "Decision": st.column_config.SelectboxColumn(
            options=[*DECISIONS, NO_MATCH], required=True, width="small",
            help="; ".join(f"{k}: {v}" for k, v in DECISIONS.items())),
        "Score": st.column_config.NumberColumn(format="%.0f", width="small"),
        "Row": st.column_config.NumberColumn(format="%d", width="small"),
        "Hit": st.column_config.TextColumn(help="; ".join(HIT_KINDS.values())),
        "Source URL": st.column_config.LinkColumn(),
    },
)
_store_decisions(edited)
counts = decision_counts(results_frame(rows, ss.get(DECISIONS_KEY, {})))
st.caption("Decisions: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))

if columns[2]:
    not_placed = [r for r in rows if r.placement and r.placement.status != "placed"]
    if not_placed:
        with st.expander(f"{len(not_placed):,} address(es) not placed, with the reason"):
            st.dataframe(pd.DataFrame(
                [(r.where, r.name, r.address, r.placement.status, r.placement.reason)
                 for r in not_placed],
                columns=["Where", "Name", "Address", "Status", "Reason"]),
                hide_index=True, width="stretch")

st.markdown("#### 5. Download")
final = results_frame(rows, ss.get(DECISIONS_KEY, {}))
stem = Path(table.file).stem or "list"
d1, d2 = st.columns(2)
d1.download_button("Results as CSV (Excel-ready)", results_csv(final),
                   file_name=f"{stem}-screening.csv", mime="text/csv", key="screen_csv")
d2.download_button(
    "Results as Excel workbook", results_xlsx(final), file_name=f"{stem}-screening.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="screen_xlsx",
)

if columns[2]:
    st.markdown("#### 6. Put the list on the map")
    records, hits = screened_records(rows, ss.get(DECISIONS_KEY, {}), table.file)
    # One dataset per list and set of decisions: adding again after a change adds anew.
    map_digest = file_digest(data + repr(sorted(ss.get(DECISIONS_KEY, {}).items())).encode())
    added = any(d.digest == map_digest for d in session_datasets())
    st.caption(f"{len(records):,} of {len(rows):,} rows are placed. They join the map as "
               f"*{_md(USER_LAYER_LABEL)}*; each says which records and list entries it "
               "matched (rejected candidates left out). Unplaced rows stay in the table above.")
    st.button(f"Add {len(records):,} placed rows to the map", key="screen_add",
              disabled=not records or added, on_click=_add_to_map,
              args=(table.file, tuple(records), hits, map_digest))
    if added:
        st.success(f"{_md(table.file)} is on the map with these decisions.")
        st.page_link("views/map.py", label="Open the map", icon=":material/map:")
