"""Built-in discrete causal video tokenizers ``tokcom-dv4x8x8`` and ``tokcom-dv8x16x16``.

Same I/O as Cosmos DV (paper 000): ``encode`` ``(B,3,1+T,H,W)`` in [-1,1] → ``(indices (B,t,h,w) int64,
codes (B,6,t,h,w))`` with FSQ levels (8,8,8,5,5,5) = 64000 tokens (16 bits); ``decode(indices)`` → video.
They also expose the continuous pre-quantisation latent (``encode_latent`` / ``decode_latent``, and
:meth:`BuiltinDV.as_continuous` as a :class:`ContinuousVideoTokenizer`), which TVC needs alongside the tokens.
Network: :class:`tokcom.tokenizers.nets.DVNet`. Weights: ``weights/<name>.safetensors`` (fp16) + ``.json``.
"""

from __future__ import annotations

from pathlib import Path

import torch

from tokcom.tokenizers.base import ContinuousVideoTokenizer, DiscreteVideoTokenizer, VideoTokenizerSpec
from tokcom.tokenizers.nets import DVNet
from tokcom.tokenizers.weights_io import load_tensors

_DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16,
           "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}


def resolve_dtype(dtype: str | torch.dtype | None) -> torch.dtype:
    from tokcom.errors import InputError

    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        return dtype
    if str(dtype).lower() not in _DTYPES:
        raise InputError(f"unknown dtype {dtype!r}; valid: fp32, bf16, fp16")
    return _DTYPES[str(dtype).lower()]


def resolve_device(device: str | torch.device | None) -> torch.device:
    from tokcom.errors import TokcomError

    d = torch.device(device or "cpu")
    if d.type == "cuda" and not torch.cuda.is_available():
        raise TokcomError("device cuda requested but CUDA is not available")
    return d


class BuiltinDV(DiscreteVideoTokenizer):
    """tokcom's own causal DV tokenizer (FSQ 64000 tokens, 16 bits per token)."""

    temporal_context = 2  # DVNet's one causal Res3d (temporal kernel 3) on each side of the bottleneck

    def __init__(self, spec: VideoTokenizerSpec, net: DVNet, device: str | torch.device = "cpu",
                 dtype: str | torch.dtype = "fp32", record: dict | None = None) -> None:
        self.spec = spec
        self._device = resolve_device(device)
        self.dtype = resolve_dtype(dtype)
        self.net = net.to(self._device, self.dtype).eval()
        self.record = record or {}

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
