"""CLIP ViT (Radford et al. 2021) in open_clip's layout: its config, the network, and its checkpoints.

The built-in backend of :func:`tokcom.models.clip.load_clip` (which gives the :class:`~tokcom.models.clip.ClipModel`
wrapper); this module only builds, loads and saves the network.

Built-in network (state-dict names exactly open_clip's ``CLIP``, so real checkpoints load with
``strict=True``)::

    visual:  conv1 (p×p, stride p, no bias) → [class_embedding; patches] + positional_embedding → ln_pre
             → transformer.resblocks[i] (x += attn(ln_1 x); x += mlp(ln_2 x), mlp = c_fc → GELU → c_proj)
             → ln_post → token 0 @ proj                                         → image embedding [D]
    text:    token_embedding + positional_embedding → causal transformer.resblocks[i] → ln_final
             → token at argmax(id) (<end_of_text>) @ text_projection              → text embedding [D]
    logit_scale (and logit_bias when the checkpoint has one) are loaded but unused here.

GELU is QuickGELU (``x·σ(1.702x)``) where the open_clip config says ``quick_gelu`` (OpenAI-trained weights,
and tokcom's ``clip-vit-*`` sets), exact GELU otherwise. Attention heads: ``width / head_width`` (64) for
vision, ``text_cfg.heads`` for text.

The built-in backend supports the plain ViT CLIP: learnable position embeddings, class-token pooling,
pre-LN blocks, linear projections and OpenAI's CLIP BPE tokenizer (vocab 49 408). Other open_clip models
(ResNet or timm towers, Hugging Face text towers or tokenizers, SigLIP, CoCa, layer scale, ...) raise a
one-line :class:`~tokcom.errors.InputError` naming the setting; they need open_clip.
"""

from __future__ import annotations

import json
import math
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from tokcom.errors import InputError

__all__ = [
    "ARCHS",
    "CLIP_VOCAB",
    "CONFIG_FILE",
    "OPENAI_MEAN",
    "OPENAI_STD",
    "WEIGHT_FILES",
    "ClipConfig",
    "ClipNet",
    "build_clip",
    "config_from_state_dict",
    "normalize_state_dict",
    "read_checkpoint",
    "resample_pos_embed",
    "save_clip",
    "vit_tokens",
]

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP image normalisation
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
CONFIG_FILE = "open_clip_config.json"
WEIGHT_FILES = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
CLIP_VOCAB = 49408

# open_clip ``model_cfg`` of the architectures tokcom ships weight sets for (open_clip model_configs).
ARCHS: dict[str, dict[str, Any]] = {
    "ViT-B-32": {
        "embed_dim": 512,
        "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 32},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12},
    },
    "ViT-B-16": {
        "embed_dim": 512,
        "vision_cfg": {"image_size": 224, "layers": 12, "width": 768, "patch_size": 16},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 512, "heads": 8, "layers": 12},
    },
    "ViT-L-14": {
        "embed_dim": 768,
        "vision_cfg": {"image_size": 224, "layers": 24, "width": 1024, "patch_size": 14},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 768, "heads": 12, "layers": 12},
    },
}

