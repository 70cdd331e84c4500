"""Conventional baselines: H.264 (libx264) and H.265 (libx265) through PyAV, packetised into PDUs.

Pipeline::

    Video ─► RGB→YUV 4:2:0 (BT.709) ─► x264/x265 (CBR+VBV | CQP) ─► Annex-B NAL units
          ─► PDUs of 1200 B (seq + CRC-32, NAL aggregation/fragmentation) ─► one MCS for the stream ─► link
    link ─► PDUs that arrived ─► CRC check, complete NAL units only ─► FFmpeg decoder (error concealment)
          ─► frames by presentation index; a frame never produced = last decoded frame ─► Video

The papers' matched-rate baseline: TokenCom §III-D (000_cfad1eb21f67e2e2.txt) runs x265 in constant bitrate
mode with 1200-byte PDUs (Table II) and an "adaptive H.265" over {QPSK 1/2, 16QAM 1/2}; PVSC §IV-A
(002_165f6aebfafa3581.txt) uses x264/x265 ``veryslow`` in zero-latency mode with the MCS index swept per
channel condition, keeping the best — ``mcs_set="best"``, tokcom's default and the strongest baseline;
Resi-VidTok (001_c16fa1dac0c35e06.txt) matches a GOP of 32.

Rate: with a channel-use budget (``--cbr`` / ``--bandwidth-hz`` / ``--bitrate``) the encoder is run in closed
loop until the PDUs, counted as the link counts them (``LinkState.pdu_channel_uses`` with the stream's MCS),
fit the budget — the closest encode at or under it wins; when none does (x265's floor on a tiny budget) the
smallest is sent and the pipeline leaves the PDUs that do not fit unsent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, ClassVar

import numpy as np

from tokcom.coding.annexb import START_CODE, split_annexb
from tokcom.coding.pdu import OVERHEAD_BYTES, depacketize, packetize
from tokcom.coding.sps import sps_picture_size
from tokcom.errors import InputError
from tokcom.link import accounting
from tokcom.link.mcs import mcs_table, named_set
from tokcom.metrics.pixel import PSNR
from tokcom.registry import SCHEMES
from tokcom.schemes.base import Scheme
from tokcom.schemes.h26x.config import BEST, H26xConfig
from tokcom.schemes.h26x.report import H26xDecodeReport, H26xEncodeReport, McsTrial, RateAttempt
from tokcom.types import (
    Decoded,
    FrameMapBuilder,
    LinkState,
    Mcs,
    Packet,
    Reception,
    StreamInfo,
    Transmission,
    Video,
)
from tokcom.video.io import pad_even, rgb_to_yuv_frame, yuv_frame_to_rgb


@dataclass(frozen=True)
class _Encoded:
    """One packetised encode (cached per process): PDUs, which PDUs each NAL unit needs, and its report."""

    pdus: tuple[bytes, ...]
    nal_frames: tuple[int, ...]
    nal_bits: tuple[int, ...]
    nal_spans: tuple[tuple[int, int], ...]
    attempts: tuple[RateAttempt, ...]
    bitstream_bits: int
    frame_bits: tuple[int, ...]
    frame_types: tuple[str, ...]
    target_bitrate_bps: float | None
    channel_uses: int | None = None


@dataclass(frozen=True)
class _Goal:
    """What the rate loop aims at: at most ``channel_uses`` (counted by ``uses``), or ``bits`` source bits."""

    bitrate_bps: float | None
    channel_uses: int | None = None
    uses: Callable[[int], int] | None = field(default=None, compare=False)
    key: tuple = ()
    start_bitrate_bps: float | None = None  # the rate loop's first encoder bitrate (None: from the goal)

    def cache_key(self) -> tuple:
        return (*self.key, self.start_bitrate_bps)


RATE_FIRST_GUESS = 0.94  # measured: first encodes of 48-frame 256² clips landed at 1.01–1.09× their target
_ENCODE_CACHE: dict = {}
_ENCODE_CACHE_SIZE = 32


class _YuvFrames:
    """The clip as the encoder sees it — 4:2:0 BT.709, edge-padded to even sizes (the receiver crops) —
    converted one frame at a time when iterated, so no converted copy of the whole clip is ever held."""

    def __init__(self, frames: np.ndarray) -> None:
        self.frames = frames
        self.height = frames.shape[1] + frames.shape[1] % 2
        self.width = frames.shape[2] + frames.shape[2] % 2

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def __iter__(self):
        for f in self.frames:
            yield rgb_to_yuv_frame(pad_even(f[None])[0])


class H26xScheme(Scheme):
    """Common code of the H.264 and H.265 baselines (subclasses set the codec names)."""

    Config = H26xConfig
    example_options: ClassVar[Mapping[str, Any]] = {"preset": "ultrafast"}
    encoder_name: str
    decoder_name: str

    # -- transmitter ------------------------------------------------------------------------------
    def candidate_mcs(self, state: LinkState) -> list[tuple[Mcs, float]] | None:
        """The stream's MCS candidates with their predicted BLER, most efficient first; None when the link
        chooses (no PHY model, or ``mcs_set`` none)."""
        c = self.config
        if c.mcs_set is None or state.predict_bler is None or state.snr_db is None:
            return None
        k = 8 * c.pdu_bytes
        target = state.bler_target or 0.002
        pool = mcs_table(c.mcs_table) if c.mcs_set == BEST else named_set(c.mcs_set)
        scored = sorted(((m, float(state.predict_bler(m, k))) for m in pool),
                        key=lambda mb: -mb[0].spectral_efficiency)
        ok = [mb for mb in scored if mb[1] <= target]
        if not ok:  # nothing meets the target: the most robust one (as link adaptation does)
            return [min(scored, key=lambda mb: (mb[0].spectral_efficiency, mb[1]))]
        if c.mcs_set != BEST:  # a paper's set: its highest-throughput member that meets the target
            return [max(ok, key=lambda mb: mb[0].spectral_efficiency * (1 - mb[1]))]
        return ok

    def _goal(self, video: Video, state: LinkState, mcs: Mcs | None) -> _Goal:
        """The rate target for one stream MCS (see the module docstring)."""
        c = self.config
        if c.bitrate_bps is not None:
            return _Goal(float(c.bitrate_bps), key=("bitrate", float(c.bitrate_bps)))
        if state.bitrate_bps is not None:  # --bitrate: a source bitrate (the budget still caps what is sent)
            return _Goal(float(state.bitrate_bps), key=("bitrate", float(state.bitrate_bps)))
        budget = state.channel_use_budget
        if budget is not None and state.pdu_channel_uses is not None:
            if mcs is not None:
                bpcu = accounting.raw_spectral_efficiency(mcs, state.overhead)
            else:
                bpcu = state.bits_per_channel_use
            if bpcu is None:
                raise InputError(f"{self.name}: the link gives no bits per channel use to size the stream")
            count = state.pdu_channel_uses
            return _Goal(accounting.budget_bitrate(budget, bpcu, video.duration_s), int(budget),
                         lambda bits: count(bits, mcs),
                         key=("uses", int(budget), None if mcs is None else (mcs.num_bits_per_symbol,
                                                                              round(mcs.coderate, 9)),
                              float(state.overhead), state.bits_per_channel_use))
        return _Goal(None, key=("none",))

    def encode(self, video: Video, state: LinkState, rng: np.random.Generator) -> Transmission:
        c = self.config
        cands = self.candidate_mcs(state)
        trials: list[McsTrial] = []
        if cands is None:
            mcs, bler = None, None
            enc = self._encoded(video, self._goal(video, state, None))
        elif len(cands) == 1 or c.mcs_set != BEST:
            mcs, bler = cands[0]
            enc = self._encoded(video, self._goal(video, state, mcs))
        else:
            mcs, bler, enc, trials = self._best_mcs(video, state, cands)
        packets = tuple(Packet(p, stream="video", seq=i, mcs=mcs) for i, p in enumerate(enc.pdus))
        fm = FrameMapBuilder()
        for f, bits, (a, b) in zip(enc.nal_frames, enc.nal_bits, enc.nal_spans):
            fm.add(f, bits, range(a, b + 1))
        goal = self._goal(video, state, mcs)
        total = 8 * sum(len(p) for p in enc.pdus)
        report = H26xEncodeReport(
            codec=self.encoder_name, preset=c.preset, rate_control=c.rate_control,
            target_bitrate_bps=enc.target_bitrate_bps, target_channel_uses=goal.channel_uses,
            rate_attempts=enc.attempts, bitstream_bits=enc.bitstream_bits,
            pdu_overhead_bits=total - enc.bitstream_bits, nal_units=len(enc.nal_frames), pdus=len(enc.pdus),
            pdu_bytes=c.pdu_bytes, gop=c.gop, low_delay=c.low_delay, frame_bits=enc.frame_bits,
            frame_types=enc.frame_types,
            rate_ratio=(total / (goal.bitrate_bps * video.duration_s)) if goal.bitrate_bps else None,
            mcs=mcs if mcs is not None else "link adaptation", mcs_set=c.mcs_set, predicted_bler=bler,
            mcs_trials=tuple(trials))
        return Transmission(info=video.info, packets=packets, report=report, frame_map=fm.build())

    def _best_mcs(self, video: Video, state: LinkState, cands: list[tuple[Mcs, float]]
                  ) -> tuple[Mcs, float, _Encoded, list[McsTrial]]:
        """PVSC §IV-A: encode at the budget with each candidate MCS (most efficient first) and keep the best
        quality *at the budget* — PSNR of the lossless decode of the PDUs that fit (what the pipeline would
        send); stop after ``best_patience`` worse candidates in a row.

        The rate loop of a later candidate starts from the encoder-bitrate-to-bits ratio the previous one
        found (deterministic: it depends only on the inputs), which usually saves an encoder run.
        """
        psnr = PSNR()  # frame-mean PSNR, computed chunk by chunk
        best = None
        worse = 0
        trials = []
        ratio = None  # encoder bitrate per delivered bit/s of the previous candidate
        for m, b in cands:
            goal = self._goal(video, state, m)
            if ratio is not None and goal.bitrate_bps:
                goal = replace(goal, start_bitrate_bps=ratio * goal.bitrate_bps)
            enc = self._encoded(video, goal)
            sent = list(enc.pdus)
            if goal.channel_uses is not None and goal.uses is not None:
                uses = [goal.uses(8 * len(p)) for p in enc.pdus]
                mask = accounting.enforce_budget(uses, [0] * len(uses), goal.channel_uses).sent
                sent = [p if keep else None for p, keep in zip(enc.pdus, mask)]
            rec = self._decode_frames(depacketize(sent)[0], video.info)[0]
            q = psnr(video.frames, rec)
            del rec
            uses_total = enc.channel_uses if enc.channel_uses is not None else 0
            fits = goal.channel_uses is None or uses_total <= goal.channel_uses
            trials.append(McsTrial(m, b, q, uses_total, fits))
            bits = 8 * sum(len(p) for p in enc.pdus)
            chosen = [a for a in enc.attempts if a.bits == bits]
            if chosen and bits > 0:
                ratio = chosen[-1].encoder_bitrate_bps / (bits / video.duration_s)
            if best is None or q > best[0]:
                best = (q, m, b, enc)
                worse = 0
            else:
                worse += 1
                if worse >= self.config.best_patience:
                    break
        _, m, b, enc = best
        return m, b, enc, trials

    def _encoded(self, video: Video, goal: _Goal) -> _Encoded:
        """The packetised encode for ``goal`` (x264/x265 runs here are deterministic — single-threaded — so an
        encode depends only on the codec, its config, the frames and the goal: sweep points and MCS trials
        that share them reuse it; the cache lives in this process only)."""
        c = self.config
        if c.rate_control == "cbr" and goal.bitrate_bps is None:
            raise InputError(f"{self.name}: give --bitrate, --cbr or --bandwidth-hz (or --rate-control cqp)")
        key = (self.encoder_name, repr(c), video.digest(), goal.cache_key())
        hit = _ENCODE_CACHE.get(key)
        if hit is None:
            hit = self._encode_stream(video, goal)
            _ENCODE_CACHE[key] = hit
            while len(_ENCODE_CACHE) > _ENCODE_CACHE_SIZE:
                _ENCODE_CACHE.pop(next(iter(_ENCODE_CACHE)))
        return hit

    def _encode_stream(self, video: Video, goal: _Goal) -> _Encoded:
        """Encode (closed-loop rate matching in CBR mode) and packetise."""
        c = self.config
        yuv = _YuvFrames(video.frames)  # converted frame by frame on every encoder run: no copy of the clip
        attempts: list[RateAttempt] = []

        def packed(messages) -> tuple[list[bytes], list[tuple[int, int]], int | None]:
            spans: list[tuple[int, int]] = []
            pdus = packetize(messages, c.pdu_bytes, spans=spans)
            uses = sum(goal.uses(8 * len(p)) for p in pdus) if goal.uses is not None else None
            return pdus, spans, uses

        if c.rate_control == "cqp":
            messages, frame_bits, frame_types = self._encode_once(yuv, video.fps, None)
            pdus, spans, uses = packed(messages)
        else:
            # Closed-loop rate matching: x264/x265 ABR+VBV over a short clip misses its target by up to
            # ±40 % (the first I frame dominates), so re-encode with a corrected target until the stream fits
            # the goal within ``rate_tolerance`` (deviation recorded in docs/deviations.md).
            goal_cost = float(goal.channel_uses if goal.uses is not None else goal.bitrate_bps * video.duration_s)
            # first guess: the payload share of the PDUs, less the ≈ 5 % x265/x264 overshoot on short clips
            enc_bitrate = goal.start_bitrate_bps or (goal.bitrate_bps * (c.pdu_bytes - OVERHEAD_BYTES - 7)
                                                     / c.pdu_bytes * RATE_FIRST_GUESS)
            best = None
            prev: tuple[float, float] | None = None
            for _ in range(c.rate_iterations):
                messages, frame_bits, frame_types = self._encode_once(yuv, video.fps, enc_bitrate)
                pdus, spans, uses = packed(messages)
                bits = 8 * sum(len(p) for p in pdus)
                attempts.append(RateAttempt(enc_bitrate, bits, uses))
                cost = float(uses if uses is not None else bits)
                over = cost > goal_cost
                key = (over, abs(cost - goal_cost))  # at or under the goal first, then the closest
                if best is None or key < best[0]:
                    best = (key, messages, frame_bits, frame_types, pdus, spans, uses)
                if not over and goal_cost - cost <= c.rate_tolerance * goal_cost:
                    break
                if cost <= 0:
                    break
                if prev is not None and enc_bitrate < 0.9 * prev[0] and cost > 0.99 * prev[1]:
                    break  # the encoder's floor: asking for less no longer gives less
                prev = (enc_bitrate, cost)
                enc_bitrate *= (goal_cost / cost) * (0.99 if over else 1.0)
            _, messages, frame_bits, frame_types, pdus, spans, uses = best
        bitstream_bits = int(frame_bits.sum())
        return _Encoded(
            pdus=tuple(pdus), nal_frames=tuple(int(t) for t, _ in messages),
            nal_bits=tuple(8 * len(n) for _, n in messages), nal_spans=tuple(spans), attempts=tuple(attempts),
            bitstream_bits=bitstream_bits, frame_bits=tuple(int(b) for b in frame_bits),
            frame_types=tuple(frame_types), target_bitrate_bps=goal.bitrate_bps, channel_uses=uses)

    def _codec_options(self, bitrate: float | None) -> dict[str, str]:
        c = self.config
        params: dict[str, str] = {"keyint": str(c.gop), "min-keyint": str(c.gop), "scenecut": "0"}
        if c.rate_control == "cbr":
            kbps = max(1, round(bitrate / 1000.0))
            params.update({"bitrate": str(kbps), "vbv-maxrate": str(kbps),
                           "vbv-bufsize": str(max(1, round(kbps * c.vbv_buffer_s)))})
        else:
            params["qp"] = str(c.qp)
        return params

    def _encode_once(self, yuv: _YuvFrames, fps_value: float, bitrate: float | None):
        """One encoder run over YUV frames → (NAL messages tagged by frame, bits per frame, frame types)."""
        import av

        c = self.config
        n = len(yuv)
        fps = Fraction(fps_value).limit_denominator(1001)
        try:
            ctx = av.CodecContext.create(self.encoder_name, "w")
            ctx.width, ctx.height = yuv.width, yuv.height
            ctx.pix_fmt = "yuv420p"
            ctx.framerate = fps
            ctx.time_base = 1 / fps
            ctx.colorspace = 1
            ctx.color_range = 1
            ctx.thread_count = 1
            opts = {"preset": c.preset}
            if c.low_delay:
                opts["tune"] = "zerolatency"
            opts.update(self._extra_options(self._codec_options(bitrate)))
            ctx.options = opts
            ctx.open()
        except (av.error.FFmpegError, ValueError) as e:
            why = getattr(e, "strerror", None) or type(e).__name__
            raise InputError(f"{self.encoder_name} cannot encode {yuv.width}×{yuv.height} video at "
                             f"{'QP ' + str(c.qp) if bitrate is None else f'{bitrate:.0f} bit/s'} ({why}; "
                             f"x264/x265 need frames of at least 8×8 and a sane rate)") from None
        messages: list[tuple[int, bytes]] = []
        frame_bits = np.zeros(n, np.int64)
        frame_types: list[str] = ["?"] * n

        def take(packets) -> None:
            for pkt in packets:
                pts = int(pkt.pts)
                data = bytes(pkt)
                if 0 <= pts < n:
                    frame_bits[pts] += 8 * len(data)
                    frame_types[pts] = "I" if pkt.is_keyframe else "P/B"
                for nal in split_annexb(data):
                    messages.append((min(max(pts, 0), n - 1), nal))

        for i, f in enumerate(yuv):
            f.pts = i
            f.time_base = ctx.time_base
            take(ctx.encode(f))
        take(ctx.encode(None))
        return messages, frame_bits, frame_types

    def _extra_options(self, params: dict[str, str]) -> dict[str, str]:
        raise NotImplementedError

    # -- receiver ---------------------------------------------------------------------------------
    def _decode_frames(self, messages: Sequence[tuple[int, bytes]], info: StreamInfo
                       ) -> tuple[np.ndarray, np.ndarray, int, int]:
        """Decode complete NAL units (``(frame tag, NAL)`` in decode order) single-threaded, each picture
        straight into the output array.

        Returns:
            ``(frames [T, H, W, 3] uint8, produced [T] bool, concealed count, decoder errors)``; frames the
            decoder never produced repeat the last produced one (mid-grey before any).
        """
        import av

        n = info.num_frames
        # regroup consecutive NAL units of one frame into access units (decode order = arrival order)
        units: list[tuple[int, bytearray]] = []
        for tag, nal in messages:
            if not 0 <= tag < n:
                continue
            if units and units[-1][0] == tag:
                units[-1][1].extend(START_CODE + nal)
            else:
                units.append((tag, bytearray(START_CODE + nal)))
        ctx = av.CodecContext.create(self.decoder_name, "r")
        ctx.thread_count = 1  # deterministic: no frame or slice threads
        ctx.thread_type = "NONE"
        ctx.options = {"ec": "guess_mvs+deblock+favor_inter", "err_detect": "ignore_err",
                       "flags": "+bitexact", **self._decoder_flags()}
        frames = np.empty((n, info.height, info.width, 3), np.uint8)
        produced = np.zeros(n, bool)
        concealed = 0
        errors = 0
        # a picture of another size than the session's is refused (a damaged or hostile SPS must not make
        # the receiver allocate huge frames); the limit is the session's padded size
        max_w, max_h = info.width + (info.width % 2), info.height + (info.height % 2)

        def take(pictures) -> None:
            nonlocal concealed
            for fr in pictures:
                if fr.pts is None or not 0 <= int(fr.pts) < n or produced[int(fr.pts)]:
                    continue
                if fr.width != max_w or fr.height != max_h:
                    continue
                t = int(fr.pts)
                frames[t] = yuv_frame_to_rgb(fr)[: info.height, : info.width]
                produced[t] = True
                concealed += bool(getattr(fr, "is_corrupt", False))

        for tag, data in units:
            if not _sps_size_ok(bytes(data), self.decoder_name, max_w, max_h):
                errors += 1
                continue
            pkt = av.Packet(bytes(data))
            pkt.pts = tag
            try:
                take(ctx.decode(pkt))
            except (av.error.FFmpegError, ValueError):
                errors += 1
        try:
            take(ctx.decode(None))
        except (av.error.FFmpegError, ValueError):
            errors += 1
        last = None
        for t in range(n):
            if produced[t]:
                last = t
            elif last is None:
                frames[t] = 128  # nothing received yet: mid-grey
            else:
                frames[t] = frames[last]
        return frames, produced, concealed, errors

    def decode(self, rx: Reception, rng: np.random.Generator) -> Decoded:
        info = rx.info
        n = info.num_frames
        messages, stats = depacketize([p.payload if p is not None else None for p in rx.packets])
        frames, produced, concealed, errors = self._decode_frames(messages, info)
        report = H26xDecodeReport(
            pdus_received=stats.pdus_received, pdus_crc_failed=stats.pdus_crc_failed,
            nal_units_received=stats.messages_ok, nal_units_dropped=stats.messages_dropped,
            decoder_errors=errors, frames_concealed=concealed, frames_copied=int(n - produced.sum()),
            frame_decoded=tuple(bool(v) for v in produced))
        video = Video(frames, info.fps, source="reconstruction")
        return Decoded(video=video, report=report, frames_decoded=int(produced.sum()))

    def _decoder_flags(self) -> dict[str, str]:
        return {}

    # -- reporting hooks ----------------------------------------------------------------------------
    @classmethod
    def summary(cls, record: Mapping[str, Any]) -> str:
        sr = record.get("scheme_report", {})
        mcs = sr.get("mcs")
        which = sr.get("mcs_set") or "link"
        if isinstance(mcs, Mapping):
            return f"{mcs.get('modulation', '')} {float(mcs.get('coderate', 0)):.3g} ({which})"
        return f"{mcs or '–'} ({which})"

    @classmethod
    def curve_label(cls, record: Mapping[str, Any]) -> str:
        which = record.get("config", {}).get("scheme", {}).get("mcs_set", BEST)
        return f"{record.get('scheme', cls.name)} ({which or 'link'} MCS)"

    @classmethod
    def describe_record(cls, record: Mapping[str, Any]) -> str:
        c = record.get("config", {}).get("scheme", {})
        which = c.get("mcs_set")
        mcs = {BEST: f"the best of 38.214 Table 5.1.3.1-{c.get('mcs_table', 1)} per SNR (every row whose BLER "
                     "meets the target is encoded at the budget; the highest PSNR wins, PVSC §IV-A)",
               None: "the link's adaptation"}.get(which, f"the named set {which}")
        rc = ("closed-loop CBR to the channel-use budget" if c.get("rate_control", "cbr") == "cbr"
              else f"constant QP {c.get('qp')}")
        return (f"{'x265' if record.get('scheme') == 'h265' else 'x264'} {c.get('preset')}"
                f"{', zero-latency' if c.get('low_delay') else ''}, GOP {c.get('gop')}, {rc}, "
                f"{c.get('pdu_bytes')}-byte PDUs with CRC-32, one MCS for the stream: {mcs}")


def _messages_of(enc: _Encoded) -> list[tuple[int, bytes]]:
    """The complete NAL units of an encode, as the receiver gets them when nothing is lost."""
    return depacketize(list(enc.pdus))[0]


def _sps_size_ok(access_unit: bytes, decoder: str, max_w: int, max_h: int) -> bool:
    """False when an SPS in ``access_unit`` declares another picture size than the session's (coded sizes
    round up to the codec's block size, ≤ 16 more) or cannot be read: a malformed or hostile stream must not
    make the decoder allocate frames of its choosing."""
    for nal in split_annexb(access_unit):
        size = sps_picture_size(nal, decoder)
        if size is not None and not (max_w <= size[0] <= max_w + 16 and max_h <= size[1] <= max_h + 16):
            return False
    return True


@SCHEMES.register("h265", "x265 (H.265/HEVC) at the channel-use budget, best MCS per SNR, 1200-byte PDUs with CRC, "
                          "FFmpeg concealment")
class H265Scheme(H26xScheme):
    """H.265 baseline (libx265 via PyAV)."""

    name = "h265"
    encoder_name = "libx265"
    decoder_name = "hevc"

    def _extra_options(self, params: dict[str, str]) -> dict[str, str]:
        p = dict(params)
        p.update({"log-level": "error", "repeat-headers": "1", "colorprim": "bt709", "transfer": "bt709",
                  "colormatrix": "bt709", "range": "limited", "info": "0", "frame-threads": "1",
                  "pools": "none", "lookahead-threads": "0"})  # single-threaded: deterministic
        if self.config.rate_control == "cbr":
            p["strict-cbr"] = "1"
        return {"x265-params": ":".join(f"{k}={v}" for k, v in p.items())}


@SCHEMES.register("h264", "x264 (H.264/AVC) at the channel-use budget, best MCS per SNR, 1200-byte PDUs with CRC, "
                          "FFmpeg concealment")
class H264Scheme(H26xScheme):
    """H.264 baseline (libx264 via PyAV)."""

    name = "h264"
    encoder_name = "libx264"
    decoder_name = "h264"

    def _extra_options(self, params: dict[str, str]) -> dict[str, str]:
        p = dict(params)
        p.update({"colorprim": "bt709", "transfer": "bt709", "colormatrix": "bt709", "threads": "1",
                  "sliced-threads": "0", "lookahead-threads": "1"})
        return {"x264-params": ":".join(f"{k}={v}" for k, v in p.items())}

    def _decoder_flags(self) -> dict[str, str]:
        return {"flags2": "+showall"}
