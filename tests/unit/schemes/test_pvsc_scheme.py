"""The pvsc scheme over the link (002_165f6aebfafa3581.txt): transmitter/receiver buffer alignment under an
ideal channel, the budget never exceeded by the transmission it plans, digital carriage over the erasure
link, the damaged-receiver cases (NaN/inf/huge symbols, lost or corrupted b_z / b_k / I-frame), weights."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tokcom.errors import InputError, WeightsUnavailable
from tokcom.link.base import build_link
from tokcom.pipeline import simulate
from tokcom.schemes.base import build_scheme
from tokcom.types import Rate, Reception

torch = pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def clip(sample_path):
    from tokcom.video import read_video

    return read_video(sample_path, start=40, frames=8, size="80x64")  # not a multiple of 64: padded


@pytest.fixture(scope="module")
def sent(clip):
    s = build_scheme("pvsc", {"weights": "random", "gop": 4})
    state = build_link("awgn", {"snr_db": 6.0}).state(clip.info, Rate(cbr=0.1))
    tx, rec = s.encode_with_recon(clip, state, np.random.default_rng(0), keep_recon=True)
    return s, tx, rec


def _decode(s, tx, packets=None, symbols="same"):
    sym = tx.symbols.copy() if isinstance(symbols, str) else symbols
    return s.decode(Reception(tx.info, tuple(tx.packets if packets is None else packets), sym),
                    np.random.default_rng(0))


def test_ideal_channel_gives_identical_reconstructions(sent, clip):
    """eqs. (22)–(24): the transmitter's buffer update runs the receiver's path, so over an ideal channel the
    two ends hold the same buffers and reconstruct the same frames, bit for bit."""
    s, tx, rec = sent
    rep = tx.report
    assert rep.carriage == "analog" and not rep.trained and rep.weights_sha256 == "random-init"
    assert [g.frames for g in rep.gops] == [4, 4] and all(g.sent for g in rep.gops)
    assert [f.kind for f in rep.frames_tx] == ["I", "P", "P", "P"] * 2
    assert len(tx.packets) == 8 and all(p.stream == "side" and p.priority == 2 for p in tx.packets)
    assert tx.symbols.size == rep.symbols == sum(f.symbols for f in rep.frames_tx)
    assert float(np.mean(np.abs(tx.symbols) ** 2)) <= 1.0 + 1e-5  # eq. (2)
    dec = _decode(s, tx)
    assert np.array_equal(dec.video.frames, rec)
    assert dec.frames_decoded == 8 and all(f.status == "ok" for f in dec.report.frames_rx)
    # the receiver maps PDUs by their frame index: any order decodes the same
    dec = _decode(s, tx, packets=list(reversed(tx.packets)))
    assert np.array_equal(dec.video.frames, rec)
    # the frame map: each frame needs its side PDU and its symbols
    shares = tx.frame_map.shares(8, np.ones(8, bool))
    assert np.all(shares == 1.0)
    lost0 = np.ones(8, bool)
    lost0[0] = False
    assert tx.frame_map.shares(8, lost0)[0] == 0.0


def test_rate_map_picture_shows_the_sent_rate_maps(sent, clip):
    """The report's picture: one tile per pictured frame, coloured by the sent k_t (eq. 14)."""
    from tokcom.schemes.pvsc.pictures import pictured_frames, rate_map_picture

    _, tx, _ = sent
    pic = tx.artifacts["rate_maps"]
    assert pic.dtype == np.uint8 and pic.ndim == 3 and pic.shape[2] == 3
    assert pic.shape[0] == 2 * 64 + 2 and pic.shape[1] == 4 * 80 + 3 * 2  # 8 frames, 4 per row
    assert pictured_frames(range(40)) == [0, 6, 11, 17, 22, 28, 33, 39]
    rates = (0, 2, 64)
    lo = rate_map_picture(clip.frames, {0: np.zeros((4, 5), np.uint8)}, rates)
    hi = rate_map_picture(clip.frames, {0: np.full((4, 5), 2, np.uint8)}, rates)
    assert lo.shape == hi.shape == (64, 80, 3)
    # jet: rate 0 tints blue, the maximum rate tints red
    assert lo[..., 2].mean() > lo[..., 0].mean() and hi[..., 0].mean() > hi[..., 2].mean()


