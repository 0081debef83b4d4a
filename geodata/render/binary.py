"""A selection's points as typed arrays: what the canvas point layer needs, and no more.

The per-record map layer sends every property of every record as GeoJSON
(606 bytes a record at 100,000 records). The canvas layer
(``geodata/render/web/cmf_points.js``) needs only where to draw, which symbol, and
which record a click hit; names and every other field are fetched from the
server when a symbol is clicked. So a selection is sent as:

- ``lon``, ``lat``: 24-bit unsigned integers (3 bytes each), steps of
  1/16,777,215 of the selection's extent from its west and south edges
  (``lon0``, ``lon_step``, ``lat0``, ``lat_step`` in the layout): at the extent
  of China, 62 degrees, a step is 0.4 m, finer than Float32 (2 m) and than any
  record's location precision, in three bytes instead of four;
- ``code``: Uint8, the symbol (:func:`symbol_codes`: layer, designated mark,
  fund size class);
- ``rows``: the record index (Uint32 in memory: the record's position in
  the frame or store the selection was taken from). On the wire the sorted
  indexes are coded as whichever is smaller: a bitmask over their range (one
  bit per record of the range: a dense selection) or LEB128 varints of the
  gaps between them (one byte while the gaps are under 128).

The arrays are packed, little-endian, in one buffer sent as base64 text
(streamlit-folium carries the map as text): 7 bytes of coordinates and code
plus the index (at most 1 byte for gaps under 128, 1/8 byte for a bitmask)
is at most 8 raw bytes, 10.7 as base64, per record. Points that cannot be
drawn (a missing or non-finite coordinate: unplaced organisations) are left
out, so a click can never name a record that is not on the map.

Example
-------
>>> import numpy as np
>>> block = encode_points([116.4, float("nan"), 121.5], [39.9, 30.0, 31.2], [0, 1, 2],
...                       rows=[10, 11, 12])
>>> block.rows.tolist(), block.codes.tolist()
([10, 12], [0, 2])
>>> decode_payload(block.payload()).rows.tolist()
[10, 12]
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from geodata.model.schema import KINDS

#: Bumped when the packed layout changes; the browser refuses other versions.
FORMAT_VERSION = 2
#: Coordinates are sent as this many bits each (3 bytes).
COORD_BITS = 24
_COORD_MAX = (1 << COORD_BITS) - 1
#: Symbol code bits: the layer (its position in :data:`geodata.model.schema.KINDS`) in
#: bits 0-2, the designated mark in bit 3, the fund size class in bits 4-7.
KIND_CODES: dict[str, int] = {k: i for i, k in enumerate(KINDS)}
DESIGNATED_BIT = 1 << 3
FUND_CLASS_SHIFT = 4
#: Fund size classes (1-15; 0 is a fund of unknown size): class c holds sizes
#: from FUND_CLASS_BASE_BN * 2**(c-1), so each class doubles the size and the
#: browser draws a circle whose area follows the class's lower bound.
FUND_CLASS_BASE_BN = 0.1
INDEX_BITMASK, INDEX_VARINT = "bitmask", "varint"


@dataclass(frozen=True)
class PointBlock:
    """Points ready to send: coordinates, symbol codes and record indexes, aligned."""

    lon: np.ndarray  # float64
    lat: np.ndarray  # float64
    codes: np.ndarray  # uint8
    rows: np.ndarray  # uint32, ascending

    def __len__(self) -> int:
        return int(self.rows.size)

    def packed(self) -> tuple[bytes, dict[str, Any]]:
        """The packed buffer and its layout (offsets in bytes, index coding)."""
        return _pack(self)

    def payload(self) -> dict[str, Any]:
        """The JSON-ready form the browser decodes: layout fields plus ``data`` (base64)."""
        buf, layout = _pack(self)
        return {**layout, "data": base64.b64encode(buf).decode("ascii")}

    def wire_bytes(self) -> int:
        """Bytes of the base64 text sent for these points (the layout fields aside)."""
        return len(self.payload()["data"])


def fund_size_class(size_bn: float | None) -> int:
    """The 4-bit size class of a fund (0: unknown size).

    >>> [fund_size_class(s) for s in (None, 0.05, 0.1, 0.2, 5, 200, 1e9)]
    [0, 1, 1, 2, 6, 11, 15]
    """
    if size_bn is None or not size_bn > 0 or math.isnan(size_bn):
        return 0
    c = 1 + math.floor(math.log2(max(size_bn, FUND_CLASS_BASE_BN) / FUND_CLASS_BASE_BN) + 1e-9)
    return int(min(max(c, 1), 15))


def symbol_codes(frame: pd.DataFrame) -> np.ndarray:
    """Each record's Uint8 symbol code (layer, designated mark, fund size class).

    >>> df = pd.DataFrame({"kind": ["cluster", "fund", "organisation"],
    ...                    "fund_size_rmb_bn": [None, 5.0, None],
    ...                    "designated": [False, False, True]})
    >>> symbol_codes(df).tolist()
    [0, 97, 11]
    """
    # Vectorised (unique values, then category codes): iterating a million kinds in
    # Python cost a tenth of a filter change's time at 100,000 records.
    kind = frame["kind"]
    positions = pd.Index(list(KIND_CODES)).get_indexer(kind)
    if (positions < 0).any():
        unknown = {str(k) for k in kind.dropna().unique()} - set(KIND_CODES)
        if unknown:
            raise ValueError(f"unknown layer(s) {sorted(unknown)}; expected any of {list(KINDS)}")
        raise ValueError(f"a record has no layer; expected any of {list(KINDS)}")
    codes = np.fromiter(KIND_CODES.values(), dtype=np.uint8)[positions]
    if "designated" in frame.columns:
        on_list = frame["designated"].fillna(False).astype(bool).to_numpy()
        codes = codes | np.where(on_list, DESIGNATED_BIT, 0).astype(np.uint8)
    if "fund_size_rmb_bn" in frame.columns:
        sizes = pd.to_numeric(frame["fund_size_rmb_bn"], errors="coerce").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            c = 1 + np.floor(np.log2(np.maximum(sizes, FUND_CLASS_BASE_BN) / FUND_CLASS_BASE_BN)
                             + 1e-9)
        c = np.where(np.isfinite(c) & (sizes > 0), np.clip(c, 1, 15), 0).astype(np.uint8)
        is_fund = positions == KIND_CODES["fund"]
        codes = codes | np.where(is_fund, c << FUND_CLASS_SHIFT, 0).astype(np.uint8)
    return codes


def encode_points(
    lon: Sequence[float] | np.ndarray,
    lat: Sequence[float] | np.ndarray,
    codes: Sequence[int] | np.ndarray,
    rows: Sequence[int] | np.ndarray | None = None,
) -> PointBlock:
    """Points as a :class:`PointBlock`, sorted by record index, undrawable ones left out.

    ``rows`` default to ``0 .. n-1``. Raises ``ValueError`` when the arrays
    differ in length, a code does not fit a byte or a row index is negative,
    repeated or beyond Uint32.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    codes_in = np.asarray(codes)
    rows_in = np.arange(lon.size) if rows is None else np.asarray(rows)
    if not lon.size == lat.size == codes_in.size == rows_in.size:
        raise ValueError(f"lon, lat, codes and rows differ in length: "
                         f"{lon.size}, {lat.size}, {codes_in.size}, {rows_in.size}")
    if codes_in.size and (codes_in.min() < 0 or codes_in.max() > 255):
        raise ValueError("a symbol code does not fit a byte (0-255)")
    if rows_in.size and (rows_in.min() < 0 or rows_in.max() > np.iinfo(np.uint32).max):
        raise ValueError("a record index is negative or beyond Uint32")
    keep = np.isfinite(lon) & np.isfinite(lat)
    order = np.argsort(rows_in[keep], kind="stable")
    rows_out = rows_in[keep][order].astype(np.uint32)
    if rows_out.size > 1 and (np.diff(rows_out.astype(np.int64)) == 0).any():
        raise ValueError("a record index is repeated")
    return PointBlock(
        lon=lon[keep][order], lat=lat[keep][order],
        codes=codes_in[keep][order].astype(np.uint8), rows=rows_out,
    )


