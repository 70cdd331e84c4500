"""Tokenizer interfaces: discrete video (Cosmos DV-style), continuous video (Cosmos CV-style) and
progressive per-frame 1D tokenizers (ResiTok-style, paper 001 §III-C / §IV-A).

Layout (ARCHITECTURE.md convention 3): videos are ``(B, 3, T, H, W)`` float in ``[-1, 1]``, made only by
:func:`tokcom.video.to_tensor` / :func:`tokcom.video.from_tensor`.

Causal video rules (Cosmos, paper 000): with temporal factor ``tf`` and spatial factor ``sf`` a clip of
``1 + T`` frames (``T`` a multiple of ``tf``) becomes ``t = 1 + T / tf`` latent frames: frame 0 alone, then
each group of ``tf`` frames; ``h = H / sf``, ``w = W / sf``. Other sizes are padded (:meth:`pad`): frames at
the end by repeating the last frame up to the next ``1 + k·tf``, rows/columns at the bottom/right by
replication up to a multiple of ``sf``; :meth:`reconstruct` crops the decoded clip back.

This module imports torch only inside functions.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = [
    "ContinuousVideoTokenizer",
    "DiscreteVideoTokenizer",
    "ProgressiveTokenizer",
    "VideoTokenizerSpec",
    "causal_latent_frames",
    "padded_frames",
]


def causal_latent_frames(frames: int, temporal_factor: int) -> int:
    """Latent frames for ``frames`` input frames: ``1 + ceil((frames - 1) / tf)`` (frame 0 alone)."""
    if frames < 1:
        raise ValueError(f"need at least one frame; got {frames}")
    return 1 + math.ceil((frames - 1) / temporal_factor)


def padded_frames(frames: int, temporal_factor: int) -> int:
    """Frames after causal padding: the smallest ``1 + k·tf ≥ frames``."""
    return 1 + (causal_latent_frames(frames, temporal_factor) - 1) * temporal_factor


@dataclass(frozen=True)
class VideoTokenizerSpec:
    """Static description of a video tokenizer.

    Attributes:
        name: registry name (``tokcom-dv4x8x8``, ``cosmos-dv4x8x8``).
        kind: ``discrete`` | ``continuous`` | ``progressive``.
        temporal_factor: input frames per latent frame after frame 0 (1 for per-frame tokenizers).
        spatial_factor: input pixels per latent position along H and W.
        codebook_size: number of token values (0 for continuous tokenizers).
        latent_channels: channels of the code / continuous latent (FSQ dimension for discrete ones).
        levels: FSQ levels, when the tokenizer uses FSQ.
    """

    name: str
    kind: str
    temporal_factor: int
    spatial_factor: int
    codebook_size: int
    latent_channels: int
    levels: tuple[int, ...] | None = None

    @property
    def bits_per_token(self) -> int:
        """``ceil(log2(codebook_size))`` (16 for 64000 tokens, 12 for 4096); 0 for continuous tokenizers."""
        return math.ceil(math.log2(self.codebook_size)) if self.codebook_size > 1 else 0


class _VideoBase(ABC):
    """Shared geometry of the video tokenizers (spec, latent shape, padding, cropping)."""

    spec: VideoTokenizerSpec

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def temporal_factor(self) -> int:
        return self.spec.temporal_factor

    @property
    def spatial_factor(self) -> int:
        return self.spec.spatial_factor

    def latent_shape(self, frames: int, height: int, width: int) -> tuple[int, int, int]:
        """``(t, h, w)`` of the latent grid for a ``frames × height × width`` clip (after padding)."""
        sf = self.spatial_factor
        return (causal_latent_frames(frames, self.temporal_factor), math.ceil(height / sf),
                math.ceil(width / sf))

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """Pad ``(B, 3, T, H, W)`` to ``1 + k·tf`` frames (repeat last) and multiples of ``sf`` (replicate)."""
        import torch
        import torch.nn.functional as F

        _check_video(x)
        _, _, t, h, w = x.shape
        tp = padded_frames(t, self.temporal_factor)
        if tp > t:
            x = torch.cat([x, x[:, :, -1:].expand(-1, -1, tp - t, -1, -1)], dim=2)
        sf = self.spatial_factor
        ph, pw = (-h) % sf, (-w) % sf
        if ph or pw:
            b, c, tt = x.shape[:3]
            y = F.pad(x.reshape(b, c * tt, h, w), (0, pw, 0, ph), mode="replicate")
            x = y.reshape(b, c, tt, h + ph, w + pw)
        return x

    @property
    def device(self) -> torch.device:
        import torch

        return torch.device(getattr(self, "_device", "cpu"))


def _check_video(x: Any) -> None:
    from tokcom.errors import InputError

    if getattr(x, "ndim", None) != 5 or x.shape[1] != 3:
        raise InputError(f"tokenizer input must be (B,3,T,H,W) in [-1,1]; got {tuple(getattr(x, 'shape', ()))}")


class DiscreteVideoTokenizer(_VideoBase):
    """Discrete causal video tokenizer (Cosmos DV interface).

    ``encode(x)``: ``x`` ``(B, 3, 1+T, H, W)`` float in [-1, 1] → ``(indices, codes)`` with ``indices``
    ``(B, t, h, w)`` int64 in ``[0, codebook_size)`` and ``codes`` ``(B, D, t, h, w)`` float (the FSQ code
    vectors in [-1, 1]; ``D = len(levels)``). Inputs are padded by :meth:`pad` first.

    ``decode(indices)``: ``(B, t, h, w)`` int64 → ``(B, 3, 1 + (t-1)·tf, h·sf, w·sf)`` float in [-1, 1].
    """

    @property
    def codebook_size(self) -> int:
        return self.spec.codebook_size

    @property
    def bits_per_token(self) -> int:
        return self.spec.bits_per_token

    @abstractmethod
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B,3,1+T,H,W)`` → ``(indices (B,t,h,w) int64, codes (B,D,t,h,w) float)``."""

    @abstractmethod
    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        """``(B,t,h,w)`` int64 → ``(B,3,1+(t-1)·tf,h·sf,w·sf)`` float in [-1, 1]."""

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Encode then decode, cropped back to ``x``'s shape."""
        _, _, t, h, w = x.shape
        idx, _ = self.encode(x)
        return self.decode(idx)[:, :, :t, :h, :w]


