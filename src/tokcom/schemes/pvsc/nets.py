"""PVSC building blocks (002_165f6aebfafa3581.txt §III-A, Figs. 3–4).

::

    DC block          x + PW(DW3×3(PW(x))), then x + PW(LReLU(PW(x)))      (DCVC-DC/FM/RT "DepthConvBlock")
    ContextExtractor  F_{t−1} (1/8) ─DC─► C_f (1/8) ─unshuffle 2, PW, 3×3─► C_e (1/16)          eqs. (6), (17)
    FeatureExtractor  x ─unshuffle 8─PW─[⊕ C_f, PW]─DC×n─unshuffle 2─PW─► y (C_y, 1/16)       eq. (7)
    HyperEncoder      y ─3×3/2─3×3/2─► z (C_z, 1/64)                                           eq. (8)
    HyperDecoder      ẑ ─3×3, shuffle 2─3×3, shuffle 2─[⊕ C_e]─PW─PW─► (w, μ0, σ0)             eqs. (10), (18)
    Generator         ỹ ─PW, shuffle 2─[⊕ C_f, PW]─DC×n─► F_t ─PW, shuffle 8─► x̂              eq. (21)
    SymbolEncoder     ȳ ⊙ gain[k] ─FC─ + rate emb[k] + pos ─(ViT | contextual ViT)×depth─ FC_k ─► s   eq. (15)
    SymbolDecoder     ŝ ─FC_k─ + rate emb[k] + pos ─(ViT | contextual ViT)×depth─► (ȳ^rx, C_s)     eq. (16)

The ViT blocks attend within windows of ``window × window`` spatial units (128 × 128 pixels at the default
8: the paper pads frames to multiples of 128 for evaluation); the contextual blocks add cross-attention to
the previous decoded state C_{s,t−1} in the same window. The per-rate FC layers and rate embeddings live in
a ``ModuleDict`` keyed by the rate value (``k12``), so rate-set distillation is dropping entries.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tokcom.schemes.pvsc.config import PvscArch, symbols_for


def _pw(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 1)


class DCBlock(nn.Module):
    """Depthwise-convolution block: a residual depth-conv unit and a residual 1×1 feed-forward unit."""

    def __init__(self, channels: int, expansion: int = 2) -> None:
        super().__init__()
        c = int(channels)
        self.dc = nn.Sequential(_pw(c, c), nn.LeakyReLU(0.01), nn.Conv2d(c, c, 3, padding=1, groups=c), _pw(c, c))
        self.ffn = nn.Sequential(_pw(c, expansion * c), nn.LeakyReLU(0.1), _pw(expansion * c, c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.dc(x)
        return x + self.ffn(x)


def _blocks(channels: int, n: int) -> nn.Sequential:
    return nn.Sequential(*[DCBlock(channels) for _ in range(n)])


class ContextExtractor(nn.Module):
    """C_ext: the previous intermediate feature F_{t−1} ``[B, width, H/8, W/8]`` → (C_e ``[B, ctx, H/16, W/16]``,
    C_f ``[B, width, H/8, W/8]``) — eqs. (6), (17)."""

    def __init__(self, arch: PvscArch) -> None:
        super().__init__()
        n, e = arch.width, arch.ctx_channels
        self.f_blocks = _blocks(n, arch.ctx_blocks)
        self.e_down = nn.Sequential(_pw(4 * n, e), nn.LeakyReLU(0.1), nn.Conv2d(e, e, 3, padding=1))

    def forward(self, feat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c_f = self.f_blocks(feat)
        c_e = self.e_down(F.pixel_unshuffle(c_f, 2))
        return c_e, c_f


class FeatureExtractor(nn.Module):
    """F_ext: frame ``[B, 3, H, W]`` (H, W multiples of 16) → y ``[B, C_y, H/16, W/16]``, conditioned on C_f
    when ``temporal`` — eq. (7)."""

    def __init__(self, arch: PvscArch, temporal: bool) -> None:
        super().__init__()
        n = arch.width
        self.stem = _pw(3 * 64, n)
        self.fuse = _pw(2 * n, n) if temporal else None
        self.blocks = _blocks(n, arch.enc_blocks)
        self.down = _pw(4 * n, arch.c_y)
        self.low = _blocks(arch.c_y, arch.low_blocks)

    def forward(self, x: torch.Tensor, c_f: torch.Tensor | None = None) -> torch.Tensor:
        h = self.stem(F.pixel_unshuffle(x, 8))
        if self.fuse is not None:
            h = self.fuse(torch.cat([h, c_f], dim=1))
        h = self.blocks(h)
        return self.low(self.down(F.pixel_unshuffle(h, 2)))


class HyperEncoder(nn.Module):
    """H_enc: y ``[B, C_y, h, w]`` → z ``[B, C_z, h/4, w/4]`` — eq. (8)."""

    def __init__(self, arch: PvscArch) -> None:
        super().__init__()
        m = arch.hyper_width
        self.net = nn.Sequential(nn.Conv2d(arch.c_y, m, 3, 2, 1), nn.LeakyReLU(0.1), nn.Conv2d(m, arch.c_z, 3, 2, 1))

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return self.net(y)


class HyperDecoder(nn.Module):
    """H_dec: (ẑ, C_e) → (w > 0, μ0, σ0 > 0), each ``[B, C_y, h, w]`` — eqs. (10), (18).

    ``w`` is the quantisation step of eq. (12): ``softplus(·) + 0.05``, starting near 1."""

    def __init__(self, arch: PvscArch, temporal: bool) -> None:
        super().__init__()
        m, c = arch.hyper_width, arch.c_y
        self.up = nn.Sequential(nn.Conv2d(arch.c_z, 4 * m, 3, padding=1), nn.PixelShuffle(2), nn.LeakyReLU(0.1),
                                nn.Conv2d(m, 4 * m, 3, padding=1), nn.PixelShuffle(2), nn.LeakyReLU(0.1))
        cin = m + (arch.ctx_channels if temporal else 0)
        self.temporal = temporal
        self.out = nn.Sequential(_pw(cin, 2 * m), nn.LeakyReLU(0.1), _pw(2 * m, 3 * c))
        with torch.no_grad():
            self.out[-1].weight.mul_(0.1)
            self.out[-1].bias.zero_()
            self.out[-1].bias[:c].fill_(math.log(math.expm1(0.95)))  # w ≈ 1
            self.out[-1].bias[2 * c:].fill_(math.log(math.expm1(1.0)))  # σ0 ≈ 1

    def forward(self, z_hat: torch.Tensor, c_e: torch.Tensor | None = None):
        h = self.up(z_hat)
        if self.temporal:
            h = torch.cat([h, c_e], dim=1)
        w_raw, mu0, s_raw = self.out(h).chunk(3, dim=1)
        return F.softplus(w_raw) + 0.05, mu0, F.softplus(s_raw)


class Generator(nn.Module):
    """G: ỹ ``[B, C_y, H/16, W/16]`` (+ C_f) → (x̂ ``[B, 3, H, W]``, F_t ``[B, width, H/8, W/8]``) — eq. (21).

    ``scale_feat`` (a ``[B, width, 1, 1]`` preset vector, q_G^1 of Fig. 3) scales F_t before the output."""

    def __init__(self, arch: PvscArch, temporal: bool) -> None:
        super().__init__()
        n = arch.width
        self.low = _blocks(arch.c_y, arch.low_blocks)
        self.up = _pw(arch.c_y, 4 * n)
        self.fuse = _pw(2 * n, n) if temporal else None
        self.blocks = _blocks(n, arch.dec_blocks)
        self.out = _pw(n, 3 * 64)

    def forward(self, y_tilde: torch.Tensor, c_f: torch.Tensor | None = None,
                scale_feat: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.pixel_shuffle(self.up(self.low(y_tilde)), 2)
        if self.fuse is not None:
            h = self.fuse(torch.cat([h, c_f], dim=1))
        feat = self.blocks(h)
        if scale_feat is not None:
            feat = feat * scale_feat
        return F.pixel_shuffle(self.out(feat), 8), feat


# --------------------------------------------------------------------------------------------- ViT coder
def to_windows(x: torch.Tensor, win: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, tuple[int, ...]]:
    """``[B, H, W, d]`` → (``[B·nW, wh·ww, d]`` windows, key mask ``[B·nW, wh·ww]`` bool (True = a real
    unit), geometry for :func:`from_windows`). The grid is zero-padded to window multiples."""
    b, h, w, d = x.shape
    wh, ww = win
    ph, pw = (-h) % wh, (-w) % ww
    valid = torch.ones(b, h, w, dtype=torch.bool, device=x.device)
    if ph or pw:
        x = F.pad(x, (0, 0, 0, pw, 0, ph))
        valid = F.pad(valid, (0, pw, 0, ph))
    hp, wp = h + ph, w + pw
    xw = x.view(b, hp // wh, wh, wp // ww, ww, d).permute(0, 1, 3, 2, 4, 5).reshape(-1, wh * ww, d)
    vw = valid.view(b, hp // wh, wh, wp // ww, ww).permute(0, 1, 3, 2, 4).reshape(-1, wh * ww)
    return xw, vw, (b, h, w, hp, wp, wh, ww)


def from_windows(xw: torch.Tensor, geom: tuple[int, ...]) -> torch.Tensor:
    b, h, w, hp, wp, wh, ww = geom
    d = xw.shape[-1]
    x = xw.view(b, hp // wh, wp // ww, wh, ww, d).permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, d)
    return x[:, :h, :w]


class Attention(nn.Module):
    """Multi-head attention of queries ``[N, n, d]`` over keys/values ``[N, m, d]`` with a key mask."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.proj = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, ctx: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        n, lq, d = x.shape
        h = self.heads
        q = self.q(x).view(n, lq, h, d // h).transpose(1, 2)
        k, v = self.kv(ctx).view(n, ctx.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=key_mask[:, None, None, :])
        return self.proj(o.transpose(1, 2).reshape(n, lq, d))


class ViTBlock(nn.Module):
    """Pre-norm transformer block; ``contextual`` adds cross-attention to the previous decoded state (§III-A)."""

    def __init__(self, d: int, heads: int, mlp_ratio: float, contextual: bool) -> None:
        super().__init__()
        hidden = round(d * mlp_ratio)
        self.n1, self.attn = nn.LayerNorm(d), Attention(d, heads)
        self.contextual = contextual
        if contextual:
            self.nq, self.nc, self.cross = nn.LayerNorm(d), nn.LayerNorm(d), Attention(d, heads)
        self.n2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d))

    def forward(self, x: torch.Tensor, mask: torch.Tensor, ctx: torch.Tensor | None = None) -> torch.Tensor:
        h = self.n1(x)
        x = x + self.attn(h, h, mask)
        if self.contextual and ctx is not None:
            x = x + self.cross(self.nq(x), self.nc(ctx), mask)
        return x + self.mlp(self.n2(x))