def encode_frame(selected: pd.DataFrame, rows: Sequence[int] | np.ndarray) -> PointBlock:
    """The records of ``selected`` as points; ``rows`` are their record indexes.

    ``rows`` are the positions the server resolves a click with (for the
    dashboard: each record's position in the whole atlas frame).
    """
    return encode_points(selected["lon"].to_numpy(dtype=float),
                         selected["lat"].to_numpy(dtype=float), symbol_codes(selected), rows)


def encode_arrow(table: Any, rows_column: str = "_row") -> PointBlock:
    """Points from a DuckDB/Arrow result with ``lon``, ``lat``, ``kind`` and ``rows_column``.

    ``fund_size_rmb_bn`` and ``designated`` are used when present. For a
    store query: ``store.sql("SELECT _row, lon, lat, kind, fund_size_rmb_bn
    FROM idx WHERE ...")`` (a pandas frame works too).
    """
    df = table.to_pandas() if hasattr(table, "to_pandas") else pd.DataFrame(table)
    return encode_points(df["lon"].to_numpy(dtype=float), df["lat"].to_numpy(dtype=float),
                         symbol_codes(df), df[rows_column].to_numpy())


def _varint(values: np.ndarray) -> bytes:
    """Unsigned LEB128 of each value, vectorised (7 bits a byte, high bit: more follows)."""
    v = values.astype(np.uint64)
    nbytes = np.ones(v.size, dtype=np.int64)
    for k in (7, 14, 21, 28):
        nbytes += v >= (1 << k)
    out = np.zeros(int(nbytes.sum()), dtype=np.uint8)
    starts = np.cumsum(nbytes) - nbytes
    for j in range(5):
        has = nbytes > j
        if not has.any():
            break
        byte = ((v[has] >> np.uint64(7 * j)) & np.uint64(0x7F)).astype(np.uint8)
        byte |= np.where(nbytes[has] > j + 1, 0x80, 0).astype(np.uint8)
        out[starts[has] + j] = byte
    return out.tobytes()


