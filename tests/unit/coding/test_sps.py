"""SPS picture sizes (H.264 / H.265), and receivers that refuse a stream claiming a picture of its choosing."""

from __future__ import annotations

import resource

import numpy as np
import pytest

from tokcom.coding.annexb import split_annexb
from tokcom.coding.pdu import packetize
from tokcom.coding.sps import _Bits, _rbsp, sps_picture_size
from tokcom.schemes.base import build_scheme
from tokcom.types import LinkState, Packet, Reception


class _Writer:
    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, v: int) -> None:
        self.bits += [(v >> (n - 1 - i)) & 1 for i in range(n)]

    def ue(self, v: int) -> None:
        x = v + 1
        n = x.bit_length()
        self.u(n - 1, 0)
        self.u(n, x)

    def raw(self, bits) -> None:
        self.bits += list(bits)

    def payload(self) -> bytes:
        b = self.bits + [1]  # rbsp_stop_one_bit
        b += [0] * (-len(b) % 8)
        out = bytes(int("".join(map(str, b[i:i + 8])), 2) for i in range(0, len(b), 8))
        esc = bytearray()  # emulation prevention
        zeros = 0
        for byte in out:
            if zeros >= 2 and byte <= 3:
                esc.append(3)
                zeros = 0
            esc.append(byte)
            zeros = zeros + 1 if byte == 0 else 0
        return bytes(esc)