class _Trunk(nn.Module):
    """Position embedding + the block stack over windows; shared by F_tx and F_rx."""

    def __init__(self, arch: PvscArch, temporal: bool) -> None:
        super().__init__()
        d = arch.d_model
        self.window = arch.window
        self.pos = nn.Parameter(torch.randn(arch.window, arch.window, d) * 0.02)
        # the P-frame coder alternates ViT (spatial) and contextual ViT (temporal) blocks; the intra coder has
        # ViT blocks only
        self.blocks = nn.ModuleList([ViTBlock(d, arch.heads, arch.mlp_ratio, temporal and i % 2 == 1)
                                     for i in range(arch.depth)])
        self.norm = nn.LayerNorm(d)

    def forward(self, tokens: torch.Tensor, c_s: torch.Tensor | None) -> torch.Tensor:
        """``tokens`` ``[B, h, w, d]``; ``c_s`` ``[B, h, w, d]`` or None → ``[B, h, w, d]``."""
        _, h, w, _ = tokens.shape
        win = (min(self.window, h), min(self.window, w))
        tokens = tokens + self.pos[: win[0], : win[1]].repeat((h + win[0] - 1) // win[0],
                                                              (w + win[1] - 1) // win[1], 1)[:h, :w]
        xw, mask, geom = to_windows(tokens, win)
        cw = to_windows(c_s, win)[0] if c_s is not None else None
        for blk in self.blocks:
            xw = blk(xw, mask, cw)
        return self.norm(from_windows(xw, geom))


def rate_key(k: int) -> str:
    return f"k{int(k)}"


class TxRateHead(nn.Module):
    """What rate ``k`` selects in F_tx: an embedding, a channel reweighting of ȳ and the FC layer to
    ``2⌈k/2⌉`` real symbol dimensions (None for ``k = 0``)."""

    def __init__(self, k: int, c_y: int, d: int) -> None:
        super().__init__()
        self.k = int(k)
        self.emb = nn.Parameter(torch.randn(d) * 0.02)
        self.gain = nn.Parameter(torch.ones(c_y))
        n = 2 * symbols_for(k)
        self.fc = nn.Linear(d, n) if n else None


class RxRateHead(nn.Module):
    """What rate ``k`` selects in F_rx: an embedding and the FC layer from ``2⌈k/2⌉`` received dimensions."""

    def __init__(self, k: int, d: int) -> None:
        super().__init__()
        self.k = int(k)
        self.emb = nn.Parameter(torch.randn(d) * 0.02)
        n = 2 * symbols_for(k)
        self.fc = nn.Linear(n, d) if n else None


def _lookup(heads: nn.ModuleDict, rates: tuple[int, ...], name: str) -> torch.Tensor:
    return torch.stack([getattr(heads[rate_key(k)], name) for k in rates])


class SymbolEncoder(nn.Module):
    """F_tx of eq. (15): (ȳ ``[B, C_y, h, w]``, rate indices ``[B, h, w]`` into ``rates``, C_{s,t−1}) →
    real symbol dimensions ``[B, h, w, 2·l_max]`` (unit (i, j) uses its first ``2⌈k/2⌉``; the rest are 0)."""

    def __init__(self, arch: PvscArch, temporal: bool, rates: tuple[int, ...]) -> None:
        super().__init__()
        self.c_y, self.d = arch.c_y, arch.d_model
        self.inp = nn.Linear(arch.c_y, arch.d_model)
        self.heads = nn.ModuleDict({rate_key(k): TxRateHead(k, arch.c_y, arch.d_model) for k in rates})
        self.trunk = _Trunk(arch, temporal)

    def forward(self, ybar: torch.Tensor, kidx: torch.Tensor, rates: tuple[int, ...],
                c_s: torch.Tensor | None) -> torch.Tensor:
        y = ybar.permute(0, 2, 3, 1)  # [B, h, w, C_y]
        gain = _lookup(self.heads, rates, "gain")[kidx]  # reweight the features by rate
        emb = _lookup(self.heads, rates, "emb")[kidx]
        tokens = self.trunk(self.inp(y * gain) + emb, c_s)
        lmax = max(symbols_for(k) for k in rates)
        flat = tokens.reshape(-1, self.d)
        ki = kidx.reshape(-1)
        out = flat.new_zeros(flat.shape[0], 2 * lmax)
        for i in torch.unique(ki).tolist():
            head = self.heads[rate_key(rates[i])]
            if head.fc is None:
                continue
            sel = (ki == i).nonzero(as_tuple=True)[0]
            n = head.fc.out_features
            out = out.index_put((sel[:, None], torch.arange(n, device=out.device)[None, :]), head.fc(flat[sel]))
        return out.view(*kidx.shape, 2 * lmax)


class SymbolDecoder(nn.Module):
    """F_rx of eqs. (16)/(22): (received real dimensions ``[B, h, w, 2·l_max]``, rate indices, C_{s,t−1}) →
    (ȳ^rx ``[B, C_y, h, w]``, C_{s,t} ``[B, h, w, d]``)."""

    def __init__(self, arch: PvscArch, temporal: bool, rates: tuple[int, ...]) -> None:
        super().__init__()
        self.c_y, self.d = arch.c_y, arch.d_model
        self.heads = nn.ModuleDict({rate_key(k): RxRateHead(k, arch.d_model) for k in rates})
        self.trunk = _Trunk(arch, temporal)
        self.out = nn.Linear(arch.d_model, arch.c_y)

    def forward(self, sym: torch.Tensor, kidx: torch.Tensor, rates: tuple[int, ...],
                c_s: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        b, h, w, _ = sym.shape
        flat = sym.reshape(b * h * w, -1)
        ki = kidx.reshape(-1)
        tok = _lookup(self.heads, rates, "emb")[ki]
        for i in torch.unique(ki).tolist():
            head = self.heads[rate_key(rates[i])]
            if head.fc is None:
                continue
            sel = (ki == i).nonzero(as_tuple=True)[0]
            tok = tok.index_add(0, sel, head.fc(flat[sel, : head.fc.in_features]))
        state = self.trunk(tok.view(b, h, w, self.d), c_s)
        return self.out(state).permute(0, 3, 1, 2), state
