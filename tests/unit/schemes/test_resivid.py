"""The resivid scheme (Resi-VidTok, 001_c16fa1dac0c35e06.txt): key frames, MCS-first exact budget, top-K
planning against the receiver's state, no-update on loss/CRC failure, zero state per GOP, interpolation and
the report; acceptance A1–A4 on a real clip (short versions; docs/benchmarks.md has the full runs)."""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import replace

import numpy as np
import pytest

from tokcom.errors import InputError
from tokcom.link.base import build_link
from tokcom.pipeline import simulate
from tokcom.schemes.base import build_scheme
from tokcom.schemes.resivid import exact_budget_bits, key_frames, split_budget
from tokcom.types import LinkState, Mcs, Rate, Reception

pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def clip256(sample_path):
    """17 real frames at 256² (3 key frames at S = 8)."""
    from tokcom.video import read_video

    return read_video(sample_path, frames=17, size="256x256")


@pytest.fixture(scope="module")
def clip128(sample_path):
    """13 real frames at 128² (L = 64)."""
    from tokcom.video import read_video

    return read_video(sample_path, start=40, frames=13, size="128x128")


def _scheme(**opts):
    opts.setdefault("interpolator", "blend")
    return build_scheme("resivid", opts)


def _state(video, snr_db=6.0, cbr=4e-4, channel="awgn", **link_opts):
    link = build_link(channel, {"snr_db": snr_db, **link_opts} if channel != "erasure" else link_opts)
    return link, link.state(video.info, Rate(cbr=cbr) if cbr else Rate())


# ------------------------------------------------------------------------------------------ pure helpers
def test_key_frames_per_gop():
    assert [f for f, _ in key_frames(64, 8, 32)] == [0, 8, 16, 24, 32, 40, 48, 56]
    assert key_frames(20, 8, 12) == [(0, 0), (8, 0), (12, 1)]  # key frames gN + iS restart in every GOP
    assert key_frames(5, 1, 32) == [(t, 0) for t in range(5)]  # S = 1: every frame
    assert key_frames(3, 8, 32) == [(0, 0)]


def test_budget_split_sums_to_budget():
    for total, n in ((5033, 8), (7, 3), (0, 2), (100, 1)):
        k = split_budget(total, n)
        assert sum(k) == total and max(k) - min(k) <= 1


@pytest.mark.parametrize(("uses", "qm", "rate"), [(630, 4, 434 / 1024), (300, 2, 193 / 1024), (1234, 6, 616 / 1024),
                                                  (70, 2, 120 / 1024), (5000, 2, 679 / 1024)])
def test_exact_budget_fits_the_links_count(uses, qm, rate):
    """B_t is reduced from eq. (9) until the PDU fits k_t channel uses as the link counts them."""
    from tokcom.link.accounting import deliverable_bits, pdu_channel_uses

    m = Mcs(qm, rate)
    eq9, b = exact_budget_bits(uses, qm, rate, 1.0)
    assert eq9 == deliverable_bits(uses, m)
    assert b <= eq9
    if b > 0:
        assert pdu_channel_uses(b, m) <= uses
    assert pdu_channel_uses(b + 1, m) > uses or b == eq9


def test_exact_budget_cap_and_unplaceable_sizes(monkeypatch):
    """The search stops at the largest frame (``cap``) and treats a size the TB mapping cannot place as too
    large instead of raising (tb_layout fails for some sizes, e.g. 34 824 bits)."""
    import tokcom.link.accounting as acc

    assert exact_budget_bits(9800, 4, 434 / 1024, 1.0, 3353)[1] == 3353
    real = acc.pdu_channel_uses

    def flaky(num_bits, mcs, overhead=1.0):
        if 2000 <= num_bits <= 2100:
            raise RuntimeError("no valid TB size found")
        return real(num_bits, mcs, overhead)

    monkeypatch.setattr(acc, "pdu_channel_uses", flaky)
    exact_budget_bits.cache_clear()
    eq9, b = exact_budget_bits(1300, 4, 434 / 1024 + 1e-12, 1.0)
    assert b < eq9 and real(b, Mcs(4, 434 / 1024)) <= 1300
    exact_budget_bits.cache_clear()


@pytest.mark.parametrize(("opts", "match"), [
    ({"stride": 0}, "stride"), ({"gop": 0}, "gop"), ({"interpolator": "magic"}, "interpolator"),
    ({"crc_bits": 8}, "crc-bits"), ({"value_bits": 8}, "value-bits"), ({"tokenizer": "tokcom-dv4x8x8"}, "progressive"),
    ({"mcs_set": "nope"}, "MCS set"), ({"bler_target": 1.5}, "bler-target"), ({"colour": 1}, "unknown option"),
])
def test_bad_options_are_input_errors(opts, match):
    with pytest.raises(InputError, match=match):
        build_scheme("resivid", opts)


