"""CMF Atlas dashboard: page config, the shared sidebar, and navigation.

Run with ``make run``. Pages live in ``dashboard/views/`` and only read
widgets, call :mod:`geodata`, and show the result.
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import streamlit as st

from dashboard import cache
from dashboard.guard import guarded
from dashboard.memory import return_free_memory
from dashboard.sidebar import atlas_bounds, render_sidebar
from dashboard.url_sync import apply_url_to_session, write_session_to_url
from geodata.db.team import team_dsn
from geodata.render.detail import escape_markdown
from geodata.store.load import DatasetError, problems_summary
from geodata.store.userdata import problems_csv_text

st.set_page_config(
    page_title="CMF Atlas",
    # A local file: an emoji or material icon would be fetched from a CDN.
    page_icon=str(Path(__file__).resolve().parent / "assets" / "favicon.png"),
    layout="wide",
    initial_sidebar_state="expanded",
)

# Less white space above the content, so the map sits higher on a briefing screen.
st.html("<style>.block-container { padding-top: 2.2rem; padding-bottom: 1rem; }</style>")

try:
    cache.offline_assets()
    frame = cache.atlas_frame()
except DatasetError as exc:
    st.error(
        f"The datasets could not be loaded: {len(exc.problems):,} problem(s). "
        "Fix them (or run `python -m geodata validate`) and reload."
    )
    # The first problems only, and all of them as a download: a broken data folder
    # can hold tens of thousands, which would stall the page.
    st.code(problems_summary(exc.problems), language=None)
    st.download_button(
        f"Download all {len(exc.problems):,} problem(s) (CSV)",
        data=problems_csv_text(exc.problems).encode("utf-8-sig"),
        file_name="dataset-problems.csv", mime="text/csv", key="dataset_problems_csv",
    )
    st.stop()
except (OSError, ValueError) as exc:
    st.error(f"CMF Atlas could not start: {escape_markdown(str(exc))}")
    st.stop()
except psycopg.Error as exc:  # team mode: the database is down or refuses the app
    st.error("CMF Atlas could not read the team store: "
             f"{escape_markdown(' '.join(str(exc).split()))}. Is the database running "
             "(`make db`) and CMF_ATLAS_DB right?")
    st.stop()

bounds = atlas_bounds()
# Before the sidebar, so a shared link sets the widgets' starting values.
apply_url_to_session(bounds, cache.RecordIds(frame["id"]))
with guarded("the sidebar"):
    render_sidebar(bounds, cache.group_choices())

pages = [
    st.Page("views/map.py", title="Map", icon=":material/map:", default=True),
    st.Page("views/charts.py", title="Charts", icon=":material/bar_chart:"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare:"),
    st.Page("views/sources.py", title="Sources", icon=":material/menu_book:"),
    st.Page("views/your_data.py", title="Your data", icon=":material/upload_file:"),
    st.Page("views/screen.py", title="Screen a list", icon=":material/fact_check:"),
    st.Page("views/about.py", title="About", icon=":material/info:"),
]
if team_dsn():  # team mode (CMF_ATLAS_DB): sign-in, editing, history, review
    pages.insert(1, st.Page("views/team.py", title="Team", icon=":material/groups:"))
page = st.navigation(pages)
# An error in a page is logged and shown as a plain notice, never Streamlit's error box.
with guarded(f"the {page.title} page"):
    page.run()
write_session_to_url(bounds)
return_free_memory()
