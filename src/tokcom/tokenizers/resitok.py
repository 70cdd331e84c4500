"""Built-in progressive per-frame tokenizer ``tokcom-resitok`` (ResiTok-style; paper 001 §III-C, §IV-A).

::

    frame (3,H,W) ─ ResiNet encoder ─ (4, H/16, W/16) ─ FSQ(8,8,8,8) ─ 4096-ary token grid
      ─ coarse-to-fine interlaced scan ─ L = (H/16)(W/16) importance-ordered tokens (256 at 256², 12 bits each)
    tokens (zero-flag 4096 where not received) ─ back onto the grid ─ zero code + "missing" mask
      ─ ResiNet decoder (dilated blocks fill the gaps) ─ frame

Importance ordering: trained with nested (tail) dropout — every step also decodes a random prefix with the
rest set to the zero-flag — over a fixed interlaced scan (stride-8 lattice of the grid first, then stride 4,
2, 1), so the first tokens learn to carry the coarse content and quality rises with the prefix length.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F

from tokcom.devices import resolve_device
from tokcom.errors import InputError
from tokcom.tokenizers.base import ProgressiveTokenizer, _check_video
from tokcom.tokenizers.dv import resolve_dtype
from tokcom.tokenizers.nets import ResiNet, interlaced_order
from tokcom.tokenizers.weights_io import load_tensors


class ResiTok(ProgressiveTokenizer):
    """Progressive 1D tokenizer: 4096 tokens (12 bits), zero-flag 4096, L = (H/16)(W/16) per frame."""

    def __init__(self, name: str, net: ResiNet, device: str = "cpu", dtype: str = "fp32",
                 record: dict | None = None) -> None:
        self.name = name
        self.spatial_factor = ResiNet.spatial_factor
        self.codebook_size = net.fsq.codebook_size
        self._device = resolve_device(device)
        self.dtype = resolve_dtype(dtype)
        self.net = net.to(self._device, self.dtype).eval()
        self.record = record or {}

    @classmethod
    def load(cls, name: str = "tokcom-resitok", device: str = "cpu", dtype: str = "fp32",
             path: str | Path | None = None, **_: object) -> ResiTok:
        sd, cfg = load_tensors(name, path)
        a = cfg["arch"]
        net = ResiNet(a["width"], tuple(a["levels"]), a.get("dec_blocks", 3))
        net.load_state_dict(sd)
        return cls(name, net, device, dtype, cfg)

    def order(self, h: int, w: int) -> torch.Tensor:
        """``[h·w]`` int64: grid position of token ``ℓ`` (most important first)."""
        return interlaced_order(h, w)

    def _grid(self, height: int, width: int) -> tuple[int, int]:
        return math.ceil(height / self.spatial_factor), math.ceil(width / self.spatial_factor)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        _check_video(x)
        b, _, t, hh, ww = x.shape
        h, w = self._grid(hh, ww)
        f = x.transpose(1, 2).reshape(b * t, 3, hh, ww)
        f = F.pad(f, (0, w * 16 - ww, 0, h * 16 - hh), mode="replicate") if (h * 16, w * 16) != (hh, ww) else f
        z = self.net.encode_latent(f.to(self._device, self.dtype)).float()
        _, idx = self.net.fsq(z)  # (b·t, h, w)
        seq = idx.reshape(b * t, h * w)[:, self.order(h, w).to(idx.device)]
        return seq.reshape(b, t, h * w)

    @torch.no_grad()
    def decode(self, tokens: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        hh, ww = int(size[0]), int(size[1])
        h, w = self._grid(hh, ww)
        if tokens.ndim != 3 or tokens.shape[-1] != h * w:
            raise InputError(f"resitok tokens must be (B,T,{h * w}) for {ww}x{hh}; got {tuple(tokens.shape)}")
        b, t, L = tokens.shape
        seq = tokens.to(self._device, torch.int64).reshape(b * t, L)
        grid = torch.empty_like(seq)
        grid[:, self.order(h, w).to(seq.device)] = seq
        grid = grid.view(b * t, h, w)
        missing = (grid >= self.codebook_size) | (grid < 0)
        codes = self.net.fsq.indices_to_codes(torch.where(missing, 0, grid))
        y = self.net.decode_grid(codes.to(self.dtype), missing.unsqueeze(1).to(self.dtype)).float()
        y = y[:, :, :hh, :ww].clamp(-1, 1)
        return y.reshape(b, t, 3, hh, ww).transpose(1, 2)
