"""PVSC's codec pieces (002_165f6aebfafa3581.txt): rate sets and rate matching (eq. 14, l = ⌈k/2⌉), shapes of
the P-frame / intra codecs and of the training branches, the side information round trips (b_z through the
entropy coder bit-exact, b_k lossless), the digital symbol PDUs, and rate-set distillation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dataclasses import replace

from tokcom.coding.wire import with_crc32
from tokcom.schemes.pvsc import bitstream as bs
from tokcom.schemes.pvsc.config import (
    ARCHS,
    PAPER_RATE_SET,
    PvscArch,
    overcomplete_rate_set,
    scaled_rate_set,
    symbols_for,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model():
    from tokcom.schemes.pvsc.model import PvscModel

    torch.manual_seed(0)
    return PvscModel(ARCHS["small"]).eval()


def test_rate_sets_and_symbol_lengths():
    from tokcom.schemes.pvsc.model import dims_mask, snap_rates, symbol_lengths

    assert scaled_rate_set(128) == PAPER_RATE_SET == ARCHS["paper"].rates  # §IV-A
    small = scaled_rate_set(64)
    assert small == (0, 2, 4, 6, 8, 10, 12, 14, 18, 22, 26, 30, 34, 42, 50, 64) == ARCHS["small"].rates
    assert overcomplete_rate_set(8) == (0, 2, 4, 6, 8)
    assert set(ARCHS["small"].rates) <= set(ARCHS["small"].overcomplete)
    assert [symbols_for(k) for k in (0, 1, 2, 3, 4, 127, 128)] == [0, 1, 1, 2, 2, 64, 64]  # l = ⌈k/2⌉
    # rate matching: the nearest value of the set (ties to the smaller), NaN → 0
    kt = torch.tensor([0.0, 0.9, 1.0, 1.1, 15.9, 16.0, 17.0, 1e9, float("nan"), -3.0])
    idx = snap_rates(kt, small)
    assert [small[i] for i in idx.tolist()] == [0, 0, 0, 2, 14, 14, 18, 64, 0, 0]
    assert symbol_lengths(idx, small).tolist() == [symbols_for(small[i]) for i in idx.tolist()]
    m = dims_mask(torch.tensor([[0, 3]]), (0, 4, 6, 7))  # k = 0 and k = 7 → 0 and 8 real dimensions
    assert m.shape == (1, 2, 8) and m[0, 0].sum() == 0 and m[0, 1].sum() == 8
    from tokcom.errors import InputError

    with pytest.raises(InputError):
        PvscArch(rates=(2, 4))  # must start at 0


def test_frame_codec_shapes_and_power(model):
    from tokcom.schemes.pvsc.model import unpack_symbols

    x = torch.rand(1, 3, 64, 128) * 2 - 1
    code, x_tx, ref = model.encode_frame(x, None, 2, 0.2)  # I-frame
    assert code.kidx.shape == (4, 8) and code.kidx.dtype == np.uint8 and tuple(code.z_hat.shape) == (1, 32, 1, 2)
    assert torch.equal(code.z_hat, torch.round(code.z_hat))  # ẑ: integers
    assert code.symbols.dtype == np.complex64 and code.symbols.size == model.frame_symbols(code.kidx)
    assert abs(float(np.mean(np.abs(code.symbols) ** 2)) - 1.0) < 1e-4  # eq. (2), P = 1 per frame
    a = model.arch
    assert x_tx.shape == (1, 3, 64, 128) and ref.feat.shape == (1, a.width, 8, 16)
    assert ref.state.shape == (1, 4, 8, a.d_model)
    back = unpack_symbols(code.symbols, torch.from_numpy(code.kidx.astype(np.int64))[None], model.arch.rates)
    assert back.shape == (1, 4, 8, 64) and torch.count_nonzero(back) <= 2 * code.symbols.size
    code_p, x_p, ref_p = model.encode_frame(x, ref, 4, 0.2)  # P-frame with the buffer
    assert code_p.kidx.shape == (4, 8) and x_p.shape == x.shape and ref_p.state.shape == ref.state.shape
    # η scales eq. (14): η = 0 sends no symbol at all
    code0, _, _ = model.encode_frame(x, None, 2, 0.0)
    assert code0.symbols.size == 0 and not code0.kidx.any()


def test_training_branches_shapes_and_gradients():
    from tokcom.schemes.pvsc.model import PvscModel

    arch = ARCHS["small"]
    torch.manual_seed(1)
    m = PvscModel(arch, arch.overcomplete)
    x = torch.rand(2, 3, 2, 64, 64) * 2 - 1
    g = torch.Generator().manual_seed(0)
    out = m.train_clip(x, torch.tensor([0, 4]), mode="noise", branch="ideal", generator=g)
    assert set(out) == {"ideal", "rate", "bits_z", "bits_k", "k_mean"} and out["ideal"].shape == x.shape
    out["rate"].sum().backward()
    assert m.inter.h_enc.net[0].weight.grad is not None  # the rate term reaches the entropy model
    m.zero_grad()
    out = m.train_clip(x, torch.tensor([1, 3]), mode="ste", branch="full", rates=arch.overcomplete,
                       snr_db=10.0, generator=g)
    assert {k: tuple(out[k].shape) for k in ("ideal", "tx", "rx")} == {k: tuple(x.shape) for k in ("ideal", "tx", "rx")}
    (out["rx"] - x).abs().mean().backward()
    assert m.inter.f_tx.inp.weight.grad is not None and m.inter.f_rx.out.weight.grad is not None
    out = m.train_clip(x, torch.tensor([2, 2]), branch="full", channel="rayleigh", csi_nmse_db=-20.0, generator=g)
    assert torch.isfinite(out["rx"]).all()


def strip_crc32_or_fail(pdu: bytes) -> bytes:
    from tokcom.coding.wire import strip_crc32

    body = strip_crc32(pdu)
    assert body is not None
    return body


def test_side_information_round_trips(model):
    """b_z through the factorized prior's range coder is bit-exact; b_k is lossless (arith, deflate, PNG)."""
    rng = np.random.default_rng(0)
    z = torch.randn(1, 32, 2, 3) * 4
    prior = model.inter.prior
    data = prior.compress(z)
    z_hat, ok = prior.decompress(data, z.shape)
    assert ok and torch.equal(z_hat, torch.round(z))
    for shape, levels in (((4, 4), 16), ((5, 7), 16), ((3, 9), 200), ((1, 1), 1)):
        k = rng.integers(0, levels, shape).astype(np.uint8)
        for codec in ("deflate", "png"):
            kb = bs.encode_rate_map(k, codec, levels)
            assert np.array_equal(bs.decode_rate_map(kb, shape, levels, codec), k)
            assert bs.decode_rate_map(kb, (shape[0] + 2, shape[1]), levels, codec) is None  # wrong size
    assert bs.decode_rate_map(bs.encode_rate_map(np.full((2, 2), 9, np.uint8)), (2, 2), 8) is None  # range
    assert bs.decode_rate_map(b"\x01garbage", (4, 4), 16) is None and bs.decode_rate_map(b"", (4, 4), 16) is None
    assert bs.decode_rate_map(b"", (4, 4), 16, "png") is None and bs.decode_rate_map(b"\x89PNG", (4, 4), 16, "png") is None
    # packing follows the rate set's size, not the map's values: a 17-level set with small indices
    k = np.array([[0, 3], [15, 2]], np.uint8)
    assert np.array_equal(bs.decode_rate_map(bs.encode_rate_map(k, "deflate", 17), (2, 2), 17), k)
    with pytest.raises(ValueError):
        bs.encode_rate_map(k, "deflate", 8)
    flat = np.zeros((16, 16), np.uint8)
    assert len(bs.encode_rate_map(flat)) < 8  # a uniform map deflates to a few bytes
    # arith: ẑ and the rate map in one bare stream; every codec round-trips through encode/decode_streams
    zq = torch.round(z)
    for shape, levels in (((4, 4), 16), ((5, 7), 16), ((3, 9), 200), ((2, 2), 1)):
        k = rng.integers(0, levels, shape).astype(np.uint8)
        for codec in bs.CODECS:
            zb, kb = bs.encode_streams(prior, zq, k, codec, levels)
            got = bs.decode_streams(prior, zb, kb, tuple(z.shape), shape, levels, codec)
            assert got is not None and torch.equal(got[0], zq) and np.array_equal(got[1], k), codec
            assert (kb == b"") == (codec == "arith")
    zb, kb = bs.encode_streams(prior, zq, k, "arith", 1)
    assert bs.decode_streams(prior, zb[:-4], kb, tuple(z.shape), (2, 2), 1, "arith") is None  # truncated
    assert bs.decode_streams(prior, zb, b"x", tuple(z.shape), (2, 2), 1, "arith") is None  # b_k must be empty
    assert bs.decode_streams(prior, b"abc", b"", tuple(z.shape), (2, 2), 1, "arith") is None  # not words
    # a constant map costs its alphabet mask; arith beats deflate on a noise-like map of few levels
    assert bs.rate_map_bits(np.zeros((16, 16), np.uint8), 16) == 16
    noisy = rng.choice(4, (16, 16), p=[0.7, 0.2, 0.05, 0.05]).astype(np.uint8)
    assert bs.rate_map_bits(noisy, 16) < 0.8 * bs.rate_map_bits(noisy, 16, "deflate")
    for q in (3, 0.5, 3.25, 14.99609375):  # presets and qualities between two (1/256 steps)
        si = bs.SideInfo(frame=300, quality=q, codec="arith", sym_start=7, sym_count=12, z_bytes=data,
                         k_bytes=b"")
        assert bs.parse_side(bs.pack_side(si)) == si
    assert len(bs.pack_side(replace(si, quality=3.5))) == len(bs.pack_side(replace(si, quality=3))) + 1
    assert bs.parse_side(bs.pack_side(replace(si, quality=2.0))).quality == 2  # a preset stays a preset
    raw = bytearray(strip_crc32_or_fail(bs.pack_side(replace(si, quality=1.5))))
    raw[2] = 0  # a fraction byte of 0 is not a valid encoding
    assert bs.parse_side(with_crc32(raw)) is None
    raw[1] |= 0x30  # codec index 3 does not exist
    raw[2] = 5
    assert bs.parse_side(with_crc32(raw)) is None
    si = bs.SideInfo(frame=300, quality=3, codec="png", sym_start=70000, sym_count=129, z_bytes=data,
                     k_bytes=b"kmap")
    pdu = bs.pack_side(si)
    assert bs.parse_side(pdu) == si
    bad = bytearray(pdu)
    bad[3] ^= 1
    assert bs.parse_side(bytes(bad)) is None and bs.parse_side(pdu[:-1]) is None and bs.parse_side(b"") is None
    buf = bytearray()
    for v in (0, 127, 128, 2**31):
        bs.put_varint(buf, v)
    pos, vals = 0, []
    for _ in range(4):
        v, pos = bs.get_varint(bytes(buf), pos)
        vals.append(v)
    assert vals == [0, 127, 128, 2**31]


