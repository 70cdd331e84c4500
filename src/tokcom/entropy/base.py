"""What the entropy models share: result types, quantisation for training, the lower bound, and the
deterministic CPU context in which coding-side parameters are computed."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import torch

from tokcom.errors import InputError

__all__ = [
    "MODES",
    "Decompressed",
    "EntropyOutput",
    "deterministic_cpu",
    "gaussian_likelihood",
    "lower_bound",
    "quantize",
]

#: Training-path quantisation modes: additive uniform noise, straight-through rounding, plain rounding.
MODES = ("noise", "ste", "round")


@dataclass(frozen=True)
class EntropyOutput:
    """The training path's result.

    Attributes:
        values: the quantised (``round``/``ste``) or noisy (``noise``) tensor, shape of the input.
        likelihoods: ``p(values)`` per element, same shape, in ``(0, 1]``; differentiable.
    """

    values: torch.Tensor
    likelihoods: torch.Tensor

    def bits(self) -> torch.Tensor:
        """Estimated bits ``-Σ log2 likelihoods`` (scalar tensor, differentiable)."""
        return -torch.log2(self.likelihoods).sum()


class Decompressed(NamedTuple):
    """What ``decompress`` returns; unpacks as ``values, ok = model.decompress(...)``.

    Attributes:
        values: the decoded tensor (zeros where the stream could not be decoded).
        ok: the stream's CRC matched and every segment decoded.
    """

    values: torch.Tensor
    ok: bool


class _LowerBound(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, bound: float) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.bound = bound
        return x.clamp_min(bound)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        # pass the gradient where x is above the bound, or where descent would push x up towards it
        keep = (x >= ctx.bound) | (grad < 0)
        return grad * keep.to(grad.dtype), None


def lower_bound(x: torch.Tensor, bound: float) -> torch.Tensor:
    """``max(x, bound)`` whose gradient still flows where it would raise ``x`` (Ballé et al. 2018)."""
    return _LowerBound.apply(x, float(bound))


def quantize(
    x: torch.Tensor,
    mode: str,
    means: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Quantise for the training path.

    Args:
        x: any shape, float.
        mode: ``"noise"`` (``x + U(-½, ½)``; the means do not matter), ``"ste"`` (``round(x - μ) + μ``,
            straight-through gradient) or ``"round"`` (the same without gradient tricks).
        means: broadcastable to ``x``; ``None`` for 0.
        generator: the noise source of ``"noise"`` mode.
    """
    if mode == "noise":
        u = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype) - 0.5
        return x + u
    if mode not in ("ste", "round"):
        raise InputError(f"quantisation mode must be one of {MODES}; got {mode!r}")
    r = x if means is None else x - means
    q = torch.round(r)
    if mode == "ste":
        q = r + (q - r).detach()
    return q if means is None else q + means


def gaussian_likelihood(
    values: torch.Tensor, means: torch.Tensor, scales: torch.Tensor, likelihood_bound: float = 1e-9
) -> torch.Tensor:
    """``P(v) = Φ((½ - |v - μ|)/σ) - Φ((-½ - |v - μ|)/σ)``: the Gaussian convolved with ``U(-½, ½)``
    (eq. (13)/(14), 002_165f6aebfafa3581.txt), in the symmetric form that stays precise in the tails,
    lower-bounded by ``likelihood_bound``. ``scales`` must already be positive."""
    v = torch.abs(values - means)
    upper = 0.5 * torch.erfc(-(0.5 - v) / (scales * math.sqrt(2.0)))
    lower = 0.5 * torch.erfc(-(-0.5 - v) / (scales * math.sqrt(2.0)))
    return lower_bound(upper - lower, likelihood_bound)


@contextlib.contextmanager
def deterministic_cpu() -> Iterator[None]:
    """No gradients and one intra-op thread: the context net outputs that select coding tables are then
    the same bits in the encoder and the decoder (and across processes on the same build)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.no_grad():
            yield
    finally:
        torch.set_num_threads(threads)


def check_data(data: object) -> bytes:
    """``data`` as bytes, or InputError when it is not bytes-like (a programming error, not corruption)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(f"compressed data must be bytes; got {type(data).__name__}")
    return bytes(data)


def check_finite(x: torch.Tensor, name: str) -> None:
    if not torch.isfinite(x).all():
        raise InputError(f"{name} has non-finite values; entropy coding needs finite inputs")
