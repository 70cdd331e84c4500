"""One home for turning a user's ``--device`` string into a ``torch.device`` (torch imported lazily).

Every entry point that takes ``--device`` (run, sweep, metrics, tokenizers, training, the link's bit-true
PHY) resolves it here, so a wrong name or ``cuda`` on a machine without CUDA is the same one-line
:class:`~tokcom.errors.InputError` everywhere instead of a traceback from deep inside a model.
"""

from __future__ import annotations

import re
from typing import Any

from tokcom.errors import InputError

_DEVICE = re.compile(r"^(cpu|cuda(:\d+)?)$")


def check_device_name(device: str | None) -> str:
    """``device`` normalised (lower case, ``None`` → ``"cpu"``); a name other than cpu / cuda / cuda:N → InputError.

    Needs no torch: the CLI calls it before anything heavy is loaded."""
    name = str(device if device is not None else "cpu").strip().lower()
    if not _DEVICE.match(name):
        raise InputError(f"--device must be cpu, cuda or cuda:N; got {device!r}")
    return name


def resolve_device(device: Any = None) -> Any:
    """A ``torch.device`` for ``device`` (a name or a ``torch.device``; ``None`` → cpu).

    Raises InputError (one line) for an unknown name, for CUDA where torch has none, or for a CUDA index
    beyond the GPUs present."""
    import torch

    if isinstance(device, torch.device):
        d = device
    else:
        d = torch.device(check_device_name(device))
    if d.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError(f"device {d} requested but CUDA is not available here (torch {torch.__version__})")
        if d.index is not None and d.index >= torch.cuda.device_count():
            raise InputError(f"device {d} requested but only {torch.cuda.device_count()} CUDA device(s) are present")
    return d


def check_device(device: str | None) -> str:
    """The normalised device name, checked as :func:`resolve_device` checks it; torch is imported only
    when CUDA is asked for, so a CPU run of a scheme without torch (h264, h265) stays light."""
    name = check_device_name(device)
    if name != "cpu":
        resolve_device(name)
    return name