def test_digital_symbol_pdus():
    rng = np.random.default_rng(1)
    s = ((rng.normal(size=50) + 1j * rng.normal(size=50)) / np.sqrt(2)).astype(np.complex64)
    for bits in (4, 8, 12):
        frame, back = bs.parse_symbols_pdu(bs.pack_symbols_pdu(7, s, bits))
        assert frame == 7 and back.shape == s.shape
        clipped = np.clip(s.real, -4, 4) + 1j * np.clip(s.imag, -4, 4)
        assert np.max(np.abs(back - clipped)) <= 8 / (2**bits - 1) * 0.51 * np.sqrt(2) + 1e-6
    assert bs.parse_symbols_pdu(bs.pack_symbols_pdu(0, s[:0], 8))[1].size == 0
    assert bs.parse_symbols_pdu(b"S\x00\x05\x08") is None


def test_distilled_state_keeps_only_the_rate_set():
    from tokcom.schemes.pvsc.model import PvscModel

    arch = ARCHS["small"]
    big = PvscModel(arch, arch.overcomplete)
    sd = big.distilled_state()
    heads = {k.split(".heads.")[1].split(".")[0] for k in sd if ".heads." in k}
    assert heads == {f"k{r}" for r in arch.rates}
    small = PvscModel(arch)
    small.load_state_dict(sd)  # strict: exactly the shipped model's tensors
    assert sum(v.numel() for v in sd.values()) == sum(p.numel() for p in small.parameters())
    n = sum(p.numel() for p in small.parameters())
    assert n < 2_500_000 and sum(v.numel() for v in big.state_dict().values()) > n  # a CPU-sized model