def _h264_sps(width: int, height: int) -> bytes:
    w = _Writer()
    w.u(8, 66)  # baseline profile
    w.u(8, 0)
    w.u(8, 40)
    w.ue(0)  # sps id
    w.ue(0)  # log2_max_frame_num_minus4
    w.ue(2)  # pic_order_cnt_type
    w.ue(1)  # max_num_ref_frames
    w.u(1, 0)
    w.ue(width // 16 - 1)
    w.ue(height // 16 - 1)
    w.u(1, 1)  # frame_mbs_only
    w.u(1, 1)  # direct_8x8_inference
    w.u(1, 0)  # no cropping
    w.u(1, 0)  # no VUI
    return b"\x67" + w.payload()


def _bits_of(data: bytes) -> list[int]:
    return [(b >> (7 - i)) & 1 for b in data for i in range(8)]


def _h265_resize(nal: bytes, width: int, height: int) -> bytes:
    """A real HEVC SPS with its picture size rewritten (bit surgery up to pic_height_in_luma_samples)."""
    rbsp = _rbsp(nal[2:])
    r = _Bits(rbsp)
    r.u(4)
    msl = r.u(3)
    r.u(1)
    r.u(96)
    flags = [(r.u(1), r.u(1)) for _ in range(msl)]
    if msl > 0:
        for _ in range(msl, 8):
            r.u(2)
    for p, lv in flags:
        r.u(88 if p else 0)
        r.u(8 if lv else 0)
    r.ue()
    if r.ue() == 3:
        r.u(1)
    start = r.pos
    r.ue()
    r.ue()
    end = r.pos
    bits = _bits_of(rbsp)
    tail = bits[end:]
    while tail and tail[-1] == 0:  # drop the old rbsp trailing bits (the writer adds its own)
        tail.pop()
    tail.pop()
    w = _Writer()
    w.raw(bits[:start])
    w.ue(width)
    w.ue(height)
    w.raw(tail)
    return nal[:2] + w.payload()


@pytest.mark.parametrize("codec, dec", [("h264", "h264"), ("h265", "hevc")])
def test_real_encoder_sps_sizes(codec, dec, small_video):
    s = build_scheme(codec, {"preset": "ultrafast", "bitrate_bps": 100_000.0})
    tx = s.encode(small_video, LinkState(), np.random.default_rng(0))
    from tokcom.coding.pdu import depacketize

    sizes = {sps_picture_size(n, dec) for _, n in depacketize([p.payload for p in tx.packets])[0]} - {None}
    assert sizes == {(128, 128)}


def test_forged_and_broken_sps():
    assert sps_picture_size(_h264_sps(8192, 4608), "h264") == (8192, 4608)
    assert sps_picture_size(_h264_sps(8192, 4608)[:5], "h264") == (0, 0)  # truncated: unreadable
    assert sps_picture_size(b"\x65\x88\x84", "h264") is None  # an IDR slice, not an SPS
    assert sps_picture_size(b"", "hevc") is None and sps_picture_size(b"\x42", "hevc") is None
    rng = np.random.default_rng(0)
    for _ in range(2000):  # garbage never raises
        junk = rng.bytes(int(rng.integers(1, 40)))
        for dec in ("h264", "hevc"):
            out = sps_picture_size(bytes([0x67]) + junk if dec == "h264" else bytes([0x42, 0x01]) + junk, dec)
            assert out is None or (isinstance(out, tuple) and len(out) == 2)


def _encode_8k_grey(encoder: str) -> list[bytes]:
    """The NAL units of one flat 8192×4608 picture: a few kB that would make a decoder allocate gigabytes."""
    from fractions import Fraction

    import av

    ctx = av.CodecContext.create(encoder, "w")
    ctx.width, ctx.height, ctx.pix_fmt = 8192, 4608, "yuv420p"
    ctx.time_base, ctx.framerate = Fraction(1, 25), Fraction(25)
    ctx.options = ({"preset": "ultrafast", "x264-params": "threads=1"} if encoder == "libx264" else
                   {"preset": "ultrafast", "x265-params": "log-level=error:pools=none:frame-threads=1"})
    f = av.VideoFrame(8192, 4608, "yuv420p")
    for plane in f.planes:
        np.frombuffer(plane, np.uint8)[:] = 128
    f.pts = 0
    data = b"".join(bytes(p) for p in ctx.encode(f)) + b"".join(bytes(p) for p in ctx.encode(None))
    return split_annexb(data)


@pytest.mark.slow
@pytest.mark.parametrize("codec, dec, encoder", [("h264", "h264", "libx264"), ("h265", "hevc", "libx265")])
def test_receiver_refuses_a_real_8k_picture_in_valid_pdus(codec, dec, encoder, small_video):
    """A whole valid 8192×4608 access unit (SPS, PPS, IDR slice) in place of every frame, inside PDUs with
    good CRCs: without the size check FFmpeg decodes each (56 MB pictures, a fraction of a second each); the
    receiver gives none of them to the decoder."""
    s = build_scheme(codec, {"preset": "ultrafast", "bitrate_bps": 100_000.0, "low_delay": True})
    tx = s.encode(small_video, LinkState(), np.random.default_rng(0))

    big = _encode_8k_grey(encoder)
    hostile = [(t, n) for t in range(small_video.num_frames) for n in big]
    pk = [Packet(p) for p in packetize(hostile, 1200)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    d = s.decode(Reception(tx.info, pk), np.random.default_rng(0))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 200, grown_mb  # one 8K frame alone is 56 MB YUV, 113 MB RGB
    # every hostile access unit was refused before the decoder saw it (unguarded, FFmpeg decodes all 24)
    assert d.video.frames.shape == small_video.frames.shape and d.report.decoder_errors >= small_video.num_frames
    assert not any(d.report.frame_decoded) and (d.video.frames == 128).all()


@pytest.mark.parametrize("codec, dec", [("h264", "h264"), ("h265", "hevc")])
def test_receiver_refuses_a_stream_claiming_8192x4608(codec, dec, small_video):
    """A forged SPS inside valid PDUs: the receiver does not hand it to the decoder (no 2 GB frames)."""
    s = build_scheme(codec, {"preset": "ultrafast", "bitrate_bps": 100_000.0, "low_delay": True})
    tx = s.encode(small_video, LinkState(), np.random.default_rng(0))
    from tokcom.coding.pdu import depacketize

    msgs = depacketize([p.payload for p in tx.packets])[0]
    if dec == "h264":
        forged = _h264_sps(8192, 4608)
    else:
        real = next(n for _, n in msgs if sps_picture_size(n, dec) is not None)
        forged = _h265_resize(real, 8192, 4608)
    assert sps_picture_size(forged, dec) == (8192, 4608)
    # every SPS in the stream replaced by the forged one
    hostile = [(t, forged if sps_picture_size(n, dec) is not None else n) for t, n in msgs]
    pk = [Packet(p) for p in packetize(hostile, 1200)]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    d = s.decode(Reception(tx.info, pk), np.random.default_rng(0))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 500, grown_mb  # an 8192×4608 picture pool would be gigabytes
    assert d.video.frames.shape == small_video.frames.shape
    assert d.report.decoder_errors > 0
    assert all(len(n) < 200 for n in split_annexb(forged))
