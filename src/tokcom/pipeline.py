"""``simulate``: the one data path, and nothing more.

    Video ─► Scheme.encode ─► Transmission ─► Link.carry ─► Reception ─► Scheme.decode ─► Video ─► metrics ─► Result
"""

from __future__ import annotations

import math
import platform
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from tokcom.types import VALID_FRACTION, Rate, Result, Video


def stage_rngs(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for the encoder, the link and the decoder, all derived from ``seed``."""
    enc, link, dec = np.random.SeedSequence(int(seed)).spawn(3)
    return {"encode": np.random.default_rng(enc), "link": np.random.default_rng(link),
            "decode": np.random.default_rng(dec)}


def versions() -> dict[str, str]:
    """Versions of tokcom and of the libraries that shaped the numbers (those that are loaded)."""
    from tokcom import __version__

    out = {"tokcom": __version__, "python": platform.python_version(), "numpy": np.__version__}
    for mod in ("av", "torch", "sionna", "scipy", "cv2"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = str(getattr(m, "__version__", "?"))
    if "av" in out:
        try:
            import av

            out["ffmpeg"] = ".".join(map(str, av.library_versions.get("libavcodec", ())))
        except Exception:  # pragma: no cover - informational only
            pass
    return out


def simulate(
    scheme: Any,
    video: Video,
    link: Any,
    seed: int = 0,
    *,
    rate: Rate | None = None,
    metrics: Iterable[str] | None = None,
    device: str = "cpu",
    config_extra: Mapping[str, Any] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Result:
    """Send ``video`` through ``scheme`` over ``link`` and measure what comes out.

    Args:
        scheme: a :class:`~tokcom.schemes.Scheme` or a registered scheme name (default options).
        video: the input.
        link: a :class:`~tokcom.link.Link` or a registered channel name (default options).
        seed: seeds every random draw of the run (encoder, link, decoder); recorded in the result.
        rate: the rate target (``--cbr`` / ``--bitrate`` / ``--bandwidth-hz``), if any.
        metrics: metric names (default: every default metric); those that cannot be computed are listed
            in ``Result.metrics_unavailable``.
        device: for the metrics' neural networks.
        config_extra: extra entries for ``Result.config`` (e.g. a sweep point's axis values).
        progress: called with a short message as each stage starts.

    Returns:
        The :class:`~tokcom.types.Result`; ``result.recon`` holds the reconstruction.
    """
    from tokcom.link.base import Link, build_link
    from tokcom.metrics import compute_metrics
    from tokcom.schemes.base import Scheme, build_scheme

    if not isinstance(scheme, Scheme):
        scheme = build_scheme(str(scheme), device=device)
    if not isinstance(link, Link):
        link = build_link(str(link))
    rate = rate or Rate()
    say = progress or (lambda _msg: None)
    rngs = stage_rngs(seed)
    info = video.info

    state = link.state(info, rate)
    say(f"encoding {info.num_frames} frames with {scheme.name}")
    t0 = time.perf_counter()
    tx = scheme.encode(video, state, rngs["encode"])
    t1 = time.perf_counter()
    say(f"sending {len(tx.packets)} PDUs over {link.name}")
    rx = link.carry(tx, rngs["link"])
    t2 = time.perf_counter()
    say("decoding")
    dec = scheme.decode(rx, rngs["decode"])
    t3 = time.perf_counter()
    if dec.video.frames.shape != video.frames.shape:
        raise RuntimeError(
            f"scheme {scheme.name} returned {dec.video.frames.shape}, expected {video.frames.shape}"
        )
    say("measuring quality")
    values, unavailable = compute_metrics(video, dec.video, metrics, device=device)
    if tx.roi is not None:
        values, unavailable = _add_roi_metrics(video, dec.video, tx.roi, values, unavailable, device)
    t4 = time.perf_counter()

    source_bits = tx.source_bits
    valid = dec.frames_decoded >= math.ceil(VALID_FRACTION * info.num_frames)
    link_block = {**link.describe(), "bandwidth_hz": rate.bandwidth_hz,
                  "state": _state_dict(state), **dict(rx.report)}
    config = {
        "scheme": {"name": scheme.name, **scheme.describe()},
        "link": link.describe(),
        "rate": {"cbr": rate.cbr, "bitrate_bps": rate.bitrate_bps, "bandwidth_hz": rate.bandwidth_hz},
        "metrics": sorted(values) + sorted(unavailable),
        **dict(config_extra or {}),
    }
    result = Result(
        scheme=scheme.name,
        input=video.source,
        frames=info.num_frames,
        width=info.width,
        height=info.height,
        fps=info.fps,
        seed=int(seed),
        config=config,
        link=link_block,
        source_bits=int(source_bits),
        channel_uses=int(rx.channel_uses),
        cbr=rx.channel_uses / info.num_samples,
        bpp=source_bits / video.num_pixels,
        bitrate_bps=source_bits / info.duration_s,
        packets={"sent": len(tx.packets), "lost": rx.num_lost},
        frames_decoded=int(dec.frames_decoded),
        valid=bool(valid),
        metrics=values,
        timing={"encode_s": t1 - t0, "link_s": t2 - t1, "decode_s": t3 - t2, "metrics_s": t4 - t3},
        scheme_report=merge_reports(tx.report, dec.report),
        versions=versions(),
        metrics_unavailable=unavailable,
        recon=dec.video,
        artifacts=dict(tx.artifacts),
    )
    return result


def merge_reports(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """The encoder's report updated by the decoder's; nested dicts (e.g. per-class entries) merge key-wise."""
    out = dict(a)
    for k, v in b.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge_reports(out[k], v)
        else:
            out[k] = v
    return out


def _add_roi_metrics(ref: Video, dist: Video, roi, values, unavailable, device: str):
    """PSNR (and LPIPS-alex when it was measured) inside/outside the scheme's region of interest."""
    from tokcom.metrics.roi import roi_metrics

    roi_values, roi_unavailable = roi_metrics(ref, dist, roi, device=device,
                                              lpips=("lpips_alex" in values or "lpips_alex" in unavailable))
    values = {**values, **{k: v for k, v in roi_values.items() if v == v}}  # NaN (empty region) dropped
    return values, {**unavailable, **roi_unavailable}


def _state_dict(state) -> dict[str, Any]:
    d = {
        "snr_db": state.snr_db,
        "bits_per_channel_use": state.bits_per_channel_use,
        "pdu_loss": state.pdu_loss,
        "channel_use_budget": state.channel_use_budget,
    }
    if state.mcs is not None:
        d["mcs"] = state.mcs.to_dict()
    return d