def test_rate_control_ladder_and_search():
    from tokcom.schemes.pvsc.ratecontrol import Candidate, ladder
    from tokcom.schemes.ratecontrol import gop_share, search

    lad = ladder(5, rungs=1, kind="quality")
    assert [c.label for c in lad] == ["q4", "q3", "q2", "q1", "q0", "q0 η×0.5", "q0 η×0.25", "q0 η×0",
                                      "q0 η×0 I-only"]
    assert [c.label for c in ladder(5, rungs=1)] == [  # the default: η lowered at the knee (q1) first
        "q4", "q3", "q2", "q1", "q1 η×0.875", "q1 η×0.75", "q1 η×0.625", "q1 η×0.5", "q1 η×0.375", "q1 η×0.25",
        "q0.5 η×0.375", "q0.5 η×0.25", "q0.5 η×0.125", "q0.25 η×0.125", "q0 η×0", "q0 η×0 I-only"]
    for kind in ("eta", "quality"):  # a fixed quality: the same short ladder on both
        assert [c.label for c in ladder(5, 2, kind=kind)][:2] == ["q2", "q2 η×0.5"]
        assert [c.label for c in ladder(5, 0.5, kind=kind)] == ["q0.5", "q0.5 η×0.5", "q0.5 η×0.25", "q0.5 η×0",
                                                                 "q0.5 η×0 I-only"]
        lad = ladder(5, kind=kind)
        # from best to cheapest: the quality never rises, and at one quality η falls; the last two are k = 0
        assert all(b.quality <= a.quality and (b.quality < a.quality or b.eta_scale < a.eta_scale)
                   for a, b in itertools.pairwise(lad[:-1]))
        assert lad[-2] == Candidate(0, 0.0) and lad[-1] == Candidate(0, 0.0, False) and len(set(lad)) == len(lad)
    with pytest.raises(ValueError, match="ladder"):
        ladder(5, kind="fastest")
    # above the top preset: more symbols per unit, only as far as the model's symbol coder was trained (eta_top)
    assert ladder(5, eta_top=1.0) == ladder(5)
    assert [c.label for c in ladder(5, rungs=1, eta_top=2.5)][:6] == [
        "q4 η×2", "q4 η×1.75", "q4 η×1.5", "q4 η×1.25", "q4", "q3"]
    assert [c.label for c in ladder(5, rungs=1, eta_top=1.6)][:3] == ["q4 η×1.5", "q4 η×1.25", "q4"]
    assert ladder(5, eta_top=2.0, kind="quality") == ladder(5, kind="quality")  # the eta ladder's only
    assert ladder(5, 2, eta_top=2.0) == ladder(5, 2)  # a fixed quality: no rung above it
    assert len(ladder(2)) == len(ladder(2, kind="quality"))  # no preset below the knee: the quality ladder
    fine = [c.quality for c in ladder(5, kind="quality") if c.eta_scale == 1.0]  # 8 rungs per preset interval
    assert len(fine) == 33 and fine[0] == 4 and fine[-1] == 0 and fine[-2] == 0.125
    assert [c.quality for c in ladder(5) if c.eta_scale == 1.0] == fine[:25]  # the eta ladder's stop at q1
    assert fine == sorted(fine, reverse=True) and len(set(fine)) == len(fine) and all(isinstance(q, int) for q in fine[::8])
    assert gop_share(1000, 10, 4) == 400 and gop_share(-5, 10, 4) == 0 and gop_share(7, 0, 4) == 7
    for n in range(1, 10):
        for thr in range(n + 1):  # candidate i fits iff i ≥ thr
            for start in range(n):
                calls: list[int] = []

                def fits(i: int, calls=calls, thr=thr) -> bool:
                    calls.append(i)
                    return i >= thr

                assert search(n, fits, start) == (thr if thr < n else None)
                assert len(calls) <= 2 * n.bit_length() + 2
    # costs that do not fall along the ladder: whatever is returned still fits
    costs = [9, 3, 7, 2, 8]
    got = search(5, lambda i: costs[i] <= 5, 0)
    assert costs[got] <= 5


