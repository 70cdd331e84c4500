"""tokcom's own PyTorch networks for the learned metrics (imported lazily: this module imports torch).

* :class:`AlexFeatures`, :class:`VGG16Features`: the ImageNet feature stacks LPIPS and DISTS tap, laid out
  like torchvision's ``alexnet().features`` / ``vgg16().features`` (Krizhevsky 2014 "one weird trick" AlexNet:
  64-192-384-256-256; Simonyan & Zisserman 2015 VGG16 configuration D).
* :class:`LPIPSNet`: LPIPS v0.1 (Zhang et al., CVPR 2018, "The Unreasonable Effectiveness of Deep Features
  as a Perceptual Metric", eqs. 1): channel-unit-normalised activations, squared difference, learned 1×1
  weighting per layer, spatial mean, sum over layers.
* :class:`DISTSNet`: DISTS (Ding et al., TPAMI 2020, "Image Quality Assessment: Unifying Structure and
  Texture Similarity", eqs. 5–8): VGG16 with max pooling replaced by L2 pooling (Hanning window), texture
  (mean) and structure (correlation) similarity per channel weighted by α, β.
* :class:`I3D`: the Inception-3D Kinetics-400 classifier (Carreira & Zisserman, CVPR 2017) with TF "SAME"
  padding reproduced exactly (asymmetric), BatchNorm folded into the convolutions by the converter.

Written from the papers and the published layer shapes; weights come from :mod:`tokcom.models`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# --------------------------------------------------------------------------------------------- 2D backbones
_ALEX = ((3, 64, 11, 4, 2), (64, 192, 5, 1, 2), (192, 384, 3, 1, 1), (384, 256, 3, 1, 1), (256, 256, 3, 1, 1))
_VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
_VGG_TAPS = (2, 4, 7, 10, 13)  # relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 (1-based conv index)


class AlexFeatures(nn.Module):
    """AlexNet conv1–conv5; returns the five ReLU outputs (relu1 … relu5).

    Input ``[B, 3, H, W]`` float32 (already normalised); outputs ``[B, C_k, H_k, W_k]`` with
    C = 64, 192, 384, 256, 256.
    """

    channels = (64, 192, 384, 256, 256)

    def __init__(self) -> None:
        super().__init__()
        for i, (cin, cout, k, s, p) in enumerate(_ALEX):
            self.add_module(f"conv{i + 1}", nn.Conv2d(cin, cout, k, stride=s, padding=p))

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for i in range(5):
            x = F.relu(getattr(self, f"conv{i + 1}")(x))
            outs.append(x)
            if i < 2:
                x = F.max_pool2d(x, 3, 2)
        return outs


class L2Pool(nn.Module):
    """DISTS L2 pooling: ``sqrt(g * x² + 1e-12)`` with a normalised 3×3 Hanning window, stride 2, pad 1.

    The window is the outer product of ``hanning(5)[1:-1] = [0.5, 1, 0.5]`` divided by its sum (DISTS §3.1,
    "l2pooling ... to avoid aliasing").
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        a = np.hanning(5)[1:-1]
        g = torch.tensor(np.outer(a, a) / np.outer(a, a).sum(), dtype=torch.float32)
        self.register_buffer("filter", g[None, None].repeat(channels, 1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(x * x, self.filter, stride=2, padding=1, groups=x.shape[1])
        return torch.sqrt(out + 1e-12)


class VGG16Features(nn.Module):
    """VGG16 conv1_1 … conv5_3; returns relu1_2, relu2_2, relu3_3, relu4_3, relu5_3.

    Args:
        pool: ``"max"`` (2×2/2 max pooling, LPIPS) or ``"l2"`` (DISTS L2 pooling).
    """

    channels = (64, 128, 256, 512, 512)

    def __init__(self, pool: str = "max") -> None:
        super().__init__()
        cin, n = 3, 0
        self.pool_kind = pool
        self._plan: list[object] = []
        for v in _VGG16:
            if v == "M":
                if pool == "l2":
                    self.add_module(f"l2pool{len([p for p in self._plan if isinstance(p, str)]) + 1}",
                                    L2Pool(cin))
                self._plan.append("M")
            else:
                n += 1
                self.add_module(f"conv{n}", nn.Conv2d(cin, int(v), 3, padding=1))
                self._plan.append(n)
                cin = int(v)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        pools = 0
        for step in self._plan:
            if step == "M":
                pools += 1
                x = getattr(self, f"l2pool{pools}")(x) if self.pool_kind == "l2" else F.max_pool2d(x, 2, 2)
            else:
                x = F.relu(getattr(self, f"conv{step}")(x))
                if step in _VGG_TAPS:
                    outs.append(x)
        return outs


# --------------------------------------------------------------------------------------------- LPIPS
class LPIPSNet(nn.Module):
    """LPIPS v0.1 distance.

    ``d(x, y) = Σ_l mean_{h,w} Σ_c w_{l,c} (x̂_l − ŷ_l)²`` with ``x̂_l`` the layer-l activation divided by its
    channel L2 norm (+1e-10) — LPIPS paper eq. 1.

    Input: two ``[B, 3, H, W]`` float32 in [-1, 1]; output ``[B]`` float32.
    """

    # LPIPS' ScalingLayer constants: map [-1, 1] inputs to ImageNet-normalised ones.
    shift = (-0.030, -0.088, -0.188)
    scale = (0.458, 0.448, 0.450)

    def __init__(self, net: str) -> None:
        super().__init__()
        self.net = AlexFeatures() if net == "alex" else VGG16Features("max")
        for i, c in enumerate(self.net.channels):
            self.add_module(f"lin{i}", nn.Conv2d(c, 1, 1, bias=False))
        self.register_buffer("_shift", torch.tensor(self.shift).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("_scale", torch.tensor(self.scale).view(1, 3, 1, 1), persistent=False)

    def load_flat(self, sd: dict[str, torch.Tensor]) -> None:
        """Load ``conv*``/``lin*`` tensors as produced by :mod:`tokcom.models.catalog`."""
        self.net.load_state_dict({k: v for k, v in sd.items() if k.startswith("conv")}, strict=True)
        self.load_state_dict({k: v for k, v in sd.items() if k.startswith("lin")}, strict=False)
        missing = [f"lin{i}.weight" for i in range(5) if f"lin{i}.weight" not in sd]
        if missing:
            raise KeyError(f"weights lack {missing}")

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The unit-normalised layer activations x̂_l of ``[B, 3, H, W]`` inputs (what :meth:`forward` compares;
        a reference's can be computed once and reused: :meth:`distance`)."""
        return [a / (torch.sqrt((a * a).sum(1, keepdim=True)) + 1e-10)
                for a in self.net((x - self._shift) / self._scale)]

    def distance(self, fx: list[torch.Tensor], y: torch.Tensor) -> torch.Tensor:
        """d(x, y) from the reference's :meth:`features` ``fx`` and the other input ``y``: ``[B]``."""
        total = torch.zeros(y.shape[0], dtype=y.dtype, device=y.device)
        for i, (a, b) in enumerate(zip(fx, self.features(y))):
            d = getattr(self, f"lin{i}")((a - b) ** 2)  # [B, 1, h, w]
            total = total + d.mean(dim=(1, 2, 3))
        return total

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.distance(self.features(x), y)

    def forward_map(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Spatial LPIPS map ``[B, 1, H, W]``: each layer's map bilinearly upsampled to the input, summed.

        Its spatial mean approximates (not equals) :meth:`forward`; used for the ROI variants.
        """
        fx = self.net((x - self._shift) / self._scale)
        fy = self.net((y - self._shift) / self._scale)
        total = torch.zeros(x.shape[0], 1, x.shape[2], x.shape[3], dtype=x.dtype, device=x.device)
        for i, (a, b) in enumerate(zip(fx, fy)):
            a = a / (torch.sqrt((a * a).sum(1, keepdim=True)) + 1e-10)
            b = b / (torch.sqrt((b * b).sum(1, keepdim=True)) + 1e-10)
            d = getattr(self, f"lin{i}")((a - b) ** 2)
            total = total + F.interpolate(d, size=x.shape[2:], mode="bilinear", align_corners=False)
        return total


# --------------------------------------------------------------------------------------------- DISTS
class DISTSNet(nn.Module):
    """DISTS distance: ``1 − Σ_l Σ_c (α_lc·s_texture + β_lc·s_structure)`` with α, β normalised to sum 1.

    Stages include the input image itself (3 channels), so there are 3+64+128+256+512+512 = 1475 weights.
    ``s_texture = (2 μx μy + c1)/(μx² + μy² + c1)``, ``s_structure = (2 σxy + c2)/(σx² + σy² + c2)``,
    c1 = c2 = 1e-6, statistics over the whole feature map (DISTS eqs. 6–8).

    Input: two ``[B, 3, H, W]`` float32 in [0, 1]; output ``[B]`` float32.
    """

    chns = (3, 64, 128, 256, 512, 512)
    mean = (0.485, 0.456, 0.406)  # ImageNet normalisation of torchvision's VGG16
    std = (0.229, 0.224, 0.225)

    def __init__(self) -> None:
        super().__init__()
        self.net = VGG16Features("l2")
        self.alpha = nn.Parameter(torch.zeros(sum(self.chns)), requires_grad=False)
        self.beta = nn.Parameter(torch.zeros(sum(self.chns)), requires_grad=False)
        self.register_buffer("_mean", torch.tensor(self.mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("_std", torch.tensor(self.std).view(1, 3, 1, 1), persistent=False)

    def load_flat(self, sd: dict[str, torch.Tensor]) -> None:
        self.net.load_state_dict({k: v for k, v in sd.items() if k.startswith("conv")}, strict=False)
        self.alpha.data.copy_(sd["alpha"].reshape(-1))
        self.beta.data.copy_(sd["beta"].reshape(-1))
        convs = [k for k in sd if k.startswith("conv")]
        if len(convs) != 26:
            raise KeyError("DISTS weights need 13 VGG16 convolutions")

    def _feats(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [x] + self.net((x - self._mean) / self._std)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        fx, fy = self._feats(x), self._feats(y)
        w_sum = self.alpha.sum() + self.beta.sum()
        alphas = torch.split(self.alpha / w_sum, list(self.chns))
        betas = torch.split(self.beta / w_sum, list(self.chns))
        c1 = c2 = 1e-6
        sim = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for a, b, al, be in zip(fx, fy, alphas, betas):
            mx, my = a.mean((2, 3)), b.mean((2, 3))  # [B, C]
            vx = ((a - mx[..., None, None]) ** 2).mean((2, 3))
            vy = ((b - my[..., None, None]) ** 2).mean((2, 3))
            cxy = (a * b).mean((2, 3)) - mx * my
            s1 = (2 * mx * my + c1) / (mx * mx + my * my + c1)
            s2 = (2 * cxy + c2) / (vx + vy + c2)
            sim = sim + (s1 * al).sum(1) + (s2 * be).sum(1)
        return 1.0 - sim


# --------------------------------------------------------------------------------------------- I3D
def _same_pads(size: int, k: int, s: int) -> tuple[int, int]:
    """TF "SAME" padding (before, after) for one dimension: total = max(k − s, 0) if size % s == 0 else
    max(k − size % s, 0); the extra sample goes after (TensorFlow's convention)."""
    total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, k: Sequence[int], s: Sequence[int], value: float = 0.0) -> torch.Tensor:
    pads: list[int] = []
    for dim, kk, ss in zip(reversed(x.shape[2:]), reversed(list(k)), reversed(list(s))):
        pads.extend(_same_pads(int(dim), kk, ss))
    if not any(pads):
        return x
    return F.pad(x, pads, value=value)


class _Unit3D(nn.Module):
    """Conv3d (BatchNorm folded in) + ReLU, TF SAME padding."""

    def __init__(self, cin: int, cout: int, k: Iterable[int] = (1, 1, 1), s: Iterable[int] = (1, 1, 1),
                 relu: bool = True) -> None:
        super().__init__()
        self.k, self.s, self.relu = tuple(k), tuple(s), relu
        self.conv = nn.Conv3d(cin, cout, self.k, stride=self.s)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(_pad_same(x, self.k, self.s))
        return F.relu(x) if self.relu else x


def _max_pool_same(x: torch.Tensor, k: tuple[int, int, int], s: tuple[int, int, int]) -> torch.Tensor:
    return F.max_pool3d(_pad_same(x, k, s, value=-math.inf), k, s)


class _Mixed(nn.Module):
    def __init__(self, cin: int, c: Sequence[int]) -> None:
        super().__init__()
        self.b0 = _Unit3D(cin, c[0])
        self.b1a, self.b1b = _Unit3D(cin, c[1]), _Unit3D(c[1], c[2], (3, 3, 3))
        self.b2a, self.b2b = _Unit3D(cin, c[3]), _Unit3D(c[3], c[4], (3, 3, 3))
        self.b3 = _Unit3D(cin, c[5])
        self.out_channels = c[0] + c[2] + c[4] + c[5]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([
            self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)),
            self.b3(_max_pool_same(x, (3, 3, 3), (1, 1, 1))),
        ], dim=1)


_MIXED = {
    "Mixed_3b": (64, 96, 128, 16, 32, 32), "Mixed_3c": (128, 128, 192, 32, 96, 64),
    "Mixed_4b": (192, 96, 208, 16, 48, 64), "Mixed_4c": (160, 112, 224, 24, 64, 64),
    "Mixed_4d": (128, 128, 256, 24, 64, 64), "Mixed_4e": (112, 144, 288, 32, 64, 64),
    "Mixed_4f": (256, 160, 320, 32, 128, 128), "Mixed_5b": (256, 160, 320, 32, 128, 128),
    "Mixed_5c": (384, 192, 384, 48, 128, 128),
}
_BRANCH_SCOPES = {
    "b0": "Branch_0.Conv3d_0a_1x1", "b1a": "Branch_1.Conv3d_0a_1x1", "b1b": "Branch_1.Conv3d_0b_3x3",
    "b2a": "Branch_2.Conv3d_0a_1x1", "b2b": "Branch_2.Conv3d_0b_3x3", "b3": "Branch_3.Conv3d_0b_1x1",
}


class I3D(nn.Module):
    """Inception-3D (Kinetics-400, RGB stream) up to the averaged logits.

    Input ``[B, 3, T, 224, 224]`` float32 in [-1, 1] (T ≥ 9; the FVD protocol uses T = 16). Output
    ``[B, 400]`` float32: the logits averaged over the remaining time steps (``Logits`` end point of
    kinetics-i3d ``i3d.py``, the FVD feature).
    """

    def __init__(self, num_classes: int = 400) -> None:
        super().__init__()
        self.conv1a = _Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
        self.conv2b = _Unit3D(64, 64)
        self.conv2c = _Unit3D(64, 192, (3, 3, 3))
        cin = 192
        self.mixed = nn.ModuleDict()
        for name, c in _MIXED.items():
            self.mixed[name] = _Mixed(cin, c)
            cin = self.mixed[name].out_channels
        self.logits = nn.Conv3d(cin, num_classes, 1)

    def load_flat(self, sd: dict[str, torch.Tensor]) -> None:
        """Load tensors named by Sonnet scope (``Mixed_3b.Branch_0.Conv3d_0a_1x1.weight``)."""
        own: dict[str, torch.Tensor] = {}
        for mine, scope in (("conv1a", "Conv3d_1a_7x7"), ("conv2b", "Conv3d_2b_1x1"),
                            ("conv2c", "Conv3d_2c_3x3")):
            for p in ("weight", "bias"):
                own[f"{mine}.conv.{p}"] = sd[f"{scope}.{p}"]
        for name in _MIXED:
            for mine, scope in _BRANCH_SCOPES.items():
                for p in ("weight", "bias"):
                    own[f"mixed.{name}.{mine}.conv.{p}"] = sd[f"{name}.{scope}.{p}"]
        for p in ("weight", "bias"):
            own[f"logits.{p}"] = sd[f"Logits.Conv3d_0c_1x1.{p}"]
        self.load_state_dict(own, strict=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1a(x)
        x = _max_pool_same(x, (1, 3, 3), (1, 2, 2))
        x = self.conv2c(self.conv2b(x))
        x = _max_pool_same(x, (1, 3, 3), (1, 2, 2))
        x = self.mixed["Mixed_3c"](self.mixed["Mixed_3b"](x))
        x = _max_pool_same(x, (3, 3, 3), (2, 2, 2))
        for n in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
            x = self.mixed[n](x)
        x = _max_pool_same(x, (2, 2, 2), (2, 2, 2))
        x = self.mixed["Mixed_5c"](self.mixed["Mixed_5b"](x))
        x = F.avg_pool3d(x, (2, 7, 7), stride=1)  # VALID
        x = self.logits(x)  # [B, 400, t, 1, 1]
        return x.mean(dim=(2, 3, 4))