def test_registry_and_cli_list_resivid():
    from typer.testing import CliRunner

    from tokcom.cli.app import app
    from tokcom.registry import SCHEMES

    assert "resivid" in SCHEMES.list()
    r = CliRunner().invoke(app, ["schemes", "--json"])
    assert r.exit_code == 0
    assert "resivid" in [e["name"] for e in json.loads(r.stdout)]


# ------------------------------------------------------------------------------------------ transmitter
@pytest.fixture(scope="module")
def tx6(clip256):
    s = _scheme()
    link, st = _state(clip256)
    tx = s.encode(clip256, st, np.random.default_rng(0))
    return s, link, st, tx


def test_every_frame_within_its_exact_budget(tx6, clip256):
    _, link, st, tx = tx6
    rep = tx.report.to_dict()
    keys = [f for f in rep["frames"] if f["key"]]
    assert len(keys) == len(tx.packets) == 3
    for f, p in zip(keys, tx.packets):
        assert f["bits"] == p.num_bits <= f["budget_bits"] <= f["budget_bits_eq9"]
        assert p.mcs is not None and p.mcs.index == f["mcs_index"]
        assert 0 < f["k"] <= 256 and f["changed"] <= f["k"]
        assert f["bits"] == 9 + f["k"] + 12 * f["changed"] + 16  # eq. (13) + K-field + CRC-16
        assert f["channel_uses"] <= f["channel_uses_budget"]
    rx = link.carry(tx, np.random.default_rng(0))
    assert rx.channel_uses == rep["channel_uses_planned"] <= st.channel_use_budget
    assert rep["frames"][0]["mask_ones"] == 256  # first key frame vs the zero state (eq. 13 convention)
    assert all(f["k"] is None for f in rep["frames"] if not f["key"])


def test_mask_is_taken_against_the_receivers_state(tx6, clip256):
    """Eq. (7) against what the receiver holds: after each lossless key frame the receiver's first K tokens
    are exactly the frame's tokens, even where an earlier frame never sent that position (zero-flag)."""
    import torch

    from tokcom.coding.topk import TopKFormat, apply_update, parse_frame
    from tokcom.video.transform import to_tensor

    s, _, _, tx = tx6
    with torch.no_grad():
        z = s.tokenizer().encode(to_tensor(np.asarray(clip256.frames)[[0, 8, 16]]))[0].numpy()
    fmt = TopKFormat(256, 12, 16)
    state = np.full(256, 4096, np.int64)
    ks = []
    for j, p in enumerate(tx.packets):
        fr = parse_frame(p.payload, p.num_bits, fmt)
        np.testing.assert_array_equal(fr.header, (z[j] != state)[: fr.k])
        state = apply_update(state, fr, 4096)
        np.testing.assert_array_equal(state[: fr.k], z[j, : fr.k])
        ks.append(fr.k)
    assert ks[1] > ks[0]  # the second frame reaches positions the first never sent


def test_unconstrained_sends_every_token_and_receiver_state_equals_tokens(clip128):
    """No rate target: K = L; over a lossless link every key frame's state is exactly its tokens, so the
    decoded key frames equal the tokenizer's own reconstruction (eqs. 7, 19, 20 consistent)."""
    import torch

    from tokcom.video.transform import from_tensor, to_tensor

    s = _scheme(stride=4, gop=8)
    link = build_link("erasure")
    st = link.state(clip128.info)
    tx = s.encode(clip128, st, np.random.default_rng(0))
    assert all(f.k == 64 for f in tx.report.frames if f.key)
    dec = s.decode(link.carry(tx, np.random.default_rng(0)), np.random.default_rng(0))
    tok = s.tokenizer()
    keys = [f for f, _ in key_frames(13, 4, 8)]
    with torch.no_grad():
        z = tok.encode(to_tensor(np.asarray(clip128.frames)[keys]))
        ref = from_tensor(tok.decode(z, (128, 128)))[0]
    np.testing.assert_array_equal(dec.video.frames[keys], ref)
    assert dec.frames_decoded == 13


def test_gop_level_k(clip256):
    s = _scheme(gop=16, gop_level_k=True)
    _, st = _state(clip256, cbr=6e-4)
    tx = s.encode(clip256, st, np.random.default_rng(0))
    keys = [f for f in tx.report.frames if f.key]
    assert [f.gop for f in keys] == [0, 0, 1]
    assert keys[0].k == keys[1].k == tx.report.gop_k["0"]  # eq. (15): one K per GOP
    assert all(f.bits <= f.budget_bits for f in keys)
    per_frame = _scheme(gop=16).encode(clip256, st, np.random.default_rng(0)).report.frames
    assert keys[0].k == min(per_frame[0].k, per_frame[8].k)