@pytest.mark.parametrize("link_name", ["awgn", "rayleigh", "erasure"])
def test_budget_is_never_exceeded_by_the_plan(clip, link_name):
    link = build_link(link_name)
    s = build_scheme("pvsc", {"weights": "random", "gop": 4})
    chosen = []
    for cbr in (2e-4, 0.01, 0.03, 0.08, 0.3, 5.0):
        state = link.state(clip.info, Rate(cbr=cbr))
        tx = s.encode(clip, state, np.random.default_rng(0))
        uses = sum(link.packet_channel_uses(p) for p in tx.packets) + (0 if tx.symbols is None else tx.symbols.size)
        assert uses <= state.channel_use_budget, (cbr, uses, state.channel_use_budget)
        assert uses == tx.report.channel_uses_planned
        assert (tx.symbols is None) == (link_name == "erasure")
        chosen.append(tx.report.qualities)
    assert chosen[0] == (None, None)  # a starved budget: nothing fits, nothing is sent
    assert chosen[-1] == (4, 4)  # a generous one: the highest preset (digital carriage needs more)
    # a fixed preset is kept while it fits and falls back (η, then side information only) when it does not
    fixed = build_scheme("pvsc", {"weights": "random", "gop": 4, "quality": 1})
    for cbr in (0.3, 0.02):
        state = link.state(clip.info, Rate(cbr=cbr))
        tx = fixed.encode(clip, state, np.random.default_rng(0))
        uses = sum(link.packet_channel_uses(p) for p in tx.packets) + (0 if tx.symbols is None else tx.symbols.size)
        assert uses <= state.channel_use_budget
        assert all(q in (None, 1) for q in tx.report.qualities)


def test_pipeline_runs_and_reports(clip):
    r = simulate(build_scheme("pvsc", {"weights": "random", "gop": 4}), clip, build_link("awgn", {"snr_db": 6.0}),
                 0, rate=Rate(cbr=0.08), metrics=["psnr"])
    assert r.channel_uses <= r.channel_use_budget and not r.over_budget and r.frames_decoded == 8
    sr = r.scheme_report
    assert sr["rate_control"] == "budget" and sr["trained"] is False and len(sr["frames_rx"]) == 8
    assert r.provenance["weights"] == {"pvsc-small": "random-init"}
    rec = r.to_dict()
    from tokcom.schemes.pvsc.scheme import PvscScheme

    assert "quality" in PvscScheme.summary(rec) and "untrained" in PvscScheme.curve_label(rec)
    assert "GOP 4" in PvscScheme.describe_record(rec)
    assert "PVSC rate control" in PvscScheme.report_sections([rec], None)


def test_erasure_link_carries_quantised_symbols(clip):
    r = simulate(build_scheme("pvsc", {"weights": "random", "gop": 4}), clip, build_link("erasure"), 0,
                 metrics=["psnr"])
    assert r.scheme_report["carriage"] == "digital" and r.frames_decoded == 8 and min(r.frame_share) == 1.0
    assert all(f["status"] == "ok" for f in r.scheme_report["frames_rx"])
    # the transmitter's buffer update decodes the quantised symbols the PDUs carry: no drift without loss
    s = build_scheme("pvsc", {"weights": "random", "gop": 4, "digital_bits": 4})
    state = build_link("erasure").state(clip.info)
    tx, rec = s.encode_with_recon(clip, state, np.random.default_rng(0), keep_recon=True)
    assert tx.symbols is None
    assert np.array_equal(_decode(s, tx, symbols=None).video.frames, rec)


def test_clipped_symbols_keep_both_buffers_equal(clip):
    """The receiver clips |ŝ| to symbol_clip; the transmitter's buffer update decodes the clipped symbols
    too, so an ideal channel still gives identical reconstructions when clipping bites."""
    s = build_scheme("pvsc", {"weights": "random", "gop": 4, "symbol_clip": 0.5})
    state = build_link("awgn", {"snr_db": 6.0}).state(clip.info, Rate(cbr=0.1))
    tx, rec = s.encode_with_recon(clip, state, np.random.default_rng(0), keep_recon=True)
    assert np.abs(tx.symbols).max() > 0.5
    dec = _decode(s, tx)
    assert dec.report.symbols_sanitized > 0 and np.array_equal(dec.video.frames, rec)


