"""Networks of the built-in tokenizers (imported on use; torch at import time).

* :class:`DVNet` — causal video autoencoder with an FSQ bottleneck (``tokcom-dv4x8x8``, ``tokcom-dv8x16x16``);
  :class:`CVNet` — the same encoder/decoder with a continuous 16-channel bottleneck (``tokcom-cv8x16x16``);
  both are :class:`CausalVideoAE`.
  Causality: the clip is padded at the front with ``tf - 1`` copies of frame 0, so latent frame 0 sees frame
  0 only and latent frame ``i ≥ 1`` sees frames ``≤ i·tf``; every temporal convolution is causal
  (replicate-padded on the past side only).

  ::

      x (B,3,1+T,H,W) ─ fold tf frames into channels ─ space-to-depth 4 ─ 1×1 ─ Res2d ─ [stride-2 conv, Res2d]×k
        ─ causal Res3d (3×3×3) ─ 1×1 → 6 ─ FSQ(8,8,8,5,5,5) ─ codes (B,6,t,h,w) / indices (B,t,h,w)
      codes ─ 1×1 ─ causal Res3d ─ Res2d ─ [up×2, conv, Res2d]×k ─ conv → 48·tf ─ depth-to-space 4 ─ unfold
        ─ drop the tf-1 padding frames ─ (B,3,1+T,H,W)

* :class:`ResiNet` — per-frame 2D autoencoder to a ``H/16 × W/16`` grid of FSQ(8,8,8,8) tokens (4096),
  read out in a fixed coarse-to-fine interlaced order (:func:`interlaced_order`) so that nested (tail)
  dropout over the 1D sequence makes the early tokens the important ones; missing tokens (zero-flag) enter
  the decoder as a zero code plus a "missing" mask channel.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from tokcom.tokenizers.fsq import FSQ
from tokcom.video.transform import to_unit


def fold_time(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, t, h, w)`` → ``(B·t, C, h, w)``: latent or video frames as a batch of 2-D maps."""
    b, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(b * t, c, h, w)


