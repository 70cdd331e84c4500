"""TVC (003_299bbe4b0e9ae1eb.txt) as scheme ``tvc``: dual-stream tokenized video compression over the link.

::

    transmitter, per GoP of 1+8k frames (padded: frames by repetition, H and W by replication to 64)
      TvcModel.encode_gop ─► continuous PDU (b_z, b_y; CRC-32)  priority 2 ─► link MCS/LDPC
                          └► discrete PDU (visible FSQ codes; CRC-32)  priority 1 (left unsent first)
    receiver, per GoP
      continuous PDU valid ─► ŷ^C ─► discrete PDU valid ─► visible codes (else: none visible)
        ─► masked-token prediction (eq. 2, deterministic) ─► fusion decoder (§3.4) ─► frames
      no valid continuous PDU ─► the last decoded frame repeated (mid-grey before any)

A GoP's frames count as decoded (FrameMap) when its continuous PDU arrived; the discrete PDU's bits need
both. See docs/tvc.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tokcom.errors import WeightsUnavailable
from tokcom.schemes.base import Scheme
from tokcom.schemes.ratecontrol import gop_share, pdu_uses, search
from tokcom.schemes.tvc import bitstream as bs
from tokcom.schemes.tvc import report as tv_report
from tokcom.schemes.tvc.config import ARCHS, RATE_LADDER, TvcArch, TvcConfig, get_arch, visible_per_interval
from tokcom.schemes.tvc.mask import fixed_mask, mask_rate
from tokcom.schemes.tvc.report import GopRx, GopTx, TvcDecodeReport, TvcEncodeReport
from tokcom.schemes.weights import RANDOM_INIT, ModelCache, SchemeWeights
from tokcom.tokenizers import load_tokenizer
from tokcom.types import Decoded, FrameMapBuilder, LinkState, Packet, Reception, Transmission, Video
from tokcom.video.transform import from_tensor

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
C_PRIORITY, D_PRIORITY = 2, 1


WEIGHTS = SchemeWeights("tvc", WEIGHTS_DIR)
_MODELS = ModelCache(2)
_TO_UINT8_FRAMES = 4  # frames converted to uint8 at a time by the receiver


def weight_files(cfg: TvcConfig) -> tuple[Path, Path] | None:
    return WEIGHTS.files(cfg.weights, cfg.weights_name)


def weights_digest(cfg: TvcConfig) -> str:
    return WEIGHTS.digest(cfg.weights, cfg.weights_name)


def tokenizer_pins(cfg: TvcConfig) -> dict[str, str]:
    """``{tokenizer weights name: sha256}`` an export pins (empty for random weights, absent or unreadable
    files, or an export that embeds its tokenizers)."""
    pins = WEIGHTS.meta(cfg.weights, cfg.weights_name).get("tokenizers")
    return {str(k): str(v) for k, v in pins.items()} if isinstance(pins, dict) else {}


def load_model(cfg: TvcConfig, device: str = "cpu") -> tuple[Any, dict[str, Any]]:
    """``(TvcModel in eval mode, info)``, cached per process; one-line ``WeightsUnavailable`` when absent."""
    abl = (cfg.cross_attention, cfg.spatiotemporal, cfg.fusion)
    key = (cfg.model, cfg.weights, cfg.seed if weight_files(cfg) is None else weights_digest(cfg), str(device), abl,
           cfg.tokenizers, cfg.cosmos_dv, cfg.cosmos_cv)
    return _MODELS.get(key, lambda: _build(cfg, device, abl))


def cosmos_pair(dv_path: str = "", cv_path: str = "", device: str = "cpu") -> tuple[Any, Any]:
    """The loaded ``cosmos-dv8x16x16`` and ``cosmos-cv8x16x16`` (folders, else the Cosmos cache / hub; a
    one-line ``WeightsUnavailable`` when absent)."""
    return (load_tokenizer("cosmos-dv8x16x16", path=dv_path or None, device=device),
            load_tokenizer("cosmos-cv8x16x16", path=cv_path or None, device=device))


def _build(cfg: TvcConfig, device: str, abl: tuple[bool, bool, bool]) -> tuple[Any, dict[str, Any]]:
    import torch

    from tokcom.schemes.tvc.model import TvcModel

    cosmos = cosmos_pair(cfg.cosmos_dv, cfg.cosmos_cv, device) if cfg.tokenizers == "cosmos" else None
    if weight_files(cfg) is None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(cfg.seed))
            model = TvcModel(get_arch(cfg.model, tokenizers=cfg.tokenizers), *abl, cosmos=cosmos)
        info = {"weights": f"random (seed {cfg.seed})", "sha256": RANDOM_INIT, "trained": False}
    else:
        from tokcom.schemes.tvc.model import load_pinned_tokenizers, load_tvc_state

        sd, meta, digest, st = WEIGHTS.read(cfg.weights, cfg.weights_name)
        arch = TvcArch.from_dict(dict(meta["arch"])) if meta.get("arch") else ARCHS[cfg.model]
        if arch.tokenizers != cfg.tokenizers:
            raise WeightsUnavailable(f"tvc weights {st} were trained with the {arch.tokenizers} tokenizers, not "
                                     f"{cfg.tokenizers}")
        model = TvcModel(arch, *abl, cosmos=cosmos)
        if isinstance(meta.get("tokenizers"), dict):  # pinned by sha256: the export's folder, else shipped
            load_pinned_tokenizers(model, meta["tokenizers"], [st.parent])
        try:
            load_tvc_state(model, sd)
        except RuntimeError as e:
            raise WeightsUnavailable(f"tvc weights {st} do not fit tvc-{arch.name} ({str(e).splitlines()[0]})"
                                     ) from None
        info = {"weights": str(st), "sha256": digest, "trained": True}
    model = model.to(device).eval()
    info["params"] = int(sum(p.numel() for p in model.parameters()))
    return model, info


class TvcScheme(Scheme):
    """TVC (003_299bbe4b0e9ae1eb.txt); see the module docstring for the pipeline."""

    name = "tvc"
    reporting = tv_report
    Config = TvcConfig
    example_options: ClassVar[Mapping[str, Any]] = {"weights": "random"}

    def model(self) -> tuple[Any, dict[str, Any]]:
        return load_model(self.config, self.device)

    def gops(self, num_frames: int) -> list[tuple[int, int]]:
        g = self.config.gop
        return [(s, min(g, num_frames - s)) for s in range(0, num_frames, g)]

    def _grid(self, arch: TvcArch, frames: int, height: int, width: int) -> tuple[int, int, int]:
        m, sf, tf = arch.pad_multiple, arch.spatial_factor, arch.temporal_factor
        return (1 + -(-(frames - 1) // tf), -(-height // m) * m // sf, -(-width // m) * m // sf)

    def _gop_tensor(self, arch: TvcArch, frames: np.ndarray):
        """uint8 ``[n, H, W, 3]`` → uint8 ``[1, 3, 1+8k, Hp, Wp]`` (last frame repeated, borders replicated);
        :meth:`TvcModel.tokenize` converts it to float a few latent frames at a time."""
        import torch

        n, h, w = frames.shape[:3]
        tf, m = arch.temporal_factor, arch.pad_multiple
        src = np.minimum(np.arange(1 + -(-(n - 1) // tf) * tf), n - 1)
        x = np.asarray(frames)[src]
        ph, pw = (-h) % m, (-w) % m
        if ph or pw:
            x = np.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
        return torch.from_numpy(np.ascontiguousarray(x)).to(self.device).permute(3, 0, 1, 2)[None]

    # -- transmitter --------------------------------------------------------------------------------------
    def uses_ladder(self, state: LinkState) -> bool:
        """Rate control searches the ladder: ``rate_control=ladder`` and a channel-use budget."""
        return self.config.rate_control == "ladder" and state.channel_use_budget is not None

    def operating_points(self, state: LinkState) -> tuple[tuple[float, int], ...]:
        """``(Δ, n_visible)`` candidates from the best to the cheapest: :data:`RATE_LADDER` when
        :meth:`uses_ladder`, else the configured point alone."""
        c = self.config
        if self.uses_ladder(state):
            return tuple((q, visible_per_interval(r, c.mask_interval)) for q, r in RATE_LADDER)
        return ((c.quant_step, c.n_visible),)

    def _code(self, model, k, y_c, g: int, start: int, n: int, point: tuple[float, int], state: LinkState
              ) -> tuple[Any, bytes, bytes | None, int]:
        """One GoP's PDUs at ``point``: ``(GopCode, continuous PDU, discrete PDU or None, channel uses)``."""
        c = self.config
        step, n_vis = point
        code = model.code_tokens(k, y_c, step, n_vis, c.mask_interval, c.code_map)
        cp = bs.pack_continuous(bs.ContinuousPdu(g, start, n, code.grid, bs.step_code(step),
                                                 code.continuous.z_bytes, code.continuous.y_bytes))
        dp = None if not code.visible.any() else bs.pack_discrete(
            bs.DiscretePdu(g, code.grid, n_vis, c.mask_interval, not c.code_map, code.d_bytes))
        uses = pdu_uses(state, 8 * len(cp), state.mcs) + (0 if dp is None else pdu_uses(state, 8 * len(dp), state.mcs))
        return code, cp, dp, uses

    def _plan_gop(self, model, k, y_c, where: tuple[int, int, int], points, share: int | None, prev: int,
                  state: LinkState) -> tuple[int | None, Any, int]:
        """Rate control for one tokenized GoP: the best point whose exact channel uses fit ``share`` (the first
        without a budget); ``(its index or None, its :meth:`_code` result, points coded)``."""
        cache: dict[int, tuple[Any, bytes, bytes | None, int]] = {}

        def run(i: int) -> tuple[Any, bytes, bytes | None, int]:
            if i not in cache:
                cache[i] = self._code(model, k, y_c, *where, points[i], state)
            return cache[i]

        choice = 0 if share is None else search(len(points), lambda i: run(i)[3] <= share, prev)
        return choice, (None if choice is None else run(choice)), len(cache)

    def encode(self, video: Video, state: LinkState, rng: np.random.Generator) -> Transmission:
        c = self.config
        model, winfo = self.model()
        info = video.info
        T = info.num_frames
        points = self.operating_points(state)
        budget = state.channel_use_budget if self.uses_ladder(state) else None
        remaining = budget
        packets: list[Packet] = []
        fm = FrameMapBuilder()
        gops: list[GopTx] = []
        est_total = 0.0
        prev = 0
        for g, (start, n) in enumerate(self.gops(T)):
            k, y_c = model.tokenize(self._gop_tensor(model.arch, video.frames[start:start + n]))
            share = None if budget is None else gop_share(remaining, T - start, n)
            choice, coded, tried = self._plan_gop(model, k, y_c, (g, start, n), points, share, prev, state)
            if choice is None:  # nothing fits this GoP's share: not sent (the receiver repeats the last frame)
                gops.append(GopTx(gop=g, first_frame=start, frames=n, grid=(0, 0, 0), c_grid=(0, 0), visible_tokens=0,
                                  c_bits=0, c_bits_estimate=0.0, d_bits=0, d_bits_estimate=None, sent=False,
                                  budget_share=share, candidates_tried=tried))
                continue
            prev = choice
            code, cp, dp, uses = coded
            if remaining is not None:
                remaining -= uses
            ci = len(packets)
            packets.append(Packet(cp, stream="continuous", seq=ci, mcs=state.mcs, priority=C_PRIORITY))
            parts = [(8 * len(cp), [ci])]
            if dp is not None:
                packets.append(Packet(dp, stream="discrete", seq=ci + 1, mcs=state.mcs, priority=D_PRIORITY))
                parts.append((8 * len(dp), [ci, ci + 1]))
            for bits, pk in parts:
                share_f = [bits // n + (1 if i < bits % n else 0) for i in range(n)]
                for i in range(n):
                    fm.add(start + i, share_f[i], pk)
            d_est = 0.0 if dp is None else (code.d_bits_estimate or 8.0 * len(code.d_bytes))
            est_total += code.continuous.bits_estimate + d_est
            step, n_vis = points[choice]
            gops.append(GopTx(gop=g, first_frame=start, frames=n, grid=code.grid, c_grid=code.c_grid,
                              visible_tokens=int(code.visible.sum()), c_bits=8 * len(cp),
                              c_bits_estimate=code.continuous.bits_estimate, d_bits=0 if dp is None else 8 * len(dp),
                              d_bits_estimate=None if dp is None else code.d_bits_estimate, quant_step=step,
                              mask_rate=mask_rate(n_vis, c.mask_interval), channel_uses=uses, budget_share=share,
                              candidates_tried=tried))
        c_bits = sum(x.c_bits for x in gops)
        d_bits = sum(x.d_bits for x in gops)
        report = TvcEncodeReport(
            model=model.arch.name, weights=winfo["weights"], weights_sha256=winfo["sha256"],
            trained=winfo["trained"], params=winfo["params"], gop=c.gop,
            mask_rate=mask_rate(c.n_visible, c.mask_interval), n_visible=c.n_visible, mask_interval=c.mask_interval,
            quant_step=c.quant_step, code_map=c.code_map, source_bits=c_bits + d_bits, c_bits=c_bits, d_bits=d_bits,
            bits_estimate=est_total, gops=tuple(gops), rate_control="ladder" if budget is not None else "fixed",
            channel_use_budget=budget)
        return Transmission(info=info, packets=tuple(packets), report=report, frame_map=fm.build())

    # -- receiver -----------------------------------------------------------------------------------------
    def decode(self, rx: Reception, rng: np.random.Generator) -> Decoded:
        import torch

        c = self.config
        model, _ = self.model()
        arch = model.arch
        info = rx.info
        T, H, W = info.num_frames, info.height, info.width
        plan = self.gops(T)
        cont: dict[int, bs.ContinuousPdu] = {}
        disc: dict[int, bs.DiscretePdu] = {}
        unparsed = foreign = 0
        for p in rx.packets:
            if p is None:
                continue
            pl = p.payload
            cp = bs.parse_continuous(pl) if pl[:1] == bytes([bs.C_TAG]) else None
            dp = bs.parse_discrete(pl) if cp is None and pl[:1] == bytes([bs.D_TAG]) else None
            if cp is None and dp is None:
                unparsed += 1
                continue
            g = cp.gop if cp is not None else dp.gop
            if not 0 <= g < len(plan):
                foreign += 1
                continue
            start, n = plan[g]
            grid = self._grid(arch, n, H, W)
            if cp is not None and (cp.first_frame, cp.frames, cp.grid) == (start, n, grid):
                cont.setdefault(g, cp)
            elif dp is not None and dp.grid == grid:
                disc.setdefault(g, dp)
            else:
                foreign += 1
        out = np.empty((T, H, W, 3), np.uint8)
        decoded = np.zeros(T, bool)
        last: np.ndarray | None = None
        statuses: list[GopRx] = []
        for g, (start, n) in enumerate(plan):
            cp = cont.get(g)
            y_c, ok = (None, False) if cp is None else model.decode_continuous(cp.z_bytes, cp.y_bytes, cp.grid,
                                                                               cp.step)
            if not ok:  # no usable continuous stream: repeat the last frame
                out[start:start + n] = last if last is not None else 128
                statuses.append(GopRx(gop=g, status="lost"))
                continue
            t, h, w = cp.grid
            dp = disc.get(g)
            vis = np.zeros((t, h, w), bool)
            k = torch.zeros(t, len(arch.levels), h, w, dtype=torch.int64)
            status = "continuous_only"
            if dp is not None:
                v = fixed_mask((t, h, w), dp.n_visible, dp.interval)
                kd, okd = model.decode_discrete(dp.data, y_c, v, dp.raw)
                if okd:
                    vis, k, status = v, kd, "ok"
            with torch.no_grad():  # a latent frame or a few at a time, straight into the uint8 output
                for f0, x in model.reconstruct_chunks(y_c, k, vis, c.predict_steps, self.device):
                    for a in range(f0, min(n, f0 + x.shape[2]), _TO_UINT8_FRAMES):
                        e = min(n, f0 + x.shape[2], a + _TO_UINT8_FRAMES)
                        out[start + a:start + e] = from_tensor(x[:, :, a - f0:e - f0, :H, :W])[0]
                    del x
            last = out[start + n - 1].copy()
            decoded[start:start + n] = True
            statuses.append(GopRx(gop=g, status=status, visible_tokens=int(vis.sum())))
        report = TvcDecodeReport(pdus_unparsed=unparsed, pdus_foreign=foreign, gops_rx=tuple(statuses),
                                 frame_decoded=tuple(bool(v) for v in decoded))
        return Decoded(video=Video(out, info.fps, source="reconstruction"), report=report,
                       frames_decoded=int(decoded.sum()))

    # -- provenance and reporting hooks -------------------------------------------------------------------
    def weights(self) -> dict[str, str]:
        """The TVC file's sha256 and those of the tokenizers it pins (provenance of every point)."""
        return {self.config.weights_name: weights_digest(self.config), **tokenizer_pins(self.config)}