def test_a_bogus_duplicate_does_not_hide_the_real_side_pdu(sent):
    """A CRC-valid side PDU claiming frame 2 with wrong content, ahead of the real one: the real one decodes."""
    from tokcom.schemes.pvsc import bitstream as bs

    s, tx, rec = sent
    pk = list(tx.packets)
    bogus = replace(pk[2], payload=bs.pack_side(replace(bs.parse_side(pk[2].payload), sym_count=1)), num_bits=None)
    dec = _decode(s, tx, packets=[bogus, *pk])
    assert [f.status for f in dec.report.frames_rx] == ["ok"] * 8 and np.array_equal(dec.video.frames, rec)


def test_hostile_hyper_latent_cannot_poison_the_buffer(sent):
    """A CRC-valid b_z decoding to huge ẑ: clamped at both ends (Z_LIMIT); frames stay finite uint8 and the
    GOP decodes on."""
    from tokcom.schemes.pvsc import bitstream as bs

    s, tx, _ = sent
    model, _ = s.model()
    pk = list(tx.packets)
    si = bs.parse_side(pk[1].payload)
    z = torch.full((1, model.arch.c_z, 1, 2), 1e9)  # 64 × 80 pads to 64 × 128: ẑ is 1 × 2
    prior, levels = model.inter.prior, len(model.arch.rates)
    _, kidx = bs.decode_streams(prior, si.z_bytes, si.k_bytes, tuple(z.shape), (4, 8), levels, si.codec)
    huge = replace(si, z_bytes=bs.encode_streams(prior, z, kidx, si.codec, levels)[0])
    pk[1] = replace(pk[1], payload=bs.pack_side(huge), num_bits=None)
    dec = _decode(s, tx, packets=pk)
    assert dec.video.frames.dtype == np.uint8 and dec.frames_decoded == 8
    # a PNG codec session given an empty or garbage b_k: side_invalid, never an exception
    png = build_scheme("pvsc", {"weights": "random", "gop": 4, "rate_map_codec": "png"})
    pk = list(tx.packets)
    pk[2] = replace(pk[2], payload=bs.pack_side(replace(si, frame=2, codec="png", k_bytes=b"")), num_bits=None)
    dec = _decode(png, tx, packets=pk)
    assert dec.report.frames_rx[2].status in ("side_invalid", "side_lost")


def test_damaged_symbols_are_sanitised(sent):
    s, tx, _ = sent
    bad = tx.symbols.copy()
    bad[::5] = np.nan
    bad[1::5] = np.inf
    bad[2::5] = 1e30 + 1e30j
    dec = _decode(s, tx, symbols=bad)
    assert dec.report.symbols_sanitized == len(bad[::5]) + len(bad[1::5]) + len(bad[2::5])
    assert dec.frames_decoded == 8 and dec.video.frames.dtype == np.uint8
    # no symbols at all (a budget that cut them, or a reception without them): decoded from side info
    for sym in (None, np.zeros(0, np.complex64), tx.symbols[:10].copy(), np.ones((3, 3), np.complex64)):
        dec = _decode(s, tx, symbols=sym)
        assert dec.frames_decoded == 8 and dec.video.frames.shape == (8, 64, 80, 3)
        assert sum(f.symbols_missing or 0 for f in dec.report.frames_rx) > 0
    # real-valued symbols are accepted as complex with zero imaginary part
    assert _decode(s, tx, symbols=tx.symbols.real.astype(np.float32)).frames_decoded == 8


def test_lost_side_information_freezes_until_the_next_i_frame(sent):
    s, tx, rec = sent
    pk = list(tx.packets)
    # a lost P-frame side PDU (frame 1): freeze repeats frame 0 for the rest of the GOP, then the next GOP
    # decodes exactly as sent
    lost = pk.copy()
    lost[1] = None
    dec = _decode(s, tx, packets=lost)
    st = [f.status for f in dec.report.frames_rx]
    assert st == ["ok", "side_lost", "frozen", "frozen", "ok", "ok", "ok", "ok"]
    assert all(np.array_equal(dec.video.frames[t], rec[0]) for t in (1, 2, 3))
    assert np.array_equal(dec.video.frames[4:], rec[4:]) and dec.report.buffer_resets == 1
    # skip: only the lost frame repeats; frame 2 is decoded against the last good buffer (frame 0's)
    skip = build_scheme("pvsc", {"weights": "random", "gop": 4, "on_loss": "skip"})
    dec = _decode(skip, tx, packets=lost)
    assert [f.status for f in dec.report.frames_rx][:4] == ["ok", "side_lost", "ok", "ok"]
    # a lost I-frame: mid-grey until something decodes, its GOP frozen, the next GOP intact
    lost = pk.copy()
    lost[0] = None
    dec = _decode(s, tx, packets=lost)
    assert [f.status for f in dec.report.frames_rx][:4] == ["side_lost", "frozen", "frozen", "frozen"]
    assert np.all(dec.video.frames[:4] == 128) and np.array_equal(dec.video.frames[4:], rec[4:])
    # the whole side link lost: nothing decodes, every frame is grey
    dec = _decode(s, tx, packets=[None] * len(pk))
    assert dec.frames_decoded == 0 and np.all(dec.video.frames == 128)


