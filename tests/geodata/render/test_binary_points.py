"""The packed point encoding the canvas map layer decodes (geodata.render.binary)."""

from __future__ import annotations

import base64

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.render.binary import (
    DESIGNATED_BIT,
    FUND_CLASS_SHIFT,
    INDEX_BITMASK,
    INDEX_VARINT,
    KIND_CODES,
    decode_payload,
    encode_frame,
    encode_points,
    fund_size_class,
    symbol_codes,
)


def _random_points(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    return (rng.uniform(73, 135, n), rng.uniform(18, 54, n), rng.integers(0, 256, n))


@settings(max_examples=60, deadline=None)
@given(rows=st.sets(st.integers(0, 2**32 - 1), max_size=300), seed=st.integers(0, 99))
def test_round_trip_keeps_every_point_and_its_record_index(rows, seed):
    rows = np.array(sorted(rows), dtype=np.int64)
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(rows.size)
    lon, lat, codes = _random_points(rows.size, seed)
    block = encode_points(lon[shuffled], lat[shuffled], codes[shuffled], rows[shuffled])
    back = decode_payload(block.payload())
    assert back.rows.dtype == np.uint32
    assert back.rows.tolist() == rows.tolist()  # sorted by record index
    # Within half a 24-bit step of the points' extent (at most 62 / 2**25 degrees).
    half_step = 62 / (2**24 - 1) / 2 + 1e-12
    order = np.argsort(rows[shuffled], kind="stable")
    assert np.abs(back.lon - lon[shuffled][order]).max(initial=0) <= half_step
    assert np.abs(back.lat - lat[shuffled][order]).max(initial=0) <= half_step
    np.testing.assert_array_equal(back.codes, codes.astype(np.uint8))


def test_24_bit_coordinates_keep_positions_within_half_a_metre():
    lon, lat, codes = _random_points(10_000)
    back = decode_payload(encode_points(lon, lat, codes).payload())
    # 5e-6 degree is about 0.55 m; the extent's corners come back exactly.
    assert np.abs(back.lon - lon).max() < 5e-6
    assert np.abs(back.lat - lat).max() < 5e-6
    assert back.lon.min() == lon.min()
    assert back.lat.max() == lat.max()


def test_points_on_one_spot_come_back_on_that_spot():
    back = decode_payload(encode_points([104.06] * 3, [30.67] * 3, [0, 1, 2]).payload())
    assert back.lon.tolist() == [104.06] * 3
    assert back.lat.tolist() == [30.67] * 3


@pytest.mark.parametrize(("n", "step", "coding", "max_bytes"), [
    (100_000, 1, INDEX_BITMASK, 9.5),     # everything: 7 bytes + 1 bit, as base64
    (100_000, 3, INDEX_BITMASK, 9.84),    # a third of a store: 3 bits of mask each
    (50_000, 100, INDEX_VARINT, 10.67),   # sparse: one varint byte per gap under 128
    (20_000, 1000, INDEX_VARINT, 12.0),   # very sparse: two bytes per gap
])
def test_bytes_on_the_wire_per_record(n, step, coding, max_bytes):
    lon, lat, codes = _random_points(n)
    block = encode_points(lon, lat, codes, np.arange(n) * step)
    payload = block.payload()
    assert payload["index"] == coding
    raw = len(base64.b64decode(payload["data"]))
    assert raw == 7 * n + payload["rows_len"]
    per_record = block.wire_bytes() / n
    assert per_record <= max_bytes <= 16, per_record


def test_empty_selection_is_an_empty_block_that_round_trips():
    block = encode_points([], [], [], [])
    assert len(block) == 0
    assert block.wire_bytes() == 0
    back = decode_payload(block.payload())
    assert len(back) == 0
    assert back.rows.dtype == np.uint32


def test_unplaced_and_non_finite_points_are_left_out():
    lon = [116.4, np.nan, 121.5, np.inf, 100.0]
    lat = [39.9, 30.0, np.nan, 31.0, 25.0]
    block = encode_points(lon, lat, [1, 2, 3, 4, 5], [7, 8, 9, 10, 11])
    assert block.rows.tolist() == [7, 11]
    assert block.codes.tolist() == [1, 5]
    assert decode_payload(block.payload()).rows.tolist() == [7, 11]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lon": [1.0], "lat": [1.0, 2.0], "codes": [0], "rows": [0]}, "differ in length"),
    ({"lon": [1.0], "lat": [1.0], "codes": [256], "rows": [0]}, "fit a byte"),
    ({"lon": [1.0], "lat": [1.0], "codes": [0], "rows": [-1]}, "negative"),
    ({"lon": [1.0, 2.0], "lat": [1.0, 2.0], "codes": [0, 0], "rows": [3, 3]}, "repeated"),
])
def test_bad_input_is_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        encode_points(**kwargs)


def test_decoder_refuses_another_format_version():
    payload = encode_points([1.0], [1.0], [0]).payload()
    with pytest.raises(ValueError, match="version"):
        decode_payload({**payload, "v": 99})


def test_symbol_codes_carry_layer_designation_and_fund_size():
    frame = pd.DataFrame({
        "kind": ["cluster", "fund", "fund", "zone", "organisation", "organisation"],
        "fund_size_rmb_bn": [None, None, 50.0, None, None, None],
        "designated": [False, False, False, False, True, None],
    })
    codes = symbol_codes(frame)
    assert [c & 0b111 for c in codes] == [KIND_CODES[k] for k in frame["kind"]]
    assert [bool(c & DESIGNATED_BIT) for c in codes] == [False] * 4 + [True, False]
    assert codes[1] >> FUND_CLASS_SHIFT == 0  # unknown size
    assert codes[2] >> FUND_CLASS_SHIFT == fund_size_class(50.0) > 0
    with pytest.raises(ValueError, match="unknown layer"):
        symbol_codes(pd.DataFrame({"kind": ["spaceship"]}))
    with pytest.raises(ValueError, match="no layer"):
        symbol_codes(pd.DataFrame({"kind": ["zone", None]}))
    # Arrow-backed text (as read from the store) codes the same as Python objects.
    arrow = frame.astype({"kind": "string[pyarrow]"})
    assert symbol_codes(arrow).tolist() == codes.tolist()


def test_fund_size_classes_double_and_stay_in_four_bits():
    sizes = [0.1 * 2**k for k in range(14)]
    assert [fund_size_class(s) for s in sizes] == list(range(1, 15))
    assert fund_size_class(1e12) == 15
    assert fund_size_class(None) == fund_size_class(float("nan")) == fund_size_class(0) == 0


def test_encode_frame_uses_the_given_record_indexes(sample_frame):
    rows = np.arange(len(sample_frame)) + 1000
    block = encode_frame(sample_frame, rows)
    placed = sample_frame["lat"].notna().to_numpy()
    assert block.rows.tolist() == rows[placed].tolist()
    assert block.codes.tolist() == symbol_codes(sample_frame)[placed].tolist()
