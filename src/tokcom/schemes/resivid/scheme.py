"""Resi-VidTok (001_c16fa1dac0c35e06.txt): key frames → progressive 1D tokens → differential top-K
header/body per key frame with an MCS-first bit budget → shared decoder + frame interpolation.

Pipeline::

    transmitter (causal, per GOP of N frames; key frames gN + iS)
      key frame x_t ─► f_tok (ProgressiveTokenizer, L tokens, importance order)   eq. (5)
        ─► m_t = 1[z_t ≠ z̃_{t−}]  against the receiver's state as the transmitter models it   eq. (7)
        ─► k_t = channel-use budget / |K|   (eq. 1; non-key frames use none)
        ─► MCS (ρ_t, M_t) = best row with BLER ≤ ε at the estimated SNR                      eq. (8)
        ─► B_t = ⌊ρ_t k_t log2 M_t⌋, then reduced until the PDU fits k_t exactly             eq. (9)
        ─► K* = max{K : K-field + n_t(K) + CRC ≤ B_t}    (or K^(g) = min over the GOP)        eqs. (13)–(15)
        ─► [K | r_1..r_K | values of changed tokens | CRC]  one PDU, sent with MCS_t        eqs. (10)–(12)
    link (awgn | rayleigh | erasure): lost PDUs → None
    receiver
      PDU ─► CRC ─► parse (eqs. 17–18) ─► running state z̃_t (eq. 19; no-update on loss/CRC failure;
        zero-flag state at each GOP start) ─► f_dec (batched) → x̂_t                           eq. (20)
      non-key frames: f_int(x̂_{t−}, x̂_{t+}, α_t) between the nearest key frames (RIFE | DIS flow) eq. (21)
      after the last key frame: hold it

The receiver learns nothing from the transmitter but the PDUs (aligned with the key frames, in order), the
``StreamInfo`` and this configuration (both ends run the same configuration). See docs/resivid.md for every
option, the report fields and the choices where the paper leaves room.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tokcom.coding.topk import TopKFormat, apply_update, pack_frame, parse_frame, plan_k
from tokcom.errors import InputError
from tokcom.interp import RIFE_WEIGHTS, BlendInterpolator, get_interpolator, interpolator_unavailable
from tokcom.link import accounting
from tokcom.link.adaptation import select_mcs
from tokcom.link.mcs import mcs_table, named_set
from tokcom.plotting import line_plot
from tokcom.provenance import tokenizer_digest, weight_set_digest
from tokcom.registry import SCHEMES
from tokcom.schemes.base import Scheme
from tokcom.schemes.resivid.config import BATCH_PIXELS, DEFAULT_BLER_TARGET, ResiVidConfig
from tokcom.schemes.resivid.report import FramePlan, KeyFrameRx, ResiVidDecodeReport, ResiVidEncodeReport
from tokcom.tokenizers import load_tokenizer
from tokcom.types import Decoded, FrameMapBuilder, LinkState, Mcs, Packet, Reception, Transmission, Video
from tokcom.video.transform import from_tensor, to_tensor

STREAM = "key"


# --------------------------------------------------------------------------------------------- helpers
def key_frames(num_frames: int, stride: int, gop: int) -> list[tuple[int, int]]:
    """Key frames as ``(frame index, GOP index)``, in time order (§II, §III-B, 0-based).

    GOP g covers frames ``gN .. gN + N_g − 1`` with ``N_g = min(N, T − gN)``; its key frames are ``gN + iS``.
    """
    out = []
    for g in range(math.ceil(num_frames / gop)):
        start = g * gop
        n_g = min(gop, num_frames - start)
        out.extend((start + i, g) for i in range(0, n_g, stride))
    return out


def split_budget(channel_uses: int, num_keys: int) -> list[int]:
    """k_t per key frame: the video's channel-use budget split evenly over the key frames (eq. 1 averages
    over all T frames; non-key frames use none); the remainder goes one each to the first key frames."""
    base, rem = divmod(int(channel_uses), int(num_keys))
    return [base + (j < rem) for j in range(num_keys)]


# eq. (9) with the exact TB count: one home, tokcom.link.accounting (kept here under the name tests and users know)
exact_budget_bits = accounting.payload_bits_within


# --------------------------------------------------------------------------------------------- scheme
@SCHEMES.register("resivid", "Resi-VidTok: key-frame progressive tokens, differential top-K + MCS-first budget, "
                             "RIFE/flow interpolation")
class ResiVidScheme(Scheme):
    """Resi-VidTok (001_c16fa1dac0c35e06.txt). See the module docstring for the pipeline."""

    name = "resivid"
    Config = ResiVidConfig

    def __init__(self, config: Any = None, *, device: str = "cpu", **options: Any) -> None:
        super().__init__(config, device=device, **options)
        self._tok = None
        self._interp: tuple[Any, str, str | None] | None = None

    # -- shared -------------------------------------------------------------------------------------------
    def tokenizer(self):
        """The ProgressiveTokenizer (loaded once per scheme instance)."""
        if self._tok is None:
            self._tok = load_tokenizer(self.config.tokenizer, device=self.device)
        return self._tok

    def frame_format(self, height: int, width: int) -> TopKFormat:
        """The frame bitstream format for ``height × width`` video (L from the tokenizer)."""
        tok = self.tokenizer()
        vb = self.config.value_bits or tok.bits_per_token
        if (1 << vb) < tok.codebook_size:
            raise InputError(f"value-bits {vb} cannot carry {tok.codebook_size} token values")
        return TopKFormat(tok.num_tokens(height, width), vb, self.config.crc_bits)

    def interpolator(self) -> tuple[Any, str, str | None]:
        """``(f_int, its name, fallback reason or None)`` for eq. (21).

        ``auto`` takes what :func:`tokcom.interp.get_interpolator` gives (RIFE v3.9 with cached weights, else
        the DIS-flow fallback) and records why RIFE was not used. ``rife`` without weights raises
        :class:`~tokcom.errors.WeightsUnavailable`.
        """
        if self._interp is None:
            want = self.config.interpolator
            f = get_interpolator(want, device=self.device)
            reason = None
            if want == "auto" and f.name != "rife":
                reason = interpolator_unavailable("rife") or "auto chose another interpolator"
            self._interp = (f, str(f.name), reason)
        return self._interp

    def _batch(self, frame_pixels: int) -> int:
        """Frames per tokenizer/decoder pass: ``batch_frames`` at 256², fewer for larger frames."""
        return max(1, min(self.config.batch_frames, self.config.batch_frames * BATCH_PIXELS // max(1, frame_pixels)))

    # -- transmitter --------------------------------------------------------------------------------------
    def _tokenize(self, frames: np.ndarray) -> np.ndarray:
        """``[n, H, W, 3]`` uint8 key frames → ``[n, L]`` int64 tokens z_t (eq. 5), in batches."""
        import torch

        tok = self.tokenizer()
        out = []
        bs = self._batch(frames.shape[1] * frames.shape[2])
        with torch.no_grad():
            for i in range(0, frames.shape[0], bs):
                x = to_tensor(frames[i: i + bs], device=self.device)  # (1, 3, n, H, W) in [-1, 1]
                out.append(tok.encode(x)[0].cpu().numpy().astype(np.int64))  # (n, L)
        return np.concatenate(out, axis=0)

    def _candidates(self) -> tuple[Mcs, ...]:
        c = self.config
        return named_set(c.mcs_set) if c.mcs_set else mcs_table(c.mcs_table)

    def _frame_budget(self, channel_uses: int | None, state: LinkState, eps: float, full_bits: int
                      ) -> dict[str, Any]:
        """MCS (eq. 8) and deliverable bits (eq. 9, exact) of one key frame with k_t = ``channel_uses``."""
        if state.predict_bler is None:  # no PHY (erasure link): bits per channel use, no MCS
            if channel_uses is None or state.bits_per_channel_use is None:
                return {"mcs": None, "feasible": None, "eq9": None, "bits": None}
            eq9, b = accounting.erasure_payload_bits_within(channel_uses, state.bits_per_channel_use)
            return {"mcs": None, "feasible": None, "eq9": eq9, "bits": min(b, full_bits)}
        ov = state.overhead

        def size(m: Mcs) -> int:
            if channel_uses is None:
                return full_bits
            return exact_budget_bits(channel_uses, m.num_bits_per_symbol, m.coderate, ov, full_bits)[1]

        # eq. (8): BLER(ρ, M; γ̂, k) ≤ ε with k = the bits this frame would carry at that MCS
        def bler(m: Mcs, _snr: float) -> float:
            return state.predict_bler(m, max(size(m), 1))

        if state.snr_db is None and state.mcs is not None:
            cands: tuple[Mcs, ...] = (state.mcs,)
        else:
            cands = self._candidates()
        a = select_mcs(state.snr_db if state.snr_db is not None else 0.0, candidates=cands, bler_target=eps,
                       bler_fn=bler)
        if channel_uses is None:
            return {"mcs": a.mcs, "feasible": a.feasible, "eq9": None, "bits": None}
        eq9, b = exact_budget_bits(channel_uses, a.mcs.num_bits_per_symbol, a.mcs.coderate, ov, full_bits)
        return {"mcs": a.mcs, "feasible": a.feasible, "eq9": eq9, "bits": b}

    @staticmethod
    def _plan_chain(z: np.ndarray, budgets: Sequence[int | None], fmt: TopKFormat, zero: int,
                    fixed_k: int | None = None) -> list[tuple[int, np.ndarray]]:
        """K and mask of every key frame of one GOP, tracking the receiver's state as it will be if every PDU
        arrives (eq. 19 with the bits actually sent); the state starts as all zero-flags (eq. 19 convention).

        Args:
            z: ``[n, L]`` int64 tokens of the GOP's key frames.
            budgets: B_t per key frame (None = unconstrained: K = L).
            fixed_k: a GOP-wide K^(g) (eq. 15) instead of K*_t.

        Returns:
            ``[(K, mask [L] bool)]`` per key frame.
        """
        L = z.shape[1]
        model = np.full(L, zero, dtype=np.int64)  # z̃ before the GOP's first key frame: zero state
        out = []
        for t in range(z.shape[0]):
            m = z[t] != model  # eq. (7), 001_c16fa1dac0c35e06.txt, against the receiver's state z̃_{t−}
            if fixed_k is not None:
                k = fixed_k
            elif budgets[t] is None:
                k = L
            else:
                k = max(plan_k(m, int(budgets[t]), fmt), 0)  # eq. (14)
            out.append((k, m))
            model[:k] = z[t, :k]  # eq. (19): positions ≤ K take z_t (unchanged ones already equal it)
        return out

    def encode(self, video: Video, state: LinkState, rng: np.random.Generator) -> Transmission:
        c = self.config
        info = video.info
        tok = self.tokenizer()
        fmt = self.frame_format(info.height, info.width)
        L, zero = fmt.num_tokens, tok.zero_token
        keys = key_frames(info.num_frames, c.stride, c.gop)
        n = len(keys)
        z = self._tokenize(np.asarray(video.frames)[[f for f, _ in keys]])  # eq. (5): [n, L]
        eps = c.bler_target or state.bler_target or DEFAULT_BLER_TARGET
        if c.stride > 1 and info.num_frames > 1:
            self.interpolator()  # an explicit interpolator without weights fails here, before sending

        budget = state.channel_use_budget
        k_t: list[int | None] = split_budget(budget, n) if budget is not None else [None] * n
        cache: dict[int | None, dict[str, Any]] = {}
        per = []
        for j in range(n):
            if k_t[j] not in cache:
                cache[k_t[j]] = self._frame_budget(k_t[j], state, eps, fmt.max_bits)
            per.append(cache[k_t[j]])
        budgets = [p["bits"] for p in per]
        # Alignment: the receiver maps the j-th PDU to the j-th key frame. If any key frame cannot carry even
        # an empty (K = 0) frame, no PDU is sent at all (so alignment never depends on the content).
        starved = any(b is not None and b < fmt.overhead_bits for b in budgets)

        plans: list[tuple[int, np.ndarray]] = [(0, np.ones(L, bool))] * n
        gop_k: dict[int, int] = {}
        if not starved:
            for g in sorted({g for _, g in keys}):
                idx = [j for j in range(n) if keys[j][1] == g]
                chain = self._plan_chain(z[idx], [budgets[j] for j in idx], fmt, zero)
                if c.gop_level_k:
                    kg = min(k for k, _ in chain)  # eq. (15): K^(g) = min_t K*_t over the GOP's key frames
                    gop_k[g] = kg
                    chain = self._plan_chain(z[idx], [budgets[j] for j in idx], fmt, zero, fixed_k=kg)
                for j, p in zip(idx, chain):
                    plans[j] = p

        packets: list[Packet] = []
        frames_report: list[FramePlan] = []
        key_of = {f: j for j, (f, _) in enumerate(keys)}
        uses_total = 0
        for t in range(info.num_frames):
            j = key_of.get(t)
            if j is None:
                frames_report.append(FramePlan(frame=t, key=False, gop=t // c.gop))
                continue
            k, m = plans[j]
            mcs = per[j]["mcs"]
            entry: dict[str, Any] = {"frame": t, "key": True, "gop": keys[j][1],
                                     "mcs_index": mcs.index if mcs is not None else None,
                                     "channel_uses_budget": k_t[j], "budget_bits_eq9": per[j]["eq9"],
                                     "budget_bits": budgets[j]}
            if not starved:
                payload, nbits = pack_frame(z[j], m, k, fmt)  # eqs. (10)–(12) + K-field + CRC
                packets.append(Packet(payload, stream=STREAM, seq=j, num_bits=nbits, mcs=mcs))
                uses = state.pdu_channel_uses(nbits, mcs) if state.pdu_channel_uses is not None else None
                uses_total += uses or 0
                entry.update(k=k, changed=int(m[:k].sum()), bits=nbits, channel_uses=uses, mask_ones=int(m.sum()),
                             predicted_bler=(state.predict_bler(mcs, max(nbits, 1))
                                             if mcs is not None and state.predict_bler else None))
                if j > 0 and keys[j - 1][1] == keys[j][1]:
                    entry["changed_vs_prev_tokens"] = int((z[j] != z[j - 1]).sum())  # eq. (7) taken literally
            frames_report.append(FramePlan(**entry))

        mcs_used = sorted({p["mcs"].index for p in per if p["mcs"] is not None and p["mcs"].index is not None})
        report = ResiVidEncodeReport(
            stride=c.stride, gop=c.gop, tokenizer=c.tokenizer, L=L, value_bits=fmt.value_bits,
            k_field_bits=fmt.k_bits, crc_bits=fmt.crc_bits, bler_target=eps, gop_level_k=c.gop_level_k,
            gop_k={str(g): k for g, k in gop_k.items()} if c.gop_level_k else None, key_frames=n,
            key_frames_sent=len(packets), starved=starved,
            starved_reason=(f"budget of {min(b for b in budgets if b is not None)} bits per key frame cannot "
                            f"carry an empty frame ({fmt.overhead_bits} bits): nothing sent") if starved else None,
            mcs_candidates=c.mcs_set or f"38.214 table {c.mcs_table}", mcs_indices=tuple(mcs_used),
            mcs=per[0]["mcs"] if per and per[0]["mcs"] is not None else None,
            mcs_feasible=all(p["feasible"] is not False for p in per), channel_use_budget=budget,
            channel_uses_planned=uses_total, source_bits=int(sum(p.num_bits for p in packets)),
            frames=tuple(frames_report))
        return Transmission(info=info, packets=tuple(packets), report=report,
                            frame_map=self.frame_map(info.num_frames, keys, packets))

    @staticmethod
    def frame_map(num_frames: int, keys: Sequence[tuple[int, int]], packets: Sequence[Packet]):
        """The data each frame is built from: a key frame its PDU; a frame between two key frames both
        anchors' PDUs (eq. 21); a frame after the last key frame that key frame's PDU (it is held)."""
        fm = FrameMapBuilder()
        if len(packets) != len(keys):  # starved: nothing sent
            return fm.build()
        for j, (f, _) in enumerate(keys):
            fm.add(f, packets[j].num_bits, [j])
            end = keys[j + 1][0] if j + 1 < len(keys) else num_frames
            for t in range(f + 1, end):
                fm.add(t, packets[j].num_bits, [j])
                if j + 1 < len(keys):
                    fm.add(t, packets[j + 1].num_bits, [j + 1])
        return fm.build()

    # -- receiver -----------------------------------------------------------------------------------------
    def _decode_states(self, states: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """``[n, L]`` int64 token states → ``[n, H, W, 3]`` uint8 frames via the shared decoder (eq. 20)."""
        import torch

        tok = self.tokenizer()
        out = []
        bs = self._batch(size[0] * size[1])
        with torch.no_grad():
            for i in range(0, states.shape[0], bs):
                zt = torch.from_numpy(np.ascontiguousarray(states[i: i + bs]))[None].to(self.device)
                out.append(from_tensor(tok.decode(zt, size))[0])  # eq. (20): x̂_t = f_dec(z̃_t)
        return np.concatenate(out, axis=0) if out else np.zeros((0, size[0], size[1], 3), np.uint8)

    def decode(self, rx: Reception, rng: np.random.Generator) -> Decoded:
        c = self.config
        info = rx.info
        T, H, W = info.num_frames, info.height, info.width
        tok = self.tokenizer()
        fmt = self.frame_format(H, W)
        L, zero = fmt.num_tokens, tok.zero_token
        keys = key_frames(T, c.stride, c.gop)
        n = len(keys)
        pk: list[Packet | None] = list(rx.packets)
        misaligned = len(pk) != n
        if misaligned:  # no PDUs (starved budget) or a reception that does not match this configuration
            pk = [None] * n

        states = np.empty((n, L), np.int64)
        status: list[str] = []
        parsed_info: list[dict[str, Any]] = []
        state = np.full(L, zero, np.int64)
        for j, (_, g) in enumerate(keys):
            if j == 0 or keys[j - 1][1] != g:
                state = np.full(L, zero, np.int64)  # eq. (19): zero state at each GOP start
            p = pk[j]
            if p is None:
                status.append("lost")  # §III-E-a: no update
                parsed_info.append({})
            else:
                fr = parse_frame(p.payload, p.num_bits, fmt)  # eqs. (17)–(18)
                status.append(fr.status)
                state = apply_update(state, fr, zero)  # eq. (19); unusable frame → no update
                parsed_info.append({"k": fr.k, "changed": fr.changed, "bits": int(p.num_bits or 0),
                                    "missing": fr.missing, "usable": fr.usable})
            states[j] = state
        key_decoded = (states != zero).any(axis=1)  # a state never updated in its GOP is not decoded

        # eq. (20) on the states that carry data; the others hold the last decoded key frame
        rec_key = np.empty((n, H, W, 3), np.uint8)
        idx = np.flatnonzero(key_decoded)
        if idx.size:
            rec_key[idx] = self._decode_states(states[idx], (H, W))
        blank = None
        last = None
        for j in range(n):
            if key_decoded[j]:
                last = rec_key[j]
            elif last is not None:
                rec_key[j] = last
            else:
                if blank is None:
                    blank = self._decode_states(np.full((1, L), zero, np.int64), (H, W))[0]  # eq. (6), ℓ = 0
                rec_key[j] = blank

        out = np.empty((T, H, W, 3), np.uint8)
        decoded = np.zeros(T, bool)
        interp_name, interp_reason = None, None
        interp_errors = 0
        for j, (f, _) in enumerate(keys):
            out[f] = rec_key[j]
            decoded[f] = key_decoded[j]
            nxt = keys[j + 1][0] if j + 1 < n else None
            end = nxt if nxt is not None else T
            if end - f <= 1:
                continue
            gap = range(f + 1, end)
            if nxt is None:  # after the last key frame: hold it (§III-F boundary handling)
                out[f + 1:end] = rec_key[j]
                decoded[f + 1:end] = key_decoded[j]
                continue
            # eq. (21): x̂_t = f_int(x̂_{t−}, x̂_{t+}, α_t), α_t = (t − t−)/(t+ − t−); across GOP boundaries too
            a, b = rec_key[j], rec_key[j + 1]
            alphas = [(t - f) / (nxt - f) for t in gap]
            if np.array_equal(a, b):
                mids = [a] * len(alphas)
            else:
                mids, interp_name, interp_reason, err = self._interpolate(a, b, alphas)
                interp_errors += err
            for t, im in zip(gap, mids):
                out[t] = im
            decoded[f + 1:end] = key_decoded[j] and key_decoded[j + 1]

        if interp_name is None and c.stride > 1:
            try:
                _, interp_name, interp_reason = self.interpolator()
            except Exception as e:  # noqa: BLE001 - report only: no gap needed interpolation
                interp_name, interp_reason = None, f"{type(e).__name__}: {e}"

        received = sum(st != "lost" for st in status)
        report = ResiVidDecodeReport(
            interpolator=interp_name, interpolator_fallback_reason=interp_reason,
            interpolator_errors=interp_errors, key_frames_received=received,
            key_frames_lost=sum(st == "lost" for st in status) if not misaligned else n,
            key_frames_crc_failed=sum(st == "crc_failed" for st in status),
            key_frames_malformed=sum(st in ("truncated", "malformed") for st in status),
            key_frames_decoded=int(key_decoded.sum()), pdus_misaligned=misaligned and len(rx.packets) > 0,
            received=tuple(KeyFrameRx(frame=f, status=status[j], **parsed_info[j]) for j, (f, _) in enumerate(keys)),
            frame_decoded=tuple(bool(v) for v in decoded))
        video = Video(out, info.fps, source="reconstruction")
        return Decoded(video=video, report=report, frames_decoded=int(decoded.sum()))

    def _interpolate(self, a: np.ndarray, b: np.ndarray, alphas: list[float]
                     ) -> tuple[list[np.ndarray], str, str | None, int]:
        """Eq. (21) for one gap: ``(frames, interpolator name, fallback reason, errors)``; an interpolator
        failure falls back to a cross-fade (reported) rather than taking the receiver down."""
        f, name, reason = self.interpolator()
        try:
            mids = list(f.interpolate(a, b, alphas))
            if len(mids) == len(alphas) and all(m.shape == a.shape and m.dtype == np.uint8 for m in mids):
                return mids, name, reason, 0
            err = "wrong output shape"
        except Exception as e:  # noqa: BLE001
            err = f"{type(e).__name__}: {e}"
        mids = BlendInterpolator().interpolate(a, b, alphas)
        return mids, name, f"{reason or ''} {name} failed ({err}); blended".strip(), 1

    def weights(self) -> dict[str, str]:
        """The tokenizer, and RIFE when eq. (21) would use it (``auto`` with cached weights, or ``rife``)."""
        out = {self.config.tokenizer: tokenizer_digest(self.config.tokenizer)}
        if self.config.stride > 1 and self.config.interpolator in ("auto", "rife"):
            out[RIFE_WEIGHTS] = weight_set_digest(RIFE_WEIGHTS)
        return out

    # -- reporting hooks --------------------------------------------------------------------------------
    @classmethod
    def summary(cls, record: Mapping[str, Any]) -> str:
        idx = record.get("scheme_report", {}).get("mcs_indices") or []
        return "key frames: MCS " + ",".join(map(str, idx)) if idx else "–"

    @classmethod
    def describe_record(cls, record: Mapping[str, Any]) -> str:
        c = record.get("config", {}).get("scheme", {})
        sr = record.get("scheme_report", {})
        interp = sr.get("interpolator") or c.get("interpolator")
        why = sr.get("interpolator_fallback_reason")
        return (f"{c.get('tokenizer')} key frames every {c.get('stride')} frames in GOPs of {c.get('gop')}, "
                f"top-K differential packing with CRC-{c.get('crc_bits')}, MCS per key frame from "
                f"{c.get('mcs_set') or 'table ' + str(c.get('mcs_table', 1))} at BLER ≤ {sr.get('bler_target')}, "
                f"interpolation: {interp}" + (f" ({why})" if why else ""))

    @classmethod
    def report_sections(cls, records: Sequence[Mapping[str, Any]], out_dir: Path) -> str:
        """The prefix depth K* of every key frame, one line per condition (hollow: lost / CRC failed)."""
        series: dict[str, list[tuple[float, float, bool]]] = {}
        for r in records:
            sr = r.get("scheme_report", {})
            rx = {e["frame"]: e.get("status") for e in sr.get("received", [])}
            cfg = r.get("config", {})
            cond = ", ".join(f"{k} {cfg[k]:g}" for k in ("snr_db", "cbr") if cfg.get(k) is not None)
            label = f"{Path(str(r.get('input', ''))).name} {cond}"
            pts = [(float(f["frame"]), float(f["k"]), rx.get(f["frame"], "ok") == "ok")
                   for f in sr.get("frames", []) if f.get("key") and f.get("k") is not None]
            if pts:
                series[label] = pts
        if not series:
            return ""
        if len(series) > 8:  # keep the figure readable: the first 8 conditions
            series = dict(sorted(series.items())[:8])
        plots = out_dir / "plots"
        plots.mkdir(parents=True, exist_ok=True)
        names = line_plot(plots / "resivid_k_per_frame", series, "frame", "K* (tokens in the prefix)",
                          "Resi-VidTok prefix depth per key frame (hollow: lost / CRC failed)")
        return ("<h2>Resi-VidTok prefix depth per frame</h2>"
                f'<figure><img src="plots/{names[0]}" alt="K per frame" width="620"></figure>')