def test_preset_vectors_interpolate_between_presets():
    """A quality between presets i and i+1 (l = q − i) gets v_i^(1−l) · v_{i+1}^l per channel (Cui et al. 2021);
    a channel whose sign flips interpolates linearly; integer qualities index the presets exactly."""
    from tokcom.schemes.pvsc.model import preset_vector, quality_tensor

    p = torch.tensor([[1.0, 2.0, -1.0], [4.0, 8.0, 1.0], [2.0, 2.0, 2.0]])
    assert torch.equal(preset_vector(p, torch.tensor([1, 0])).squeeze(-1).squeeze(-1), p[[1, 0]])
    v = preset_vector(p, torch.tensor([0.5, 1.0, 2.0])).squeeze(-1).squeeze(-1)
    assert torch.allclose(v[0], torch.tensor([2.0, 4.0, 0.0]))  # geometric means; linear where the sign flips
    assert torch.allclose(v[1], p[1]) and torch.allclose(v[2], p[2])  # the ends of an interval are the presets
    assert quality_tensor(2.0, "cpu").dtype == torch.int64 and quality_tensor(0.25, "cpu").dtype == torch.float32
    w = preset_vector(p, torch.linspace(0, 1, 9))[:, 0, 0, 0]  # monotone between two positive presets
    assert bool((w[1:] > w[:-1]).all())