# --------------------------------------------------------------------------------------------- config
_ANY = object()
# open_clip config keys the built-in network does not implement, with the values that mean "off".
_VISION_OFF: dict[str, tuple[Any, ...]] = {
    "ls_init_value": (None,), "patch_dropout": (0.0,), "attentional_pool": (False,), "no_ln_pre": (False,),
    "pos_embed_type": ("learnable",), "final_ln_after_pool": (False,), "pool_type": ("tok",),
    "output_tokens": (False,), "act_kwargs": (None, {}), "norm_kwargs": (None, {}),
    "block_type": (None, "default"), "qk_norm": (False,), "scaled_cosine_attn": (False,),
    "scale_heads": (False,), "scale_attn_inner": (False,), "scale_attn": (False,), "scale_fc": (False,),
    "timm_model_name": (None,), "timm_model_pretrained": (_ANY,), "timm_pool": (_ANY,), "timm_proj": (_ANY,),
    "timm_proj_bias": (_ANY,), "timm_drop": (_ANY,), "timm_drop_path": (_ANY,),
    "attn_pooler_queries": (_ANY,), "attn_pooler_heads": (_ANY,),
}
_TEXT_OFF: dict[str, tuple[Any, ...]] = {
    "hf_model_name": (None,), "hf_model_pretrained": (_ANY,), "hf_proj_type": (_ANY,),
    "hf_pooler_type": (_ANY,), "ls_init_value": (None,), "embed_cls": (False,), "pad_id": (_ANY,),
    "eos_id": (_ANY,), "no_causal_mask": (False,), "final_ln_after_pool": (False,), "pool_type": ("argmax",),
    "proj_bias": (False,), "proj_type": ("linear",), "output_tokens": (False,), "act_kwargs": (None, {}),
    "norm_kwargs": (None, {}), "block_type": (None, "default"), "qk_norm": (False,),
    "scaled_cosine_attn": (False,), "scale_heads": (False,), "scale_attn_inner": (False,),
    "scale_attn": (False,), "scale_fc": (False,),
}
_TOP_OK = {"embed_dim", "vision_cfg", "text_cfg", "quick_gelu", "custom_text", "cast_dtype", "init_logit_scale",
           "init_logit_bias", "nonscalar_logit_scale"}


def _check_off(cfg: Mapping[str, Any], known: set[str], off: Mapping[str, tuple[Any, ...]], where: str,
               source: str) -> None:
    for k, v in cfg.items():
        if k in known:
            continue
        ok = off.get(k)
        if ok is None or not (_ANY in ok or any(v == o for o in ok)):
            raise InputError(f"{source}: {where}.{k}={v!r} is not supported by tokcom's built-in CLIP (plain "
                             "open_clip ViT models only); install open_clip_torch + torchvision for it")


