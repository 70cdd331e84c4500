"""The TVC model: the two frozen tokenizers, both streams' entropy models, the masked-token predictor and the
fusion decoder, and the per-GoP encode / decode built from them (003_299bbe4b0e9ae1eb.txt, Fig. 3).

::

    GoP x (1, 3, 1+8k, H, W), H and W padded to multiples of 16·s·2
      ├─ DV encoder ─► FSQ code map y^D (1, 6, t, h, w) ─► level indices
      └─ ↓s (area) ─ CV encoder ─► y^C (1, 16, t, h/s, w/s)
    y^C ─► ContinuousStream ─► b_z, b_y, ŷ^C                                   §3.2.1
    level indices, mask m (eq. 1), context(↑ŷ^C, m) ─► DiscreteStream ─► b_d     §3.2.2–3.2.3
    receiver: ŷ^C ─► visible codes ─► MaskedTokenPredictor.predict ─► ŷ^D      §3.3, eq. (2)
              FusionDecoder(ŷ^D, ↑ŷ^C) ─► x̂                                    §3.4
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tokcom.errors import InputError, WeightsUnavailable
from tokcom.schemes.tvc.config import TvcArch
from tokcom.schemes.tvc.mask import fixed_mask
from tokcom.schemes.tvc.nets import FusionDecoder, MaskedTokenPredictor, PixelFusion
from tokcom.schemes.tvc.streams import (
    ContinuousCode,
    ContinuousStream,
    DiscreteStream,
    pack_raw_indices,
    unpack_raw_indices,
    upsample_to,
)
from tokcom.tokenizers.nets import CausalVideoAE, CVNet, DVNet, fold_time, unfold_time
from tokcom.tokenizers.weights_io import WEIGHTS_DIR as TOKENIZER_WEIGHTS_DIR
from tokcom.tokenizers.weights_io import load_tensors
from tokcom.video.transform import to_unit

# The frozen tokenizers' submodules and the tokenizer weights they come from (§3.5 stage 1). An exported TVC
# model stores everything else and pins these by sha256 (they ship once, as tokenizers).
TOKENIZERS = {"dv": "tokcom-dv8x16x16", "cv": "tokcom-cv8x16x16"}


#: Pixels the tokenizers' encoders take and the receiver's fusion decoder produces at a time (latent frames
#: per chunk; the tokenizers' own streaming uses the same size, ``tokcom.tokenizers.base``).
CHUNK_PIXELS = 1 << 22


def _downsample(x: torch.Tensor, s: int, dtype: torch.dtype) -> torch.Tensor:
    """``[B, 3, T, H, W]`` (float, or uint8 converted 8 frames at a time) → 2D ``s × s`` average pooled, float."""
    if x.dtype != torch.uint8:
        return F.avg_pool3d(x, (1, s, s)) if s > 1 else x
    parts = [to_unit(x[:, :, a:a + 8], dtype) for a in range(0, x.shape[2], 8)]
    return torch.cat([F.avg_pool3d(p, (1, s, s)) if s > 1 else p for p in parts], dim=2)


def without_tokenizers(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A TVC state dict less the frozen tokenizers (``dv.*``, ``cv.*``)."""
    return {k: v for k, v in state.items() if k.split(".", 1)[0] not in TOKENIZERS}


def load_pinned_tokenizers(model: TvcModel, pins: dict[str, str], directories: list[Path]) -> None:
    """Load the tokenizers an export pins (``{weights name: sha256}``) from the first of ``directories`` that
    holds each (e.g. the export's own folder, then the shipped tokenizer weights); one-line
    :class:`WeightsUnavailable` when one is missing or is not the file the model was trained with."""
    states = {}
    for attr, name in TOKENIZERS.items():
        want = pins.get(name)
        if not want:
            raise WeightsUnavailable(f"tvc weights pin no {name} tokenizer")
        found = [d for d in [*directories, TOKENIZER_WEIGHTS_DIR] if (Path(d) / f"{name}.safetensors").is_file()]
        if not found:
            raise WeightsUnavailable(f"tvc weights need the {name} tokenizer (sha256 {want[:12]}…); not found in "
                                     f"{', '.join(str(d) for d in directories)} nor the shipped tokenizers")
        sd, cfg = load_tensors(name, found[0])
        if cfg.get("sha256") != want:
            raise WeightsUnavailable(f"tvc weights were trained with {name} sha256 {want[:12]}…; "
                                     f"{found[0]} holds {str(cfg.get('sha256'))[:12]}…")
        states[attr] = sd
    model.load_tokenizers(states["dv"], states["cv"])


