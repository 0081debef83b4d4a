"""CMF Atlas dashboard: page config, the shared sidebar, and navigation.

Run with ``make run``. Pages live in ``dashboard/views/`` and only read
widgets, call :mod:`geodata`, and show the result.
"""

from __future__ import annotations

import streamlit as st

from dashboard import cache
from dashboard.sidebar import render_sidebar
from geodata.filters import filter_bounds
from geodata.load import DatasetError

st.set_page_config(
    page_title="CMF Atlas",
    page_icon=":material/map:",
    layout="wide",
    initial_sidebar_state="expanded",
)

try:
    cache.offline_assets()
    frame = cache.atlas_frame()
except DatasetError as exc:
    st.error(
        f"The datasets could not be loaded: {len(exc.problems)} problem(s). "
        "Fix them (or run `python -m geodata validate`) and reload."
    )
    st.code("\n".join(str(p) for p in exc.problems), language=None)
    st.stop()
except (OSError, ValueError) as exc:
    st.error(f"CMF Atlas could not start: {exc}")
    st.stop()

render_sidebar(filter_bounds(frame))

page = st.navigation([st.Page("views/map.py", title="Map", icon=":material/map:", default=True)])
page.run()