def test_corrupted_side_information_is_detected(sent):
    from tokcom.schemes.pvsc import bitstream as bs

    s, tx, rec = sent
    pk = list(tx.packets)
    si = bs.parse_side(pk[2].payload)
    flipped = replace(si, z_bytes=si.z_bytes[:6] + bytes([si.z_bytes[6] ^ 0x10]) + si.z_bytes[7:])
    assert si.codec == "arith" and si.k_bytes == b""  # the default: ẑ and k_t in one bare stream
    cases = {
        "b_z truncated": replace(si, z_bytes=si.z_bytes[:3]),
        "b_z one word short": replace(si, z_bytes=si.z_bytes[:-4]),
        "b_z of another frame": replace(si, z_bytes=bs.parse_side(pk[5].payload).z_bytes + b"\x00"),
        "b_k of the wrong size": replace(si, k_bytes=bs.encode_rate_map(np.zeros((2, 2), np.uint8))),
        "b_k garbage": replace(si, k_bytes=b"\x01\xff\xff\xff"),
        "preset between presets out of range": replace(si, quality=4.5),
        "symbol count inconsistent": replace(si, sym_count=si.sym_count + 1),
        "preset out of range": replace(si, quality=9),
        "other rate-map codec": replace(si, codec="png"),
    }
    for what, bad in cases.items():
        pkts = pk.copy()
        pkts[2] = replace(pk[2], payload=bs.pack_side(bad), num_bits=None)
        dec = _decode(s, tx, packets=pkts)
        st = [f.status for f in dec.report.frames_rx]
        assert st[:4] == ["ok", "ok", "side_invalid", "frozen"], what
        assert np.array_equal(dec.video.frames[2], rec[1]) and np.array_equal(dec.video.frames[4:], rec[4:]), what
    # a bit flipped inside the bare stream under a good PDU CRC (only a crafted PDU: the link's errors break the
    # CRC): rejected when the stream no longer parses to this frame, else decoded to a wrong frame — never raises
    pkts = pk.copy()
    pkts[2] = replace(pk[2], payload=bs.pack_side(flipped), num_bits=None)
    dec = _decode(s, tx, packets=pkts)
    assert dec.report.frames_rx[2].status in ("ok", "side_invalid") and dec.video.frames.dtype == np.uint8
    # a flipped bit without a good CRC: the PDU is not a side PDU at all
    raw = bytearray(pk[2].payload)
    raw[len(raw) // 2] ^= 4
    pkts = pk.copy()
    pkts[2] = replace(pk[2], payload=bytes(raw))
    dec = _decode(s, tx, packets=pkts)
    assert dec.report.frames_rx[2].status == "side_lost" and dec.report.pdus_unparsed == 1
    # a symbol offset beyond the received symbols: decoded from zeros (counted as missing)
    pkts = pk.copy()
    pkts[3] = replace(pk[3], payload=bs.pack_side(replace(bs.parse_side(pk[3].payload), sym_start=10**7)),
                      num_bits=None)
    dec = _decode(s, tx, packets=pkts)
    assert dec.report.frames_rx[3].status == "symbols_missing"


def test_weights_missing_or_random():
    from tokcom.schemes.pvsc.scheme import weight_files, weights_digest

    s = build_scheme("pvsc", {})
    st, _ = weight_files(s.config)
    if not st.is_file():  # shipped weights absent: one actionable line
        assert s.weights() == {"pvsc-small": "absent"}
        with pytest.raises(WeightsUnavailable) as e:
            s.model()
        assert "\n" not in str(e.value) and "weights=random" in str(e.value)
    else:  # the shipped model: sha256-pinned, trained, the small architecture
        import json

        meta = json.loads(st.with_suffix(".json").read_text())
        assert s.weights() == {"pvsc-small": meta["sha256"]}
        model, info = s.model()
        assert info["trained"] and info["sha256"] == meta["sha256"] and model.arch.name == "small"
        assert meta["training"]["steps"] > 0 and "bikes.mp4" in meta["training"]["data"]["held_out"]
    r = build_scheme("pvsc", {"weights": "random", "seed": 3})
    assert weights_digest(r.config) == "random-init"
    a = r.model()[0].intra.f_ext.stem.weight
    b = build_scheme("pvsc", {"weights": "random", "seed": 3}).model()[0].intra.f_ext.stem.weight
    assert a is b or torch.equal(a, b)  # deterministic from the seed (and cached per process)
    with pytest.raises(WeightsUnavailable):
        build_scheme("pvsc", {"weights": "/nonexistent/pvsc-small.safetensors"}).model()


def test_report_shows_rate_maps_and_rate_control(tmp_path):
    """The sweep report's pvsc section: one rate-map figure per clip and rate target (the SNR nearest 6 dB),
    and the per-GOP preset table."""
    from tokcom.schemes.pvsc.report import report_sections

    (tmp_path / "images").mkdir()
    recs = []
    for snr in (0.0, 6.0, 12.0):
        name = f"images/p{snr:g}-rate_maps.png"
        (tmp_path / name).write_bytes(b"png")
        recs.append({"scheme": "pvsc", "input": "clips/bikes.mp4", "config": {"snr_db": snr, "cbr": 0.01},
                     "artifacts": {"rate_maps": name},
                     "scheme_report": {"gop": 8, "trained": True, "qualities": [4, 3],
                                       "gops": [{"candidate": "q4"}, {"candidate": "q3"}]}})
    recs.append({**recs[0], "artifacts": {"rate_maps": "images/missing.png"}, "config": {"snr_db": 6.0, "cbr": 0.02}})
    html = report_sections(recs, tmp_path)
    assert html.count("<figure>") == 1 and "images/p6-rate_maps.png" in html and "missing" not in html
    assert "PVSC rate control per GOP" in html and html.count("q4 q3") == 4


def test_quality_option_accepts_values_between_presets():
    assert build_scheme("pvsc", {"weights": "random", "quality": 0.5}).config.quality == 0.5
    assert build_scheme("pvsc", {"weights": "random", "quality": 2.0}).config.quality == 2  # a preset
    assert build_scheme("pvsc", {"weights": "random", "quality": 1 / 3}).config.quality == 85 / 256  # 1/256 steps
    for bad in (4.5, -0.1, float("nan")):
        with pytest.raises(InputError):
            build_scheme("pvsc", {"weights": "random", "quality": bad})


def test_simulated_reception_matches_the_receivers_decoding(clip):
    """``rate_choice=received`` simulates the receiver: at a huge SNR its loss is that of the transmitter's own
    reconstructions (the ideal channel, eqs. 22–24); at a low one it is not (an untrained decoder barely depends on its
    symbols: only that it changes is checked); the noise is CN(0, N0) and the
    same draw for every rung (a longer draw extends a shorter one)."""
    from tokcom.schemes.pvsc import received
    from tokcom.schemes.pvsc.ratecontrol import Candidate
    from tokcom.schemes.pvsc.scheme import _frames_tensor

    s = build_scheme("pvsc", {"weights": "random", "gop": 4})
    model, _ = s.model()
    state = build_link("awgn", {"snr_db": 6.0}).state(clip.info, Rate(cbr=1.0))
    frames = _frames_tensor(clip.frames[:4], "cpu")
    code = s._encode_gop(model, frames, 0, Candidate(2), 0.2, state.mcs, True, state, 0, (64, 80), True)
    x_tx = torch.from_numpy(np.stack(code.x_tx)).permute(0, 3, 1, 2).float() / 127.5 - 1
    target = frames[:, :, :64, :80]
    ideal = float((x_tx - target).abs().mean(dim=(1, 2, 3)).mean())
    assert received.received_loss(model, frames, code, 300.0, 8.0, (64, 80), None) == pytest.approx(ideal, abs=5e-3)
    assert abs(received.received_loss(model, frames, code, -10.0, 8.0, (64, 80), None) - ideal) > 5e-4
    a, b = received.simulated_noise(1000, 0.0, 3), received.simulated_noise(50_000, 0.0, 3)
    assert np.array_equal(a, b[:1000]) and not np.array_equal(a, received.simulated_noise(1000, 0.0, 4))
    assert np.mean(np.abs(b) ** 2) == pytest.approx(1.0, rel=0.03)  # N0 = 1 at 0 dB
    assert np.mean(np.abs(received.simulated_noise(50_000, 10.0, 3)) ** 2) == pytest.approx(0.1, rel=0.03)


def test_received_choice_walks_down_only_within_the_budget(clip, monkeypatch):
    """Rate control with ``rate_choice=received`` sends the rung with the lowest simulated loss among those that
    fit — never one over the budget, never "I-frame only" unless nothing else fits — and reports the highest
    that fitted; ``fit`` sends the highest; over the erasure link (no analog channel) both are ``fit``."""
    from tokcom.schemes.pvsc import received

    link = build_link("awgn", {"snr_db": 6.0})
    state = link.state(clip.info, Rate(cbr=0.08))
    monkeypatch.setattr(received, "received_loss", lambda model, frames, code, *a: code.candidate.quality + code.candidate.eta_scale)  # the cheaper, the better
    got = {}
    for choice in ("fit", "received"):
        tx = build_scheme("pvsc", {"weights": "random", "gop": 4, "rate_choice": choice}).encode(
            clip, state, np.random.default_rng(0))
        uses = sum(link.packet_channel_uses(p) for p in tx.packets) + tx.symbols.size
        assert uses <= state.channel_use_budget and uses == tx.report.channel_uses_planned
        got[choice] = tx.report
    fit, rec = got["fit"], got["received"]
    assert fit.rate_choice == "fit" and rec.rate_choice == "received" and rec.choice_loss.startswith("l1")
    assert [g.candidate for g in fit.gops] == [g.highest_fitting for g in fit.gops] and fit.gops[0].quality > 0
    assert fit.gops[0].highest_fitting == rec.gops[0].highest_fitting
    assert all(g.candidate == "q0 η×0" and g.expected_loss is not None for g in rec.gops)  # the cheapest with P-frames
    erasure = build_link("erasure")
    tx = build_scheme("pvsc", {"weights": "random", "gop": 4}).encode(clip, erasure.state(clip.info, Rate(cbr=0.3)),
                                                                     np.random.default_rng(0))
    assert tx.report.rate_choice == "fit" and all(g.expected_loss is None for g in tx.report.gops)
    with pytest.raises(InputError, match="rate-choice"):
        build_scheme("pvsc", {"rate_choice": "best"})


def test_received_choice_scores_with_the_chosen_network(monkeypatch):
    """``choice_net`` picks the LPIPS network of the simulated received loss (named in the report's
    ``choice_loss``); without its weights the loss is L1 alone; anything else is a one-line error."""
    from tokcom.metrics import perceptual
    from tokcom.schemes.pvsc import received

    monkeypatch.setattr(perceptual, "weights_unavailable", lambda name: False)
    monkeypatch.setattr(perceptual, "get_net", lambda name, device: name)
    for name in received.LOSS_NETS:
        c = received.ReceivedChoice.build(6.0, 8.0, (64, 64), "cpu", name)
        assert c.net == name and c.loss_name == f"l1+0.8·{name}"
    monkeypatch.setattr(perceptual, "weights_unavailable", lambda name: True)
    assert received.ReceivedChoice.build(6.0, 8.0, (64, 64), "cpu", "lpips-vgg").loss_name == "l1"
    with pytest.raises(ValueError, match="choice network"):
        received.ReceivedChoice.build(6.0, 8.0, (64, 64), "cpu", "dists")
    assert build_scheme("pvsc", {"choice_net": "lpips-vgg"}).config.choice_net == "lpips-vgg"
    with pytest.raises(InputError, match="choice-net"):
        build_scheme("pvsc", {"choice_net": "vgg16"})


def test_each_ladder_chooses_from_its_own_rungs(clip):
    """``ladder=eta`` (the default) lowers η at q1 before it goes below q1; ``ladder=quality`` lowers the
    quality down to q0 first. Either way the chosen rungs are the ladder's, within the budget, and reported."""
    from tokcom.schemes.pvsc.ratecontrol import ladder

    link = build_link("awgn", {"snr_db": 6.0})
    top = build_scheme("pvsc", {"weights": "random", "gop": 8, "quality": 1}).encode(
        clip, link.state(clip.info, Rate(cbr=5.0)), np.random.default_rng(0)).report.channel_uses_planned
    picks = {}
    for kind in ("eta", "quality"):
        s = build_scheme("pvsc", {"weights": "random", "gop": 8, "ladder": kind})
        rungs = {c.label: c for c in ladder(5, kind=kind)}
        picks[kind] = []
        for frac in (0.9, 0.7, 0.5, 0.3):  # budgets below q1's cost: the two ladders differ there
            state = link.state(clip.info, Rate(cbr=frac * top / (clip.frames.size)))
            tx = s.encode(clip, state, np.random.default_rng(0))
            uses = sum(link.packet_channel_uses(p) for p in tx.packets) + tx.symbols.size
            assert uses <= state.channel_use_budget and tx.report.ladder == kind
            (g,) = tx.report.gops
            assert g.candidate in rungs and g.highest_fitting in rungs
            picks[kind].append(rungs[g.candidate])
    # eta: below q1 at full η only by lowering η; quality: η is lowered only at q0
    assert all(c.quality >= 1 or c.eta_scale < 1 for c in picks["eta"]) and any(
        c.quality == 1 and 0 < c.eta_scale < 1 for c in picks["eta"])
    assert all(c.eta_scale == 1 or c.quality == 0 for c in picks["quality"])
    assert picks["eta"] != picks["quality"]


def test_rungs_above_the_top_preset_follow_eta_top(clip):
    """A model trained with more symbols per unit than η (``eta_top`` > 1) gets rungs above the top preset: with a
    generous budget rate control sends q4 at a larger η, within budget; without (the default 1 of a model trained
    at η only, or ``--set eta_top=1``) q4 at η stays the best rung."""
    from tokcom.schemes.pvsc.config import PvscArch

    link = build_link("awgn", {"snr_db": 6.0})
    big = link.state(clip.info, Rate(cbr=5.0))
    plain = build_scheme("pvsc", {"weights": "random", "gop": 8}).encode(clip, big, np.random.default_rng(0))
    wide = build_scheme("pvsc", {"weights": "random", "gop": 8, "eta_top": 2.0})
    tx = wide.encode(clip, big, np.random.default_rng(0))
    assert [g.candidate for g in plain.report.gops] == ["q4"] and [g.candidate for g in tx.report.gops] == ["q4 η×2"]
    assert tx.symbols.size > plain.symbols.size
    # a budget between q4's cost and q4 η×2's: the highest rung that fits, above q4 when one does
    mid = link.state(clip.info, Rate(cbr=(plain.report.channel_uses_planned + tx.report.channel_uses_planned)
                                     / 2 / clip.frames.size))
    t2 = wide.encode(clip, mid, np.random.default_rng(0))
    uses = sum(link.packet_channel_uses(p) for p in t2.packets) + t2.symbols.size
    assert uses <= mid.channel_use_budget and t2.report.gops[0].candidate in ("q4 η×1.75", "q4 η×1.5", "q4 η×1.25")
    # the arch field: a missing one (exports before session 16) is 1; out of range is a one-line error
    assert PvscArch.from_dict({"name": "small"}).eta_top == 1.0
    for bad in (0.5, float("inf")):
        with pytest.raises(InputError):
            PvscArch(eta_top=bad)
        with pytest.raises(InputError):
            build_scheme("pvsc", {"weights": "random", "eta_top": bad})


def test_tx_rx_gap_measures_the_channels_share(clip):
    """Point 1's measurement: per frame PSNR(x̂^tx, x̂); the cleaner the channel the smaller the gap (higher PSNR),
    and one value per frame of the GOP."""
    from tokcom.schemes.pvsc.scheme import TxRxGap, tx_rx_gap

    s = build_scheme("pvsc", {"weights": "random", "gop": 8})
    noisy, clean = (tx_rx_gap(s, clip, build_link("awgn", {"snr_db": snr})) for snr in (-4.0, 30.0))
    assert isinstance(noisy, TxRxGap) and len(noisy.psnr_tx_vs_rx_db) == clip.info.num_frames
    assert noisy.mean_db == pytest.approx(float(np.mean(noisy.psnr_tx_vs_rx_db)))
    assert clean.mean_db > noisy.mean_db and all(np.isfinite(noisy.psnr_tx_vs_rx_db))
    assert noisy.post_eq_snr_db is not None and abs(noisy.post_eq_snr_db + 4.0) < 1.0
