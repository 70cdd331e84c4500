"""tokcom.types: validation and properties of the boundary dataclasses; Result JSON."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from tokcom.errors import InputError
from tokcom.types import (
    Decoded,
    LinkState,
    Mcs,
    Packet,
    Rate,
    Reception,
    Result,
    StreamInfo,
    Transmission,
    Video,
)


def _frames(t=4, h=6, w=10):
    return np.random.default_rng(0).integers(0, 256, (t, h, w, 3), dtype=np.uint8)


# --------------------------------------------------------------------------------------------- Video


def test_video_properties():
    v = Video(_frames(), 25, source="clip.mp4", start=3)
    assert (v.num_frames, v.height, v.width) == (4, 6, 10)
    assert v.fps == 25.0 and isinstance(v.fps, float)
    assert v.duration_s == pytest.approx(0.16)
    assert v.num_pixels == 4 * 6 * 10
    assert v.info == StreamInfo(4, 6, 10, 25.0)
    assert v.info.num_samples == 3 * v.num_pixels
    assert v.info.duration_s == v.duration_s
    w = v.with_frames(np.zeros((4, 6, 10, 3), np.uint8))
    assert (w.fps, w.source, w.start) == (25.0, "clip.mp4", 3) and w.frames.sum() == 0


@pytest.mark.parametrize("frames", [
    np.zeros((2, 4, 4, 3), np.float32), np.zeros((2, 4, 4, 3), np.uint16), np.zeros((2, 4, 4, 3), np.int8),
    np.zeros((4, 4, 3), np.uint8), np.zeros((1, 2, 4, 4, 3), np.uint8), np.zeros((2, 4, 4, 4), np.uint8),
    np.zeros((2, 4, 4, 1), np.uint8), np.zeros((0, 4, 4, 3), np.uint8), np.zeros((2, 0, 4, 3), np.uint8),
    np.zeros((2, 4, 0, 3), np.uint8),
])
def test_video_rejects_bad_frames(frames):
    with pytest.raises(InputError):
        Video(frames, 25.0)


@pytest.mark.parametrize("fps", [0, -1, float("nan"), float("inf"), -float("inf")])
def test_video_rejects_bad_fps(fps):
    with pytest.raises(InputError, match="fps"):
        Video(_frames(), fps)


def test_video_frames_read_only_and_frozen():
    src = _frames()
    v = Video(src, 10.0)
    with pytest.raises(ValueError):
        v.frames[0, 0, 0, 0] = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.fps = 5.0  # type: ignore[misc]
    assert src.flags.writeable  # the caller's array is left alone
    ro = src.copy()
    ro.flags.writeable = False
    assert not Video(ro, 10.0).frames.flags.writeable
    np.testing.assert_array_equal(Video(ro, 10.0).frames, ro)


def test_video_array_likes():
    assert Video(np.array([[[[1, 2, 3]]]], np.uint8), 1).frames.shape == (1, 1, 1, 3)
    with pytest.raises(InputError, match="uint8"):
        Video([[[[1, 2, 3]]]], 1)  # a nested list is int64, not uint8


# --------------------------------------------------------------------------------------------- Packet


def test_packet_defaults():
    p = Packet(bytearray(b"abcd"))
    assert p.payload == b"abcd" and type(p.payload) is bytes
    assert p.num_bits == 32 and p.stream == "video" and p.seq == 0 and p.mcs is None
    assert Packet(b"").num_bits == 0
    assert Packet(b"ab", num_bits=9).num_bits == 9
    assert Packet(b"ab", num_bits=0).num_bits == 0
    assert Packet(b"ab", num_bits=16).num_bits == 16


@pytest.mark.parametrize("nbits", [17, -1, 100])
def test_packet_num_bits_validation(nbits):
    with pytest.raises(ValueError):
        Packet(b"ab", num_bits=nbits)


def test_packet_hashable_equal():
    assert Packet(b"x", "side", 3) == Packet(bytearray(b"x"), "side", 3)
    assert len({Packet(b"x"), Packet(b"x")}) == 1


def test_transmission_and_reception():
    info = StreamInfo(2, 4, 4, 25.0)
    tx = Transmission(info, [Packet(b"ab"), Packet(b"abc", num_bits=20)])
    assert isinstance(tx.packets, tuple) and tx.source_bits == 36
    rx = Reception(info, [tx.packets[0], None])
    assert isinstance(rx.packets, tuple) and rx.num_lost == 1
    assert Reception(info).num_lost == 0 and Transmission(info).source_bits == 0


def test_decoded():
    v = Video(_frames(), 25.0)
    d = Decoded(v, 3)
    assert d.video is v and d.frames_decoded == 3 and d.report is None


def test_mcs():
    m = Mcs(4, 0.5, index=9, table=1)
    assert m.spectral_efficiency == 2.0 and m.modulation == "16QAM"
    assert Mcs(2, 0.3).modulation == "QPSK" and Mcs(8, 0.9).modulation == "256QAM"
    assert Mcs(12, 0.5).modulation == "4096QAM"


# ------------------------------------------------------------------------------------------ Rate, LinkState


def test_rate_exclusive_and_positive():
    assert not Rate().given
    assert Rate(cbr=0.01).given and Rate(bitrate_bps=1e5).given and Rate(bandwidth_hz=1e6).given
    for kw in ({"cbr": 0.1, "bitrate_bps": 1e5}, {"cbr": 0.1, "bandwidth_hz": 1.0},
               {"bitrate_bps": 1.0, "bandwidth_hz": 1.0},
               {"cbr": 0.1, "bitrate_bps": 1.0, "bandwidth_hz": 1.0}):
        with pytest.raises(InputError, match="at most one"):
            Rate(**kw)
    for kw in ({"cbr": 0}, {"cbr": -0.1}, {"bitrate_bps": float("nan")}, {"bandwidth_hz": float("inf")},
               {"bitrate_bps": -5.0}):
        with pytest.raises(InputError, match="positive"):
            Rate(**kw)


def test_link_state_source_bit_budget():
    assert LinkState().source_bit_budget is None
    assert LinkState(channel_use_budget=100).source_bit_budget is None
    assert LinkState(bits_per_channel_use=2.0).source_bit_budget is None
    assert LinkState(channel_use_budget=100, bits_per_channel_use=2.5).source_bit_budget == 250
    assert LinkState(channel_use_budget=3, bits_per_channel_use=0.7).source_bit_budget == 2  # floor(2.1)
    assert LinkState(channel_use_budget=0, bits_per_channel_use=4.0).source_bit_budget == 0
    assert isinstance(LinkState(channel_use_budget=7, bits_per_channel_use=1.5).source_bit_budget, int)


# --------------------------------------------------------------------------------------------- Result


def _result(**over) -> Result:
    kw = {"scheme": "h265", "input": "bikes.mp4", "frames": 8, "width": 64, "height": 48, "fps": 25.0,
          "seed": 3, "config": {"scheme": {"preset": "medium"}},
          "link": {"channel": "erasure", "pdu_loss": 0.1},
          "source_bits": 1000, "channel_uses": 1000, "cbr": 0.01, "bpp": 0.04, "bitrate_bps": 1e5,
          "packets": {"sent": 4, "lost": 1}, "frames_decoded": 8, "valid": True,
          "metrics": {"psnr": 31.5, "ssim": 0.9}, "timing": {"encode_s": 0.1},
          "scheme_report": {"pdus": 4}, "versions": {"tokcom": "0.1.0"}}
    kw.update(over)
    return Result(**kw)


def test_result_to_dict_drops_empty_metrics_unavailable():
    d = _result().to_dict()
    assert "metrics_unavailable" not in d
    d2 = _result(metrics_unavailable={"lpips": "weights missing"}).to_dict()
    assert d2["metrics_unavailable"] == {"lpips": "weights missing"}


def test_result_non_finite_become_null():
    r = _result(metrics={"psnr": float("inf"), "ssim": float("nan"), "x": np.float32(0.5)},
                cbr=float("nan"), scheme_report={"v": [1.0, float("-inf")], "a": np.array([1, 2]),
                                                 "t": (np.int64(3),)})
    d = r.to_dict()
    assert d["metrics"] == {"psnr": None, "ssim": None, "x": 0.5}
    assert d["cbr"] is None
    assert d["scheme_report"] == {"v": [1.0, None], "a": [1, 2], "t": [3]}
    s = r.to_json()  # allow_nan=False: would raise if anything non-finite slipped through
    assert "NaN" not in s and "Infinity" not in s
    assert json.loads(s)["metrics"]["psnr"] is None
    assert type(d["metrics"]["x"]) is float and type(d["scheme_report"]["t"][0]) is int


def test_result_round_trip():
    r = _result(metrics_unavailable={"fvd": "needs 16 frames"})
    back = Result.from_dict(json.loads(r.to_json()))
    assert back == r
    r2 = _result()
    assert Result.from_dict(r2.to_dict()) == r2
    # unknown keys (written by a newer version) are ignored
    assert Result.from_dict({**r2.to_dict(), "future_field": 1}) == r2


def test_result_from_dict_missing_field_fails():
    d = _result().to_dict()
    d.pop("seed")
    with pytest.raises(TypeError):
        Result.from_dict(d)


def test_result_json_indent():
    s = _result().to_json(indent=None)
    assert "\n" not in s
    assert math.isclose(json.loads(s)["bpp"], 0.04)
