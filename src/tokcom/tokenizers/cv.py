"""Built-in continuous causal video tokenizer ``tokcom-cv8x16x16`` (the Cosmos CV interface, paper 000).

The continuous partner of ``tokcom-dv8x16x16`` for TVC's dual stream (003_299bbe4b0e9ae1eb.txt §3.1: ``y^C``
next to the discrete ``y^D``): the same causal encoder/decoder (:class:`~tokcom.tokenizers.nets.CVNet`, a
:class:`~tokcom.tokenizers.nets.CausalVideoAE`) with 16 unquantised latent channels instead of FSQ.

* ``encode(x)``: ``(B,3,1+T,H,W)`` in [-1, 1] → latents ``(B,16,t,h,w)`` float32, ``t = 1 + T/8``,
  ``h = H/16``, ``w = W/16`` (inputs padded by :meth:`pad`).
* ``decode(z)``: ``(B,16,t,h,w)`` → ``(B,3,1+(t-1)·8,16h,16w)`` float32 in [-1, 1].
* ``encode_frames(frames)`` / ``decode_frames(latents, T, H, W)``: whole clips in bounded memory with the
  exact causal context (``[16, t, h, w]`` float32 latents), as the DV tokenizers do.

Weights: ``weights/tokcom-cv8x16x16.safetensors`` + ``.json`` (shipped, trained with ``tokcom train --model
tokcom-cv8x16x16``; model card in docs/tokenizers.md); ``random_init=SEED`` asks for a deterministic random
initialisation (tests, untrained pipelines); a ``path`` without the files raises a one-line
``WeightsUnavailable``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tokcom.tokenizers.base import ContinuousVideoTokenizer, VideoTokenizerSpec
from tokcom.tokenizers.dv import StreamingCausalAE
from tokcom.tokenizers.nets import CVNet
from tokcom.tokenizers.weights_io import load_tensors

#: the architecture of ``tokcom-cv8x16x16`` (the DV tokenizer's, with 16 continuous channels)
CV_ARCH = {"temporal_factor": 8, "spatial_factor": 16, "width": 64, "latent_channels": 16}


def build_cv_net(arch: dict) -> CVNet:
    return CVNet(int(arch["temporal_factor"]), int(arch["spatial_factor"]), int(arch["width"]),
                 int(arch["latent_channels"]))


class BuiltinContinuous(StreamingCausalAE, ContinuousVideoTokenizer):
    """tokcom's own causal continuous video tokenizer (16 latent channels)."""

    _time_axis = 1  # latents are [C, t, h, w]

    @classmethod
    def load(cls, name: str, device: str = "cpu", dtype: str = "fp32", path: str | Path | None = None,
             random_init: int | None = None, arch: dict | None = None, **_: object) -> BuiltinContinuous:
        """Load trained weights (``path``: a folder with ``<name>.safetensors/.json``); ``random_init=SEED``:
        a seeded random initialisation instead (``arch`` may then override :data:`CV_ARCH`, e.g. a small
        ``width`` for tests). Raises ``WeightsUnavailable`` (one line) when the weights are absent."""
        if random_init is not None:
            a = {**CV_ARCH, **(arch or {})}
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(random_init))
                net = build_cv_net(a)
            record = {"name": name, "arch": a, "weights": f"random-init (seed {int(random_init)})"}
        else:
            sd, record = load_tensors(name, path)
            a = record["arch"]
            net = build_cv_net(a)
            net.load_state_dict(sd)
        spec = VideoTokenizerSpec(name, "continuous", int(a["temporal_factor"]), int(a["spatial_factor"]), 0,
                                  int(a["latent_channels"]), None)
        return cls(spec, net, device, dtype, record)

    @property
    def trained(self) -> bool:
        return "sha256" in self.record

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.encode_latent(self.pad(x).to(self._device, self.dtype)).float()

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.net.decode_codes(z.to(self._device, self.dtype)).float().clamp(-1, 1)

    def _emit(self, z: torch.Tensor) -> np.ndarray:
        return z[0].float().cpu().numpy().astype(np.float32)

    def _absorb(self, latents: torch.Tensor, c0: int, b: int) -> torch.Tensor:
        return latents[None, :, c0:b].to(torch.float32)
