"""The h264/h265 baselines: rate matching, GOP/low-delay structure, and a receiver that never crashes."""

from __future__ import annotations

import numpy as np
import pytest

from tokcom.coding.annexb import split_annexb
from tokcom.errors import InputError
from tokcom.link.erasure import ErasureLink
from tokcom.metrics.pixel import psnr_per_frame
from tokcom.schemes.base import build_scheme
from tokcom.types import LinkState, Packet, Rate, Reception

CODECS = ["h265", "h264"]


def _encode(name, video, **opts):
    opts.setdefault("preset", "ultrafast")
    s = build_scheme(name, opts)
    return s, s.encode(video, LinkState(), np.random.default_rng(0))


@pytest.fixture(scope="module", params=CODECS)
def encoded(request, small_video):
    s, tx = _encode(request.param, small_video, bitrate_bps=120_000.0, gop=8)
    return s, tx, small_video


@pytest.mark.parametrize("name", CODECS)
@pytest.mark.parametrize("bitrate", [60_000.0, 250_000.0])
def test_bitrate_matches_target(name, bitrate, small_video):
    _, tx = _encode(name, small_video, bitrate_bps=bitrate)
    target = bitrate * small_video.duration_s
    assert abs(tx.source_bits / target - 1) <= 0.06, (tx.source_bits, target, tx.report.rate_attempts)
    assert all(len(p.payload) <= 1200 for p in tx.packets)


def test_budget_from_link_state(small_video):
    """Without --bitrate the target comes from the link's channel-use budget × bits per channel use."""
    link = ErasureLink(bits_per_channel_use=2.0)
    state = link.state(small_video.info, Rate(cbr=0.01))
    s = build_scheme("h265", {"preset": "ultrafast"})
    tx = s.encode(small_video, state, np.random.default_rng(0))
    assert tx.report.target_bitrate_bps == pytest.approx(state.source_bit_budget / small_video.duration_s)
    assert abs(tx.source_bits / state.source_bit_budget - 1) <= 0.06


def test_cbr_without_rate_is_an_input_error(small_video):
    with pytest.raises(InputError, match="--bitrate"):
        _encode("h265", small_video)


@pytest.mark.parametrize("name", CODECS)
def test_cqp_needs_no_rate_and_lower_qp_costs_more(name, small_video):
    _, lo = _encode(name, small_video, rate_control="cqp", qp=22)
    _, hi = _encode(name, small_video, rate_control="cqp", qp=40)
    assert lo.source_bits > 2 * hi.source_bits


@pytest.mark.parametrize("name", CODECS)
def test_gop_places_key_frames(name, small_video):
    _, tx = _encode(name, small_video, bitrate_bps=150_000.0, gop=8)
    types = tx.report.frame_types
    assert [i for i, t in enumerate(types) if t == "I"] == [0, 8, 16]


@pytest.mark.parametrize("name", CODECS)
def test_low_delay_sends_frames_in_order(name, small_video):
    from tokcom.coding.pdu import depacketize

    _, tx = _encode(name, small_video, bitrate_bps=150_000.0, low_delay=True)
    msgs, _ = depacketize([p.payload for p in tx.packets])
    tags = [t for t, _ in msgs]
    assert tags == sorted(tags)  # P-only: decode order is presentation order
    _, tx_b = _encode(name, small_video, bitrate_bps=150_000.0, preset="medium")
    tags_b = [t for t, _ in depacketize([p.payload for p in tx_b.packets])[0]]
    assert tags_b != sorted(tags_b)  # the default structure has B frames (reordering) — the test can fail


def test_encode_is_deterministic(small_video):
    _, a = _encode("h265", small_video, bitrate_bps=100_000.0, preset="medium")
    _, b = _encode("h265", small_video, bitrate_bps=100_000.0, preset="medium")
    assert [p.payload for p in a.packets] == [p.payload for p in b.packets]


def test_lossless_link_decodes_every_frame(encoded):
    s, tx, video = encoded
    rx = ErasureLink(pdu_loss=0.0).carry(tx, np.random.default_rng(0))
    dec = s.decode(rx, np.random.default_rng(0))
    assert dec.frames_decoded == video.num_frames
    assert dec.video.frames.shape == video.frames.shape
    assert psnr_per_frame(video.frames, dec.video.frames).mean() > 28


def test_lost_frames_repeat_the_last_decoded_frame(small_video):
    """Low delay (P only), cut the stream in the first GOP: a decoded prefix, then its last frame repeated."""
    from tokcom.coding.pdu import parse_pdu

    s, tx = _encode("h264", small_video, bitrate_bps=150_000.0, gop=8, low_delay=True)
    keep = [max(tag for tag, _, _ in parse_pdu(p.payload)[1]) < 8 for p in tx.packets]
    first_bad = keep.index(False)
    pk = [p if i < first_bad else None for i, p in enumerate(tx.packets)]
    dec = s.decode(Reception(tx.info, pk), np.random.default_rng(0))
    assert 4 <= dec.frames_decoded <= 8  # the frames whose NAL units share the cut PDU are lost too
    assert list(dec.report.frame_decoded[: dec.frames_decoded]) == [True] * dec.frames_decoded
    last = dec.video.frames[dec.frames_decoded - 1]
    assert all(np.array_equal(f, last) for f in dec.video.frames[dec.frames_decoded:])


def test_undecoded_frames_copy_their_predecessor(encoded):
    s, tx, video = encoded
    rng = np.random.default_rng(5)
    pk = [None if rng.random() < 0.3 else p for p in tx.packets]
    dec = s.decode(Reception(tx.info, pk), np.random.default_rng(0))
    flags = dec.report.frame_decoded
    assert sum(flags) == dec.frames_decoded < video.num_frames
    for t, ok in enumerate(flags):
        if not ok:
            prev = dec.video.frames[t - 1] if t else np.full_like(dec.video.frames[0], 128)
            assert np.array_equal(dec.video.frames[t], prev)


