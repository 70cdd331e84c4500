"""Tiny TorchScript stand-ins with the published Cosmos tokenizer signatures, for tests of code that loads
Cosmos tokenizers (the real weights need the model hub).

DV encoder ``forward(x[B,3,1+T,H,W]) -> (indices[B,t,h,w], codes[B,6,t,h,w])``, DV decoder
``forward(indices) -> video``; CV encoder ``forward(x) -> (latent[B,16,t,h,w],)``, CV decoder
``forward(latent) -> video``. :func:`write_standins` scripts a pair into the folders ``load_tokenizer``
reads (``encoder.jit``, ``decoder.jit``).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


def _pool(x: torch.Tensor, tf: int, sf: int) -> torch.Tensor:
    y = x[:, :, ::tf]
    b, c, t, h, w = y.shape
    return y.reshape(b, c, t, h // sf, sf, w // sf, sf).mean(dim=(4, 6))


class DVEnc(nn.Module):
    def __init__(self, tf: int, sf: int) -> None:
        super().__init__()
        self.tf, self.sf = tf, sf
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = _pool(x * self.scale, self.tf, self.sf)  # (B,3,t,h,w)
        q = torch.round((y.clamp(-1, 1) + 1) * 3.5).to(torch.int64)  # 0..7 per channel
        idx = q[:, 0] + 8 * q[:, 1] + 64 * q[:, 2]
        codes = torch.cat([q.to(x.dtype) / 4 - 1, torch.zeros_like(y)], 1)
        return idx, codes


class DVDec(nn.Module):
    def __init__(self, tf: int, sf: int) -> None:
        super().__init__()
        self.tf, self.sf = tf, sf
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, indices: torch.Tensor) -> torch.Tensor:
        q = torch.stack([indices % 8, (indices // 8) % 8, indices // 64], 1).to(self.scale.dtype)
        y = (q / 3.5 - 1) * self.scale
        y = y.repeat_interleave(self.sf, 3).repeat_interleave(self.sf, 4)
        first = y[:, :, :1]
        rest = y[:, :, 1:].repeat_interleave(self.tf, 2)
        return torch.cat([first, rest], 2)


class CVEnc(nn.Module):
    def __init__(self, tf: int, sf: int) -> None:
        super().__init__()
        self.tf, self.sf = tf, sf
        self.proj = nn.Conv3d(3, 16, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.proj(_pool(x, self.tf, self.sf)),)


class CVDec(nn.Module):
    def __init__(self, tf: int, sf: int) -> None:
        super().__init__()
        self.tf, self.sf = tf, sf
        self.proj = nn.Conv3d(16, 3, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        y = self.proj(z).repeat_interleave(self.sf, 3).repeat_interleave(self.sf, 4)
        return torch.cat([y[:, :, :1], y[:, :, 1:].repeat_interleave(self.tf, 2)], 2)


def script(folder: Path, enc: nn.Module, dec: nn.Module) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    torch.jit.save(torch.jit.script(enc), str(folder / "encoder.jit"))
    torch.jit.save(torch.jit.script(dec), str(folder / "decoder.jit"))
    return folder


def write_standins(folder: str | Path, tok_id: str) -> Path:
    """Script the stand-in of ``tok_id`` (``DV8x16x16``, ``CV4x8x8``, …) into ``folder``; returns it."""
    tf, sf, _ = (int(v) for v in tok_id[2:].lower().split("x"))
    enc, dec = (DVEnc(tf, sf), DVDec(tf, sf)) if tok_id[:2].upper() == "DV" else (CVEnc(tf, sf), CVDec(tf, sf))
    return script(Path(folder), enc, dec)
