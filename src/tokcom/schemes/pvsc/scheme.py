"""PVSC (002_165f6aebfafa3581.txt) as scheme ``pvsc``: perception-aware deep-JSCC video over the link.

::

    transmitter, per GOP (frame 0 intra codec, the rest P-frames; rate control picks the candidate)
      x_t ─► PvscModel.encode_frame (eqs. 6–15; buffer update eqs. 22–24)
             ├─► b_z, b_k ─► side PDU (frame, preset, symbol offset/count, CRC-32) ─► link MCS/LDPC, priority 2
             └─► s_t (Σ⌈k/2⌉ complex, mean power 1) ─► Transmission.symbols (frames in order)
                 [no analog channel (erasure): I/Q quantised to ``digital_bits`` in a PDU per frame]
    link: PDUs through MCS/LDPC; symbols through h ⊙ s + n and ZF/LMMSE (eqs. 1–4)
    receiver, per frame: side PDU ─► CRC, ẑ = AD(b_z), k_t ─► its symbols from Reception.symbols
      (NaN/inf → 0, |ŝ| clipped) ─► PvscModel.decode_frame (eqs. 16–21) ─► x̂_t, buffer
      lost/damaged side info ─► repeat the last frame; ``on_loss=freeze``: no buffer until the next I-frame

The receiver learns nothing from the transmitter but the PDUs, the symbols, the ``StreamInfo`` and this
configuration (both ends hold the same weights). See docs/pvsc.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tokcom.link.mcs import mcs_table
from tokcom.schemes.base import Scheme
from tokcom.schemes.pvsc import bitstream as bs
from tokcom.schemes.pvsc import received
from tokcom.schemes.pvsc import report as pv_report
from tokcom.schemes.pvsc.config import ARCHS, PAD_MULTIPLE, Z_LIMIT, PvscArch, PvscConfig
from tokcom.schemes.pvsc.pictures import pictured_frames, rate_map_picture
from tokcom.schemes.pvsc.ratecontrol import Candidate, first_probe, ladder
from tokcom.schemes.pvsc.report import FrameRx, FrameTx, GopPlan, PvscDecodeReport, PvscEncodeReport
from tokcom.schemes.ratecontrol import descend, gop_share, pdu_uses, search, search_by_cost
from tokcom.schemes.weights import RANDOM_INIT, ModelCache, SchemeWeights
from tokcom.types import (
    Decoded,
    FrameMapBuilder,
    LinkState,
    Mcs,
    Packet,
    Rate,
    Reception,
    Transmission,
    Video,
)
from tokcom.video.transform import from_tensor, to_tensor

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
SIDE_PRIORITY, SYMBOL_PRIORITY = 2, 1
ROBUST_BLER = 1e-4


# --------------------------------------------------------------------------------------------- weights
WEIGHTS = SchemeWeights("pvsc", WEIGHTS_DIR)
_MODELS = ModelCache(4)


def weight_name(model: str) -> str:
    return f"pvsc-{model}"


def weight_files(cfg: PvscConfig) -> tuple[Path, Path] | None:
    """``(.safetensors, .json)`` the configuration loads, or None for ``weights=random``."""
    return WEIGHTS.files(cfg.weights, weight_name(cfg.model))


def weights_digest(cfg: PvscConfig) -> str:
    """The sha256 recorded for the weight file (checked at load), ``random-init``, or ``absent``."""
    return WEIGHTS.digest(cfg.weights, weight_name(cfg.model))


def load_model(cfg: PvscConfig, device: str = "cpu") -> tuple[Any, dict[str, Any]]:
    """``(PvscModel in eval mode, info)`` for ``cfg``, cached per process. ``info``: ``weights``,
    ``sha256``, ``trained``, ``arch``, ``params``. Raises :class:`WeightsUnavailable` (one line) when the
    file is absent, does not match its recorded sha256 or does not fit."""
    files = weight_files(cfg)
    key = (cfg.model, cfg.weights, cfg.seed if files is None else None, str(device),
           None if files is None else (str(files[0]), files[0].stat().st_mtime if files[0].is_file() else None))
    return _MODELS.get(key, lambda: _build(cfg, device))


def _build(cfg: PvscConfig, device: str) -> tuple[Any, dict[str, Any]]:
    import torch

    from tokcom.schemes.pvsc.model import PvscModel

    if weight_files(cfg) is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(cfg.seed))
            model = PvscModel(ARCHS[cfg.model])
        info = {"weights": f"random (seed {cfg.seed})", "sha256": RANDOM_INIT, "trained": False}
    else:
        sd, meta, digest, st = WEIGHTS.read(cfg.weights, weight_name(cfg.model))
        arch = PvscArch.from_dict(dict(meta.get("arch") or {})) if meta.get("arch") else ARCHS[cfg.model]
        model = PvscModel(arch)
        WEIGHTS.load_into(model, sd, st, f"the {arch.name} model")
        info = {"weights": str(st), "sha256": digest, "trained": True}
    model = model.to(device).eval()
    info["arch"] = model.arch
    info["params"] = int(sum(p.numel() for p in model.parameters()))
    return model, info


# --------------------------------------------------------------------------------------------- GOP coding
@dataclass
class GopCode:
    """One GOP encoded with one candidate: per frame its side PDU, symbols and tx reconstruction."""

    candidate: Candidate
    sides: list[bytes] = field(default_factory=list)  # one per sent frame, in frame order
    frame_index: list[int] = field(default_factory=list)
    symbols: list[np.ndarray] = field(default_factory=list)
    sym_pdus: list[bytes | None] = field(default_factory=list)  # digital carriage only
    z_hats: list[Any] = field(default_factory=list)  # ẑ per sent frame (rate_choice=received simulates with it)
    x_tx: list[np.ndarray] = field(default_factory=list)
    stats: list[dict[str, Any]] = field(default_factory=list)
    channel_uses: int = 0


@dataclass(frozen=True)
class GopChoice:
    """Rate control's answer for one GOP: the code sent (None: nothing fits), candidates encoded, the index of
    the highest rung that fits, and the chosen rung's simulated received loss (``rate_choice=received``)."""

    code: GopCode | None
    tried: int
    highest: int
    loss: float | None


