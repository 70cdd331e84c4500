"""Built-in discrete causal video tokenizers ``tokcom-dv4x8x8`` and ``tokcom-dv8x16x16``.

Same I/O as Cosmos DV (paper 000): ``encode`` ``(B,3,1+T,H,W)`` in [-1,1] → ``(indices (B,t,h,w) int64,
codes (B,6,t,h,w))`` with FSQ levels (8,8,8,5,5,5) = 64000 tokens (16 bits); ``decode(indices)`` → video.
They also expose the continuous pre-quantisation latent (``encode_latent`` / ``decode_latent``, and
:meth:`BuiltinDV.as_continuous` as a :class:`ContinuousVideoTokenizer`), which TVC needs alongside the tokens.
Network: :class:`tokcom.tokenizers.nets.DVNet`. Weights: ``weights/<name>.safetensors`` (fp16) + ``.json``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tokcom.devices import resolve_device
from tokcom.errors import InputError
from tokcom.tokenizers.base import (
    ContinuousVideoTokenizer,
    DiscreteVideoTokenizer,
    VideoTokenizerSpec,
    causal_latent_frames,
    padded_frames,
)
from tokcom.tokenizers.nets import DVNet
from tokcom.tokenizers.weights_io import load_tensors
from tokcom.video.transform import from_tensor, to_tensor

_DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16,
           "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype:
    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    if str(dtype).lower() not in _DTYPES:
        raise InputError(f"unknown dtype {dtype!r}; valid: fp32, bf16, fp16")
    return _DTYPES[str(dtype).lower()]


class StreamingCausalAE:
    """Whole clips in bounded memory for tokenizers built on :class:`~tokcom.tokenizers.nets.CausalVideoAE`
    (``self.net``), each latent frame computed once. Subclasses say what the bottleneck emits and takes:
    :meth:`_emit` (latent ``(1, D, n, h, w)`` float → numpy chunk) and :meth:`_absorb` (a chunk of the
    stored latents → ``(1, D, n, h, w)`` decoder input); chunks are joined along :attr:`_time_axis`."""

    temporal_context = 2  # the causal Res3d (temporal kernel 3) on each side of the bottleneck
    _time_axis = 0

    def __init__(self, spec: VideoTokenizerSpec, net: torch.nn.Module, device: str | torch.device = "cpu",
                 dtype: str | torch.dtype = "fp32", record: dict | None = None) -> None:
        self.spec = spec
        self._device = resolve_device(device)
        self.dtype = resolve_dtype(dtype)
        self.net = net.to(self._device, self.dtype).eval()
        self.record = record or {}

    def _emit(self, z: torch.Tensor) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _absorb(self, latents: torch.Tensor, c0: int, b: int) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- whole clips in bounded memory, each latent frame computed once ---------------------------------
    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """uint8 ``[T, H, W, 3]`` → the latents (DV: indices ``[t, h, w]`` int64; CV: ``[C, t, h, w]`` float32),
        streaming: the 2D encoder runs once per latent
        frame, a chunk at a time; the causal temporal block sees the 2D features of the
        :attr:`temporal_context` latent frames before each chunk, carried over — so the result is the
        whole-clip encoding without recomputing anything."""
        frames = np.asarray(frames)
        T, H, W = frames.shape[:3]
        tf, ctx = self.temporal_factor, int(self.temporal_context)
        t = causal_latent_frames(T, tf)
        src = np.minimum(np.arange(padded_frames(T, tf)), T - 1)
        step = self._chunk_latents(H, W)
        out, cache = [], None
        with torch.inference_mode():
            for a in range(0, t, step):
                b = min(t, a + step)
                if a == 0:  # latent 0 is frame 0 (causally padded); group_frames builds it
                    x = self.pad(to_tensor(frames[src[: 1 + (b - 1) * tf]], device=self._device, dtype=self.dtype))
                    g = self.net.group_frames(x)
                else:
                    x = self.pad_space(to_tensor(frames[src[1 + (a - 1) * tf: 1 + (b - 1) * tf]],
                                                 device=self._device, dtype=self.dtype))
                    _, c, n, hh, ww = x.shape
                    g = x.reshape(1, c, n // tf, tf, hh, ww).permute(0, 2, 1, 3, 4, 5).reshape(n // tf, c * tf, hh, ww)
                f2d = self.net.encode_groups(g).unsqueeze(0).transpose(1, 2)  # (1, C, b−a, h, w)
                full = f2d if cache is None else torch.cat([cache, f2d], dim=2)
                z = self.net.encode_tail(full).float()[:, :, full.shape[2] - (b - a):]
                out.append(self._emit(z))
                cache = full[:, :, -ctx:]
        return np.concatenate(out, axis=self._time_axis)

    def decode_frames(self, indices: np.ndarray, num_frames: int, height: int, width: int) -> np.ndarray:
        """Latents (as :meth:`encode_frames` gives them) → uint8 ``[num_frames, height, width, 3]``, a chunk
        at a time: the temporal block sees :attr:`temporal_context` latent frames of context, the 2D decoder runs only on the chunk's
        own latent frames; frames are written into one array."""
        z = torch.from_numpy(np.ascontiguousarray(indices))
        t, tf, ctx = z.shape[self._time_axis], self.temporal_factor, int(self.temporal_context)
        step = self._chunk_latents(height, width)
        out = np.empty((num_frames, height, width, 3), np.uint8)
        with torch.inference_mode():
            for a in range(0, t, step):
                b = min(t, a + step)
                c0 = max(0, a - ctx)
                codes = self._absorb(z, c0, b).to(self._device, self.dtype)
                y = self.net.decode_tail(codes)[:, :, a - c0:]
                x = self.net.decode_groups(y).float().clamp(-1, 1)
                if a == 0:
                    x = x[:, :, tf - 1:]  # latent 0 yields frame 0 only
                f0 = 0 if a == 0 else 1 + (a - 1) * tf
                f1 = min(num_frames, f0 + x.shape[2])
                if f1 > f0:
                    out[f0:f1] = from_tensor(x[:, :, : f1 - f0, :height, :width].cpu())[0]
        return out


class BuiltinDV(StreamingCausalAE, DiscreteVideoTokenizer):
    """tokcom's own causal DV tokenizer (FSQ 64000 tokens, 16 bits per token)."""

    temporal_context = 2  # DVNet's one causal Res3d (temporal kernel 3) on each side of the bottleneck

    @classmethod
    def load(cls, name: str, device: str = "cpu", dtype: str = "fp32", path: str | Path | None = None,
             **_: object) -> BuiltinDV:
        """Load shipped weights (``path``: a folder holding ``<name>.safetensors/.json`` instead)."""
        sd, cfg = load_tensors(name, path)
        a = cfg["arch"]
        net = DVNet(a["temporal_factor"], a["spatial_factor"], a["width"], tuple(a["levels"]))
        net.load_state_dict(sd)
        spec = VideoTokenizerSpec(name, "discrete", a["temporal_factor"], a["spatial_factor"],
                                  net.fsq.codebook_size, net.fsq.dim, tuple(a["levels"]))
        return cls(spec, net, device, dtype, cfg)

    @torch.no_grad()
    def encode_latent(self, x: torch.Tensor) -> torch.Tensor:
        """``(B,3,1+T,H,W)`` → continuous pre-quantisation latent ``(B,6,t,h,w)`` float32 in [-1, 1]."""
        z = self.net.encode_latent(self.pad(x).to(self._device, self.dtype)).float()
        return self.net.fsq.continuous(z)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.net.encode_latent(self.pad(x).to(self._device, self.dtype)).float()
        codes, idx = self.net.fsq(z)
        return idx, codes

    @torch.no_grad()
    def decode_latent(self, z: torch.Tensor) -> torch.Tensor:
        """``(B,6,t,h,w)`` codes or continuous latents → ``(B,3,1+(t-1)·tf,h·sf,w·sf)`` float32."""
        return self.net.decode_codes(z.to(self._device, self.dtype)).float().clamp(-1, 1)

    @torch.no_grad()
    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        codes = self.net.fsq.indices_to_codes(indices.to(self._device))
        return self.decode_latent(codes)

    def _emit(self, z: torch.Tensor) -> np.ndarray:
        return self.net.fsq(z)[1][0].cpu().numpy().astype(np.int64)

    def _absorb(self, latents: torch.Tensor, c0: int, b: int) -> torch.Tensor:
        return self.net.fsq.indices_to_codes(latents[None, c0:b].to(torch.int64).to(self._device))

    def as_continuous(self) -> BuiltinCV:
        """The same network as a continuous tokenizer (latent = bounded pre-quantisation latent)."""
        return BuiltinCV(self)


class BuiltinCV(ContinuousVideoTokenizer):
    """Continuous view of a :class:`BuiltinDV` (shares its weights)."""

    def __init__(self, dv: BuiltinDV) -> None:
        self.dv = dv
        s = dv.spec
        self.spec = VideoTokenizerSpec(s.name + ":continuous", "continuous", s.temporal_factor,
                                       s.spatial_factor, 0, s.latent_channels, s.levels)
        self._device = dv._device

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.dv.encode_latent(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dv.decode_latent(z)