def test_erasure_link_has_no_mcs(clip128):
    s = _scheme(stride=4, gop=8)
    link, st = _state(clip128, channel="erasure", cbr=2e-3, pdu_loss=0.0)
    tx = s.encode(clip128, st, np.random.default_rng(0))
    rx = link.carry(tx, np.random.default_rng(0))
    assert all(p.mcs is None for p in tx.packets)
    assert rx.channel_uses <= st.channel_use_budget
    assert all(f.bits <= f.budget_bits for f in tx.report.frames if f.key)


def test_starved_budget_sends_nothing_and_decodes_nothing(clip128):
    s = _scheme(stride=4, gop=8)
    link, _ = _state(clip128, cbr=1e-6)
    r = simulate(s, clip128, link, 0, rate=Rate(cbr=1e-6), metrics=["psnr"])
    assert r.packets["sent"] == 0 and r.scheme_report["starved"] and r.channel_uses == 0
    assert r.frames_decoded == 0 and not r.valid


# ------------------------------------------------------------------------------------------ receiver
def _rx(tx, packets):
    return Reception(info=tx.info, packets=tuple(packets), channel_uses=0)


def test_lost_pdu_means_no_update_and_gop_start_resets(clip256):
    s = _scheme(gop=16)  # GOPs [0..15] (keys 0, 8) and [16] (key 16)
    _, st = _state(clip256, cbr=8e-4)
    tx = s.encode(clip256, st, np.random.default_rng(0))
    p = list(tx.packets)
    full = s.decode(_rx(tx, p), np.random.default_rng(0))
    assert full.frames_decoded == 17 and full.report.key_frames_lost == 0
    b = [q.num_bits for q in p]
    # key 8 lost: its state is key 0's → identical frame (§III-E-a). Resi-VidTok's own notion still counts
    # it (its state holds data); tokcom's one rule does not: none of the data sent for frame 8 arrived, and
    # frames 1..15 got only the share of their anchors' data that arrived.
    d = s.decode(_rx(tx, [p[0], None, p[2]]), np.random.default_rng(0))
    np.testing.assert_array_equal(d.video.frames[8], d.video.frames[0])
    assert d.frames_decoded == 17 and d.report.key_frames_lost == 1
    assert d.report.received[1].status == "lost" and d.report.received[1].frame == 8
    share = tx.frame_map.shares(17, np.array([True, False, True]))
    assert share[0] == share[16] == 1.0 and share[8] == 0.0
    np.testing.assert_allclose(share[1:8], b[0] / (b[0] + b[1]))
    np.testing.assert_allclose(share[9:16], b[2] / (b[1] + b[2]))
    # key 16 (first of GOP 1) lost: zero state → not decoded, holds the last decoded key frame;
    # frames 9..15 lose an anchor → not decoded either (the scheme's own notion)
    d = s.decode(_rx(tx, [p[0], p[1], None]), np.random.default_rng(0))
    np.testing.assert_array_equal(d.video.frames[16], full.video.frames[8])
    assert d.frames_decoded == 9
    assert list(d.report.frame_decoded) == [True] * 9 + [False] * 8
    assert tx.frame_map.shares(17, np.array([True, True, False]))[16] == 0.0


def test_crc_failure_is_counted_and_ignored(tx6, clip256):
    s, _, _, tx = tx6
    p = list(tx.packets)
    b = bytearray(p[1].payload)
    b[5] ^= 0x10
    p[1] = replace(p[1], payload=bytes(b))
    d = s.decode(_rx(tx, p), np.random.default_rng(0))
    assert d.report.key_frames_crc_failed == 1
    assert d.report.received[1].status == "crc_failed"
    np.testing.assert_array_equal(d.video.frames[8], d.video.frames[0])


def test_damaged_receptions_never_raise(tx6, clip256):
    """A3 through ``decode`` with real Receptions: bit flips, truncations, garbage, wrong lengths, missing or
    extra PDUs."""
    s, _, _, tx = tx6
    rng = np.random.default_rng(3)
    crc_failed = 0
    for _ in range(40):
        pk = []
        for p in tx.packets:
            kind = int(rng.integers(0, 6))
            if kind == 0:
                pk.append(None)
            elif kind == 1:
                b = np.frombuffer(p.payload, np.uint8).copy()
                b[rng.integers(0, b.size, 3)] ^= rng.integers(1, 256, 3, dtype=np.uint8)
                pk.append(replace(p, payload=b.tobytes()))
            elif kind == 2:
                cut = int(rng.integers(0, len(p.payload)))
                pk.append(replace(p, payload=p.payload[:cut], num_bits=8 * cut))
            elif kind == 3:
                junk = rng.integers(0, 256, int(rng.integers(0, 400)), dtype=np.uint8).tobytes()
                pk.append(replace(p, payload=junk, num_bits=8 * len(junk)))
            else:
                pk.append(p)
        if rng.random() < 0.1:
            pk = pk[:-1] if rng.random() < 0.5 else [*pk, tx.packets[0]]
        d = s.decode(_rx(tx, pk), np.random.default_rng(0))
        assert d.video.frames.shape == clip256.frames.shape
        assert 0 <= d.frames_decoded <= 17
        crc_failed += d.report.key_frames_crc_failed
    assert crc_failed > 0


