"""Video TokenCom (000_cfad1eb21f67e2e2.txt): text-intent-guided multi-rate token coding with UEP.

::
    Video ─► tokenizer 𝓔 (DV, causal) ─► Z [t,h,w] (B_full = ⌈log2 N⌉ bits per token)
      │
      └► intent: CLIP heatmap (eqs. 1–5) | --intent-box | --intent-mask ─► M_0
           ─► optical flow + bilinear warping (eq. 6) ─► pooling (eq. 7) ─► S_τ (eq. 8), ρ_s (eq. 13)
           ─► block motion vectors (§II-E) ─► S_τ rebuilt as the receiver will (side information, eq. 33)
    Z, S ─► intended stream: Z_ref + intended tokens at B_full; non-intended: Δ̃ at B_Δ (Alg. 2, eqs. 9–12)
         ─► UEP MILP per class (Alg. 3, eqs. 16–29): (B_Δ, MCS_n), MCS_s ─► PDUs of L_c tokens per class
         ─► link (each PDU with its class' MCS)
    receiver: side info ─► S_τ; Z_ref; lost PDUs → Z_ref at their positions (§II-D-b);
              Ẑ per eqs. (30)–(31) ─► decoder 𝓓 (eq. 32) ─► Video

Causal tokenizers code frame 0 as its own token frame; Z_ref is that frame (Alg. 2 step 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, ClassVar

import numpy as np

from tokcom.coding.tokens import diff_decode, diff_encode
from tokcom.errors import InputError
from tokcom.intent.heatmap import text_intent_mask
from tokcom.intent.masks import box_mask, load_mask
from tokcom.intent.motion import apply_block_motion, fit_block_motion, side_info_bits, side_info_ratio
from tokcom.intent.propagate import (
    TokenRegion,
    frame_groups,
    intended_ratio,
    propagate_and_pool,
    token_frame_of,
    token_mask,
)
from tokcom.intent.render import heatmap_overlay, mask_overlay, montage
from tokcom.link.accounting import pdu_resource
from tokcom.link.mcs import mcs_table, named_set
from tokcom.provenance import clip_digests, tokenizer_digest
from tokcom.schemes.base import Scheme
from tokcom.schemes.tokencom import bitstream as bs
from tokcom.schemes.tokencom import report as tc_report
from tokcom.schemes.tokencom.config import TokenComConfig
from tokcom.schemes.tokencom.report import (
    CandidateReport,
    ClassRx,
    ClassTx,
    SideInfoReport,
    TokenComDecodeReport,
    TokenComEncodeReport,
    UepReport,
)
from tokcom.schemes.tokencom.uep import UepProblem, make_candidates, solve_milp
from tokcom.tokenizers import TOKENIZERS, DiscreteVideoTokenizer, load_tokenizer, tokenizer_spec
from tokcom.types import Decoded, FrameMapBuilder, LinkState, Mcs, Packet, Reception, Transmission, Video

_TOKENIZERS: dict[tuple[str, str], Any] = {}
_ANALYSIS: dict[tuple, Any] = {}  # per-process cache of the link-independent analysis (tokens, intent)
_ANALYSIS_SIZE = 8


def load_discrete_tokenizer(name: str, device: str, allow_hub: bool = True) -> Any:
    """A registered DiscreteVideoTokenizer, cached per process (``allow_hub=False``: a Cosmos tokenizer only
    from a local copy)."""

    if tokenizer_spec(name).kind != "discrete":
        raise InputError(f"tokencom needs a discrete video tokenizer; {name} is {tokenizer_spec(name).kind}")
    key = (name, str(device))
    if key not in _TOKENIZERS:
        extra = {"allow_hub": False} if not allow_hub and TOKENIZERS.get(name).source == "cosmos" else {}
        tok = load_tokenizer(name, device=device, **extra)
        if not isinstance(tok, DiscreteVideoTokenizer):
            raise InputError(f"tokencom needs a DiscreteVideoTokenizer; {name} is not one")
        _TOKENIZERS[key] = tok
    return _TOKENIZERS[key]


def neutral_token(tokenizer: Any) -> int:
    """The index of the all-zero FSQ code (mid level on every axis): what a token lost without a reference
    becomes; 0 for codebooks without FSQ levels."""
    levels = getattr(tokenizer.spec, "levels", None)
    if not levels:
        return 0
    idx, basis = 0, 1
    for lv in levels:
        idx += (lv // 2) * basis
        basis *= lv
    return idx


def random_masks(seed: int, counts: np.ndarray, h: int, w: int) -> np.ndarray:
    """The intent-unaware ablation's classes (§III-E): ``counts[τ]`` positions of token frame τ drawn
    uniformly without replacement from a PCG64 stream seeded with ``seed`` (both ends draw the same)."""
    rng = np.random.default_rng(int(seed))
    out = np.zeros((len(counts), h * w), dtype=bool)
    for tau, n in enumerate(counts):
        out[tau, rng.permutation(h * w)[: int(n)]] = True
    return out.reshape(len(counts), h, w)


class TokenComScheme(Scheme):
    """Video TokenCom (000_cfad1eb21f67e2e2.txt); see the module docstring for the pipeline."""

    name = "tokencom"
    reporting = tc_report
    Config = TokenComConfig
    example_options: ClassVar[Mapping[str, Any]] = {"intent_box": (0, 0, 32, 32)}  # an intent is required; a box needs no weights

    # -- intent (Alg. 1) ----------------------------------------------------------------------------
    def first_frame_mask(self, video: Video) -> tuple[np.ndarray, dict[str, Any], np.ndarray | None]:
        """M_0 ``[H, W]`` bool from the mask, box or text intent; (mask, report, normalised heatmap or None)."""

        c = self.config
        h, w = video.height, video.width
        given = [k for k in ("intent_mask", "intent_box", "intent") if getattr(c, k) is not None]
        if not given:
            raise InputError("tokencom needs an intent: --intent TEXT (CLIP), --intent-box x0,y0,x1,y1 or "
                             "--intent-mask PNG")
        if len(given) > 1:
            raise InputError(f"give one intent, not {', '.join('--' + g.replace('_', '-') for g in given)}")
        if c.intent_mask is not None:
            return load_mask(c.intent_mask, h, w), {"source": "mask", "path": str(c.intent_mask)}, None
        if c.intent_box is not None:
            return box_mask(c.intent_box, h, w), {"source": "box", "box": list(c.intent_box)}, None

        mask, info = text_intent_mask(video.frames[0], c.intent, model=c.clip_model,
                                      threshold=c.clip_threshold, dilation=c.clip_dilation, device=self.device)
        rep = {"source": "text", "text": c.intent, "clip_model": c.clip_model,
               "rho": float(info.get("rho", np.nan)), "patch_size": info.get("patch_size")}
        return np.asarray(mask, bool), rep, info.get("heatmap_norm")

    def token_classes(self, video: Video, mask0: np.ndarray, tok: Any, latent: tuple[int, int, int]
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, np.ndarray]]:
        """(S_flow, S_rebuilt, motion vectors, pixel masks of the pictured frames) for ``mask0`` (eqs. 6–8,
        §II-E). The masks are propagated and pooled frame by frame: memory does not grow with the clip."""

        c = self.config
        picks = set(_picture_frames(video.num_frames, tok.temporal_factor, latent[0]))
        pooled, masks = propagate_and_pool(video.frames, mask0, tok.temporal_factor, tok.spatial_factor, latent,
                                           flow=c.flow, keep=picks)  # eqs. (6)–(7)
        s_flow = token_mask(pooled, c.theta)  # eq. (8)
        s_rebuilt, mvs = fit_block_motion(s_flow, c.block, c.mv_bits)  # §II-E
        return s_flow, s_rebuilt, mvs, masks

    def analyse(self, video: Video, mask0: np.ndarray, tok: Any, latent: tuple[int, int, int]) -> tuple:
        """Everything that does not depend on the link: token classes (:meth:`token_classes`) and the token
        indices Z ``[t, h, w]`` int64 (the tokenizer runs chunk by chunk: ``encode_frames``). Deterministic,
        so SNR/rate points of a sweep share it (per process)."""
        import hashlib

        c = self.config
        key = (video.digest(), tok.name, str(self.device), hashlib.sha1(np.packbits(mask0).tobytes()).hexdigest(),
               c.flow, c.theta, c.block, c.mv_bits)
        hit = _ANALYSIS.get(key)
        if hit is None:
            classes = self.token_classes(video, mask0, tok, latent)
            z = tok.encode_frames(np.asarray(video.frames))
            hit = (*classes, z)
            _ANALYSIS[key] = hit
            while len(_ANALYSIS) > _ANALYSIS_SIZE:
                _ANALYSIS.pop(next(iter(_ANALYSIS)))
        return hit

    # -- UEP (Alg. 3) -------------------------------------------------------------------------------
    def plan(self, state: LinkState, duration_s: float, n_tokens: tuple[int, int], b_full: int,
             side_pdu_bits: list[int]) -> dict[str, Any]:
        """Candidates, budget and the MILP's choice (with the documented fallbacks).

        ρ_oh is the link's (``LinkState.overhead``, the one the link charges); the resource of a PDU is the
        link's exact channel-use count when the link provides it (``LinkState.pdu_channel_uses``), and R_max
        is η times the channel-use budget (eq. 24 with W_B·T = the budget).
        """

        c = self.config
        budget = state.channel_use_budget
        if state.bandwidth_hz is not None:
            bandwidth = state.bandwidth_hz
        elif budget is not None:
            bandwidth = budget / duration_s
        else:
            bandwidth = None
        r_max = c.eta * budget if budget is not None else math.inf  # eq. (24), W_B·T_RB = the budget
        if state.predict_bler is not None:
            bler_fn = state.predict_bler
        else:  # a link without a PHY model (erasure): every MCS sees the link's PDU loss
            loss = float(state.pdu_loss or 0.0)
            bler_fn = lambda _m, _k: loss
        count = state.pdu_channel_uses
        pdu_uses = (lambda m, bits: count(bits, m)) if count is not None else None
        limits = (c.pmax_intended if c.pmax_intended is not None else (state.bler_target or 0.002),
                  c.pmax_non_intended)
        sets = [list(named_set(c.mcs_intended)), list(named_set(c.mcs_non_intended))]
        bit_sets = [(b_full,), (int(c.b_delta),) if c.b_delta is not None else c.b_delta_set]
        extended = [False, False]

        def cands(k: int) -> list:
            return make_candidates(bit_sets[k], sets[k], tokens_per_pdu=c.tokens_per_pdu,
                                   header_bits=bs.TOKEN_HEADER_BITS, overhead=state.overhead,
                                   bandwidth_hz=bandwidth if bandwidth else 1.0, bler_fn=bler_fn, alpha=c.alpha,
                                   beta=c.beta, pdu_uses=pdu_uses)

        cand = [cands(0), cands(1)]
        for k in (0, 1):
            if c.extend_mcs and not any(x.bler <= limits[k] for x in cand[k]):
                # the smallest extension: the most efficient more-robust table row that meets the limit
                # (else the most robust row), so the class keeps one usable MCS as in the paper's sets
                floor = min(m.spectral_efficiency for m in sets[k])
                more = [m for m in mcs_table(1) if m.spectral_efficiency < floor - 1e-9]
                bits_max = c.tokens_per_pdu * max(bit_sets[k]) + bs.TOKEN_HEADER_BITS
                ok = [m for m in more if bler_fn(m, bits_max) <= limits[k]]
                add = max(ok, key=lambda m: m.spectral_efficiency) if ok else (
                    min(more, key=lambda m: m.spectral_efficiency) if more else None)
                if add is not None:
                    sets[k] = [add, *sets[k]]
                    cand[k] = cands(k)
                    extended[k] = True
        # side information goes first, with the most robust MCS of the intended set; its resource is
        # taken off the budget before the MILP
        side_bits = int(sum(side_pdu_bits))
        side_mcs = self._side_mcs(sets[0], bler_fn, limits[0], side_bits)
        if pdu_uses is not None:
            side_res = float(sum(pdu_uses(side_mcs, b) for b in side_pdu_bits))
        else:
            side_res, _ = pdu_resource(side_bits, side_mcs, state.overhead)
        problem = UepProblem(n_tokens, (cand[0], cand[1]), r_max - side_res, c.w_d, c.w_t, limits)
        sol = solve_milp(problem)
        status = sol.status
        choice = sol.choice
        if choice is None:
            choice, status = self._fallback(problem)
        return {"problem": problem, "solution": sol, "choice": choice, "status": status,
                "extended": extended, "side_mcs": side_mcs, "side_resource": side_res, "r_max": r_max,
                "bandwidth_hz": bandwidth, "limits": limits, "exact": pdu_uses is not None}

    @staticmethod
    def _side_mcs(mcs_set: list[Mcs], bler_fn, limit: float, side_bits: int) -> Mcs:
        ok = [m for m in mcs_set if bler_fn(m, max(side_bits, 24)) <= limit]
        pool = ok or mcs_set
        return min(pool, key=lambda m: (m.spectral_efficiency if ok else bler_fn(m, max(side_bits, 24)),
                                        m.spectral_efficiency))

    @staticmethod
    def _fallback(problem) -> tuple[tuple[int, int], str]:
        """No configuration meets (29): keep the BLER limits if possible and use the least resource
        (``budget_infeasible``), else the lowest-BLER configuration of each class (``bler_infeasible``)."""
        rel = [problem.reliable(0), problem.reliable(1)]
        if rel[0] and rel[1]:
            best = min(((i, j) for i in rel[0] for j in rel[1]), key=lambda ij: problem.totals(*ij)[2])
            return best, "budget_infeasible"
        pick = []
        for k in (0, 1):
            cs = problem.candidates[k]
            pick.append(min(range(len(cs)), key=lambda i: (cs[i].bler, cs[i].resource)))
        return (pick[0], pick[1]), "bler_infeasible"

    # -- transmitter --------------------------------------------------------------------------------
    def encode(self, video: Video, state: LinkState, rng: np.random.Generator) -> Transmission:
        c = self.config
        mask0, intent_rep, heat = self.first_frame_mask(video)
        names = c.tokenizers()
        toks = self.session_tokenizers()  # every configured tokenizer, loaded before anything is sent
        tried = []
        for ti, name in enumerate(names):
            tok = toks[ti]
            latent = tok.latent_shape(video.num_frames, video.height, video.width)
            t, h, w = latent
            s_flow, s_intent, mvs, pix_masks, z = self.analyse(video, mask0, tok, latent)
            if c.intent_mode == "random":
                seed = int(rng.integers(0, 2**32))
                counts = s_intent.reshape(t, -1).sum(axis=1)
                s_used = random_masks(seed, counts, h, w)
                side = bs.SideInfo(bs.MODE_RANDOM, ti, latent, tok.bits_per_token, 0, tok.codebook_size,
                                   c.block, c.mv_bits, seed=seed, counts=counts)
            else:
                s_used = s_intent
                side = bs.SideInfo(bs.MODE_INTENT, ti, latent, tok.bits_per_token, 0, tok.codebook_size,
                                   c.block, c.mv_bits, s0=s_intent[0], mvs=mvs)
            n_s = h * w + int(s_used[1:].sum())  # Z_ref (token frame 0) travels at full precision
            n_n = int((~s_used[1:]).sum())
            side_pdu_bits = [8 * len(p) for p in bs.side_pdus(bs.encode_side_info(side))]
            plan = self.plan(state, video.duration_s, (n_s, n_n), tok.bits_per_token, side_pdu_bits)
            tried.append({"tokenizer": name, "status": plan["status"]})
            if plan["status"] != "budget_infeasible" or ti == len(names) - 1:
                break
        problem, (ks, kn) = plan["problem"], plan["choice"]
        cs, cn = problem.candidates[0][ks], problem.candidates[1][kn]
        b_delta = cn.bits
        side = replace(side, b_delta=b_delta)

        z_ref = z[0]
        intended_vals = np.concatenate([z_ref.ravel()] + [z[tau][s_used[tau]] for tau in range(1, t)])
        non_vals = np.concatenate([diff_encode(z[tau][~s_used[tau]], z_ref[~s_used[tau]], b_delta)
                                   for tau in range(1, t)] or [np.zeros(0, np.int64)])  # Alg. 2
        # the token frame of every position of each class stream (for the frame map)
        tau_s = np.concatenate([np.zeros(h * w, np.int64)]
                               + [np.full(int(s_used[tau].sum()), tau) for tau in range(1, t)])
        tau_n = np.concatenate([np.full(int((~s_used[tau]).sum()), tau) for tau in range(1, t)]
                               or [np.zeros(0, np.int64)])
        frame_tau = np.minimum(token_frame_of(video.num_frames, tok.temporal_factor), t - 1)
        frames_of_tau = [np.flatnonzero(frame_tau == tau) for tau in range(t)]
        fm = FrameMapBuilder()
        packets: list[Packet] = []
        side_payloads = bs.side_pdus(bs.encode_side_info(side))
        for p in side_payloads:
            # side information is sent first and dropped last when the budget runs out
            packets.append(Packet(p, stream="side", seq=len(packets), mcs=plan["side_mcs"], priority=2))
        side_idx = list(range(len(packets)))
        side_bits = int(sum(p.num_bits for p in packets))
        for k in range(1 if side_idx else t, t):  # the token classes S_τ of every frame after the first
            for f in frames_of_tau[k]:
                fm.add(int(f), side_bits, side_idx)
        per_class = {}
        for cls, vals, taus, bits, cand, prio in (("intended", intended_vals, tau_s, tok.bits_per_token, cs, 1),
                                                  ("non_intended", non_vals, tau_n, b_delta, cn, 0)):
            pdus = bs.token_pdus(vals, bits, cls, c.tokens_per_pdu)
            for payload, nbits, first in pdus:
                pi = len(packets)
                packets.append(Packet(payload, stream=cls, seq=pi, num_bits=nbits, mcs=cand.mcs, priority=prio))
                count = (nbits - bs.TOKEN_HEADER_BITS) // bits
                per_tau = np.bincount(taus[first:first + count], minlength=t)
                for tau in np.flatnonzero(per_tau):
                    for f in frames_of_tau[tau]:
                        fm.add(int(f), int(per_tau[tau]) * bits, [pi])
            per_class[cls] = ClassTx(modulation=cand.mcs.modulation, coderate=cand.mcs.coderate,
                                     num_bits_per_symbol=cand.mcs.num_bits_per_symbol, bits_per_token=bits,
                                     tokens=int(vals.size), pdus_sent=len(pdus), predicted_bler=cand.bler,
                                     resource_per_token=cand.resource)
        payload_bits = int(sum(p.num_bits for p in packets))
        rho_s = intended_ratio(s_used)  # eq. (13)
        b_full = tok.bits_per_token
        d_t, d_s = tok.temporal_factor, tok.spatial_factor
        bpp_eq15 = (rho_s * b_full + (1 - rho_s) * b_delta) / (3 * d_t * d_s ** 2)  # eq. (15)
        d_tot, tau_tot, res = problem.totals(ks, kn)
        token_bits = n_s * b_full + n_n * b_delta
        roi = TokenRegion(s_intent, video.num_frames, d_t, d_s, video.height, video.width)
        sol = plan["solution"]
        uep = UepReport(
            status=plan["status"], objective=sol.objective, solve_ms=1e3 * sol.solve_s,
            resource_budget=plan["r_max"] if math.isfinite(plan["r_max"]) else None, resource_side=plan["side_resource"], resource_tokens=res,
            delay_s=tau_tot if plan["bandwidth_hz"] else None, distortion=d_tot, bandwidth_hz=plan["bandwidth_hz"],
            bler_limits=tuple(plan["limits"]),
            candidates_extended={"intended": plan["extended"][0], "non_intended": plan["extended"][1]},
            candidates={cls: tuple(CandidateReport(k.bits, k.mcs.modulation, k.mcs.coderate, k.bler, k.resource)
                                   for k in problem.candidates[i])
                        for i, cls in enumerate(("intended", "non_intended"))},
            overhead=state.overhead, eta=c.eta, tokens_per_pdu=c.tokens_per_pdu, resource_exact=plan["exact"])
        report = TokenComEncodeReport(
            tokenizer=tok.name, tokenizer_factors=(d_t, d_s), tokenizer_switching=tuple(tried) if len(names) > 1
            else None, latent_shape=(t, h, w), intent=intent_rep, intent_mode=c.intent_mode,
            rho=intent_rep.get("rho", float(mask0.mean())), rho_s=rho_s, rho_s_intent=intended_ratio(s_intent),
            mask_agreement=float((s_intent == s_flow).mean()), b_full=b_full, b_delta=b_delta,
            n_tokens={"intended": n_s, "non_intended": n_n}, bpp_tokencom=bpp_eq15,
            bpp_tokens=token_bits / video.num_pixels, class_config=per_class,
            source_bitrate_bps=payload_bits / video.duration_s,
            side_info=SideInfoReport(bits=side_bits, pdus=len(side_payloads), mcs=plan["side_mcs"],
                                     overhead_ratio=side_bits / max(token_bits, 1),
                                     eq33_ratio=side_info_ratio(t, rho_s, b_full, b_delta, c.block, c.mv_bits),
                                     eq33_bits=side_info_bits(t, h, w, c.block, c.mv_bits)),
            uep=uep)
        artifacts = _artifacts(video, mask0, heat, pix_masks, s_used, d_t, d_s)
        return Transmission(info=video.info, packets=tuple(packets), report=report, frame_map=fm.build(), roi=roi,
                            artifacts=artifacts)

    # -- receiver -----------------------------------------------------------------------------------
    def decode(self, rx: Reception, rng: np.random.Generator) -> Decoded:
        c = self.config
        info = rx.info
        names = c.tokenizers()
        # the session's tokenizers, loaded before a packet is read: a packet selects among them, it never
        # makes the receiver load or fetch anything (never from a model hub)
        toks = self.session_tokenizers(allow_hub=False)
        side_payloads = []
        tokens: dict[int, list] = {0: [], 1: []}
        crc_failed = 0
        for p in rx.packets:
            if p is None:
                continue
            if p.payload[:2] == b"TS":
                side_payloads.append(p.payload)
                continue
            tp = bs.parse_token_pdu(p.payload)
            if tp is None:
                crc_failed += 1
                continue
            tokens[tp.cls].append(tp)
        body, side_bad = bs.join_side_pdus(side_payloads) if side_payloads else (None, 0)
        si = bs.decode_side_info(body) if body is not None else None
        ti = si.tokenizer_index if si is not None and si.tokenizer_index < len(names) else 0
        tok = toks[ti]
        t, h, w = tok.latent_shape(info.num_frames, info.height, info.width)
        if si is not None and (si.latent_shape != (t, h, w) or si.codebook_size != tok.codebook_size
                               or si.b_full != tok.bits_per_token):
            si = None  # inconsistent with the session: ignore it
        hw = h * w
        s = None
        if si is not None:
            try:
                s = (apply_block_motion(si.s0, si.mvs, si.block, si.mv_bits) if si.mode == bs.MODE_INTENT
                     else random_masks(si.seed, si.counts, h, w))
            except (ValueError, IndexError, InputError):
                s = None
        # class streams with "received" flags
        n_s = hw + (int(s[1:].sum()) if s is not None else 0)
        n_n = int((~s[1:]).sum()) if s is not None else 0
        b_full = tok.bits_per_token
        vals_s, got_s = _fill(tokens[0], n_s if s is not None else hw, b_full)
        vals_n, got_n = (_fill(tokens[1], n_n, si.b_delta) if s is not None else (np.zeros(0, np.int64),
                                                                                  np.zeros(0, bool)))
        neutral = neutral_token(tok)
        z_ref = np.where(got_s[:hw], np.clip(vals_s[:hw], 0, tok.codebook_size - 1), neutral).reshape(h, w)
        z_hat = np.broadcast_to(z_ref, (t, h, w)).copy()  # lost tokens → Z_ref (§II-D-b)
        delivered = np.zeros((t, h, w), bool)
        delivered[0] = got_s[:hw].reshape(h, w)
        if s is not None:
            ps, pn = hw, 0
            for tau in range(1, t):
                m = s[tau]
                k_s, k_n = int(m.sum()), int((~m).sum())
                zs = z_hat[tau]
                gs, gn = got_s[ps:ps + k_s], got_n[pn:pn + k_n]
                sel = zs[m]
                sel[gs] = np.clip(vals_s[ps:ps + k_s][gs], 0, tok.codebook_size - 1)  # eq. (31), S = 1
                zs[m] = sel
                sel = zs[~m]
                sel[gn] = diff_decode(vals_n[pn:pn + k_n][gn], z_ref[~m][gn], si.b_delta,
                                      tok.codebook_size)  # eqs. (30)-(31), S = 0
                zs[~m] = sel
                dm = delivered[tau]
                dm[m] = gs
                dm[~m] = gn
                ps += k_s
                pn += k_n
        frames = tok.decode_frames(z_hat, info.num_frames, info.height, info.width)  # eq. (32), chunk by chunk
        frac = delivered.reshape(t, -1).mean(axis=1)
        ok_tau = frac >= c.decoded_fraction
        if s is None:
            ok_tau[1:] = False
        ok_frames = ok_tau[np.minimum(token_frame_of(info.num_frames, tok.temporal_factor), t - 1)]
        exp = {"intended": math.ceil(n_s / c.tokens_per_pdu) if s is not None else None,
               "non_intended": math.ceil(n_n / c.tokens_per_pdu) if s is not None else None}
        rx_cls = {cls: ClassRx(pdus_received=len(tokens[k]),
                               pdus_lost=(exp[cls] - len(tokens[k])) if exp[cls] is not None else None)
                  for cls, k in (("intended", 0), ("non_intended", 1))}
        report = TokenComDecodeReport(
            class_config=rx_cls, side_info_received=si is not None, side_fragments_failed=side_bad,
            pdus_crc_failed=crc_failed, tokens_delivered_fraction=float(delivered.mean()),
            token_frames_delivered=tuple(float(f) for f in frac), ref_tokens_lost=int(hw - got_s[:hw].sum()),
            frame_decoded=tuple(bool(v) for v in ok_frames))
        video = Video(np.ascontiguousarray(frames), info.fps, source="reconstruction")
        return Decoded(video=video, report=report, frames_decoded=int(ok_frames.sum()))

    # -- session and reporting ----------------------------------------------------------------------
    def session_tokenizers(self, allow_hub: bool = True) -> list[Any]:
        """Every tokenizer this configuration names (main, then fallbacks), loaded once per process."""
        return [load_discrete_tokenizer(n, self.device, allow_hub=allow_hub) for n in self.config.tokenizers()]

    def weights(self) -> dict[str, str]:
        out = {n: tokenizer_digest(n) for n in self.config.tokenizers()}
        if self.config.intent is not None:
            out.update(clip_digests(self.config.clip_model))
        return out





def _fill(pdus: list, n: int, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Place received PDUs' values into a class stream of ``n`` tokens: (values [n], received [n] bool)."""
    vals = np.zeros(n, np.int64)
    got = np.zeros(n, bool)
    for p in pdus:
        if p.bits != bits or p.first >= n:
            continue
        k = min(p.values.size, n - p.first)
        vals[p.first:p.first + k] = p.values[:k]
        got[p.first:p.first + k] = True
    return vals, got


