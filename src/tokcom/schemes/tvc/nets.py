"""TVC's decoder-side networks (003_299bbe4b0e9ae1eb.txt §3.3, §3.4).

:class:`MaskedTokenPredictor` (§3.3, eq. 2)::

    Q: code map [B, D, t, h, w] (visible: FSQ code values from the index map's implicit codebook;
       masked: initialised from ŷ^C, §3.2.3) ⊕ mask channel
       ─► token projection (the tokenizer encoder's latent-level block re-applied: 1×1, causal Res3d, 1×1)
       ─► + temporal / row / column position embeddings (learnable)
       ─► depth × [spatial self-attention │ temporal self-attention │ cross-attention (K = V = ŷ^C tokens)
                   │ MLP]   (pre-norm residual blocks)
       ─► head: per-dimension logits (Σ levels) or index logits (∏ levels)
    K = V: ŷ^C [B, C, t, hc, wc] ─► linear + its own position embeddings

:class:`FusionDecoder` (§3.4)::

    ŷ^D codes ─► main decoder (the DV tokenizer's pixel decoder):  tail ─⊕─ res0 ─⊕─ up₁ ─⊕─ up₂ ─⊕─ out ─► x̂
                                                                         ↑       ↑        ↑       ↑
                                                                     zero-conv at every scale (init 0)
    ↑ŷ^C ─────► control branch (the CV tokenizer's decoder layers): tail ── res0 ── up₁ ── up₂

At initialisation the zero convolutions make the fusion decoder exactly the discrete-stream decoder
(ControlNet's zero-initialised residual injection).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tokcom.errors import InputError
from tokcom.tokenizers.nets import CausalVideoAE, Res3d, fold_time, unfold_time


def attend(att: nn.MultiheadAttention, q: torch.Tensor, kv: torch.Tensor) -> torch.Tensor:
    """``att(q, kv, kv)`` (batch first, ``[N, n, d]`` over ``[N, m, d]``) with the module's own parameters,
    through ``scaled_dot_product_attention``. In eval mode ``nn.MultiheadAttention`` takes a fast path that
    materialises every ``n × m`` attention matrix — 3.3 GB for the spatial attention of one 17-frame 1080p
    GoP (3 × 8160 tokens, 4 heads) and 4× slower on a CPU than SDPA's flash kernel, which never holds it."""
    n, lq, d = q.shape
    h = att.num_heads
    w, b = att.in_proj_weight, att.in_proj_bias
    qp = F.linear(q, w[:d], None if b is None else b[:d]).view(n, lq, h, d // h).transpose(1, 2)
    kvp = F.linear(kv, w[d:], None if b is None else b[d:]).view(n, kv.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4)
    o = F.scaled_dot_product_attention(qp, kvp[0], kvp[1])
    return att.out_proj(o.transpose(1, 2).reshape(n, lq, d))


class _Block(nn.Module):
    """Spatial self-attention, temporal self-attention, cross-attention to ŷ^C, MLP (pre-norm, residual)."""

    def __init__(self, d: int, heads: int, mlp_ratio: float) -> None:
        super().__init__()
        self.n_s, self.n_t, self.n_x, self.n_m = (nn.LayerNorm(d) for _ in range(4))
        self.att_s = nn.MultiheadAttention(d, heads, batch_first=True)
        self.att_t = nn.MultiheadAttention(d, heads, batch_first=True)
        self.att_x = nn.MultiheadAttention(d, heads, batch_first=True)
        hid = int(d * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(d, hid), nn.GELU(), nn.Linear(hid, d))

    def forward(self, x: torch.Tensor, mem: torch.Tensor | None, temporal: bool) -> torch.Tensor:
        """``x`` ``[B, t, h·w, d]``; ``mem`` ``[B, M, d]`` (ŷ^C tokens) or None."""
        b, t, s, d = x.shape
        q = self.n_s(x).reshape(b * t, s, d)
        x = x + attend(self.att_s, q, q).reshape(b, t, s, d)
        if temporal and t > 1:
            q = self.n_t(x).transpose(1, 2).reshape(b * s, t, d)
            x = x + attend(self.att_t, q, q).reshape(b, s, t, d).transpose(1, 2)
        if mem is not None:
            q = self.n_x(x).reshape(b, t * s, d)
            x = x + attend(self.att_x, q, mem).reshape(b, t, s, d)
        return x + self.mlp(self.n_m(x))


class MaskedTokenPredictor(nn.Module):
    """Decoder-only Transformer predicting masked discrete tokens from the visible ones and ŷ^C (eq. 2).

    Args:
        levels: FSQ levels (``D`` dimensions, ``∏ levels`` token indices).
        c_channels: d_C of ŷ^C.
        d_model, heads, depth, mlp_ratio: Transformer sizes.
        proj_width: width of the token projection's causal block.
        head: ``factorized`` (``Σ levels`` logits) or ``index`` (``∏ levels`` logits).
        max_t, max_grid: position-embedding table sizes (latent frames; rows / columns).
        cross_attention: False = the Fig. 6 ablation without cross-attention to ŷ^C.
        spatiotemporal: False = the Fig. 6 ablation without temporal attention and position embeddings.
    """

    def __init__(self, levels, c_channels: int = 16, d_model: int = 128, heads: int = 4, depth: int = 4,
                 mlp_ratio: float = 4.0, proj_width: int = 64, head: str = "factorized", max_t: int = 32,
                 max_grid: int = 160, cross_attention: bool = True, spatiotemporal: bool = True) -> None:
        super().__init__()
        self.levels = tuple(int(v) for v in levels)
        d_in = len(self.levels)
        self.head_kind = head
        self.cross_attention, self.spatiotemporal = bool(cross_attention), bool(spatiotemporal)
        self.max_t, self.max_grid = int(max_t), int(max_grid)
        self.init = nn.Conv3d(c_channels, d_in, 1)  # masked positions initialised from ŷ^C (§3.2.3)
        # §3.3: the tokenizer encoder re-applied to the discrete tokens as a projection (its latent-level part:
        # the causal temporal residual block between 1×1 projections)
        self.proj_in = nn.Conv3d(d_in + 1, proj_width, 1)
        self.proj_t = Res3d(proj_width)
        self.proj_out = nn.Conv3d(proj_width, d_model, 1)
        self.pos_t = nn.Parameter(torch.zeros(max_t, d_model))
        self.pos_h = nn.Parameter(torch.zeros(max_grid, d_model))
        self.pos_w = nn.Parameter(torch.zeros(max_grid, d_model))
        self.mem_in = nn.Linear(c_channels, d_model)
        self.mem_t = nn.Parameter(torch.zeros(max_t, d_model))
        self.mem_h = nn.Parameter(torch.zeros(max_grid, d_model))
        self.mem_w = nn.Parameter(torch.zeros(max_grid, d_model))
        for p in (self.pos_t, self.pos_h, self.pos_w, self.mem_t, self.mem_h, self.mem_w):
            nn.init.normal_(p, std=0.02)
        self.blocks = nn.ModuleList(_Block(d_model, heads, mlp_ratio) for _ in range(depth))
        self.norm = nn.LayerNorm(d_model)
        n_out = sum(self.levels) if head == "factorized" else math.prod(self.levels)
        self.head = nn.Linear(d_model, n_out)
        half = torch.tensor([lv // 2 for lv in self.levels], dtype=torch.float32)
        self.register_buffer("_half", half, persistent=False)

    def _pos(self, t: int, h: int, w: int, pt, ph, pw, oh: int = 0, ow: int = 0) -> torch.Tensor:
        if t > self.max_t or oh + h > self.max_grid or ow + w > self.max_grid:
            raise InputError(f"tvc predictor: grid {t}×{h}×{w} exceeds the position tables "
                             f"({self.max_t}×{self.max_grid}×{self.max_grid})")
        return (pt[:t, None, None] + ph[None, oh:oh + h, None] + pw[None, None, ow:ow + w]).reshape(t, h * w, -1)

    def forward(self, levels_k: torch.Tensor, visible: torch.Tensor, y_c_up: torch.Tensor,
                y_c: torch.Tensor | None = None, offset: tuple[int, int] = (0, 0)) -> torch.Tensor:
        """Logits ``[B, t, h, w, Σ levels or ∏ levels]``.

        Args:
            levels_k: level indices ``[B, D, t, h, w]`` int64 (anything at masked positions).
            visible: ``[B, t, h, w]`` bool.
            y_c_up: ŷ^C on the token grid ``[B, C, t, h, w]`` (the masked positions' initial values).
            y_c: ŷ^C at its own grid ``[B, C, t, hc, wc]`` (K = V of the cross-attention); None → ``y_c_up``.
            offset: ``(rows, columns)`` of the grid's top-left in the position tables (0 at the receiver;
                random in training, so that crops smaller than the coded frames train every row and column
                a frame uses — see :func:`position_offset`). ŷ^C's tables are offset in proportion.
        """
        b, _, t, h, w = levels_k.shape
        oh, ow = int(offset[0]), int(offset[1])
        vis = visible.unsqueeze(1).to(y_c_up.dtype)
        codes = (levels_k.to(y_c_up.dtype) - self._half.view(1, -1, 1, 1, 1)) / self._half.view(1, -1, 1, 1, 1)
        init = torch.tanh(self.init(y_c_up))
        q = torch.cat([codes * vis + init * (1 - vis), vis], dim=1)  # eq. (2): Q = the masked index map
        x = self.proj_out(F.silu(self.proj_t(self.proj_in(q))))  # [B, d, t, h, w]
        x = x.permute(0, 2, 3, 4, 1).reshape(b, t, h * w, -1)
        if self.spatiotemporal:
            x = x + self._pos(t, h, w, self.pos_t, self.pos_h, self.pos_w, oh, ow)
        mem = None
        if self.cross_attention:  # eq. (2): K = V = ŷ^C
            m = y_c_up if y_c is None else y_c
            tc, hc, wc = m.shape[2:]
            mem = self.mem_in(m.permute(0, 2, 3, 4, 1)).reshape(b, tc, hc * wc, -1)
            if self.spatiotemporal:
                mem = mem + self._pos(tc, hc, wc, self.mem_t, self.mem_h, self.mem_w, oh * hc // h, ow * wc // w)
            mem = mem.reshape(b, tc * hc * wc, -1)
        for blk in self.blocks:
            x = blk(x, mem, self.spatiotemporal)
        return self.head(self.norm(x)).reshape(b, t, h, w, -1)

    # -- eq. (4) and the receiver's decoding -----------------------------------------------------------
    def log_probs(self, logits: torch.Tensor, levels_k: torch.Tensor) -> torch.Tensor:
        """``log p(y^D)`` per token ``[B, t, h, w]`` of the true level indices ``[B, D, t, h, w]``."""
        if self.head_kind == "index":
            basis = torch.tensor([math.prod(self.levels[:i]) for i in range(len(self.levels))],
                                 device=levels_k.device).view(1, -1, 1, 1, 1)
            idx = (levels_k * basis).sum(1)
            return logits.log_softmax(-1).gather(-1, idx.unsqueeze(-1)).squeeze(-1)
        out = 0
        for i, lg in enumerate(torch.split(logits, self.levels, dim=-1)):
            out = out + lg.log_softmax(-1).gather(-1, levels_k[:, i].unsqueeze(-1)).squeeze(-1)
        return out

    def nll(self, logits: torch.Tensor, levels_k: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
        """eq. (4), 003_299bbe4b0e9ae1eb.txt: mean −log p over the masked positions only (0 without any)."""
        masked = ~visible
        if not bool(masked.any()):
            return logits.sum() * 0.0
        return -(self.log_probs(logits, levels_k)[masked]).mean()  # eq. (4)

    def _argmax(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(level indices [B, D, t, h, w], confidence [B, t, h, w])`` of the most likely tokens."""
        if self.head_kind == "index":
            p, idx = logits.softmax(-1).max(-1)
            ks = [(idx // math.prod(self.levels[:i])) % lv for i, lv in enumerate(self.levels)]
            return torch.stack(ks, 1), p
        ks, conf = [], 1.0
        for lg in torch.split(logits, self.levels, dim=-1):
            p, k = lg.softmax(-1).max(-1)
            ks.append(k)
            conf = conf * p
        return torch.stack(ks, 1), conf

    @torch.no_grad()
    def predict(self, levels_k: torch.Tensor, visible: torch.Tensor, y_c_up: torch.Tensor,
                y_c: torch.Tensor | None = None, steps: int = 4, offset: tuple[int, int] = (0, 0)) -> torch.Tensor:
        """Deterministic decoding at the receiver: ``steps`` rounds of argmax with a fixed cosine schedule
        (MAGE/MaskGIT without sampling): each round fixes the most confident predictions (ties → lower
        position) until ``N·cos(π/2 · s/steps)`` of the ``N`` masked tokens remain; the visible tokens are kept.

        Returns level indices ``[B, D, t, h, w]`` int64 with every position filled.
        """
        k = levels_k.clone()
        vis = visible.clone()
        b = k.shape[0]
        n0 = (~vis).reshape(b, -1).sum(1)
        for s in range(1, int(steps) + 1):
            if bool(vis.all()):
                break
            pred, conf = self._argmax(self.forward(k, vis, y_c_up, y_c, offset))
            remain = torch.floor(n0.float() * math.cos(math.pi / 2 * s / steps)).long()
            flat_conf = torch.where(vis, torch.full_like(conf, -1.0), conf).reshape(b, -1)
            order = torch.sort(-flat_conf, dim=1, stable=True).indices  # most confident first
            n_masked = (~vis).reshape(b, -1).sum(1)
            fix = torch.zeros_like(flat_conf, dtype=torch.bool)
            for j in range(b):
                nf = int(n_masked[j] - remain[j]) if s < steps else int(n_masked[j])
                fix[j, order[j, :max(nf, 0)]] = True
            fix = fix.reshape(vis.shape) & ~vis
            k = torch.where(fix.unsqueeze(1), pred, k)
            vis = vis | fix
        return k


def position_offset(grid: tuple[int, int], train_grid: int, ratio: int, gen: torch.Generator) -> tuple[int, int]:
    """A random ``(rows, columns)`` offset of a training crop's token grid inside the first ``train_grid``
    rows / columns of the position tables, a multiple of ``ratio`` (the token grid / ŷ^C grid ratio, so that
    ŷ^C's offset is whole). Crops (e.g. 8×8 tokens from 128² px) then train every table row a ``16·train_grid``
    px frame uses; at the receiver the offset is 0."""
    out = []
    for n in grid:
        slots = max(0, int(train_grid) - int(n)) // ratio
        out.append(int(torch.randint(slots + 1, (), generator=gen)) * ratio)
    return out[0], out[1]


class FusionDecoder(nn.Module):
    """The ControlNet-style hierarchical pixel decoder (§3.4).

    Args:
        main: the discrete stream's pixel decoder (a decoder-only :class:`CausalVideoAE` with the DV
            tokenizer's decoder weights; ``D`` input channels).
        control: the continuous branch (a decoder-only :class:`CausalVideoAE` with the CV tokenizer's decoder
            weights; ``C`` input channels).
        fusion: False = the "no fusion" ablation (the discrete-stream decoder alone).
    """

    def __init__(self, main: CausalVideoAE, control: CausalVideoAE, fusion: bool = True) -> None:
        super().__init__()
        self.main, self.control, self.fusion = main, control, bool(fusion)
        cm = [main.top_channels, main.top_channels, *main.decoder_channels]
        cc = [control.top_channels, control.top_channels, *control.decoder_channels]
        self.zero = nn.ModuleList(nn.Conv2d(a, b, 1) for a, b in zip(cc, cm))
        for z in self.zero:  # ControlNet's zero convolutions
            nn.init.zeros_(z.weight)
            nn.init.zeros_(z.bias)

    def forward(self, codes: torch.Tensor, y_c_up: torch.Tensor | None, chunk_pixels: int = 0) -> torch.Tensor:
        """``codes`` ``[B, D, t, h, w]`` (FSQ values), ``y_c_up`` ``[B, C, t, h, w]`` (ŷ^C on the token grid)
        → ``[B, 3, 1+(t−1)·tf, 16h, 16w]`` float (:meth:`chunks` assembled; ``chunk_pixels`` 0: at once)."""
        parts = [x for _, x in self.chunks(codes, y_c_up, chunk_pixels)]
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=2)

    def chunks(self, codes: torch.Tensor, y_c_up: torch.Tensor | None, chunk_pixels: int = 0):
        """The output frames a few latent frames at a time: yields ``(first frame, [B, 3, n, 16h, 16w])``.

        The temporal part runs once over all ``t`` latent frames; the 2D part (both branches' upsampling
        stacks, where the activations are) is the same function of each latent frame, so it runs on as many
        at a time as keep ``tf · H · W`` within ``chunk_pixels`` output pixels (0: all at once) — the same
        result in bounded memory: a 1080p GoP of 17 frames peaks at one latent frame's activations instead
        of three."""
        b = codes.shape[0]
        f = self.main.decode_tail(codes)
        g = self.control.decode_tail(y_c_up) if (self.fusion and y_c_up is not None) else None
        n, tf = f.shape[2], self.main.tf
        hw = f.shape[-2] * self.main.sf * f.shape[-1] * self.main.sf
        step = n if chunk_pixels <= 0 else max(1, chunk_pixels // max(1, tf * hw))
        for a in range(0, n, step):
            e = min(n, a + step)
            x = self._groups(f[:, :, a:e], None if g is None else g[:, :, a:e], b)
            yield (0, x[:, :, tf - 1:]) if a == 0 else (1 + (a - 1) * tf, x)
            del x  # before the next chunk is computed

    def _groups(self, f: torch.Tensor, g: torch.Tensor | None, b: int) -> torch.Tensor:
        """The 2D part on latent frames ``f`` (main) and ``g`` (control, or None) → ``[B, 3, n·tf, H, W]``."""
        res = None
        if g is not None:
            f = f + unfold_time(self.zero[0](fold_time(g)), b)  # injection at the latent scale
            feats = self.control.decoder_features(g)
            res = [z(ft) for z, ft in zip(self.zero[1:], feats)]  # and at every decoder scale
        return self.main.decode_groups(f, residuals=res)


class PixelFusion(nn.Module):
    """The fusion decoder with Cosmos tokenizers (§3.4, adapted): their decoders are TorchScript files with no
    access to intermediate layers, so the main path is the frozen Cosmos DV decoder and the ControlNet-style
    branch (a tokcom causal decoder on ↑ŷ^C) adds its output through a zero-initialised 1×1 convolution at
    the pixel scale only.

    Args:
        main: the loaded ``cosmos-dv8x16x16`` (``decode(indices [B, t, h, w]) → [B, 3, T, H, W]``).
        control: a decoder-only :class:`CausalVideoAE` on ``C`` channels (trained from scratch).
        fusion: False = the "no fusion" ablation (the discrete-stream decoder alone).
    """

    def __init__(self, main: Any, control: CausalVideoAE, fusion: bool = True) -> None:
        super().__init__()
        self._main = main  # not a submodule: frozen TorchScript outside the model's state
        self.control, self.fusion = control, bool(fusion)
        self.zero = nn.ModuleList([nn.Conv2d(3, 3, 1)])
        nn.init.zeros_(self.zero[0].weight)
        nn.init.zeros_(self.zero[0].bias)

    def forward(self, indices: torch.Tensor, y_c_up: torch.Tensor | None, chunk_pixels: int = 0) -> torch.Tensor:
        """``indices`` ``[B, t, h, w]`` int64, ``y_c_up`` ``[B, C, t, h, w]`` → ``[B, 3, 1+(t−1)·tf, 16h, 16w]``
        (``chunk_pixels`` is ignored: the Cosmos decoder decodes the GoP whole)."""
        return next(self.chunks(indices, y_c_up))[1]

    def chunks(self, indices: torch.Tensor, y_c_up: torch.Tensor | None, chunk_pixels: int = 0):
        """One chunk, the whole GoP (TorchScript decoders cannot be split): yields ``(0, pixels)``."""
        x = self._main.decode(indices).to(self.zero[0].weight.device)
        if not self.fusion or y_c_up is None:
            yield 0, x
            return
        b = x.shape[0]
        g = self.control.decode_groups(self.control.decode_tail(y_c_up))[:, :, self.control.tf - 1:]
        yield 0, x + unfold_time(self.zero[0](fold_time(g)), b)