# ------------------------------------------------------------------------------------------ end to end
def test_cbr_within_target_and_valid(clip256):
    """A1 (short): every channel use counted by the link, CBR ≤ target, valid at 6 and −2 dB."""
    s = _scheme()
    for snr in (6.0, -2.0):
        r = simulate(s, clip256, build_link("awgn", {"snr_db": snr}), 0, rate=Rate(cbr=4e-4), metrics=["psnr"])
        assert r.cbr <= 4e-4 and r.valid, (snr, r.cbr, r.frames_decoded)
        assert r.channel_uses == r.scheme_report["channel_uses_planned"]
        assert r.scheme_report["mcs_feasible"]


def test_psnr_rises_with_cbr(clip256):
    """A2 (short): PSNR non-decreasing through CBR 2e-4 … 1.6e-3 at 6 dB; every frame within budget."""
    s = _scheme()
    link = build_link("awgn", {"snr_db": 6.0})
    psnr = []
    for cbr in (2e-4, 4e-4, 8e-4, 1.6e-3):
        r = simulate(s, clip256, link, 0, rate=Rate(cbr=cbr), metrics=["psnr"])
        assert all(f["bits"] <= f["budget_bits"] for f in r.scheme_report["frames"] if f["key"])
        psnr.append(r.metrics["psnr"])
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(psnr)), psnr
    assert psnr[-1] > psnr[0] + 1.0


def test_auto_interpolator_falls_back_without_rife_weights(clip128, tmp_path, monkeypatch):
    """A4: with an empty weights cache ``auto`` runs the flow fallback and the report says why."""
    pytest.importorskip("tokcom.interp")
    monkeypatch.setenv("TOKCOM_HOME", str(tmp_path))
    s = build_scheme("resivid", {"stride": 4, "gop": 8})
    r = simulate(s, clip128, build_link("awgn"), 0, rate=Rate(cbr=2e-3), metrics=["psnr"])
    rep = r.scheme_report
    assert rep["interpolator"] == "flow"
    assert "rife" in rep["interpolator_fallback_reason"].lower()
    with pytest.raises(Exception, match="rife"):
        build_scheme("resivid", {"interpolator": "rife"}).encode(
            clip128, LinkState(), np.random.default_rng(0))


def test_report_fields(tx6, clip256):
    s, link, _, tx = tx6
    d = s.decode(link.carry(tx, np.random.default_rng(0)), np.random.default_rng(0))
    rep = {**tx.report.to_dict(), **d.report.to_dict()}
    for key in ("stride", "gop", "tokenizer", "L", "value_bits", "interpolator", "interpolator_fallback_reason",
                "key_frames_sent", "key_frames_lost", "key_frames_crc_failed", "source_bits", "channel_uses_planned"):
        assert key in rep, key
    assert (rep["stride"], rep["gop"], rep["L"], rep["value_bits"]) == (8, 32, 256, 12)
    assert rep["source_bits"] == tx.source_bits
    assert len(rep["frames"]) == 17 and len(rep["received"]) == 3 and len(rep["frame_decoded"]) == 17
    for f in rep["frames"]:
        assert {"frame", "key", "mcs_index", "budget_bits", "k", "changed", "bits"} <= set(f)
    assert [e["status"] for e in rep["received"]] == ["ok"] * 3
    json.dumps(rep)  # plain JSON types only


def test_cli_run(tmp_path, sample_path):
    from typer.testing import CliRunner

    from tokcom.cli.app import app

    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["run", "--scheme", "resivid", "--input", str(sample_path), "--frames", "9",
                                 "--size", "128x128", "--channel", "awgn", "--snr-db", "6", "--cbr", "2e-3",
                                 "--stride", "4", "--gop", "8", "--set", "interpolator=blend", "--metric", "psnr",
                                 "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads((out / "result.json").read_text())
    assert res["scheme"] == "resivid" and res["cbr"] <= 2e-3 and res["valid"]
    assert res["config"]["scheme"]["stride"] == 4
    assert math.isfinite(res["metrics"]["psnr"])
