"""The comparison app of ``bench_scale.py``: the same records with ``st.pydeck_chart``.

Run by the benchmark (``streamlit run benchmarks/pydeck_app.py``) with
``BENCH_PARQUET`` naming a store file. One ScatterplotLayer of every record
(coloured by layer, no basemap, so it runs offline), which is how a Streamlit
app would draw the points with the deck.gl that Streamlit ships.
"""

from __future__ import annotations

import os

import duckdb
import pydeck as pdk
import streamlit as st

from geodata.query.index import sql_path
from geodata.render.style import LAYER_COLORS

KIND_RGB = {k: [int(c[i:i + 2], 16) for i in (1, 3, 5)] for k, c in LAYER_COLORS.items()}


@st.cache_resource
def _points(path: str):
    con = duckdb.connect()
    df = con.execute(
        f"SELECT lon, lat, kind FROM read_parquet({sql_path(path)}) WHERE lat IS NOT NULL"
    ).df()
    df["color"] = df["kind"].map(KIND_RGB)
    return df


st.set_page_config(layout="wide")
hide = st.checkbox("Hide zones", key="hide_zones")
points = _points(os.environ["BENCH_PARQUET"])
shown = points[points["kind"] != "zone"] if hide else points
st.pydeck_chart(pdk.Deck(
    layers=[pdk.Layer("ScatterplotLayer", data=shown[["lon", "lat", "color"]],
                      get_position=["lon", "lat"], get_fill_color="color",
                      radius_min_pixels=2, radius_max_pixels=6, pickable=True)],
    initial_view_state=pdk.ViewState(latitude=35, longitude=104, zoom=3.3),
    map_style=None,
), height=700)
st.caption(f"{len(shown):,} points")