MAX_PICTURED = 8  # token frames shown in the intent pictures


def _picture_frames(num_frames: int, temporal_factor: int, latent_frames: int) -> list[int]:
    """The frames the intent pictures show: the last frame of up to :data:`MAX_PICTURED` token frames."""

    groups = frame_groups(num_frames, temporal_factor, latent_frames)
    taus = np.unique(np.linspace(0, len(groups) - 1, min(len(groups), MAX_PICTURED)).round().astype(int))
    return [int(groups[tau][-1]) for tau in taus]


def _artifacts(video: Video, mask0: np.ndarray, heat: np.ndarray | None, pix_masks: dict[int, np.ndarray],
               s: np.ndarray, d_t: int, d_s: int) -> dict[str, np.ndarray]:
    """Pictures for people: the first-frame intent (heatmap or region), propagated masks, token masks."""

    f0 = video.frames[0]
    out = {"intent_first_frame": heatmap_overlay(f0, heat) if heat is not None else mask_overlay(f0, mask0)}
    picks = _picture_frames(video.num_frames, d_t, s.shape[0])
    out["intent_propagated"] = montage([mask_overlay(video.frames[k], pix_masks[k] > 0.5) for k in picks])
    tau_of = np.minimum(token_frame_of(video.num_frames, d_t), s.shape[0] - 1)
    tiles = []
    for k in picks:
        up = np.repeat(np.repeat(s[tau_of[k]], d_s, 0), d_s, 1)[: video.height, : video.width]
        tiles.append(mask_overlay(video.frames[k], up, color=(255, 160, 0)))
    out["intent_tokens"] = montage(tiles)
    return out
