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

import numpy as np

from tokcom.errors import InputError
from tokcom.video.transform import from_tensor, to_tensor

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

        _check_video(x)
        t = x.shape[2]
        tp = padded_frames(t, self.temporal_factor)
        if tp > t:
            x = torch.cat([x, x[:, :, -1:].expand(-1, -1, tp - t, -1, -1)], dim=2)
        return self.pad_space(x)

    def pad_space(self, x: torch.Tensor) -> torch.Tensor:
        """Pad ``(B, 3, T, H, W)`` to multiples of ``sf`` in H and W (replicate), time untouched."""
        import torch.nn.functional as F

        _, _, _, h, w = x.shape
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

    CHUNK_PIXELS = 1 << 22
    """Input pixels (frames × H × W) per forward pass of ``encode_frames`` / ``decode_frames``."""

    def _chunk_latents(self, height: int, width: int) -> int:
        return max(1, self.CHUNK_PIXELS // max(1, self.temporal_factor * height * width))


def _check_video(x: Any) -> None:
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

    # -- whole clips in bounded memory ------------------------------------------------------------------
    temporal_context: int | None = None
    """Latent frames of past context each latent frame depends on, when that is bounded (tokcom's causal DV
    tokenizers: 2); None: unknown, so clips are encoded and decoded whole."""

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """uint8 ``[T, H, W, 3]`` → token indices ``[t, h, w]`` int64, a chunk of latent frames at a time.

        Each chunk re-encodes the :attr:`temporal_context` latent frames before it (then drops them), so the
        result is the whole-clip encoding while the float copies and activations cover one chunk only.
        Chunk sizes depend on the frame size alone, so results do not depend on the machine.
        """
        import torch

        frames = np.asarray(frames)
        T, H, W = frames.shape[:3]
        tf = self.temporal_factor
        t = causal_latent_frames(T, tf)
        src = np.minimum(np.arange(padded_frames(T, tf)), T - 1)  # frame index of each padded frame
        step, ctx = self._chunk_latents(H, W), self.temporal_context
        if ctx is None or t <= step:
            with torch.inference_mode():
                return self.encode(to_tensor(frames[src], device=self.device))[0][0].cpu().numpy().astype(np.int64)
        out = []
        with torch.inference_mode():
            for a in range(0, t, step):
                b = min(t, a + step)
                c0 = a - ctx  # first context latent
                if c0 <= 0:  # the chunk can start at the clip's start (latent 0 is frame 0 alone)
                    sel = src[: 1 + (b - 1) * tf]
                else:  # a dummy first frame stands for latent 0; latents c0 … b−1 follow
                    body = src[1 + (c0 - 1) * tf: 1 + (b - 1) * tf]
                    sel = np.concatenate([body[:1], body])
                keep = b - a
                idx = self.encode(to_tensor(frames[sel], device=self.device))[0][0]
                out.append(idx[-keep:].cpu().numpy().astype(np.int64))
        return np.concatenate(out)

    def decode_frames(self, indices: np.ndarray, num_frames: int, height: int, width: int) -> np.ndarray:
        """Token indices ``[t, h, w]`` → uint8 ``[num_frames, height, width, 3]``, a chunk at a time (each
        chunk decodes its :attr:`temporal_context` latent frames of context first), written into one array."""
        import torch

        z = torch.from_numpy(np.ascontiguousarray(indices, dtype=np.int64))
        t = z.shape[0]
        tf = self.temporal_factor
        step, ctx = self._chunk_latents(height, width), self.temporal_context
        out = np.empty((num_frames, height, width, 3), np.uint8)
        if ctx is None or t <= step:
            with torch.inference_mode():
                x = self.decode(z[None].to(self.device))
            out[:] = from_tensor(x[:, :, :num_frames, :height, :width].float().cpu())[0]
            return out
        with torch.inference_mode():
            for a in range(0, t, step):
                b = min(t, a + step)
                c0 = max(0, a - ctx)  # context latents c0 … a−1 are decoded, then dropped
                x = self.decode(z[None, c0:b].to(self.device))
                n_keep = (1 + (b - 1) * tf) if a == 0 else (b - a) * tf
                f0 = 0 if a == 0 else 1 + (a - 1) * tf  # first output frame of latent a
                f1 = min(num_frames, f0 + n_keep)
                if f1 > f0:
                    out[f0:f1] = from_tensor(x[:, :, -n_keep:][:, :, : f1 - f0, :height, :width].float().cpu())[0]
        return out


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
