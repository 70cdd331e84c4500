"""The registered links: state, carry (abstract and bit-true), accounting, UEP, determinism."""

import math

import numpy as np
import pytest

from tokcom.errors import InputError
from tokcom.link import build_link
from tokcom.link.accounting import (
    cbr,
    cbr_to_bitrate,
    deliverable_bits,
    pdu_channel_uses,
    pdu_resource,
    per_token_resource,
    raw_spectral_efficiency,
)
from tokcom.link.adaptation import select_mcs
from tokcom.link.mcs import get_mcs
from tokcom.registry import LINKS
from tokcom.types import Mcs, Packet, Rate, StreamInfo, Transmission

INFO = StreamInfo(num_frames=8, height=64, width=64, fps=25.0)


def _tx(n=50, nbytes=128, stream="video", mcs=None):
    rng = np.random.default_rng(1)
    return Transmission(INFO, tuple(Packet(rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes(), stream, i,
                                           mcs=mcs) for i in range(n)))


@pytest.mark.parametrize("name", ["awgn", "rayleigh"])
def test_registered_and_state(name):
    assert name in LINKS.list()
    link = build_link(name, {"snr_db": 6.0})
    st = link.state(INFO, Rate(cbr=1e-3))
    assert st.mcs is not None and st.mcs.table == 1
    assert st.bits_per_channel_use == pytest.approx(st.mcs.spectral_efficiency)
    assert st.pdu_loss <= 0.002
    assert st.channel_use_budget == math.floor(1e-3 * INFO.num_samples)
    assert link.describe()["channel"] == name


def test_fixed_mcs_overhead_and_errors():
    link = build_link("awgn", {"snr_db": 6.0, "mcs_index": 9, "overhead": 0.85})
    st = link.state(INFO)
    assert st.mcs == get_mcs(9) and st.bits_per_channel_use == pytest.approx(0.85 * 2 * 679 / 1024)
    for bad in ({"phy": "magic"}, {"overhead": 1.5}, {"mcs_index": 40}, {"bler_target": 0}, {"snr_db": 100},
                {"nonsense": 1}):
        with pytest.raises(InputError):
            build_link("awgn", bad)
    with pytest.raises(InputError):
        build_link("rayleigh", {"equalizer": "mrc"})


def test_adaptation_eq8_and_eq9():
    a = select_mcs(6.0)
    assert a.feasible and a.bler <= 0.002
    nxt = [m for m in __import__("tokcom.link.mcs", fromlist=["x"]).mcs_table(1)
           if m.spectral_efficiency > a.mcs.spectral_efficiency]
    from tokcom.link.abstract import bler

    assert all(bler(m.num_bits_per_symbol, m.coderate, 6.0, 1024) > 0.002 for m in nxt)
    assert not select_mcs(-15.0).feasible
    assert deliverable_bits(1000, Mcs(4, 0.5)) == 2000
    assert deliverable_bits(1000, Mcs(4, 0.5), 0.85) == 1700


def test_accounting_equations():
    m = Mcs(4, 0.5)
    assert raw_spectral_efficiency(m, 0.85) == pytest.approx(1.7)
    c, t = pdu_resource(1700, m, 0.85, bandwidth_hz=340e3)
    assert c == pytest.approx(1000) and t == pytest.approx(1000 / 340e3)
    c1, _t1 = per_token_resource(1700, 100, m, 0.85, 340e3)
    assert c1 == pytest.approx(10)
    assert cbr(INFO.num_samples // 100, INFO) == pytest.approx(0.01, rel=1e-3)
    assert cbr_to_bitrate(1e-3, INFO, m) == pytest.approx(1e-3 * INFO.num_samples * 2 / INFO.duration_s)
    # bit-true count: TB quantisation + CRC inside G, then / rho
    assert pdu_channel_uses(1024, m) == 1032 // 2 + (1 if 1032 % 2 else 0)
    assert pdu_channel_uses(1024, m, 0.85) == math.ceil(516 / 0.85)


def test_abstract_carry_deterministic_and_losses_follow_bler():
    link = build_link("awgn", {"snr_db": 2.0, "mcs_index": 8})  # QPSK 602/1024 near its waterfall
    tx = _tx(400, 128)
    r1 = link.carry(tx, np.random.default_rng(5))
    r2 = link.carry(tx, np.random.default_rng(5))
    assert [p is None for p in r1.packets] == [p is None for p in r2.packets]
    b = r1.report.streams["video"].bler
    assert 0.01 < b < 0.99
    assert abs(r1.num_lost / 400 - b) < 4 * math.sqrt(b * (1 - b) / 400) + 0.01
    assert r1.channel_uses == 400 * pdu_channel_uses(1024, get_mcs(8))
    for p, q in zip(tx.packets, r1.packets):
        assert q is None or q.payload == p.payload


def test_uep_packet_mcs_honoured():
    link = build_link("awgn", {"snr_db": 3.0})
    strong, weak = Mcs(2, 1 / 3), Mcs(4, 3 / 4)
    pk = [Packet(bytes(64), "intended", i, mcs=strong) for i in range(100)]
    pk += [Packet(bytes(64), "video", i, mcs=weak) for i in range(100)]
    r = link.carry(Transmission(INFO, tuple(pk)), np.random.default_rng(0))
    s = r.report.streams
    assert s["intended"].mcs.coderate == pytest.approx(1 / 3) and s["video"].mcs.num_bits_per_symbol == 4
    assert s["intended"].pdus_lost == 0 and s["video"].pdus_lost == 100
    d = r.report.to_dict()  # the result.json shape
    assert d["streams"]["intended"]["mcs"]["coderate"] == pytest.approx(1 / 3) and d["pdus_sent"] == 200


def test_bit_true_carry_payloads_and_losses():
    pytest.importorskip("sionna")
    good = build_link("awgn", {"snr_db": 25.0, "phy": "bit-true", "mcs_index": 16})
    tx = Transmission(INFO, tuple(Packet(bytes([i % 256]) * 5 + b"\x0f", "video", i, num_bits=44)
                                  for i in range(20)))
    r = good.carry(tx, np.random.default_rng(0))
    assert r.num_lost == 0
    for p, q in zip(tx.packets, r.packets):
        assert q.payload == p.payload and q.num_bits == 44
    bad = build_link("awgn", {"snr_db": -8.0, "phy": "bit-true", "mcs_index": 16})
    r = bad.carry(tx, np.random.default_rng(0))
    assert r.num_lost == 20 and r.report.pdus_lost == 20


def test_rayleigh_abstract_carry_csi():
    tx = _tx(300, 128)
    res = {}
    for nmse in (None, -20.0, -10.0):
        link = build_link("rayleigh", {"snr_db": 10.0, "mcs_index": 12, "csi_nmse_db": nmse})
        res[nmse] = link.carry(tx, np.random.default_rng(3)).num_lost / 300
    assert abs(res[-20.0] - res[None]) < 0.1 and res[-10.0] > res[None] + 0.1


def test_analog_transmission_carried_and_erasure_rejects_it():
    rx = build_link("awgn", {}).carry(Transmission(INFO, (), symbols=np.zeros(4, np.complex64)),
                                      np.random.default_rng(0))
    assert rx.symbols.shape == (4,) and rx.channel_uses == 4  # tests/unit/link/test_analog.py has the rest
    with pytest.raises(InputError):
        build_link("erasure").carry(Transmission(INFO, (), symbols=np.zeros(4, np.complex64)),
                                    np.random.default_rng(0))