def _frames_tensor(frames: np.ndarray, device: str):
    from tokcom.schemes.pvsc.model import pad_frames  # torch

    return pad_frames(to_tensor(np.asarray(frames), device=device)[0].transpose(0, 1))  # (n, 3, Hp, Wp)


def _to_uint8(x, height: int, width: int) -> np.ndarray:
    """``[1, 3, Hp, Wp]`` in [-1, 1] → ``[H, W, 3]`` uint8 (the padding cropped; NaN → 128)."""
    return from_tensor(x[:, :, None, :height, :width])[0, 0]


class PvscScheme(Scheme):
    """PVSC (002_165f6aebfafa3581.txt); see the module docstring for the pipeline."""

    name = "pvsc"
    reporting = pv_report
    Config = PvscConfig
    example_options: ClassVar[Mapping[str, Any]] = {"weights": "random"}  # runs without shipped weights (untrained)

    # -- shared -------------------------------------------------------------------------------------------
    def model(self) -> tuple[Any, dict[str, Any]]:
        return load_model(self.config, self.device)

    def eta(self, arch: PvscArch) -> float:
        return float(self.config.eta if self.config.eta is not None else arch.eta)

    def gops(self, num_frames: int) -> list[tuple[int, int]]:
        """``(first frame, frames)`` of each GOP."""
        g = self.config.gop
        return [(s, min(g, num_frames - s)) for s in range(0, num_frames, g)]

    def side_mcs(self, state: LinkState) -> Mcs | None:
        """``link``: the link's adapted MCS; ``robust``: the most efficient Table 5.1.3.1-1 row whose
        predicted BLER for a 512-bit PDU is ≤ 1e-4 (else the most robust row)."""
        if self.config.side_mcs == "link" or state.predict_bler is None:
            return state.mcs

        rows = sorted(mcs_table(1), key=lambda m: m.spectral_efficiency)
        ok = [m for m in rows if state.predict_bler(m, 512) <= ROBUST_BLER]
        return ok[-1] if ok else rows[0]

    # -- transmitter --------------------------------------------------------------------------------------
    def encode(self, video: Video, state: LinkState, rng: np.random.Generator) -> Transmission:
        return self.encode_with_recon(video, state, rng)[0]

    def encode_with_recon(self, video: Video, state: LinkState, rng: np.random.Generator,
                          keep_recon: bool = False) -> tuple[Transmission, np.ndarray | None]:
        """:meth:`encode`, plus (``keep_recon``) the transmitter's own reconstructions x̂^tx ``[T, H, W, 3]``
        uint8 of its buffer update (eqs. 22–24; frames not sent repeat the last one)."""
        c = self.config
        model, winfo = self.model()
        arch: PvscArch = model.arch
        info = video.info
        T, H, W = info.num_frames, info.height, info.width
        analog = state.snr_db is not None  # a link with an analog channel (awgn, rayleigh); erasure has none
        mcs = self.side_mcs(state)
        budget = state.channel_use_budget
        cands = ladder(arch.num_qualities, c.quality, kind=c.ladder,
                       eta_top=arch.eta_top if c.eta_top is None else c.eta_top)
        eta = self.eta(arch)
        packets: list[Packet] = []
        symbols: list[np.ndarray] = []
        fm = FrameMapBuilder()
        gop_plans: list[GopPlan] = []
        frame_rep: list[FrameTx | None] = [None] * T
        recon = np.zeros((T, H, W, 3), np.uint8) if keep_recon else None
        remaining = budget
        kmaps: dict[int, np.ndarray] = {}  # sent rate maps (the report's picture)
        sym_total = 0
        prev: int | None = None  # the highest rung that fitted the previous GOP (where the next search starts)
        chooser = self._chooser(state, analog, (H, W))
        uses_total = 0
        for g, (start, n) in enumerate(self.gops(T)):
            frames = _frames_tensor(video.frames[start:start + n], self.device)
            share = None if budget is None else gop_share(remaining, T - start, n)
            plan = self._plan_gop(model, frames, start, cands, prev, share, chooser, eta, mcs, analog, state,
                                  sym_total, (H, W), keep_recon)
            code, tried = plan.code, plan.tried
            if code is None:
                gop_plans.append(GopPlan(gop=g, first_frame=start, frames=n, sent=False, candidate=None,
                                         quality=None, eta_scale=None, p_frames_sent=None, channel_uses=0,
                                         budget_share=share, candidates_tried=tried))
                for t in range(start, start + n):
                    frame_rep[t] = FrameTx(frame=t, kind="I" if t == start else "P", gop=g, sent=False)
                if recon is not None and start > 0:
                    recon[start:start + n] = recon[start - 1]
                continue
            prev = plan.highest
            for j, t in enumerate(code.frame_index):
                side_idx = len(packets)
                packets.append(Packet(code.sides[j], stream="side", seq=side_idx, mcs=mcs, priority=SIDE_PRIORITY))
                side_bits = 8 * len(code.sides[j])
                fm.add(t, side_bits, [side_idx])
                nsym = int(code.symbols[j].size)
                if analog:
                    fm.add_symbols(t, sym_total, sym_total + nsym, packets=[side_idx])
                    symbols.append(code.symbols[j])
                elif code.sym_pdus[j] is not None:
                    pi = len(packets)
                    packets.append(Packet(code.sym_pdus[j], stream="symbols", seq=pi, mcs=mcs,
                                          priority=SYMBOL_PRIORITY))
                    fm.add(t, 8 * len(code.sym_pdus[j]), [side_idx, pi])
                sym_total += nsym if analog else 0
                st = code.stats[j]
                frame_rep[t] = FrameTx(frame=t, kind="I" if t == start else "P", gop=g, sent=True,
                                       quality=code.candidate.quality, symbols=nsym, side_bits=side_bits,
                                       z_bits=st["z_bits"], k_bits=st["k_bits"], k_mean=st["k_mean"],
                                       ktilde_mean=st["ktilde_mean"], channel_uses=st["channel_uses"])
                kmaps[t] = st["kidx"]
                if recon is not None:
                    recon[t] = code.x_tx[j]
            for t in range(start, start + n):
                if frame_rep[t] is None:  # P-frames of an I-only candidate
                    frame_rep[t] = FrameTx(frame=t, kind="P", gop=g, sent=False)
                    if recon is not None:
                        recon[t] = recon[t - 1]
            uses_total += code.channel_uses
            if remaining is not None:
                remaining -= code.channel_uses
            gop_plans.append(GopPlan(gop=g, first_frame=start, frames=n, sent=True, candidate=code.candidate.label,
                                     quality=code.candidate.quality, eta_scale=code.candidate.eta_scale,
                                     p_frames_sent=code.candidate.p_frames, channel_uses=code.channel_uses,
                                     budget_share=share, candidates_tried=tried,
                                     highest_fitting=cands[plan.highest].label, expected_loss=plan.loss))
        sym = np.concatenate(symbols).astype(np.complex64) if (analog and symbols) else (
            np.zeros(0, np.complex64) if analog else None)
        side_bits = int(sum(p.num_bits for p in packets if p.stream == "side"))
        report = PvscEncodeReport(
            model=arch.name, weights=winfo["weights"], weights_sha256=winfo["sha256"], trained=winfo["trained"],
            params=winfo["params"], rate_set=tuple(arch.rates), eta=eta, gop=c.gop,
            carriage="analog" if analog else "digital",
            rate_control="fixed" if c.quality is not None else ("budget" if budget is not None else "highest"),
            ladder=c.ladder if c.quality is None else "fixed",
            rate_choice="fit" if chooser is None else "received",
            choice_loss=None if chooser is None else chooser.loss_name,
            side_mcs=mcs, rate_map_codec=c.rate_map_codec, channel_use_budget=budget,
            channel_uses_planned=uses_total, symbols=int(sym.size) if sym is not None else 0,
            side_bits=side_bits, source_bits=int(sum(p.num_bits for p in packets)),
            qualities=tuple(p.quality for p in gop_plans), gops=tuple(gop_plans),
            frames_tx=tuple(frame_rep))  # type: ignore[arg-type]
        shown = pictured_frames(kmaps)
        artifacts = {"rate_maps": rate_map_picture(video.frames, {t: kmaps[t] for t in shown}, arch.rates)} \
            if shown else {}
        tx = Transmission(info=info, packets=tuple(packets), symbols=sym, report=report, frame_map=fm.build(),
                          artifacts=artifacts)
        return tx, recon

    def _chooser(self, state: LinkState, analog: bool, size: tuple[int, int]) -> received.ReceivedChoice | None:
        """How rate control scores rungs when it chooses by simulated reception (``rate_choice=received`` over
        an analog channel with a known SNR, qualities not fixed), else None."""
        c = self.config
        if c.rate_choice != "received" or c.quality is not None or not analog or state.snr_db is None:
            return None
        return received.ReceivedChoice.build(state.snr_db, c.symbol_clip, size, self.device, c.choice_net)

    def _plan_gop(self, model, frames, start: int, cands: tuple[Candidate, ...], prev: int | None, share: int | None,
                  chooser: received.ReceivedChoice | None, *args: Any) -> GopChoice:
        """Rate control for one GOP: the highest candidate whose exact channel uses fit ``share`` (the best of
        all without a budget); with a ``chooser``, the rung at or below it with the lowest simulated received
        loss (:mod:`tokcom.schemes.pvsc.received`)."""
        cache: dict[int, GopCode] = {}

        def run(i: int) -> GopCode:
            if i not in cache:
                cache[i] = self._encode_gop(model, frames, start, cands[i], *args)
            return cache[i]

        def fits(i: int) -> bool:
            return share is None or run(i).channel_uses <= share

        if share is None:
            highest: int | None = 0
        elif prev is None:  # the first GOP: no previous choice to start from
            highest = search_by_cost(len(cands), lambda i: run(i).channel_uses, share, first_probe(cands))
        else:
            highest = search(len(cands), fits, prev)
        if highest is None:
            return GopChoice(None, len(cache), 0, None)
        if chooser is None:
            return GopChoice(run(highest), len(cache), highest, None)
        losses: dict[int, float] = {}

        def loss(i: int) -> float:
            if i not in losses:
                losses[i] = chooser.loss(model, frames, run(i))
            return losses[i]

        # only rungs that send the P-frames: a GOP of repeated I-frames decodes one frame in n (not a valid
        # reception by the pipeline's rule), so "I-frame only" stays the budget's last resort
        best = descend(len(cands), highest, loss, lambda i: cands[i].p_frames and fits(i))
        return GopChoice(run(best), len(cache), highest, loss(best))

    def _encode_gop(self, model, frames, start: int, cand: Candidate, eta: float, mcs: Mcs | None, analog: bool,
                    state: LinkState, sym_offset: int, size: tuple[int, int], keep_recon: bool) -> GopCode:
        """Encode one GOP (``frames`` ``(n, 3, Hp, Wp)``) with ``cand``; count its channel uses exactly."""
        c = self.config
        code = GopCode(cand)
        ref = None
        n = frames.shape[0] if cand.p_frames else 1
        offset = sym_offset
        for j in range(n):
            fc, x_tx, ref = model.encode_frame(frames[j:j + 1], ref, cand.quality, eta * cand.eta_scale,
                                               carry=self._carry(analog))
            levels = len(model.arch.rates)
            z_bytes, k_bytes = bs.encode_streams(model.codec(j == 0).prior, fc.z_hat, fc.kidx, c.rate_map_codec,
                                                 levels)
            nsym = int(fc.symbols.size)
            side = bs.pack_side(bs.SideInfo(start + j, cand.quality, c.rate_map_codec, offset if analog else 0,
                                            nsym, z_bytes, k_bytes))
            uses = pdu_uses(state, 8 * len(side), mcs)
            sym_pdu = None
            if analog:
                uses += nsym
                offset += nsym
            elif nsym:
                sym_pdu = bs.pack_symbols_pdu(start + j, fc.symbols, c.digital_bits)
                uses += pdu_uses(state, 8 * len(sym_pdu), mcs)
            code.sides.append(side)
            code.frame_index.append(start + j)
            code.symbols.append(fc.symbols)
            code.z_hats.append(fc.z_hat)
            code.sym_pdus.append(sym_pdu)
            rates = model.arch.rates
            k_bits, z_bits = 8 * len(k_bytes), 8 * len(z_bytes)
            if not k_bytes:  # arith: one stream for both; b_k's share is its segment's ideal length
                k_bits = round(bs.rate_map_bits(fc.kidx, levels))
                z_bits -= k_bits
            code.stats.append({"z_bits": z_bits, "k_bits": k_bits,
                               "k_mean": float(np.mean([rates[i] for i in fc.kidx.reshape(-1)])),
                               "ktilde_mean": fc.ktilde_mean, "channel_uses": uses, "kidx": fc.kidx})
            if keep_recon:
                code.x_tx.append(_to_uint8(x_tx, *size))
            code.channel_uses += uses
        return code

    def _carry(self, analog: bool):
        """What the receiver makes of the sent symbols over an ideal channel (the transmitter's buffer update
        decodes exactly that): clipped analog symbols, or the digital PDU's quantised I/Q."""
        c = self.config
        if analog:
            return lambda sym: bs.sanitise_symbols(sym, c.symbol_clip)[0]
        return lambda sym: bs.digital_symbols(bs.sanitise_symbols(sym, c.symbol_clip)[0], c.digital_bits)

    # -- receiver -----------------------------------------------------------------------------------------
    def decode(self, rx: Reception, rng: np.random.Generator) -> Decoded:
        import torch

        c = self.config
        model, _ = self.model()
        arch: PvscArch = model.arch
        info = rx.info
        T, H, W = info.num_frames, info.height, info.width
        hp, wp = H + (-H) % PAD_MULTIPLE, W + (-W) % PAD_MULTIPLE
        grid = (hp // 16, wp // 16)
        z_shape = (1, arch.c_z, hp // 64, wp // 64)
        nq = arch.num_qualities
        # parse every PDU (any order; per frame, the first side PDU that describes a frame of this session wins)
        sides: dict[int, list[bs.SideInfo]] = {}
        digital: dict[int, np.ndarray] = {}
        unparsed = 0
        for p in rx.packets:
            if p is None:
                continue
            payload = p.payload
            si = bs.parse_side(payload) if payload[:1] == bytes([bs.SIDE_TAG]) else None
            if si is not None:
                if 0 <= si.frame < T:
                    sides.setdefault(si.frame, []).append(si)
                continue
            sp = bs.parse_symbols_pdu(payload) if payload[:1] == bytes([bs.SYM_TAG]) else None
            if sp is not None:
                if 0 <= sp[0] < T:
                    digital.setdefault(sp[0], sp[1])
                continue
            unparsed += 1
        rx_sym, sanitized = self._sanitise(rx.symbols)

        out = np.empty((T, H, W, 3), np.uint8)
        statuses: list[FrameRx] = []
        decoded = np.zeros(T, bool)
        last: np.ndarray | None = None
        invalid = resets = 0
        for start, n in self.gops(T):
            ref = None
            for t in range(start, start + n):
                intra = t == start
                cands = sides.get(t, [])
                status = "side_lost" if not cands else "ok"
                si, parsed = None, None
                for si in cands:
                    parsed = self._check_side(model, si, intra, grid, z_shape, nq)
                    if parsed is not None:
                        break
                if cands and parsed is None:
                    status, invalid = "side_invalid", invalid + 1
                if parsed is not None and not intra and ref is None:
                    status = "frozen"
                    parsed = None
                if parsed is None:  # repeat the last reconstruction; the buffer is reset (freeze) or kept (skip)
                    out[t] = last if last is not None else 128
                    if ref is not None and c.on_loss == "freeze":
                        resets += 1
                        ref = None
                    statuses.append(FrameRx(frame=t, status=status))
                    continue
                z_hat, kidx = parsed
                syms, missing = self._frame_symbols(si, rx_sym, digital.get(t), t)
                with torch.no_grad():
                    x_hat, ref = model.decode_frame(z_hat.to(self.device), syms, kidx, ref, si.quality, intra=intra)
                if not ref.finite():  # a hostile b_z the CRC let through: do not carry NaN to the next frames
                    ref, resets = None, resets + 1
                out[t] = _to_uint8(x_hat, H, W)
                last = out[t]
                decoded[t] = True
                statuses.append(FrameRx(frame=t, status="ok" if not missing else "symbols_missing",
                                        quality=si.quality, symbols=si.sym_count, symbols_missing=missing))
        report = PvscDecodeReport(side_pdus_ok=sum(len(v) for v in sides.values()), pdus_unparsed=unparsed, side_invalid=invalid,
                                  symbols_received=int(rx_sym.size), symbols_sanitized=sanitized,
                                  buffer_resets=resets, frames_rx=tuple(statuses),
                                  frame_decoded=tuple(bool(v) for v in decoded))
        return Decoded(video=Video(out, info.fps, source="reconstruction"), report=report,
                       frames_decoded=int(decoded.sum()))

    def _sanitise(self, symbols: np.ndarray | None) -> tuple[np.ndarray, int]:
        return bs.sanitise_symbols(symbols, self.config.symbol_clip)

    def _check_side(self, model, si: bs.SideInfo, intra: bool, grid: tuple[int, int], z_shape: tuple[int, ...],
                    nq: int):
        """``(ẑ, rate map)`` when the side PDU describes a frame of this session, else None."""
        if not 0 <= si.quality <= nq - 1 or si.codec != self.config.rate_map_codec:
            return None
        got = bs.decode_streams(model.codec(intra).prior, si.z_bytes, si.k_bytes, z_shape, grid,
                                len(model.arch.rates), si.codec)
        if got is None or model.frame_symbols(got[1]) != si.sym_count:
            return None
        z_hat, kidx = got
        return z_hat.clamp(-Z_LIMIT, Z_LIMIT), kidx  # as the transmitter's clamp_hyper

    @staticmethod
    def _frame_symbols(si: bs.SideInfo, rx_sym: np.ndarray, digital: np.ndarray | None, t: int
                       ) -> tuple[np.ndarray, int]:
        """The frame's received symbols (zeros where none arrived) and how many were missing."""
        n = int(si.sym_count)
        out = np.zeros(n, np.complex64)
        if digital is not None:
            k = min(n, digital.size)
            out[:k] = digital[:k]
            return out, n - k
        if rx_sym.size == 0 or n == 0:
            return out, n if rx_sym.size == 0 else 0
        a = int(si.sym_start)
        got = rx_sym[a:a + n] if a < rx_sym.size else rx_sym[:0]
        out[: got.size] = got
        return out, n - int(got.size)

    # -- provenance and reporting hooks -------------------------------------------------------------------
    def weights(self) -> dict[str, str]:
        """``{pvsc-<model> (or the given file's stem): sha256 | random-init | absent}``."""
        files = weight_files(self.config)
        name = files[0].stem if files is not None and self.config.weights != "shipped" else weight_name(
            self.config.model)
        return {name: weights_digest(self.config)}






@dataclass(frozen=True)
class TxRxGap:
    """The transmitter/receiver reconstruction gap over one transmission (point 1 of the issue; eqs. 22–24 keep
    the buffers aligned, the channel's noise is what separates the two reconstructions).

    Attributes:
        psnr_tx_vs_rx_db: per frame, PSNR (dB) of the receiver's x̂_t against the transmitter's x̂^tx_t (99 where
            they are identical).
        mean_db: their mean (None without frames).
        post_eq_snr_db: the SNR the link measured after equalisation (None where it reports none).
    """

    psnr_tx_vs_rx_db: tuple[float, ...]
    mean_db: float | None
    post_eq_snr_db: float | None


def tx_rx_gap(scheme: PvscScheme, video: Video, link, seed: int = 0) -> TxRxGap:
    """The transmitter/receiver reconstruction gap: PSNR (dB) of the receiver's x̂_t against the
    transmitter's buffer reconstruction x̂^tx_t per frame, over ``link`` (e.g. AWGN 6 dB, no rate target)."""
    state = link.state(video.info, Rate())
    tx, rec_tx = scheme.encode_with_recon(video, state, np.random.default_rng(seed), keep_recon=True)
    rx = link.carry(tx, np.random.default_rng(seed + 1))
    rec_rx = scheme.decode(rx, np.random.default_rng(seed + 2)).video.frames
    out = []
    for a, b in zip(rec_tx, rec_rx):
        mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
        out.append(99.0 if mse == 0 else 10 * math.log10(255.0 ** 2 / mse))
    post = getattr(rx.report, "post_eq_snr_db", None)
    return TxRxGap(tuple(out), float(np.mean(out)) if out else None, None if post is None else float(post))