def load_tvc_state(model: TvcModel, state: dict[str, torch.Tensor]) -> None:
    """Load an export's state (tokenizers excluded or included); raises RuntimeError when it does not fit."""
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if k.split(".", 1)[0] not in TOKENIZERS]
    if missing or unexpected:
        raise RuntimeError(f"missing {missing[:3]}, unexpected {unexpected[:3]}")


def _half(levels, ndim: int, device=None) -> torch.Tensor:
    return torch.tensor([lv // 2 for lv in levels], dtype=torch.float32, device=device).view(1, -1,
                                                                                             *([1] * (ndim - 2)))


def codes_to_levels(codes: torch.Tensor, levels) -> torch.Tensor:
    """FSQ code values ``[B, D, …]`` in [-1, 1] → level indices int64 (``tokcom.tokenizers.fsq`` convention)."""
    h = _half(levels, codes.ndim, codes.device)
    k = torch.round(codes.detach().float() * h + h).to(torch.int64)
    return torch.minimum(k.clamp_min(0), torch.tensor(levels, device=codes.device).view(h.shape) - 1)


def levels_to_codes(k: torch.Tensor, levels) -> torch.Tensor:
    """Level indices ``[B, D, …]`` → FSQ code values float32."""
    h = _half(levels, k.ndim, k.device)
    return (k.float() - h) / h


def levels_to_indices(k: torch.Tensor, levels) -> torch.Tensor:
    """Level indices ``[B, D, …]`` → token indices ``[B, …]`` (mixed radix, first dimension least significant)."""
    basis = [1]
    for v in levels[:-1]:
        basis.append(basis[-1] * v)
    return (k * torch.tensor(basis, device=k.device).view(1, -1, *([1] * (k.ndim - 2)))).sum(1)


def indices_to_levels(idx: torch.Tensor, levels) -> torch.Tensor:
    basis = [1]
    for v in levels[:-1]:
        basis.append(basis[-1] * v)
    return torch.stack([(idx // b) % lv for b, lv in zip(basis, levels)], 1)


@dataclass(frozen=True)
class GopCode:
    """One GoP as the transmitter codes it.

    Attributes:
        grid: ``(t, h, w)`` discrete token grid; c_grid: ``(hc, wc)`` of ŷ^C.
        continuous: the continuous stream (bytes and ŷ^C).
        d_bytes: the discrete stream (CCM-coded level indices, or raw indices with ``code_map=False``).
        visible: ``[t, h, w]`` bool, the fixed mask.
        d_bits_estimate: the categorical model's ``−Σ log2 p`` of the visible codes (None for raw indices).
    """

    grid: tuple[int, int, int]
    c_grid: tuple[int, int]
    continuous: ContinuousCode
    d_bytes: bytes
    visible: np.ndarray
    d_bits_estimate: float | None


class TvcModel(nn.Module):
    """Everything TVC learns or freezes; see the module docstring.

    Args:
        arch: the sizes.
        cross_attention, spatiotemporal, fusion: the Fig. 6 ablations (False turns a part off).
    """

    def __init__(self, arch: TvcArch, cross_attention: bool = True, spatiotemporal: bool = True,
                 fusion: bool = True, cosmos: tuple[Any, Any] | None = None) -> None:
        super().__init__()
        a = arch
        self.arch = a
        self.cstream = ContinuousStream(a.latent_channels, a.hyper_channels, a.hyper_hidden)
        self.dstream = DiscreteStream(a.levels, a.latent_channels, a.ccm_hidden)
        self.predictor = MaskedTokenPredictor(a.levels, a.latent_channels, a.d_model, a.heads, a.depth, a.mlp_ratio,
                                              a.proj_width, a.head, a.max_latent_frames, a.max_grid,
                                              cross_attention, spatiotemporal)
        control = CausalVideoAE(a.temporal_factor, a.spatial_factor, a.tokenizer_width, a.latent_channels,
                                encoder=False)
        self.cosmos = None
        if a.tokenizers == "cosmos":  # frozen TorchScript tokenizers: a pixel-level control branch (deviations.md)
            if cosmos is None:
                raise InputError("tvc with tokenizers=cosmos needs the loaded cosmos-dv8x16x16 and "
                                 "cosmos-cv8x16x16 tokenizers")
            self.cosmos = tuple(cosmos)
            self.fusion = PixelFusion(self.cosmos[0], control, fusion)
            return
        self.dv = DVNet(a.temporal_factor, a.spatial_factor, a.tokenizer_width, a.levels)
        self.cv = CVNet(a.temporal_factor, a.spatial_factor, a.tokenizer_width, a.latent_channels)
        main = CausalVideoAE(a.temporal_factor, a.spatial_factor, a.tokenizer_width, len(a.levels), encoder=False)
        self.fusion = FusionDecoder(main, control, fusion)
        self.sync_decoders()

    def sync_decoders(self) -> None:
        """Initialise the fusion decoder from the tokenizers: the main path from the DV decoder, the control
        branch from the CV decoder (ControlNet's trainable copy). Nothing to do with Cosmos tokenizers."""
        if self.cosmos is not None:
            return
        for src, dst in ((self.dv, self.fusion.main), (self.cv, self.fusion.control)):
            dst.load_state_dict({k: v for k, v in src.state_dict().items() if k.startswith("d_")})

    def load_tokenizers(self, dv_state: dict | None = None, cv_state: dict | None = None) -> None:
        """Load trained tokenizer nets (state dicts of ``DVNet`` / ``CVNet``) and re-initialise the decoders."""
        if self.cosmos is not None:
            raise InputError("tvc with Cosmos tokenizers takes no tokcom tokenizer weights")
        if dv_state is not None:
            self.dv.load_state_dict(dv_state)
        if cv_state is not None:
            self.cv.load_state_dict(cv_state)
        self.sync_decoders()

    def tokenizer_parameters(self) -> list[nn.Parameter]:
        """The frozen tokenizers' parameters (none for Cosmos' TorchScript modules, which are not part of the
        model)."""
        return [] if self.cosmos is not None else [*self.dv.parameters(), *self.cv.parameters()]

    def decode_pixels(self, levels_k: torch.Tensor, y_c_up: torch.Tensor | None, chunk_pixels: int = 0
                      ) -> torch.Tensor:
        """The fusion decoder (§3.4) on complete level indices ``[B, D, t, h, w]`` and ↑ŷ^C (``chunk_pixels``:
        see :meth:`FusionDecoder.chunks`; 0 decodes every latent frame at once, as training does)."""
        return self.fusion(self._fusion_input(levels_k), y_c_up, chunk_pixels)

    def _fusion_input(self, levels_k: torch.Tensor) -> torch.Tensor:
        if self.cosmos is not None:
            return levels_to_indices(levels_k, self.arch.levels)
        return levels_to_codes(levels_k, self.arch.levels)

    # -- tokenizers (frozen; §3.5 stage 1) -------------------------------------------------------------
    @torch.no_grad()
    def tokenize(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``[B, 3, 1+8k, H, W]`` (H, W multiples of :attr:`TvcArch.pad_multiple`) →
        ``(level indices [B, D, t, h, w] int64, y^C [B, C, t, h/s, w/s] float32)``.

        ``x`` is float in [-1, 1], or uint8 (0…255): then the built-in tokenizers convert it a few latent
        frames at a time (:data:`CHUNK_PIXELS`), so a 1080p GoP never exists in float as a whole."""
        s = self.arch.downsample
        if self.cosmos is not None:
            x = to_unit(x, self.predictor.head.weight.dtype)
            xd = F.avg_pool3d(x, (1, s, s)) if s > 1 else x  # §3.2.1: the GoP spatially downsampled
            idx, _ = self.cosmos[0].encode(x)
            dev = self.predictor.head.weight.device
            return indices_to_levels(idx.to(dev), self.arch.levels), self.cosmos[1].encode(xd).float().to(dev)
        dtype = next(self.dv.parameters()).dtype
        xd = _downsample(x, s, dtype)  # §3.2.1: the GoP spatially downsampled
        codes, _ = self.dv.quantize(self.dv.encode_latent(x, CHUNK_PIXELS))
        return codes_to_levels(codes, self.arch.levels), self.cv.encode_latent(xd, CHUNK_PIXELS).float()

    # -- one GoP ---------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode_gop(self, x: torch.Tensor, step: float, n_visible: int, interval: int,
                   code_map: bool = True) -> GopCode:
        """Code one GoP ``[1, 3, 1+8k, H, W]`` (padded) into both streams."""
        k, y_c = self.tokenize(x)
        return self.code_tokens(k, y_c, step, n_visible, interval, code_map)

    @torch.no_grad()
    def code_tokens(self, k: torch.Tensor, y_c: torch.Tensor, step: float, n_visible: int, interval: int,
                    code_map: bool = True) -> GopCode:
        """Both streams of one tokenized GoP (``k`` ``[1, D, t, h, w]``, ``y_c`` ``[1, C, t, hc, wc]``) at the
        operating point (Δ, n_visible / interval): rate control codes one tokenization at several points."""
        t, h, w = k.shape[2:]
        cc = self.cstream.compress(fold_time(y_c), step)  # §3.2.1
        y_up = upsample_to(cc.y_hat, (h, w))
        vis = fixed_mask((t, h, w), n_visible, interval)  # eq. (1)
        vis_t = torch.from_numpy(vis)
        kf = fold_time(k).cpu()
        if not vis.any():  # mask rate 1: no discrete stream (every token predicted from ŷ^C)
            d, est = b"", 0.0
        elif code_map:  # §3.2.2: the FSQ code map, visible tokens only, lossless
            d = self.dstream.compress(kf, y_up, vis_t)
            est = self.dstream.estimate_bits(kf, y_up, vis_t)
        else:  # Fig. 6 ablation: raw indices
            d = pack_raw_indices(levels_to_indices(k, self.arch.levels)[0].cpu().numpy(), vis)
            est = None
        return GopCode((t, h, w), tuple(y_c.shape[-2:]), cc, d, vis, est)

    def decode_continuous(self, z_bytes: bytes, y_bytes: bytes, grid: tuple[int, int, int], step: float
                          ) -> tuple[torch.Tensor, bool]:
        """ŷ^C ``[t, C, hc, wc]`` and ok, for a GoP whose token grid is ``grid``; never raises on damage."""
        t, h, w = grid
        s = self.arch.downsample
        return self.cstream.decompress(z_bytes, y_bytes, (t, self.arch.latent_channels, h // s, w // s), step)

    def decode_discrete(self, data: bytes, y_c: torch.Tensor, visible: np.ndarray, raw: bool
                        ) -> tuple[torch.Tensor, bool]:
        """Visible level indices ``[t, D, h, w]`` (0 where masked) and ok; never raises on damage."""
        _, h, w = visible.shape
        if raw:
            idx, ok = unpack_raw_indices(data, visible, self.arch.codebook_size)  # [t, h, w]
            return indices_to_levels(torch.from_numpy(idx), self.arch.levels), ok  # [t, D, h, w]
        return self.dstream.decompress(data, upsample_to(y_c, (h, w)), torch.from_numpy(visible))

    @torch.no_grad()
    def reconstruct(self, y_c: torch.Tensor, levels_k: torch.Tensor, visible: np.ndarray, steps: int,
                    device: str | torch.device = "cpu") -> torch.Tensor:
        """The receiver's pixels: masked tokens predicted (eq. 2), both streams fused (§3.4).

        Args:
            y_c: ŷ^C ``[t, C, hc, wc]``; levels_k: ``[t, D, h, w]`` (visible positions valid);
            visible: ``[t, h, w]`` bool.

        Returns:
            ``[1, 3, 1+(t−1)·8, 16h, 16w]`` float in [-1, 1] (:meth:`reconstruct_chunks` joined).
        """
        return torch.cat([x for _, x in self.reconstruct_chunks(y_c, levels_k, visible, steps, device)], dim=2)

    @torch.no_grad()
    def reconstruct_chunks(self, y_c: torch.Tensor, levels_k: torch.Tensor, visible: np.ndarray, steps: int,
                           device: str | torch.device = "cpu", chunk_pixels: int = CHUNK_PIXELS):
        """:meth:`reconstruct` a few latent frames at a time (bounded memory at 1080p): yields ``(first frame,
        [1, 3, n, 16h, 16w] float in [-1, 1])`` in frame order."""
        _, h, w = visible.shape
        yc = unfold_time(y_c.to(device), 1)
        y_up = upsample_to(y_c.to(device), (h, w))
        yu = unfold_time(y_up, 1)
        k = unfold_time(levels_k.to(device), 1)
        vis = torch.from_numpy(np.ascontiguousarray(visible))[None].to(device)
        full = self.predictor.predict(k, vis, yu, yc, steps)
        for f0, x in self.fusion.chunks(self._fusion_input(full), yu, chunk_pixels):
            yield f0, x.clamp_(-1, 1)
            del x
