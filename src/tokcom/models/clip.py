"""CLIP ViT (Radford et al. 2021) in open_clip's layout, and the one loader tokcom uses for CLIP.

:func:`load_clip` gives a :class:`ClipModel` (text/image embeddings and the per-patch embeddings of the
TokenCom text heatmap). It runs on one of two backends with the same outputs:

* ``open_clip`` (the real package) when it imports;
* the built-in implementation (:mod:`tokcom.models.clip_net`) otherwise. ``open_clip_torch`` imports torchvision unconditionally, and
  a torchvision wheel built for another torch fails at import (``operator torchvision::nms does not
  exist``), so tokcom carries its own forward pass for the open_clip ViT CLIP family and its own CLIP BPE
  tokenizer (:mod:`tokcom.models.clip_tokenizer`, vocabulary weight set ``clip-bpe``).

The network itself (config, forward pass, checkpoints) is :mod:`tokcom.models.clip_net`.

What :func:`load_clip` accepts:

* a weight set ``clip-vit-b-32`` | ``clip-vit-b-16`` | ``clip-vit-l-14`` or its architecture name
  ``ViT-B-32`` | ``ViT-B-16`` | ``ViT-L-14`` (OpenAI weights, cached by ``tokcom models fetch NAME``);
* an open_clip model directory: ``open_clip_config.json`` (``model_cfg``: ``embed_dim``, ``vision_cfg``,
  ``text_cfg``, ``quick_gelu``; optional ``preprocess_cfg`` mean/std) and ``open_clip_model.safetensors``
  (or ``open_clip_pytorch_model.bin``, read with ``torch.load(weights_only=True)``);
* a bare checkpoint file (``.safetensors`` / ``.bin`` / ``.pt``): the config is read from an
  ``open_clip_config.json`` beside it, else inferred from the tensor shapes (OpenAI layout: QuickGELU,
  64-wide heads).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tokcom.devices import resolve_device
from tokcom.errors import InputError, TokcomError, WeightsUnavailable
from tokcom.models.clip_net import (
    ARCHS,
    CLIP_VOCAB,
    CONFIG_FILE,
    OPENAI_MEAN,
    OPENAI_STD,
    WEIGHT_FILES,
    ClipConfig,
    build_clip,
    config_from_state_dict,
    normalize_state_dict,
    read_checkpoint,
    vit_tokens,
)

__all__ = ["DEFAULT_CLIP", "ClipModel", "load_clip", "open_clip_available"]

DEFAULT_CLIP = "clip-vit-b-32"


# --------------------------------------------------------------------------------------------- resolving
@dataclass(frozen=True)
class _Source:
    label: str
    weights: Path | None = None  # None: a weight set not in the cache
    weight_set: str | None = None
    arch: str | None = None
    model_dir: Path | None = None  # an open_clip directory with open_clip_config.json
    model_cfg: dict[str, Any] | None = None
    preprocess_cfg: dict[str, Any] = field(default_factory=dict)


def _weight_sets() -> dict[str, str]:
    """weight set → open_clip architecture (``clip-vit-b-32`` → ``ViT-B-32``)."""
    from tokcom import models  # noqa: F401  (registers the catalog)
    from tokcom.models.catalog import CLIP_ARCH

    return dict(CLIP_ARCH)


def _resolve(name_or_path: str | Path) -> _Source:
    from tokcom import models

    key = str(name_or_path).strip()
    sets = _weight_sets()
    by_arch = {a: ws for ws, a in sets.items()}
    ws = key if key in sets else by_arch.get(key)
    if ws is not None:
        arch = sets[ws]
        return _Source(label=ws, weights=models.weights_path(ws) if models.is_cached(ws) else None,
                       weight_set=ws, arch=arch, model_cfg={**ARCHS[arch], "quick_gelu": True})
    p = Path(key).expanduser()
    if p.is_dir():
        cfg_file = p / CONFIG_FILE
        found = [p / f for f in WEIGHT_FILES if (p / f).is_file()]
        if not found:
            found = sorted(p.glob("*.safetensors"))[:1]
        if not found:
            raise InputError(f"CLIP model directory {p}: no {' or '.join(WEIGHT_FILES)} in it")
        return _with_config(_Source(label=str(p.resolve()), weights=found[0], model_dir=p), cfg_file)
    if p.is_file():
        return _with_config(_Source(label=str(p.resolve()), weights=p), p.parent / CONFIG_FILE)
    names = ", ".join([*sets, *by_arch])
    raise InputError(f"unknown CLIP model {key!r}: give one of {names}, or an open_clip model directory "
                     f"({CONFIG_FILE} + {WEIGHT_FILES[0]})")


def _with_config(src: _Source, cfg_file: Path) -> _Source:
    if not cfg_file.is_file():
        return src
    try:
        doc = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"{cfg_file}: not a JSON file ({type(e).__name__})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("model_cfg"), dict):
        raise InputError(f"{cfg_file}: no model_cfg (not an open_clip config)")
    return _Source(label=src.label, weights=src.weights, model_dir=cfg_file.parent, model_cfg=doc["model_cfg"],
                   preprocess_cfg=dict(doc.get("preprocess_cfg") or {}))


# --------------------------------------------------------------------------------------------- backends
@lru_cache(maxsize=1)
def open_clip_available() -> bool:
    """True when the real ``open_clip`` package imports (it needs a working torchvision)."""
    try:
        import open_clip  # noqa: F401
    except Exception:  # noqa: BLE001  (absent, or torchvision broken against this torch)
        return False
    return True


def _build_builtin(src: _Source) -> tuple[nn.Module, Callable[[list[str], int], np.ndarray], ClipConfig]:
    from tokcom.models.clip_tokenizer import ClipTokenizer

    assert src.weights is not None
    sd = normalize_state_dict(read_checkpoint(src.weights))
    name = src.weight_set or src.label
    if src.model_cfg is not None:
        cfg = ClipConfig.from_open_clip(src.model_cfg, src.preprocess_cfg, source=name)
    else:
        cfg = config_from_state_dict(sd, source=name)
        if cfg.vocab_size != CLIP_VOCAB:
            raise InputError(f"{name}: vocab_size={cfg.vocab_size}; without open_clip tokcom supports only "
                             "open_clip ViT models with OpenAI's CLIP BPE tokenizer (vocab 49408)")
    net = build_clip(cfg, sd, source=name)
    tok = ClipTokenizer.from_cache(cfg.context_length)
    return net, lambda texts, n: tok(texts, n), cfg


def _build_open_clip(src: _Source) -> tuple[nn.Module, Callable[[list[str], int], np.ndarray], ClipConfig]:
    import open_clip

    assert src.weights is not None
    name = src.weight_set or src.label
    if src.arch is not None:  # a tokcom weight set: OpenAI weights, QuickGELU
        net = open_clip.create_model(src.arch, pretrained=str(src.weights), force_quick_gelu=True)
        tokenizer = open_clip.get_tokenizer(src.arch)
    elif src.model_dir is not None and src.model_cfg is not None:
        net = open_clip.create_model(f"local-dir:{src.model_dir}")
        tokenizer = open_clip.get_tokenizer(f"local-dir:{src.model_dir}")
    else:  # bare OpenAI-layout checkpoint: config from its shapes
        sd = normalize_state_dict(read_checkpoint(src.weights))
        c = config_from_state_dict(sd, source=name)
        net = open_clip.CLIP(**c.to_open_clip())
        net.load_state_dict(sd, strict=True)
        tokenizer = open_clip.get_tokenizer("ViT-B-32")
    visual = net.visual
    size = getattr(visual, "image_size", 224)
    patch = getattr(visual, "patch_size", 0)
    size = size[0] if isinstance(size, (tuple, list)) else int(size)
    patch = patch[0] if isinstance(patch, (tuple, list)) else int(patch or 0)
    proj = getattr(visual, "proj", None)
    embed = int(proj.shape[1]) if isinstance(proj, torch.Tensor) else int(getattr(visual, "output_dim", 0))
    pre = src.preprocess_cfg
    cfg = ClipConfig(embed_dim=embed, image_size=size, patch_size=patch, vision_width=0, vision_layers=0,
                     context_length=int(getattr(net, "context_length", 77) or 77),
                     mean=tuple(pre.get("mean", OPENAI_MEAN)), std=tuple(pre.get("std", OPENAI_STD)))

    def tok(texts: list[str], n: int) -> np.ndarray:
        return np.asarray(tokenizer(texts, context_length=n))

    return net.float().eval().requires_grad_(False), tok, cfg


# --------------------------------------------------------------------------------------------- wrapper
class ClipModel:
    """A loaded CLIP model (either backend) with tokcom's input conventions.

    Frames are uint8 RGB ``[H, W, 3]`` / ``[B, H, W, 3]``; embeddings are float32 and L2-normalised.
    """

    def __init__(self, net: nn.Module, tokenize: Callable[[list[str], int], np.ndarray], cfg: ClipConfig, *,
                 name: str, backend: str, device: torch.device) -> None:
        self.net = net
        self._tokenize = tokenize
        self.cfg = cfg
        self.name = name
        self.backend = backend
        self.device = device

    @property
    def patch_size(self) -> int:
        """ViT patch side p in pixels (32 for ViT-B/32)."""
        return self.cfg.patch_size

    @property
    def image_size(self) -> int:
        """The model's square input side (224 for the OpenAI models)."""
        return self.cfg.image_size

    @property
    def embed_dim(self) -> int:
        """Joint image–text embedding size D (512 for ViT-B/32)."""
        return self.cfg.embed_dim

    @property
    def context_length(self) -> int:
        return self.cfg.context_length

    def __repr__(self) -> str:
        return (f"ClipModel({self.name!r}, backend={self.backend!r}, patch_size={self.patch_size}, "
                f"image_size={self.image_size}, embed_dim={self.embed_dim}, device={str(self.device)!r})")

    def tokenize(self, texts: Sequence[str]) -> torch.Tensor:
        """Token ids ``[N, context_length], int64`` on the model's device."""
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            raise InputError("no text given to CLIP")
        ids = self._tokenize(list(texts), self.context_length)
        return torch.as_tensor(np.asarray(ids), dtype=torch.long, device=self.device)

    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """L2-normalised text embeddings ``[N, D], float32`` on the model's device."""
        tokens = self.tokenize(texts)
        with torch.inference_mode():
            return F.normalize(self.net.encode_text(tokens).float(), dim=-1)

    def _to_float(self, frames: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.array(frames, dtype=np.uint8)).to(self.device)  # a writable copy
        return x.permute(0, 3, 1, 2).float() / 255.0

    def _normalise(self, x: torch.Tensor) -> torch.Tensor:
        mean = torch.tensor(self.cfg.mean, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.cfg.std, device=x.device).view(1, 3, 1, 1)
        return (x - mean) / std

    def preprocess(self, frames: np.ndarray) -> torch.Tensor:
        """OpenAI CLIP preprocessing: ``[B, H, W, 3]`` uint8 → normalised ``[B, 3, S, S]`` float32.

        Bicubic resize (antialiased) of the short side to S = :attr:`image_size`, centre crop, then the
        model's mean/std.
        """
        frames = _check_frames(frames)
        x = self._to_float(frames)
        s = self.image_size
        h, w = x.shape[2:]
        r = s / min(h, w)
        nh, nw = max(s, round(h * r)), max(s, round(w * r))
        if (nh, nw) != (h, w):
            x = F.interpolate(x, size=(nh, nw), mode="bicubic", align_corners=False, antialias=True).clamp(0, 1)
        top, left = (nh - s) // 2, (nw - s) // 2
        return self._normalise(x[:, :, top:top + s, left:left + s])

    def encode_image(self, frames: np.ndarray, batch_size: int = 16) -> torch.Tensor:
        """L2-normalised image embeddings ``[B, D], float32`` of uint8 frames ``[B, H, W, 3]`` (or ``[H, W, 3]``)."""
        frames = _check_frames(frames)
        out = []
        with torch.inference_mode():
            for i in range(0, len(frames), batch_size):
                x = self.preprocess(frames[i:i + batch_size])
                out.append(F.normalize(self.net.encode_image(x).float(), dim=-1))
        return torch.cat(out)

    def patch_grid(self, height: int, width: int) -> tuple[int, int]:
        """Token grid ``(⌈H/p⌉, ⌈W/p⌉)`` used by :meth:`patch_embeddings` for an ``H×W`` frame."""
        p = self.patch_size
        return max(1, -(-int(height) // p)), max(1, -(-int(width) // p))

    def patch_embeddings(self, frame: np.ndarray, grid: tuple[int, int] | None = None) -> np.ndarray:
        """Per-patch embeddings in the joint image–text space: ``[gh, gw, D], float32``, L2-normalised.

        The whole frame (no crop) is resized bicubically to ``(gh·p, gw·p)`` (by default
        ``(gh, gw) = (⌈H/p⌉, ⌈W/p⌉)``, so a frame whose sides are multiples of p is not resized and
        patch ``(i, j)`` is exactly pixels ``[i·p, (i+1)·p) × [j·p, (j+1)·p)``), normalised, and run through
        the ViT with its position embedding resampled to ``(gh, gw)`` (:func:`resample_pos_embed`). Each
        output patch token (after ``ln_post``) is projected with ``proj`` and L2-normalised.

        Args:
            frame: ``[H, W, 3]`` uint8 RGB.
            grid: token grid ``(gh, gw)``; None for ``(⌈H/p⌉, ⌈W/p⌉)``.
        """
        f = np.asarray(frame)
        if f.ndim != 3:
            raise InputError(f"expected one frame [H, W, 3], got shape {f.shape}")
        f = _check_frames(f)
        gh, gw = grid or self.patch_grid(f.shape[1], f.shape[2])
        if gh < 1 or gw < 1:
            raise InputError(f"invalid patch grid {(gh, gw)}")
        p = self.patch_size
        with torch.inference_mode():
            x = self._to_float(f)
            if x.shape[2:] != (gh * p, gw * p):
                x = F.interpolate(x, size=(gh * p, gw * p), mode="bicubic", align_corners=False,
                                  antialias=True).clamp(0, 1)
            tokens = vit_tokens(self.net.visual, self._normalise(x))[0, 1:]  # [gh·gw, W]
            emb = F.normalize((tokens @ self.net.visual.proj).float(), dim=-1)
        return emb.reshape(gh, gw, -1).cpu().numpy().astype(np.float32)


def _check_frames(frames: np.ndarray) -> np.ndarray:
    f = np.asarray(frames)
    if f.ndim == 3:
        f = f[None]
    if f.ndim != 4 or f.shape[-1] != 3 or f.shape[0] == 0 or min(f.shape[1:3]) == 0:
        raise InputError(f"expected uint8 RGB frames [B, H, W, 3], got shape {f.shape}")
    if f.dtype != np.uint8:
        raise InputError(f"expected uint8 RGB frames, got dtype {f.dtype}")
    return f


_LOADED: dict[tuple[Any, ...], ClipModel] = {}


def load_clip(name_or_path: str | Path = DEFAULT_CLIP, device: str | torch.device = "cpu", *,
              backend: str = "auto") -> ClipModel:
    """Load a CLIP model (cached per model file, device and backend for the life of the process).

    Args:
        name_or_path: weight set (``clip-vit-b-32``), architecture (``ViT-B-32``), open_clip model directory,
            or checkpoint file; see the module docstring.
        device: ``"cpu"`` (default) or ``"cuda"``.
        backend: ``"auto"`` (open_clip when it imports, else built-in), ``"open_clip"`` or ``"builtin"``.

    Raises:
        WeightsUnavailable: the weight set (or, built-in backend, the ``clip-bpe`` vocabulary) is not in
            the cache; the one-line message names ``tokcom models fetch ...``.
        InputError: unknown name, unreadable directory/file, or a model the built-in backend cannot run.
    """
    from tokcom import models
    from tokcom.models.clip_tokenizer import BPE_WEIGHTS

    if backend not in ("auto", "open_clip", "builtin"):
        raise InputError(f"unknown CLIP backend {backend!r}: auto, open_clip or builtin")
    src = _resolve(name_or_path)
    if backend == "auto":
        backend = "open_clip" if open_clip_available() else "builtin"
    elif backend == "open_clip" and not open_clip_available():
        raise TokcomError("CLIP backend open_clip requested but open_clip does not import "
                          "(pip install open_clip_torch torchvision)")
    missing = [] if src.weights is not None else [src.weight_set or src.label]
    if backend == "builtin" and not models.is_cached(BPE_WEIGHTS):
        missing.append(BPE_WEIGHTS)
    if missing:
        hub = [m for m in missing if m != BPE_WEIGHTS]
        note = f" ({', '.join(hub)} from the model hub, or use a local open_clip model directory)" if hub else ""
        raise WeightsUnavailable(f"CLIP weights not in cache: {', '.join(missing)}; run: "
                                 f"{models.fetch_command(*missing)}{note}")
    assert src.weights is not None
    if src.weight_set is not None:
        models.path(src.weight_set)  # sha256 check where pinned
    dev = resolve_device(device)
    st = src.weights.stat()
    key = (str(src.weights.resolve()), st.st_mtime_ns, st.st_size, str(dev), backend)
    if key not in _LOADED:
        net, tok, cfg = (_build_open_clip if backend == "open_clip" else _build_builtin)(src)
        _LOADED[key] = ClipModel(net.to(dev), tok, cfg, name=src.label, backend=backend, device=dev)
    return _LOADED[key]