@dataclass(frozen=True)
class ClipConfig:
    """A plain open_clip ViT CLIP (the subset the built-in network implements).

    Attributes mirror open_clip's ``model_cfg``: ``embed_dim`` (joint space D), ``vision_cfg`` (square
    ``image_size``, ``patch_size`` p, ``width``, ``layers``, ``head_width``, ``mlp_ratio``), ``text_cfg``
    (``context_length``, ``vocab_size``, ``width``, ``heads``, ``layers``, ``mlp_ratio``), ``quick_gelu``,
    and the image normalisation ``mean``/``std`` (open_clip ``preprocess_cfg``; OpenAI's by default).
    """

    embed_dim: int
    image_size: int
    patch_size: int
    vision_width: int
    vision_layers: int
    vision_head_width: int = 64
    vision_mlp_ratio: float = 4.0
    context_length: int = 77
    vocab_size: int = CLIP_VOCAB
    text_width: int = 512
    text_heads: int = 8
    text_layers: int = 12
    text_mlp_ratio: float = 4.0
    quick_gelu: bool = False
    mean: tuple[float, float, float] = OPENAI_MEAN
    std: tuple[float, float, float] = OPENAI_STD

    @property
    def vision_heads(self) -> int:
        return self.vision_width // self.vision_head_width

    @property
    def grid_size(self) -> int:
        """Patches per side at ``image_size`` (7 for ViT-B/32 at 224)."""
        return self.image_size // self.patch_size

    @classmethod
    def from_open_clip(cls, model_cfg: Mapping[str, Any], preprocess_cfg: Mapping[str, Any] | None = None, *,
                       source: str = "CLIP config") -> ClipConfig:
        """Parse an open_clip ``model_cfg`` (+ ``preprocess_cfg``).

        Raises:
            InputError: a tokenizer other than CLIP's BPE, or a feature the built-in network lacks (one line).
        """
        v = dict(model_cfg.get("vision_cfg") or {})
        t = dict(model_cfg.get("text_cfg") or {})
        tk = t.get("tokenizer_kwargs") or {}
        vocab = t.get("vocab_size", CLIP_VOCAB)
        if t.get("hf_tokenizer_name") or t.get("tokenizer_mode") or vocab != CLIP_VOCAB or \
                tk.get("clean", "lower") != "lower" or set(tk) - {"clean"}:
            why = (f"hf_tokenizer_name={t['hf_tokenizer_name']!r}" if t.get("hf_tokenizer_name") else
                   f"tokenizer_mode={t['tokenizer_mode']!r}" if t.get("tokenizer_mode") else
                   f"vocab_size={vocab}" if vocab != CLIP_VOCAB else f"tokenizer_kwargs={tk!r}")
            raise InputError(f"{source}: its text tokenizer is not OpenAI's CLIP BPE ({why}); without open_clip "
                             "tokcom supports only open_clip ViT models with the CLIP BPE tokenizer (vocab 49408)")
        if "multimodal_cfg" in model_cfg:
            raise InputError(f"{source}: CoCa models (multimodal_cfg) need open_clip_torch + torchvision")
        for k in model_cfg:
            if k not in _TOP_OK:
                raise InputError(f"{source}: model_cfg.{k} is not supported by tokcom's built-in CLIP; "
                                 "install open_clip_torch + torchvision for it")
        if isinstance(v.get("layers"), (list, tuple)):
            raise InputError(f"{source}: ResNet CLIP towers need open_clip_torch + torchvision")
        _check_off(v, {"image_size", "layers", "width", "patch_size", "head_width", "mlp_ratio"}, _VISION_OFF,
                   "vision_cfg", source)
        _check_off(t, {"context_length", "vocab_size", "width", "heads", "layers", "mlp_ratio",
                       "hf_tokenizer_name", "tokenizer_mode", "tokenizer_kwargs"}, _TEXT_OFF, "text_cfg", source)
        size, patch = v.get("image_size", 224), v.get("patch_size", 16)
        if isinstance(size, (list, tuple)):
            if len(set(size)) != 1:
                raise InputError(f"{source}: non-square image_size {list(size)} is not supported")
            size = size[0]
        if isinstance(patch, (list, tuple)):
            if len(set(patch)) != 1:
                raise InputError(f"{source}: non-square patch_size {list(patch)} is not supported")
            patch = patch[0]
        pre = preprocess_cfg or {}
        try:
            return cls(
                embed_dim=int(model_cfg["embed_dim"]), image_size=int(size), patch_size=int(patch),
                vision_width=int(v.get("width", 768)), vision_layers=int(v.get("layers", 12)),
                vision_head_width=int(v.get("head_width", 64)), vision_mlp_ratio=float(v.get("mlp_ratio", 4.0)),
                context_length=int(t.get("context_length", 77)), vocab_size=int(vocab),
                text_width=int(t.get("width", 512)), text_heads=int(t.get("heads", 8)),
                text_layers=int(t.get("layers", 12)), text_mlp_ratio=float(t.get("mlp_ratio", 4.0)),
                quick_gelu=bool(model_cfg.get("quick_gelu", False)),
                mean=tuple(float(x) for x in pre.get("mean", OPENAI_MEAN)),  # type: ignore[arg-type]
                std=tuple(float(x) for x in pre.get("std", OPENAI_STD)),  # type: ignore[arg-type]
            )
        except (KeyError, TypeError, ValueError) as e:
            raise InputError(f"{source}: invalid open_clip model_cfg ({type(e).__name__}: {e})") from None

    def to_open_clip(self) -> dict[str, Any]:
        """open_clip ``model_cfg`` (for ``open_clip_config.json`` or ``open_clip.CLIP(**cfg)``)."""
        return {
            "embed_dim": self.embed_dim,
            "quick_gelu": self.quick_gelu,
            "vision_cfg": {"image_size": self.image_size, "layers": self.vision_layers, "width": self.vision_width,
                           "patch_size": self.patch_size, "head_width": self.vision_head_width,
                           "mlp_ratio": self.vision_mlp_ratio},
            "text_cfg": {"context_length": self.context_length, "vocab_size": self.vocab_size,
                         "width": self.text_width, "heads": self.text_heads, "layers": self.text_layers,
                         "mlp_ratio": self.text_mlp_ratio},
        }