def test_nothing_received_gives_grey_and_zero_frames(encoded):
    s, tx, _video = encoded
    dec = s.decode(Reception(tx.info, [None] * len(tx.packets)), np.random.default_rng(0))
    assert dec.frames_decoded == 0
    assert (dec.video.frames == 128).all()


def test_200_seeded_loss_patterns_never_crash(encoded):
    s, tx, video = encoded
    rng = np.random.default_rng(2024)
    n = len(tx.packets)
    decoded = []
    for k in range(200):
        mode = k % 4
        if mode == 0:  # i.i.d. at a random rate
            lost = rng.random(n) < rng.random()
        elif mode == 1:  # one burst
            a = int(rng.integers(0, n))
            lost = np.zeros(n, bool)
            lost[a:a + int(rng.integers(1, n + 1))] = True
        elif mode == 2:  # Gilbert-Elliott-like bursts
            lost, bad = np.zeros(n, bool), False
            for i in range(n):
                bad = rng.random() < (0.7 if bad else 0.1)
                lost[i] = bad
        else:  # reordered + duplicated arrivals
            lost = rng.random(n) < 0.2
        pk = [None if lost[i] else p for i, p in enumerate(tx.packets)]
        if mode == 3:
            order = rng.permutation(n)
            pk = [pk[i] for i in order] + [pk[int(rng.integers(0, n))]]
        dec = s.decode(Reception(tx.info, pk), np.random.default_rng(k))
        assert dec.video.frames.shape == video.frames.shape
        assert 0 <= dec.frames_decoded <= video.num_frames
        decoded.append(dec.frames_decoded)
    assert min(decoded) < video.num_frames  # the patterns really hurt some runs


def test_corrupted_payloads_are_caught_by_the_crc(encoded):
    s, tx, video = encoded
    rng = np.random.default_rng(7)
    crc_failed = 0
    for k in range(60):
        pk = []
        for p in tx.packets:
            b = bytearray(p.payload)
            r = rng.random()
            if r < 0.2:
                b[int(rng.integers(0, len(b)))] ^= 1 << int(rng.integers(0, 8))
            elif r < 0.3:
                b = b[: int(rng.integers(0, len(b)))]
            elif r < 0.35:
                b = bytearray(rng.bytes(int(rng.integers(0, 1300))))
            pk.append(Packet(bytes(b)))
        dec = s.decode(Reception(tx.info, pk), np.random.default_rng(k))
        assert dec.video.frames.shape == video.frames.shape
        crc_failed += dec.report.pdus_crc_failed
    assert crc_failed > 0


def test_odd_frame_size_round_trips(sample_path):
    from tokcom.video import read_video

    v = read_video(sample_path, frames=6, size="127x95")
    s, tx = _encode("h264", v, bitrate_bps=200_000.0)
    dec = s.decode(ErasureLink().carry(tx, np.random.default_rng(0)), np.random.default_rng(0))
    assert dec.video.frames.shape == (6, 95, 127, 3)
    assert dec.frames_decoded == 6


def test_split_annexb():
    stream = b"\x00\x00\x00\x01\x67\xaa\x00\x00\x01\x68\xbb\xcc\x00\x00\x00\x01\x65" + b"\x01" * 5
    assert split_annexb(stream) == [b"\x67\xaa", b"\x68\xbb\xcc", b"\x65" + b"\x01" * 5]
    assert split_annexb(b"") == []
    assert split_annexb(b"\x12\x34") == []


@pytest.mark.parametrize("opts", [{"preset": "warp"}, {"qp": 60}, {"gop": 0}, {"bitrate_bps": -1},
                                  {"rate_control": "vbr"}, {"nonsense": 1}])
def test_bad_options_are_input_errors(opts):
    with pytest.raises(InputError):
        build_scheme("h265", opts)


def test_same_bitrate_over_awgn_shows_the_low_snr_cliff(small_video):
    """TokenCom's adaptive-H.265 MCS set: valid at 10 dB, the cliff (nothing decodable) at −2 dB."""
    from tokcom.link.base import build_link

    s = build_scheme("h265", {"preset": "ultrafast", "mcs_set": "tokencom-h265"})
    out = {}
    for snr in (-2.0, 10.0):
        link = build_link("awgn", {"snr_db": snr})
        state = link.state(small_video.info, Rate(bitrate_bps=150_000.0))
        tx = s.encode(small_video, state, np.random.default_rng(0))
        rx = link.carry(tx, np.random.default_rng(1))
        dec = s.decode(rx, np.random.default_rng(2))
        out[snr] = (tx.source_bits, tx.report.mcs.modulation, dec.frames_decoded)
    assert out[-2.0][0] == out[10.0][0]  # the same bitrate at both SNRs
    assert out[10.0][1] == "16QAM" and out[10.0][2] == small_video.num_frames
    assert out[-2.0][1] == "QPSK" and out[-2.0][2] < 0.85 * small_video.num_frames


def test_mcs_set_none_leaves_adaptation_to_the_link(small_video):
    from tokcom.link.base import build_link

    s = build_scheme("h265", {"preset": "ultrafast", "mcs_set": "none"})
    link = build_link("awgn", {"snr_db": -2.0})
    tx = s.encode(small_video, link.state(small_video.info, Rate(bitrate_bps=100_000.0)), np.random.default_rng(0))
    assert all(p.mcs is None for p in tx.packets)
    dec = s.decode(link.carry(tx, np.random.default_rng(1)), np.random.default_rng(2))
    assert dec.frames_decoded == small_video.num_frames  # full-table adaptation stays below the BLER target