class ContinuousVideoTokenizer(_VideoBase):
    """Continuous causal video tokenizer (Cosmos CV interface).

    ``encode(x)``: ``(B, 3, 1+T, H, W)`` → latents ``(B, C, t, h, w)`` float.
    ``decode(z)``: ``(B, C, t, h, w)`` → ``(B, 3, 1 + (t-1)·tf, h·sf, w·sf)`` float in [-1, 1].
    """

    @property
    def latent_channels(self) -> int:
        return self.spec.latent_channels

    @abstractmethod
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(B,3,1+T,H,W)`` → ``(B,C,t,h,w)`` float."""

    @abstractmethod
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """``(B,C,t,h,w)`` → ``(B,3,1+(t-1)·tf,h·sf,w·sf)`` float in [-1, 1]."""

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        _, _, t, h, w = x.shape
        return self.decode(self.encode(x))[:, :, :t, :h, :w]


class ProgressiveTokenizer(ABC):
    """Per-frame, importance-ordered, prefix-decodable 1D tokenizer (ResiTok interface, paper 001).

    Every frame of ``(B, 3, T, H, W)`` becomes ``L = num_tokens(H, W)`` tokens, most important first.
    ``decode`` accepts any token state in which some positions hold :attr:`zero_token` (the reserved
    zero-flag: "not received"); quality is non-decreasing in the received prefix length.

    ``encode(x)``: ``(B, 3, T, H, W)`` float in [-1, 1] → tokens ``(B, T, L)`` int64 in ``[0, codebook_size)``.
    ``decode(tokens, size)``: ``(B, T, L)`` int64 (values in ``[0, codebook_size]``, ``codebook_size`` =
    zero-flag) and ``size = (H, W)`` → ``(B, 3, T, H, W)`` float in [-1, 1].
    """

    name: str
    codebook_size: int
    spatial_factor: int

    @property
    def bits_per_token(self) -> int:
        """``log2`` of the vocabulary (12 for 4096); the zero-flag is never transmitted."""
        return math.ceil(math.log2(self.codebook_size))

    @property
    def zero_token(self) -> int:
        """The reserved zero-flag index (``codebook_size``)."""
        return self.codebook_size

    def num_tokens(self, height: int, width: int) -> int:
        """Tokens per frame: ``ceil(H/sf)·ceil(W/sf)`` (256 at 256×256)."""
        sf = self.spatial_factor
        return math.ceil(height / sf) * math.ceil(width / sf)

    def truncate(self, tokens: torch.Tensor, k: int) -> torch.Tensor:
        """Keep the first ``k`` tokens of every frame; the rest become the zero-flag."""
        out = tokens.clone()
        out[..., k:] = self.zero_token
        return out

    @abstractmethod
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(B,3,T,H,W)`` → ``(B,T,L)`` int64."""

    @abstractmethod
    def decode(self, tokens: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """``(B,T,L)`` int64 (zero-flag allowed), ``size=(H,W)`` → ``(B,3,T,H,W)`` float in [-1, 1]."""

    def reconstruct(self, x: torch.Tensor, prefix: int | None = None) -> torch.Tensor:
        """Encode, keep ``prefix`` tokens per frame (all when None), decode at ``x``'s size."""
        tok = self.encode(x)
        if prefix is not None:
            tok = self.truncate(tok, prefix)
        return self.decode(tok, (x.shape[3], x.shape[4]))
