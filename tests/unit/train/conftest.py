"""Fixtures of the training-engine tests: tiny sources of every kind, written without PyAV.

Every source is made of flat colours, so a drawn pixel's value says where it came from (crops, flips,
resizes and still-motion warps keep a flat colour): that is how the tests see exclusions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from train_testutil import VIMEO, VIMEO_TEST, VIMEO_TRAIN, write_corpus


@pytest.fixture(scope="session")
def stills(tmp_path_factory) -> Path:
    """Two smooth random 96×96 PNG stills, plus the held-out names as (undecodable) files."""
    import cv2

    d = tmp_path_factory.mktemp("stills")
    rng = np.random.default_rng(0)
    for i in range(2):
        small = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
        cv2.imwrite(str(d / f"im{i}.png"), cv2.resize(small, (96, 96), interpolation=cv2.INTER_CUBIC))
    (d / "bikes.mp4").write_bytes(b"not a video: must never be opened")
    (d / "cityCC0.mpg").write_bytes(b"not a video either")
    return d


@pytest.fixture(scope="session")
def flat_stills(tmp_path_factory) -> Path:
    """Two flat-colour stills (values 120 and 130)."""
    import cv2

    d = tmp_path_factory.mktemp("flat")
    for v in (120, 130):
        cv2.imwrite(str(d / f"flat{v}.png"), np.full((80, 80, 3), v, np.uint8))
    return d


@pytest.fixture(scope="session")
def vimeo_root(tmp_path_factory) -> Path:
    """A Vimeo-90K septuplet root: ``sequences/XXXXX/YYYY/im1..7.png`` + the two list files."""
    import cv2

    root = tmp_path_factory.mktemp("vimeo_septuplet")
    for sid, v in VIMEO.items():
        folder = root / "sequences" / sid
        folder.mkdir(parents=True)
        for i in range(1, 8):
            cv2.imwrite(str(folder / f"im{i}.png"), np.full((48, 64, 3), v, np.uint8))
    (root / "sep_trainlist.txt").write_text("\n".join(VIMEO_TRAIN) + "\n")
    (root / "sep_testlist.txt").write_text("\n".join(VIMEO_TEST) + "\n")
    return root


@pytest.fixture(scope="session")
def shard_dir(tmp_path_factory) -> Path:
    """A shard export (``tokcom data export`` format) of a corpus that holds the held-out cityCC0."""
    from tokcom.data import Corpus, export_corpus

    root = tmp_path_factory.mktemp("corpus")
    write_corpus(root)
    out = tmp_path_factory.mktemp("shards")
    export_corpus(Corpus(root), out, max_mib=1.0, frames=6, size=48, seed=0)
    return out