def test_first_gop_search_interpolates_on_cost():
    """The first GOP's search (no previous choice) finds the lowest fitting index of a falling-cost ladder with
    few evaluations; with costs that do not fall it still returns an index that fits."""
    from tokcom.schemes.pvsc.ratecontrol import ladder
    from tokcom.schemes.ratecontrol import search_by_cost as first_search

    lad = ladder(5, kind="quality")
    n, last_q = len(lad), 32
    rng = np.random.default_rng(0)
    worst = 0
    for trial in range(300):
        # log-cost roughly linear over the quality rungs, then steep drops (η lowered, I-frame only)
        top = float(rng.uniform(2e3, 2e4))
        q_costs = top * np.exp(-np.linspace(0, float(rng.uniform(0.5, 2.5)), last_q + 1)
                               + rng.normal(0, 0.03, last_q + 1).cumsum() * (trial % 2))
        costs = np.concatenate([np.sort(q_costs)[::-1], q_costs.min() * np.array([0.7, 0.5, 0.35, 0.1])])
        costs = np.maximum.accumulate(costs[::-1])[::-1].astype(int)  # falling along the ladder
        share = int(rng.uniform(0.05, 1.2) * top)
        calls: list[int] = []

        def cost(i: int, calls=calls, costs=costs) -> int:
            calls.append(i)
            return int(costs[i])

        want = next((i for i in range(n) if costs[i] <= share), None)
        assert first_search(n, cost, share, last_q) == want
        worst = max(worst, len(set(calls)))
    assert worst <= 12  # typically 2–6
    bumpy = [int(v) for v in rng.integers(100, 10_000, n)]
    for share in (50, 500, 5000, 20_000):
        got = first_search(n, lambda i: bumpy[i], share, last_q)
        assert got is None or bumpy[got] <= share


def test_descend_finds_the_cheaper_rung_with_the_least_loss():
    """Rate control's walk down the ladder (``rate_choice=received``): two evaluations when a cheaper rung is
    worse; the minimum of a valley below the start; never a rung that does not fit."""
    from tokcom.schemes.ratecontrol import descend

    n = 20
    calls: list[int] = []

    def rising(i: int) -> float:
        calls.append(i)
        return float(i)

    assert descend(n, 3, rising, lambda i: True) == 3 and sorted(calls) == [3, 4]
    for lo in range(3, n):  # a valley with its minimum at lo: found exactly (neighbours are checked)
        assert descend(n, 3, lambda i, lo=lo: abs(i - lo) + 0.1 * (i > lo), lambda i: True) == lo
    assert descend(n, 3, lambda i: -float(i), lambda i: i < 9) == 8  # falling loss: the cheapest that fits
    assert descend(n, n - 1, lambda i: 0.0, lambda i: True) == n - 1
    got = descend(n, 0, lambda i: -float(i), lambda i: i % 3 != 2)  # a gap in what fits ends the walk
    assert got % 3 != 2
    rng = np.random.default_rng(1)
    for _ in range(200):  # random unimodal losses and fit thresholds: the best fitting rung, few evaluations
        m, start = int(rng.integers(0, n)), int(rng.integers(0, n))
        thr = int(rng.integers(start, n + 1))  # rungs start … thr − 1 fit
        evals: list[int] = []

        def valley(i: int, m=m, evals=evals) -> float:
            evals.append(i)
            return abs(i - m) * (1.0 if i < m else 1.5)

        got = descend(n, start, valley, lambda i, thr=thr, start=start: i < max(thr, start + 1))
        assert len(set(evals)) <= 12
        ok = range(start, max(thr, start + 1))
        assert got in ok and valley(got) == min(valley(i) for i in ok)
