"""Integer tables and the range-coded stream format (numpy + constriction only)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("constriction")

from tokcom.entropy.stream import MAX_ABS_VALUE, StreamReader, StreamWriter, stream_key
from tokcom.entropy.tables import (
    PRECISION_BITS,
    QuantizedTables,
    gaussian_tables,
    quantize_pmf,
    scale_indexes,
    scale_table,
)


def test_quantize_pmf_sums_floors_and_is_deterministic():
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(7, 0.3), size=500)
    p[0] = 0.0  # all-zero row → uniform
    p[1, 3] = np.nan  # non-finite entries count as 0
    c = quantize_pmf(p)
    assert c.dtype == np.float64 and np.all(c == np.round(c))
    assert np.all(c >= 1) and np.all(c.sum(-1) == 2**PRECISION_BITS)
    assert np.all(np.abs(np.diff(c[0])) <= 1)
    assert np.array_equal(c, quantize_pmf(p.copy()))
    err = np.abs(c[2:] / 2**PRECISION_BITS - p[2:]).max()
    assert err < 1e-5


def test_scale_indexes_pick_the_log_nearest_sigma():
    table = scale_table()
    assert len(table) == 64 and table[0] == pytest.approx(0.11) and table[-1] == pytest.approx(256.0)
    s = np.array([0.01, 0.11, 256.0, 1e9, np.nan, np.inf, -3.0])
    assert scale_indexes(s, table).tolist() == [0, 0, 63, 63, 63, 63, 0]
    rng = np.random.default_rng(1)
    s = np.exp(rng.uniform(np.log(0.11), np.log(256.0), 1000))
    idx = scale_indexes(s, table)
    best = np.abs(np.log(s)[:, None] - np.log(table)[None]).argmin(1)
    assert np.array_equal(idx, best)


def test_indexed_segment_round_trips_extreme_values_through_escapes():
    tables = gaussian_tables(scale_table())
    rng = np.random.default_rng(2)
    n = 3000
    idx = rng.integers(0, len(tables), n)
    v = np.round(rng.normal(0, 3, n)).astype(np.int64)
    v[:40] = rng.integers(-MAX_ABS_VALUE, MAX_ABS_VALUE + 1, 40)
    v[40:44] = [MAX_ABS_VALUE, -MAX_ABS_VALUE, 2**16 + 5, -(2**17)]
    w = StreamWriter()
    w.indexed(v, idx, tables)
    cats = rng.integers(0, 5, 200)
    counts = quantize_pmf(rng.dirichlet(np.ones(5), size=200))
    w.categorical(cats, counts)
    data = w.finish(stream_key("t", (n,)))
    r = StreamReader(data, stream_key("t", (n,)))
    assert np.array_equal(r.indexed(idx, tables), v)
    assert np.array_equal(r.categorical(counts), cats) and r.ok


def test_reader_flags_wrong_key_and_bad_header():
    tables = QuantizedTables(np.array([-2]), (quantize_pmf(np.array([1, 2, 4, 2, 1, 0.01])),))
    w = StreamWriter()
    w.indexed(np.array([0, 1, -2, 9]), np.zeros(4, dtype=np.int64), tables)
    data = w.finish(stream_key("t", (4,)))
    assert np.array_equal(StreamReader(data, stream_key("t", (4,))).indexed(np.zeros(4), tables), [0, 1, -2, 9])
    assert not StreamReader(data, stream_key("t", (5,))).ok
    assert not StreamReader(b"\x00" + data[1:], stream_key("t", (4,))).ok
    assert not StreamReader(b"", stream_key("t", (4,))).ok