def unfold_time(y: torch.Tensor, b: int) -> torch.Tensor:
    """Inverse of :func:`fold_time`: ``(B·t, C, h, w)`` → ``(B, C, t, h, w)``."""
    bt, c, h, w = y.shape
    return y.reshape(b, bt // b, c, h, w).transpose(1, 2)


class CausalConv3d(nn.Module):
    """3D convolution, causal in time (past-side replicate padding), 'same' zero padding in space."""

    def __init__(self, cin: int, cout: int, kernel: tuple[int, int, int] = (3, 3, 3)) -> None:
        super().__init__()
        self.kt = kernel[0]
        self.conv = nn.Conv3d(cin, cout, kernel, padding=(0, kernel[1] // 2, kernel[2] // 2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.kt > 1:
            x = torch.cat([x[:, :, :1].expand(-1, -1, self.kt - 1, -1, -1), x], dim=2)
        return self.conv(x)


class Res2d(nn.Module):
    def __init__(self, c: int, dilation: int = 1) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(c, c, 3, padding=dilation, dilation=dilation)
        self.c2 = nn.Conv2d(c, c, 3, padding=1)
        nn.init.zeros_(self.c2.bias)
        with torch.no_grad():
            self.c2.weight.mul_(0.3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.c2(F.silu(self.c1(F.silu(x))))


class Res3d(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.c1 = CausalConv3d(c, c, (3, 3, 3))
        self.c2 = CausalConv3d(c, c, (1, 3, 3))
        with torch.no_grad():
            self.c2.conv.weight.mul_(0.3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.c2(F.silu(self.c1(F.silu(x))))


class CausalVideoAE(nn.Module):
    """The causal 3D-convolution video autoencoder shared by the DV (FSQ) and CV (continuous) tokenizers:
    everything but the bottleneck. Streaming (``group_frames`` / ``encode_groups`` / ``encode_tail``,
    ``decode_tail`` / ``decode_groups``) works the same for both.

    Args:
        temporal_factor: 4 or 8 (power of two ≥ 1).
        spatial_factor: 8 or 16 (power of two ≥ 4).
        width: channels at H/4; doubled at H/8, ×3 at H/16.
        latent_channels: channels ``D`` of the latent between ``e_out`` and ``d_in``.
    """

    def __init__(self, temporal_factor: int = 4, spatial_factor: int = 8, width: int = 64,
                 latent_channels: int = 6, encoder: bool = True) -> None:
        super().__init__()
        if spatial_factor < 4 or spatial_factor & (spatial_factor - 1):
            raise ValueError("spatial_factor must be a power of two ≥ 4")
        self.tf, self.sf = temporal_factor, spatial_factor
        d = int(latent_channels)
        self.latent_channels = d
        stages = int(math.log2(spatial_factor // 4))
        chans = [width] + [width * min(2 + i, 3) for i in range(stages)]
        self.decoder_channels = tuple(chans[i] for i in reversed(range(stages)))
        """Channels after ``d_res0`` (``chans[-1]``) come first in :meth:`decoder_features`; then these."""
        self.top_channels = chans[-1]
        cin = 3 * temporal_factor * 16
        if encoder:  # encoder=False: a decoder only (TVC's fusion decoder and its control branch)
            self.e_in = nn.Conv2d(cin, chans[0], 1)
            self.e_res0 = Res2d(chans[0])
            self.e_down = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, stride=2, padding=1)
                                        for i in range(stages))
            self.e_res = nn.ModuleList(Res2d(chans[i + 1]) for i in range(stages))
            self.e_t = Res3d(chans[-1])
            self.e_out = nn.Conv2d(chans[-1], d, 1)
        self.d_in = nn.Conv2d(d, chans[-1], 1)
        self.d_t = Res3d(chans[-1])
        self.d_res0 = Res2d(chans[-1])
        self.d_up = nn.ModuleList(nn.Conv2d(chans[i + 1], chans[i], 3, padding=1) for i in reversed(range(stages)))
        self.d_res = nn.ModuleList(Res2d(chans[i]) for i in reversed(range(stages)))
        self.d_out = nn.Conv2d(chans[0], cin, 3, padding=1)

    # ------------------------------------------------------------------ encoder
    def group_frames(self, x: torch.Tensor) -> torch.Tensor:
        """``(B,3,1+k·tf,H,W)`` → the per-latent-frame groups ``(B·n, 3·tf, H, W)``, n = 1+k (frame 0 is
        causally padded with ``tf − 1`` copies of itself)."""
        b, c, t, h, w = x.shape
        tf = self.tf
        if (t - 1) % tf or h % self.sf or w % self.sf:
            raise ValueError(f"DVNet needs 1+k·{tf} frames and H, W multiples of {self.sf}; got {t}×{h}×{w}")
        if tf > 1:
            x = torch.cat([x[:, :, :1].expand(-1, -1, tf - 1, -1, -1), x], dim=2)
        n = x.shape[2] // tf
        return x.reshape(b, c, n, tf, h, w).permute(0, 2, 1, 3, 4, 5).reshape(b * n, c * tf, h, w)

    def encode_groups(self, g: torch.Tensor) -> torch.Tensor:
        """The per-group (2D) part of the encoder: ``(N, 3·tf, H, W)`` → ``(N, C, H/sf, W/sf)``."""
        y = F.pixel_unshuffle(g, 4)
        y = self.e_res0(self.e_in(y))
        for down, res in zip(self.e_down, self.e_res):
            y = res(down(F.silu(y)))
        return y

    def encode_tail(self, y: torch.Tensor) -> torch.Tensor:
        """The temporal (causal) part: ``(B, C, n, h, w)`` 2D features → latent ``(B, D, n, h, w)``. Latent
        frame i depends on features i−2 … i (one causal Res3d with temporal kernel 3)."""
        b = y.shape[0]
        y = self.e_t(y)
        return unfold_time(self.e_out(F.silu(fold_time(y))), b)

    def encode_latent(self, x: torch.Tensor, chunk_pixels: int = 0) -> torch.Tensor:
        """``(B,3,1+k·tf,H,W)`` (H, W multiples of sf) → pre-quantisation latent ``(B,D,1+k,H/sf,W/sf)``.

        ``chunk_pixels`` > 0: the 2D part runs on as many latent frames' groups at a time as keep
        ``tf · H · W`` within that many input pixels, each group cut from ``x`` as it is needed (no padded,
        regrouped copy of the whole clip) — the same latent in bounded memory. ``x`` may be uint8 (0…255):
        it is then converted to [-1, 1] a chunk at a time."""
        b, _, t, h, w = x.shape
        tf = self.tf
        step = max(1, chunk_pixels // max(1, tf * h * w)) if chunk_pixels > 0 else 0
        n = 1 + (t - 1) // tf
        dtype = self.e_in.weight.dtype
        if step == 0 or step >= n:
            return self.encode_tail(unfold_time(self.encode_groups(self.group_frames(to_unit(x, dtype))), b))
        if (t - 1) % tf or h % self.sf or w % self.sf:
            raise ValueError(f"DVNet needs 1+k·{tf} frames and H, W multiples of {self.sf}; got {t}×{h}×{w}")
        feats = []
        for a in range(0, n, step):
            e = min(n, a + step)
            parts = [x[:, :, :1].expand(-1, -1, tf, -1, -1) if i == 0 else x[:, :, 1 + (i - 1) * tf: 1 + i * tf]
                     for i in range(a, e)]  # latent 0: frame 0 causally padded with tf − 1 copies of itself
            g = to_unit(torch.stack(parts, dim=1).reshape(b * (e - a), 3 * tf, h, w), dtype)  # as group_frames
            y = self.encode_groups(g)
            feats.append(y.reshape(b, e - a, *y.shape[1:]))
            del g, parts
        return self.encode_tail(torch.cat(feats, dim=1).transpose(1, 2))

    # ------------------------------------------------------------------ decoder
    def decode_tail(self, codes: torch.Tensor) -> torch.Tensor:
        """The temporal part of the decoder: codes ``(B,D,n,h,w)`` → features ``(B,C,n,h,w)`` (causal: frame i
        depends on codes i−2 … i)."""
        b = codes.shape[0]
        return self.d_t(unfold_time(self.d_in(fold_time(codes)), b))

    def decode_groups(self, y: torch.Tensor, residuals: Sequence[torch.Tensor] | None = None) -> torch.Tensor:
        """The per-latent (2D) part: features ``(B,C,n,h,w)`` → all ``tf`` frames of each latent frame
        ``(B,3,n·tf,h·sf,w·sf)`` (the first latent's ``tf − 1`` padding frames included).

        ``residuals`` (TVC's ControlNet-style fusion, 003 §3.4): tensors added after ``d_res0`` and after each
        upsampling stage, shaped as :meth:`decoder_features` returns them."""
        b, _, n = y.shape[:3]
        y = self.d_res0(fold_time(y))
        if residuals is not None:
            y = y + residuals[0]
        for i, (up, res) in enumerate(zip(self.d_up, self.d_res)):
            y = res(up(F.interpolate(F.silu(y), scale_factor=2.0, mode="nearest")))
            if residuals is not None:
                y = y + residuals[i + 1]
        y = F.pixel_shuffle(self.d_out(F.silu(y)), 4)  # (b·n, 3·tf, H, W)
        tf = self.tf
        h, w = y.shape[-2:]
        return y.reshape(b, n, 3, tf, h, w).permute(0, 2, 1, 3, 4, 5).reshape(b, 3, n * tf, h, w)

    def decoder_features(self, y: torch.Tensor) -> list[torch.Tensor]:
        """The decoder's intermediate features for features ``(B,C,n,h,w)`` (after :meth:`decode_tail`):
        ``[(B·n, top_channels, h, w), (B·n, decoder_channels[0], 2h, 2w), …]`` — after ``d_res0`` and after
        each upsampling stage (what :meth:`decode_groups` accepts as ``residuals``)."""
        out = [self.d_res0(fold_time(y))]
        for up, res in zip(self.d_up, self.d_res):
            out.append(res(up(F.interpolate(F.silu(out[-1]), scale_factor=2.0, mode="nearest"))))
        return out

    def decode_codes(self, codes: torch.Tensor) -> torch.Tensor:
        """``(B,D,t,h,w)`` codes (or continuous latents) → ``(B,3,1+(t-1)·tf,h·sf,w·sf)``."""
        return self.decode_groups(self.decode_tail(codes))[:, :, self.tf - 1:]


class DVNet(CausalVideoAE):
    """Causal 3D-convolution video autoencoder with an FSQ bottleneck (``tokcom-dv*``).

    Args:
        temporal_factor, spatial_factor, width: as :class:`CausalVideoAE`.
        levels: FSQ levels (``D = len(levels)`` latent channels).
    """

    def __init__(self, temporal_factor: int = 4, spatial_factor: int = 8, width: int = 64,
                 levels: Sequence[int] = (8, 8, 8, 5, 5, 5)) -> None:
        fsq = FSQ(levels)
        super().__init__(temporal_factor, spatial_factor, width, fsq.dim)
        self.fsq = fsq

    def quantize(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.fsq(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training pass: ``(reconstruction, indices)``."""
        codes, idx = self.quantize(self.encode_latent(x))
        return self.decode_codes(codes), idx


class CVNet(CausalVideoAE):
    """Causal video autoencoder with a continuous bottleneck (``tokcom-cv8x16x16``; the Cosmos CV
    interface): the DV network's encoder and decoder, ``latent_channels`` (16) unquantised channels
    between them.

    ::

        x (B,3,1+T,H,W) ─ the DVNet encoder ─ 1×1 → 16 ─ latent (B,16,t,h,w) float ─ the DVNet decoder ─ x̂
    """

    def __init__(self, temporal_factor: int = 8, spatial_factor: int = 16, width: int = 64,
                 latent_channels: int = 16) -> None:
        super().__init__(temporal_factor, spatial_factor, width, latent_channels)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Training pass: ``(reconstruction (B,3,1+T,H,W), latent (B,16,t,h,w))``."""
        z = self.encode_latent(x)
        return self.decode_codes(z), z


def interlaced_order(h: int, w: int, levels: int = 3) -> torch.Tensor:
    """Coarse-to-fine scan of an ``h × w`` grid: ``[h·w]`` int64 flat positions.

    Positions on the stride-``2^levels`` lattice come first (raster order), then those new on the
    stride-``2^(levels-1)`` lattice, … down to stride 1 (Adam7-like interlacing). At 16×16 (256 tokens) the
    prefixes 4, 16, 64 are exactly the stride-8, 4, 2 lattices.
    """
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    rank = torch.full((h, w), -1, dtype=torch.int64)
    for lev in range(levels, -1, -1):
        s = 2 ** lev
        on = (ys % s == 0) & (xs % s == 0) & (rank < 0)
        rank[on] = levels - lev
    key = rank.flatten() * (h * w) + torch.arange(h * w)
    return torch.argsort(key)


class ResiNet(nn.Module):
    """Per-frame 2D autoencoder to an ``H/16 × W/16`` grid of FSQ tokens, decodable with missing tokens.

    Args:
        width: channels at H/4 (×1.5 at H/8, ×2 at H/16).
        levels: FSQ levels (default (8,8,8,8): 4096 tokens, 12 bits).
        dec_blocks: residual blocks at the token grid in the decoder (dilated, to fill missing tokens).
    """

    spatial_factor = 16

    def __init__(self, width: int = 64, levels: Sequence[int] = (8, 8, 8, 8), dec_blocks: int = 3) -> None:
        super().__init__()
        self.fsq = FSQ(levels)
        d = self.fsq.dim
        c0, c1, c2 = width, width * 3 // 2, width * 2
        self.e_in = nn.Conv2d(48, c0, 1)
        self.e_res0 = Res2d(c0)
        self.e_d1 = nn.Conv2d(c0, c1, 3, stride=2, padding=1)
        self.e_res1 = Res2d(c1)
        self.e_d2 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.e_res2 = Res2d(c2)
        self.e_out = nn.Conv2d(c2, d, 1)
        self.d_in = nn.Conv2d(d + 1, c2, 1)
        self.d_grid = nn.Sequential(*[Res2d(c2, dilation=(1, 2, 4, 1)[i % 4]) for i in range(dec_blocks)])
        self.d_u1 = nn.Conv2d(c2, c1, 3, padding=1)
        self.d_res1 = Res2d(c1)
        self.d_u2 = nn.Conv2d(c1, c0, 3, padding=1)
        self.d_res2 = Res2d(c0)
        self.d_out = nn.Conv2d(c0, 48, 3, padding=1)

    def encode_latent(self, x: torch.Tensor) -> torch.Tensor:
        """``(N,3,H,W)`` (H, W multiples of 16) → ``(N,D,H/16,W/16)`` pre-quantisation latent."""
        y = self.e_res0(self.e_in(F.pixel_unshuffle(x, 4)))
        y = self.e_res1(self.e_d1(F.silu(y)))
        y = self.e_res2(self.e_d2(F.silu(y)))
        return self.e_out(F.silu(y))

    def decode_grid(self, codes: torch.Tensor, missing: torch.Tensor) -> torch.Tensor:
        """``codes (N,D,h,w)``, ``missing (N,1,h,w)`` in {0,1} → ``(N,3,16h,16w)``."""
        y = self.d_in(torch.cat([codes * (1 - missing), missing], dim=1))
        y = self.d_grid(y)
        y = self.d_res1(self.d_u1(F.interpolate(F.silu(y), scale_factor=2.0, mode="nearest")))
        y = self.d_res2(self.d_u2(F.interpolate(F.silu(y), scale_factor=2.0, mode="nearest")))
        return F.pixel_shuffle(self.d_out(F.silu(y)), 4)
