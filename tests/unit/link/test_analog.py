"""Analog (JSCC) symbols through the awgn and rayleigh links (PVSC eqs. 1–4), with digital side PDUs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tokcom.errors import InputError
from tokcom.link.analog import check_symbols, theory_post_eq_snr_db
from tokcom.link.base import build_link
from tokcom.pipeline import simulate
from tokcom.schemes.base import Scheme
from tokcom.types import Decoded, FrameMapBuilder, Packet, Rate, StreamInfo, Transmission, Video

pytest.importorskip("sionna")
INFO = StreamInfo(4, 16, 16, 25.0)


def _unit(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
    return (x / np.sqrt(np.mean(np.abs(x) ** 2))).astype(np.complex64)


@pytest.mark.parametrize(("name", "opts", "fading", "nmse"), [
    ("awgn", {"snr_db": 6.0}, False, None),
    ("awgn", {"snr_db": -3.0}, False, None),
    ("rayleigh", {"snr_db": 10.0, "csi_nmse_db": -20.0, "equalizer": "zf"}, True, -20.0),
    ("rayleigh", {"snr_db": 10.0, "csi_nmse_db": -20.0, "equalizer": "zf", "coherence_channel_uses": 64}, True, -20.0),
])
def test_post_equalisation_snr_matches_theory(name, opts, fading, nmse):
    x = _unit(100_000)
    rx = build_link(name, opts).carry(Transmission(INFO, symbols=x), np.random.default_rng(1))
    assert rx.symbols.shape == x.shape and rx.symbols.dtype == np.complex64
    measured = rx.report.post_eq_snr_db
    assert abs(measured - theory_post_eq_snr_db(opts["snr_db"], nmse, fading)) < 0.2, measured
    assert rx.channel_uses == x.size and rx.report.analog_symbols == x.size


def test_symbols_and_pdus_together_count_both_and_are_deterministic():
    link = build_link("rayleigh", {"snr_db": 4.0, "csi_nmse_db": -15.0})
    pk = tuple(Packet(bytes(100), "side", i) for i in range(3))
    tx = Transmission(INFO, pk, symbols=_unit(5000))
    a = link.carry(tx, np.random.default_rng(7))
    b = link.carry(tx, np.random.default_rng(7))
    pdu_uses = sum(link.packet_channel_uses(p) for p in pk)
    assert a.channel_uses == pdu_uses + 5000 == a.report.channel_uses
    np.testing.assert_array_equal(a.symbols, b.symbols)
    assert [p is None for p in a.packets] == [p is None for p in b.packets]


@pytest.mark.parametrize(("bad", "match"), [
    (np.array([1 + 1j, np.nan], np.complex64), "NaN"),
    (np.array([np.inf, 0], np.complex64), "NaN or inf"),
    (np.full(10, 3.0 + 0j, np.complex64), "power"),
    (np.zeros((2, 2), np.complex64), "1-D"),
    (np.array([1, 2], np.int32), "complex"),
])
def test_bad_symbols_are_one_line_errors(bad, match):
    with pytest.raises(InputError, match=match) as e:
        check_symbols(bad)
    assert "\n" not in str(e.value)
    with pytest.raises(InputError):
        build_link("awgn").carry(Transmission(INFO, symbols=bad), np.random.default_rng(0))


def test_erasure_rejects_analog_symbols():
    with pytest.raises(InputError, match="PDUs only"):
        build_link("erasure").carry(Transmission(INFO, symbols=_unit(10)), np.random.default_rng(0))


class _Analog(Scheme):
    """A toy analog scheme: each frame's mean colour as symbols, plus one side PDU (for pipeline tests)."""

    name = "toy-analog"

    class Config:
        pass

    def __init__(self, per_frame: int = 64) -> None:
        self.config, self.device, self.per_frame = None, "cpu", per_frame

    def encode(self, video, state, rng):
        t = video.num_frames
        x = _unit(t * self.per_frame, 3) * 0.999
        fm = FrameMapBuilder()
        for k in range(t):
            fm.add_symbols(k, k * self.per_frame, (k + 1) * self.per_frame, packets=[0])
        return Transmission(video.info, (Packet(b"side-info!"),), symbols=x, frame_map=fm.build())

    def decode(self, rx, rng):
        return Decoded(Video(np.zeros((rx.info.num_frames, rx.info.height, rx.info.width, 3), np.uint8), 25.0))

    def describe(self):
        return {}


def test_pipeline_budget_cuts_symbols_and_the_decoded_rule_follows():
    video = Video(np.zeros((4, 16, 16, 3), np.uint8), 25.0)
    link = build_link("awgn", {"snr_db": 6.0})
    full = simulate(_Analog(), video, link, 0, rate=Rate(cbr=1.0), metrics=["psnr"])
    assert full.frames_decoded == 4 and not full.over_budget
    side = link.packet_channel_uses(Packet(b"side-info!"))
    budget_cbr = (side + 2 * 64 + 10) / video.info.num_samples  # side PDU + two frames' symbols (+10)
    cut = simulate(_Analog(), video, link, 0, rate=Rate(cbr=budget_cbr), metrics=["psnr"])
    assert cut.over_budget and cut.channel_uses <= cut.channel_use_budget
    assert cut.frames_decoded == 2 and cut.frame_share[:2] == (1.0, 1.0) and cut.frame_share[3] == 0.0
    assert math.isclose(cut.frame_share[2], 0.0) or cut.frame_share[2] < 0.5
