"""Turn validated records into one GeoDataFrame, the form everything else uses.

A single tabular form keeps filtering vectorised (later work loads 100,000
records) and gives the table, the CSV, the GeoJSON and the map the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd

from geodata.schema import RECORD_COLUMNS, Record


def records_to_frame(records: Sequence[Record]) -> gpd.GeoDataFrame:
    """Records as a GeoDataFrame in EPSG:4326, one row per record.

    ``domains`` holds tuples (hashable, for caching); ``sources`` holds lists
    of plain dicts; an unknown fund size is ``NaN``, never 0.

    Example
    -------
    >>> records_to_frame([]).columns.tolist()[:3]
    ['id', 'kind', 'category']
    """
    rows = []
    for rec in records:
        row = rec.model_dump()
        row["domains"] = tuple(rec.domains)
        row["sources"] = [s.model_dump(exclude_none=True) for s in rec.sources]
        rows.append(row)
    df = pd.DataFrame(rows, columns=RECORD_COLUMNS)
    df["year"] = df["year"].astype("int64")
    df["fund_size_rmb_bn"] = df["fund_size_rmb_bn"].astype("float64")
    df["lat"] = df["lat"].astype("float64")
    df["lon"] = df["lon"].astype("float64")
    geometry = gpd.points_from_xy(df["lon"], df["lat"], crs="EPSG:4326")
    return gpd.GeoDataFrame(df, geometry=geometry, crs="EPSG:4326")
