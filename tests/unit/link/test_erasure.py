"""tokcom.link.erasure.ErasureLink: i.i.d. PDU losses, seeding, channel-use accounting, state budgets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tokcom.errors import InputError
from tokcom.link.base import build_link, channel_use_budget
from tokcom.link.erasure import ErasureConfig, ErasureLink
from tokcom.registry import LINKS
from tokcom.types import Packet, Rate, Reception, StreamInfo, Transmission

INFO = StreamInfo(num_frames=8, height=32, width=48, fps=25.0)


def _tx(n=100, nbytes=30, info=INFO):
    return Transmission(info, tuple(Packet(bytes([i % 256]) * nbytes, "video", i) for i in range(n)))


def test_registered():
    assert LINKS.get("erasure") is ErasureLink
    link = build_link("erasure", {"pdu_loss": "0.25"})
    assert link.config == ErasureConfig(pdu_loss=0.25)
    assert link.describe() == {"channel": "erasure", "pdu_loss": 0.25, "bits_per_channel_use": 1.0}


def test_no_loss_delivers_everything_intact():
    tx = _tx(200)
    rx = ErasureLink(pdu_loss=0.0).carry(tx, np.random.default_rng(0))
    assert isinstance(rx, Reception) and rx.info == tx.info
    assert rx.packets == tx.packets and rx.num_lost == 0
    assert (rx.report.pdus_lost, rx.report.pdus_sent) == (0, 200)


def test_full_loss_loses_everything():
    tx = _tx(200)
    rx = ErasureLink(pdu_loss=1.0).carry(tx, np.random.default_rng(0))
    assert rx.packets == (None,) * 200 and rx.num_lost == 200
    assert rx.report.pdus_lost == 200
    # channel uses are spent even for PDUs that are lost
    assert rx.channel_uses == 200 * 240


@pytest.mark.parametrize("p", [0.05, 0.3, 0.7])
def test_loss_rate_statistics(p):
    n = 20_000
    tx = _tx(n, 1)
    rx = ErasureLink(pdu_loss=p).carry(tx, np.random.default_rng(1))
    frac = rx.num_lost / n
    assert abs(frac - p) < 5 * math.sqrt(p * (1 - p) / n)  # 5 σ
    lost = np.array([q is None for q in rx.packets])
    # independence: the loss rate right after a loss is the same p (no bursts)
    after = lost[1:][lost[:-1]].mean()
    assert abs(after - p) < 5 * math.sqrt(p * (1 - p) / lost[:-1].sum())
    # the delivered packets are the very packets sent, at their own positions
    assert all(q is None or q is sent for q, sent in zip(rx.packets, tx.packets))
    assert (rx.report.pdus_lost, rx.report.pdus_sent) == (int(lost.sum()), n)


def test_same_seed_same_pattern_other_seed_differs():
    tx = _tx(500)
    link = ErasureLink(pdu_loss=0.3)
    a = link.carry(tx, np.random.default_rng(42))
    b = link.carry(tx, np.random.default_rng(42))
    c = link.carry(tx, np.random.default_rng(43))
    pat = lambda r: [p is None for p in r.packets]
    assert pat(a) == pat(b)
    assert pat(a) != pat(c)


def test_rng_is_the_only_randomness():
    tx = _tx(300)
    rng = np.random.default_rng(5)
    first = ErasureLink(pdu_loss=0.5).carry(tx, rng)
    second = ErasureLink(pdu_loss=0.5).carry(tx, rng)  # the generator advanced: a new pattern
    assert [p is None for p in first.packets] != [p is None for p in second.packets]


@pytest.mark.parametrize("bpcu", [1.0, 1.5, 0.7, 4.0, 3.3])
def test_channel_use_accounting(bpcu):
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 200, 60)
    packets = [Packet(bytes(int(s)), "video", i, num_bits=int(rng.integers(0, 8 * s + 1)))
               for i, s in enumerate(sizes)]
    tx = Transmission(INFO, tuple(packets))
    rx = ErasureLink(pdu_loss=0.4, bits_per_channel_use=bpcu).carry(tx, np.random.default_rng(0))
    assert rx.channel_uses == sum(math.ceil(p.num_bits / bpcu) for p in packets)
    assert isinstance(rx.channel_uses, int)
    assert rx.channel_uses >= tx.source_bits / bpcu


def test_empty_transmission():
    rx = ErasureLink(pdu_loss=0.5).carry(Transmission(INFO), np.random.default_rng(0))
    assert rx.packets == () and rx.channel_uses == 0 and rx.report.pdus_sent == 0


def test_analog_symbols_rejected():
    tx = Transmission(INFO, symbols=np.zeros(16, np.complex64))
    with pytest.raises(InputError, match="analog"):
        ErasureLink().carry(tx, np.random.default_rng(0))


@pytest.mark.parametrize("bad", [-0.1, 1.01, float("nan"), "lots", float("inf")])
def test_invalid_pdu_loss(bad):
    with pytest.raises(InputError):
        ErasureLink(pdu_loss=bad)


@pytest.mark.parametrize("bad", [0, -1.0, float("inf")])
def test_invalid_bits_per_channel_use(bad):
    with pytest.raises(InputError):
        ErasureLink(bits_per_channel_use=bad)


def test_unknown_option():
    with pytest.raises(InputError, match="pdu-loss"):
        build_link("erasure", {"snr_db": 3.0})


@pytest.mark.parametrize("bpcu", [1.0, 2.5])
def test_state_budgets(bpcu):
    link = ErasureLink(pdu_loss=0.2, bits_per_channel_use=bpcu)
    n_samples = 8 * 32 * 48 * 3
    duration = 8 / 25.0

    st = link.state(INFO)
    assert st.channel_use_budget is None and st.source_bit_budget is None
    assert st.pdu_loss == 0.2 and st.bits_per_channel_use == bpcu and st.snr_db is None and st.mcs is None
    assert st.duration_s == pytest.approx(duration) and st.bandwidth_hz is None

    st = link.state(INFO, Rate(cbr=0.01))
    assert st.channel_use_budget == math.floor(0.01 * n_samples)
    assert st.channel_use_budget == channel_use_budget(INFO, Rate(cbr=0.01), bpcu)
    assert st.source_bit_budget == math.floor(st.channel_use_budget * bpcu)

    st = link.state(INFO, Rate(bandwidth_hz=1e5))
    assert st.channel_use_budget == math.floor(1e5 * duration) == 32000
    assert st.bandwidth_hz == 1e5

    st = link.state(INFO, Rate(bitrate_bps=1e6))
    assert st.channel_use_budget == math.ceil(1e6 * duration / bpcu)
    # a bitrate budget converts back to at least the asked bits
    assert st.source_bit_budget >= 1e6 * duration - 1e-6


def test_channel_use_budget_function():
    assert channel_use_budget(INFO, Rate(), 1.0) is None
    assert channel_use_budget(INFO, Rate(bitrate_bps=1e5), None) is None
    assert channel_use_budget(INFO, Rate(cbr=1 / 36864), 1.0) == 1
    assert channel_use_budget(INFO, Rate(bitrate_bps=1000.0), 3.0) == math.ceil(1000 * 0.32 / 3)
