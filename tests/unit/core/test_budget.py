"""The one budget rule (accounting.enforce_budget) and the one decoded-frame rule (FrameMap shares)."""

from __future__ import annotations

import numpy as np
import pytest

from tokcom.errors import InputError
from tokcom.link.accounting import channel_use_budget, enforce_budget
from tokcom.types import DECODED_SHARE, FrameMap, FrameMapBuilder, Rate, StreamInfo, decoded_frames, is_valid


def test_everything_goes_without_a_budget_or_when_it_fits():
    d = enforce_budget([10, 20, 30], [0, 0, 0], None, num_symbols=5)
    assert d.sent.all() and d.symbols_sent == 5 and d.channel_uses == 65 and not d.over_budget
    d = enforce_budget([10, 20, 30], [0, 0, 0], 60)
    assert d.sent.all() and d.channel_uses == d.channel_uses_requested == 60 and not d.over_budget


def test_sends_in_priority_order_and_stops_at_the_first_that_does_not_fit():
    # priorities: side (2) first, intended (1), then non-intended (0); ties in sending order
    uses = [5, 40, 40, 30, 10, 10]
    prio = [2, 1, 1, 0, 0, 0]
    d = enforce_budget(uses, prio, 100)
    assert d.sent.tolist() == [True, True, True, False, False, False]  # 85 used; the 30 does not fit → stop
    assert d.channel_uses == 85 and d.channel_uses_requested == 135 and d.over_budget
    assert d.num_unsent == 3
    d = enforce_budget([10, 10, 10], [0, 0, 0], 25)
    assert d.sent.tolist() == [True, True, False]  # equal priorities: the later PDUs go first


def test_zero_budget_sends_nothing_and_negative_is_an_error():
    d = enforce_budget([1, 1], [0, 0], 0, num_symbols=3)
    assert not d.sent.any() and d.symbols_sent == 0 and d.channel_uses == 0 and d.over_budget
    with pytest.raises(InputError):
        enforce_budget([1], [0], -1)


def test_symbols_get_what_the_pdus_leave():
    d = enforce_budget([10, 10], [0, 0], 50, num_symbols=100)
    assert d.sent.all() and d.symbols_sent == 30 and d.channel_uses == 50


def test_budget_from_each_rate_kind():
    info = StreamInfo(10, 32, 32, 25.0)
    assert channel_use_budget(info, Rate(cbr=0.01), 1.0) == int(0.01 * info.num_samples)
    assert channel_use_budget(info, Rate(bandwidth_hz=1000.0), 1.0) == 400
    assert channel_use_budget(info, Rate(bitrate_bps=2500.0), 2.0) == 500
    assert channel_use_budget(info, Rate(), 1.0) is None


def test_frame_map_shares_need_every_packet_of_an_entry():
    fm = FrameMapBuilder()
    fm.add(0, 800, [0])          # frame 0: one PDU
    fm.add(1, 600, [1, 2])       # frame 1: a NAL unit over PDUs 1 and 2
    fm.add(1, 200, [3])          # … and a small one in PDU 3
    fm.add(2, 0, [3])            # zero bits: skipped
    m = fm.build()
    assert m.num_entries == 3
    s = m.shares(4, np.array([True, True, False, True]))
    assert s.tolist() == [1.0, 0.25, 0.0, 0.0]  # frames 2 and 3: nothing was sent for them → 0
    assert decoded_frames(s).tolist() == [True, False, False, False]
    assert decoded_frames([DECODED_SHARE, DECODED_SHARE - 1e-3]).tolist() == [True, False]


def test_frame_map_rejects_inconsistent_arrays_and_empty_entries():
    with pytest.raises(ValueError):
        FrameMap(np.array([0]), np.array([8]), np.array([0, 0]), np.array([], np.int32))
    with pytest.raises(ValueError):
        FrameMapBuilder().add(0, 8, [])
    assert FrameMapBuilder().build().shares(3, np.zeros(0, bool)).tolist() == [0.0, 0.0, 0.0]


def test_valid_is_85_percent_of_frames():
    assert is_valid(17, 20) and not is_valid(16, 20) and is_valid(1, 1) and not is_valid(0, 1)