# --------------------------------------------------------------------------------------------- network
class QuickGELU(nn.Module):
    """``x·σ(1.702x)``, the GELU approximation OpenAI's CLIP was trained with."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    """Pre-LN transformer block: ``x + attn(ln_1 x)``, then ``x + mlp(ln_2 x)``; tokens ``[B, L, W]``."""

    def __init__(self, width: int, heads: int, mlp_ratio: float, act: Callable[[], nn.Module]) -> None:
        super().__init__()
        hidden = int(width * mlp_ratio)
        self.ln_1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, hidden)), ("gelu", act()), ("c_proj", nn.Linear(hidden, width)),
        ]))

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.ln_1(x)
        x = x + self.attn(h, h, h, need_weights=False, attn_mask=attn_mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    """``layers`` residual attention blocks on batch-first tokens ``[B, L, W]``."""

    def __init__(self, width: int, layers: int, heads: int, mlp_ratio: float,
                 act: Callable[[], nn.Module]) -> None:
        super().__init__()
        self.width, self.layers, self.batch_first = width, layers, True
        self.resblocks = nn.ModuleList(ResidualAttentionBlock(width, heads, mlp_ratio, act) for _ in range(layers))

    def forward(self, x: torch.Tensor, attn_mask: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x, attn_mask=attn_mask)
        return x


class VisionTransformer(nn.Module):
    """CLIP's ViT image tower; ``forward`` maps normalised ``[B, 3, S, S]`` float to ``[B, D]`` (unnormalised)."""

    def __init__(self, cfg: ClipConfig, act: Callable[[], nn.Module]) -> None:
        super().__init__()
        w, p, g = cfg.vision_width, cfg.patch_size, cfg.grid_size
        self.image_size, self.patch_size, self.grid_size = (cfg.image_size,) * 2, (p, p), (g, g)
        self.conv1 = nn.Conv2d(3, w, kernel_size=p, stride=p, bias=False)
        scale = w ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(w))
        self.positional_embedding = nn.Parameter(scale * torch.randn(g * g + 1, w))
        self.ln_pre = nn.LayerNorm(w)
        self.transformer = Transformer(w, cfg.vision_layers, cfg.vision_heads, cfg.vision_mlp_ratio, act)
        self.ln_post = nn.LayerNorm(w)
        self.proj = nn.Parameter(scale * torch.randn(w, cfg.embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return vit_tokens(self, x)[:, 0] @ self.proj


class ClipNet(nn.Module):
    """The open_clip ``CLIP`` module (plain ViT + text transformer), same parameter names and forward."""

    def __init__(self, cfg: ClipConfig, *, logit_bias: bool = False) -> None:
        super().__init__()
        act: Callable[[], nn.Module] = QuickGELU if cfg.quick_gelu else nn.GELU
        self.cfg = cfg
        self.visual = VisionTransformer(cfg, act)
        self.token_embedding = nn.Embedding(cfg.vocab_size, cfg.text_width)
        self.positional_embedding = nn.Parameter(0.01 * torch.randn(cfg.context_length, cfg.text_width))
        self.transformer = Transformer(cfg.text_width, cfg.text_layers, cfg.text_heads, cfg.text_mlp_ratio, act)
        self.ln_final = nn.LayerNorm(cfg.text_width)
        self.text_projection = nn.Parameter(cfg.text_width ** -0.5 * torch.randn(cfg.text_width, cfg.embed_dim))
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        if logit_bias:
            self.logit_bias = nn.Parameter(torch.zeros(()))
        causal = torch.full((cfg.context_length, cfg.context_length), float("-inf")).triu_(1)
        self.register_buffer("attn_mask", causal, persistent=False)

    def encode_image(self, image: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """``[B, 3, S, S]`` normalised float → ``[B, D]``."""
        x = self.visual(image)
        return F.normalize(x, dim=-1) if normalize else x

    def encode_text(self, text: torch.Tensor, normalize: bool = False) -> torch.Tensor:
        """Token ids ``[N, context_length], int64`` → ``[N, D]`` (features at each row's argmax id: EOT)."""
        x = self.token_embedding(text) + self.positional_embedding
        x = self.ln_final(self.transformer(x, attn_mask=self.attn_mask))
        x = x[torch.arange(x.shape[0], device=x.device), text.argmax(dim=-1)] @ self.text_projection
        return F.normalize(x, dim=-1) if normalize else x


def resample_pos_embed(pos: torch.Tensor, grid: tuple[int, int]) -> torch.Tensor:
    """Class + square-grid position embeddings ``[1 + g², W]`` resampled to ``[1 + gh·gw, W]``.

    The class position is kept; the g×g grid is resized bicubically (``align_corners=False``,
    ``antialias=True``: open_clip's ``resize_pos_embed``). The same grid is returned as it is.
    """
    g0 = round(math.sqrt(pos.shape[0] - 1))
    if g0 * g0 != pos.shape[0] - 1:
        raise InputError(f"position embedding of {pos.shape[0]} tokens is not class + square grid")
    if tuple(grid) == (g0, g0):
        return pos
    img = pos[1:].reshape(1, g0, g0, -1).permute(0, 3, 1, 2).float()
    img = F.interpolate(img, size=tuple(grid), mode="bicubic", align_corners=False, antialias=True)
    img = img.permute(0, 2, 3, 1).reshape(grid[0] * grid[1], -1).to(pos.dtype)
    return torch.cat([pos[:1], img], dim=0)


def vit_tokens(visual: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """All output tokens of a CLIP ViT after ``ln_post``: ``[B, 1 + gh·gw, W]`` (class token first).

    Works on tokcom's :class:`VisionTransformer` and on open_clip's (same attribute names). ``x`` is
    normalised ``[B, 3, gh·p, gw·p]`` float; when ``(gh, gw)`` is not the model's grid the position
    embedding is resampled with :func:`resample_pos_embed`.
    """
    for a in ("conv1", "class_embedding", "positional_embedding", "ln_pre", "transformer", "ln_post", "proj"):
        if not hasattr(visual, a):
            raise InputError("patch embeddings need a ViT image tower with a class token (open_clip "
                             f"VisionTransformer); this model's has no {a}")
    if getattr(visual, "attn_pool", None) is not None or getattr(visual, "final_ln_after_pool", False):
        raise InputError("patch embeddings need a ViT image tower without attentional pooling")
    x = visual.conv1(x)  # [B, W, gh, gw]
    b, w, gh, gw = x.shape
    x = x.reshape(b, w, gh * gw).permute(0, 2, 1)
    cls = visual.class_embedding.to(x.dtype).view(1, 1, w).expand(b, 1, w)
    x = torch.cat([cls, x], dim=1) + resample_pos_embed(visual.positional_embedding, (gh, gw)).to(x.dtype)
    x = visual.ln_pre(x)
    tr = visual.transformer
    if getattr(tr, "batch_first", False):
        x = tr(x)
    else:  # open_clip < 2.24 transformers take [L, B, W]
        x = tr(x.transpose(0, 1)).transpose(0, 1)
    return visual.ln_post(x)


# --------------------------------------------------------------------------------------------- checkpoints
def read_checkpoint(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors`` file or a torch file (``torch.load(weights_only=True)``).

    Raises:
        InputError: missing or unreadable file.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"CLIP checkpoint {p}: no such file")
    try:
        if p.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(p))
        return torch.load(str(p), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001  (corrupt file, pickle refused by weights_only, ...)
        raise InputError(f"CLIP checkpoint {p}: cannot read ({type(e).__name__}: {str(e)[:120]})") from None


def normalize_state_dict(sd: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    """An open_clip/OpenAI CLIP checkpoint as open_clip ``CLIP`` parameter names, float32.

    Unwraps ``{"state_dict": ...}``, strips a DDP ``module.`` prefix, drops OpenAI's JIT extras
    (``input_resolution``, ``context_length``, ``vocab_size``), maps open_clip's ``CustomTextCLIP`` layout
    (``text.*``) to the flat ``CLIP`` one, and makes ``logit_scale``/``logit_bias`` scalars.
    """
    if "state_dict" in sd and isinstance(sd["state_dict"], Mapping):
        sd = sd["state_dict"]
    out: dict[str, torch.Tensor] = {}
    for k, v in sd.items():
        k = k.removeprefix("module.")
        if k in ("input_resolution", "context_length", "vocab_size") or not isinstance(v, torch.Tensor):
            continue
        if k.startswith("text."):
            k = k.removeprefix("text.")
        out[k] = v.float() if v.is_floating_point() else v
    for k in ("logit_scale", "logit_bias"):
        if k in out:
            out[k] = out[k].reshape(())
    return out


def _count_blocks(sd: Mapping[str, Any], prefix: str) -> int:
    idx = {int(k[len(prefix):].split(".")[0]) for k in sd if k.startswith(prefix)}
    return max(idx) + 1 if idx else 0


def config_from_state_dict(sd: Mapping[str, torch.Tensor], *, quick_gelu: bool = True,
                           source: str = "CLIP checkpoint") -> ClipConfig:
    """The :class:`ClipConfig` implied by a normalised state dict's shapes (heads: width / 64).

    Raises:
        InputError: not a ViT CLIP state dict.
    """
    need = ("visual.conv1.weight", "visual.positional_embedding", "visual.proj", "token_embedding.weight",
            "positional_embedding", "ln_final.weight", "text_projection")
    missing = [k for k in need if k not in sd]
    if missing:
        raise InputError(f"{source}: not an open_clip ViT CLIP state dict (no {missing[0]})")
    conv = sd["visual.conv1.weight"]
    width, patch = int(conv.shape[0]), int(conv.shape[-1])
    grid = round(math.sqrt(sd["visual.positional_embedding"].shape[0] - 1))
    text_width = int(sd["ln_final.weight"].shape[0])
    fc_v = sd.get("visual.transformer.resblocks.0.mlp.c_fc.weight")
    fc_t = sd.get("transformer.resblocks.0.mlp.c_fc.weight")
    return ClipConfig(
        embed_dim=int(sd["visual.proj"].shape[1]), image_size=grid * patch, patch_size=patch,
        vision_width=width, vision_layers=_count_blocks(sd, "visual.transformer.resblocks."),
        vision_mlp_ratio=float(fc_v.shape[0] / width) if fc_v is not None else 4.0,
        context_length=int(sd["positional_embedding"].shape[0]),
        vocab_size=int(sd["token_embedding.weight"].shape[0]), text_width=text_width,
        text_heads=max(1, text_width // 64), text_layers=_count_blocks(sd, "transformer.resblocks."),
        text_mlp_ratio=float(fc_t.shape[0] / text_width) if fc_t is not None else 4.0, quick_gelu=quick_gelu,
    )


def build_clip(cfg: ClipConfig, state_dict: Mapping[str, torch.Tensor] | None = None, *,
               source: str = "CLIP checkpoint") -> ClipNet:
    """The built-in network for ``cfg`` in eval mode, with ``state_dict`` loaded ``strict=True`` if given.

    Raises:
        InputError: the state dict does not match ``cfg`` (first missing/unexpected/mis-shaped key named).
    """
    if cfg.vision_width % cfg.vision_head_width or cfg.text_width % cfg.text_heads:
        raise InputError(f"{source}: width not divisible by the number of attention heads")
    if state_dict is not None and cfg.vocab_size != CLIP_VOCAB:
        raise InputError(f"{source}: vocab_size={cfg.vocab_size}; without open_clip tokcom supports only "
                         "open_clip ViT models with OpenAI's CLIP BPE tokenizer (vocab 49408)")
    net = ClipNet(cfg, logit_bias=state_dict is not None and "logit_bias" in state_dict)
    if state_dict is not None:
        own = net.state_dict()
        missing = sorted(set(own) - set(state_dict))
        unexpected = sorted(set(state_dict) - set(own))
        if missing or unexpected:
            what = f"missing {missing[0]}" if missing else f"unexpected {unexpected[0]}"
            raise InputError(f"{source}: state dict does not match the config ({len(missing)} missing, "
                             f"{len(unexpected)} unexpected keys; {what})")
        for k, v in own.items():
            if tuple(state_dict[k].shape) != tuple(v.shape):
                raise InputError(f"{source}: {k} has shape {tuple(state_dict[k].shape)}, the config says "
                                 f"{tuple(v.shape)}")
        net.load_state_dict(state_dict, strict=True)
    return net.eval().requires_grad_(False)


def save_clip(net: ClipNet, directory: str | Path) -> Path:
    """Write ``net`` as an open_clip model directory (``open_clip_config.json`` + ``open_clip_model.safetensors``).

    The directory loads with :func:`load_clip` and with ``open_clip.create_model("local-dir:DIR")``.
    Returns the directory.
    """
    from safetensors.torch import save_file

    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    cfg = net.cfg
    doc = {"model_cfg": cfg.to_open_clip(), "preprocess_cfg": {"mean": list(cfg.mean), "std": list(cfg.std)}}
    (d / CONFIG_FILE).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(d / WEIGHT_FILES[0]))
    return d