def _unvarint(buf: bytes, count: int) -> np.ndarray:
    out = np.zeros(count, dtype=np.uint64)
    pos = 0
    for i in range(count):
        shift, value = 0, 0
        while True:
            b = buf[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        out[i] = value
    return out


def _index_bytes(rows: np.ndarray) -> tuple[str, int, bytes]:
    """(coding, base, bytes) of the ascending record indexes: the smaller coding wins."""
    if rows.size == 0:
        return INDEX_VARINT, 0, b""
    base = int(rows[0])
    rel = rows.astype(np.int64) - base
    gaps = np.diff(rel, prepend=0)
    varint = _varint(gaps)
    span = int(rel[-1]) + 1
    if (span + 7) // 8 < len(varint):
        bits = np.zeros(span, dtype=bool)
        bits[rel] = True
        return INDEX_BITMASK, base, np.packbits(bits, bitorder="little").tobytes()
    return INDEX_VARINT, base, varint


def _coord_bytes(values: np.ndarray) -> tuple[bytes, float, float]:
    """(3-byte little-endian steps, origin, step) of coordinates in degrees."""
    if values.size == 0:
        return b"", 0.0, 0.0
    lo, hi = float(values.min()), float(values.max())
    step = (hi - lo) / _COORD_MAX
    steps = (np.zeros(values.size, dtype=np.uint32) if step == 0
             else np.rint((values - lo) / step).astype(np.uint32))
    return steps.astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes(), lo, step


def _coords(buf: bytes, offset: int, n: int, origin: float, step: float) -> np.ndarray:
    b = np.frombuffer(buf, dtype=np.uint8, count=3 * n, offset=offset).reshape(n, 3)
    steps = b[:, 0].astype(np.uint32) | (b[:, 1].astype(np.uint32) << 8) | (
        b[:, 2].astype(np.uint32) << 16)
    return origin + steps * step


def _pack(block: PointBlock) -> tuple[bytes, dict[str, Any]]:
    n = len(block)
    coding, base, index = _index_bytes(block.rows)
    lon, lon0, lon_step = _coord_bytes(np.asarray(block.lon, dtype=np.float64))
    lat, lat0, lat_step = _coord_bytes(np.asarray(block.lat, dtype=np.float64))
    parts = [lon, lat, block.codes.tobytes(), index]
    layout = {"v": FORMAT_VERSION, "n": n, "index": coding, "base": base,
              "lon": 0, "lat": 3 * n, "code": 6 * n, "rows": 7 * n, "rows_len": len(index),
              "lon0": lon0, "lon_step": lon_step, "lat0": lat0, "lat_step": lat_step}
    return b"".join(parts), layout


def decode_payload(payload: dict[str, Any]) -> PointBlock:
    """The inverse of :meth:`PointBlock.payload` (what the browser does, for tests and tools)."""
    if payload.get("v") != FORMAT_VERSION:
        raise ValueError(f"point payload version {payload.get('v')!r}, expected {FORMAT_VERSION}")
    buf = base64.b64decode(payload["data"])
    n = int(payload["n"])
    lon = _coords(buf, payload["lon"], n, payload["lon0"], payload["lon_step"])
    lat = _coords(buf, payload["lat"], n, payload["lat0"], payload["lat_step"])
    codes = np.frombuffer(buf, dtype=np.uint8, count=n, offset=payload["code"])
    index = buf[payload["rows"]: payload["rows"] + payload["rows_len"]]
    if payload["index"] == INDEX_BITMASK:
        bits = np.unpackbits(np.frombuffer(index, dtype=np.uint8), bitorder="little")
        rel = np.flatnonzero(bits)[:n]
    else:
        rel = np.cumsum(_unvarint(index, n)) if n else np.zeros(0, dtype=np.uint64)
    rows = (rel.astype(np.int64) + int(payload["base"])).astype(np.uint32)
    return PointBlock(lon=lon, lat=lat, codes=codes.astype(np.uint8), rows=rows)


def selection_payload(
    frame: pd.DataFrame, selected: pd.DataFrame, selected_id: str | None = None
) -> dict[str, Any]:
    """The canvas layer's payload for ``selected``, a row subset of ``frame``.

    Record indexes are positions in ``frame`` (what a click sends back, see
    :func:`geodata.render.mapevents.row_record_id`); ``selected_row`` is the index of
    ``selected_id`` when it is drawn, so the layer rings it.

    >>> df = pd.DataFrame({"id": ["a", "b", "c"], "kind": ["cluster"] * 3,
    ...                    "lon": [100.0, 101.0, 102.0], "lat": [30.0, None, 31.0]})
    >>> p = selection_payload(df, df.iloc[1:], "c")
    >>> p["n"], p["selected_row"]
    (1, 2)
    """
    rows = frame.index.get_indexer(selected.index)
    if (rows < 0).any():
        raise ValueError("the selection holds rows that are not in the frame")
    payload = encode_frame(selected, rows).payload()
    selected_row = None
    if selected_id is not None:
        hit = np.flatnonzero((selected["id"] == selected_id).to_numpy()
                             & selected["lat"].notna().to_numpy()
                             & selected["lon"].notna().to_numpy())
        selected_row = int(rows[hit[0]]) if hit.size else None
    payload["selected_row"] = selected_row
    return payload
