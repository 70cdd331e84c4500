"""``simulate``: the one data path, and nothing more.

    Video ─► Scheme.encode ─► Transmission ─► budget ─► Link.carry ─► Reception ─► Scheme.decode ─► Video ─► metrics ─► Result
                                          (what fits is sent)                     (decoded: FrameMap shares)
"""

from __future__ import annotations

import math
import platform
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from tokcom import __version__
from tokcom.errors import InputError
from tokcom.link import accounting
from tokcom.link.accounting import BudgetDecision, enforce_budget
from tokcom.link.analog import check_symbols
from tokcom.link.base import Link, build_link
from tokcom.metrics import compute_metrics
from tokcom.metrics.roi import roi_metrics
from tokcom.provenance import provenance
from tokcom.reporting import as_dict, merge_dicts
from tokcom.schemes.base import Scheme, build_scheme
from tokcom.types import Rate, Reception, Result, Transmission, Video, decoded_frames, is_valid


def stage_rngs(seed: int) -> dict[str, np.random.Generator]:
    """Independent generators for the encoder, the link and the decoder, all derived from ``seed``."""
    if int(seed) < 0:
        raise InputError(f"--seed must be ≥ 0; got {seed}")
    enc, link, dec = np.random.SeedSequence(int(seed)).spawn(3)
    return {"encode": np.random.default_rng(enc), "link": np.random.default_rng(link),
            "decode": np.random.default_rng(dec)}


def versions() -> dict[str, str]:
    """Versions of tokcom and of the libraries that shaped the numbers (those that are loaded)."""
    out = {"tokcom": __version__, "python": platform.python_version(), "numpy": np.__version__}
    for mod in ("av", "torch", "sionna", "scipy", "cv2"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = str(getattr(m, "__version__", "?"))
    if "av" in out:
        try:
            import av

            out["ffmpeg"] = ".".join(map(str, av.library_versions.get("libavcodec", ())))
        except Exception:  # noqa: BLE001, S110  # pragma: no cover - informational only
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

    The rules every scheme is held to (docs/experiments.md, "The comparison contract"):

    * **the budget**: with a rate target, what goes on the channel never exceeds
      ``LinkState.channel_use_budget`` (:func:`tokcom.link.accounting.enforce_budget`); PDUs that do not
      fit are not sent (the receiver sees them as lost), in the order the scheme's ``Packet.priority``
      gives; ``channel_uses_requested`` and ``over_budget`` record what the scheme asked for;
    * **decoded**: a frame is decoded when at least :data:`~tokcom.types.DECODED_SHARE` of the data sent
      for it (the transmission's :class:`~tokcom.types.FrameMap`) arrived intact; a run is valid when at
      least :data:`~tokcom.types.VALID_FRACTION` of its frames are decoded.

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
    if not isinstance(scheme, Scheme):
        scheme = build_scheme(str(scheme), device=device)
    if not isinstance(link, Link):
        link = build_link(str(link))
    rate = rate or Rate()
    say = progress or (lambda _msg: None)
    rngs = stage_rngs(seed)
    info = video.info
    prov = provenance(scheme, metrics)

    state = link.state(info, rate)
    say(f"encoding {info.num_frames} frames with {scheme.name}")
    t0 = time.perf_counter()
    tx = scheme.encode(video, state, rngs["encode"])
    if tx.frame_map is None:
        raise RuntimeError(f"scheme {scheme.name} did not say which frames its data serves "
                           "(Transmission.frame_map); the decoded-frame rule needs it")
    if tx.symbols is not None:  # the power constraint holds for the whole transmission (PVSC eq. 2)
        tx = replace(tx, symbols=check_symbols(tx.symbols))
    t1 = time.perf_counter()
    decision = enforce_budget([link.packet_channel_uses(p) for p in tx.packets],
                              [p.priority for p in tx.packets], state.channel_use_budget,
                              0 if tx.symbols is None else int(np.asarray(tx.symbols).size))
    say(f"sending {int(decision.sent.sum())} PDUs over {link.name}"
        + (f" ({decision.num_unsent} over the budget stay unsent)" if decision.num_unsent else ""))
    rx_sent = link.carry(_sent_part(tx, decision), rngs["link"])
    if rx_sent.channel_uses != decision.channel_uses:
        raise RuntimeError(f"link {link.name} charged {rx_sent.channel_uses} channel uses for what its "
                           f"pdu_channel_uses counts as {decision.channel_uses}")
    rx = _realign(rx_sent, tx, decision)
    t2 = time.perf_counter()
    say("decoding")
    dec = scheme.decode(rx, rngs["decode"])
    t3 = time.perf_counter()
    if dec.video.frames.shape != video.frames.shape:
        raise RuntimeError(
            f"scheme {scheme.name} returned {dec.video.frames.shape}, expected {video.frames.shape}"
        )
    shares = tx.frame_map.shares(info.num_frames, _intact(tx, rx), decision.symbols_sent)
    n_decoded = int(decoded_frames(shares).sum())
    say("measuring quality")
    metric_timing: dict[str, float] = {}
    values, unavailable = compute_metrics(video, dec.video, metrics, device=device, timing=metric_timing)
    if tx.roi is not None:
        values, unavailable = _add_roi_metrics(video, dec.video, tx.roi, values, unavailable, device)
    t4 = time.perf_counter()

    source_bits = tx.source_bits
    link_block = {**link.describe(), "bandwidth_hz": rate.bandwidth_hz,
                  "state": _state_dict(state), **as_dict(rx_sent.report)}
    config = {  # the extra entries (a sweep point's axes) never replace the blocks that describe the run
        **dict(config_extra or {}),
        "scheme": {"name": scheme.name, **scheme.describe()},
        "link": link.describe(),
        "rate": {"cbr": rate.cbr, "bitrate_bps": rate.bitrate_bps, "bandwidth_hz": rate.bandwidth_hz},
        "metrics": sorted(values) + sorted(unavailable),
    }
    scheme_report = merge_dicts(as_dict(tx.report), as_dict(dec.report))
    if dec.frames_decoded is not None:
        scheme_report["scheme_frames_decoded"] = int(dec.frames_decoded)
    sent = int(decision.sent.sum())
    return Result(
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
        cbr=accounting.cbr(rx.channel_uses, info),
        bpp=source_bits / video.num_pixels,
        bitrate_bps=source_bits / info.duration_s,
        packets={"sent": sent, "lost": sum(p is None for p in rx_sent.packets),
                 "not_sent": len(tx.packets) - sent},
        frames_decoded=n_decoded,
        valid=is_valid(n_decoded, info.num_frames),
        metrics=values,
        timing={"encode_s": t1 - t0, "link_s": t2 - t1, "decode_s": t3 - t2, "metrics_s": t4 - t3,
                **metric_timing},
        scheme_report=scheme_report,
        versions=versions(),
        metrics_unavailable=unavailable,
        channel_use_budget=state.channel_use_budget,
        channel_uses_requested=decision.channel_uses_requested,
        over_budget=decision.over_budget,
        frame_share=tuple(round(float(x), 6) for x in shares),
        provenance=prov,
        recon=dec.video,
        artifacts=dict(tx.artifacts),
    )


def merge_reports(a: Any, b: Any) -> dict[str, Any]:
    """The encoder's report updated by the decoder's (see :func:`tokcom.reporting.merge_dicts`)."""
    return merge_dicts(as_dict(a), as_dict(b))


def _all_sent(tx: Transmission, decision: BudgetDecision) -> bool:
    return bool(decision.sent.all()) and (tx.symbols is None
                                          or decision.symbols_sent == np.asarray(tx.symbols).size)


def _sent_part(tx: Transmission, decision: BudgetDecision) -> Transmission:
    """The part of ``tx`` that goes on the channel under ``decision``."""
    if _all_sent(tx, decision):
        return tx
    packets = tuple(p for p, s in zip(tx.packets, decision.sent) if s)
    symbols = None if tx.symbols is None else np.asarray(tx.symbols)[: decision.symbols_sent]
    return replace(tx, packets=packets, symbols=symbols)


def _realign(rx: Reception, tx: Transmission, decision: BudgetDecision) -> Reception:
    """``rx`` (of the sent part) aligned with all of ``tx``: unsent PDUs are None, unsent symbols 0."""
    if _all_sent(tx, decision):
        return rx
    it = iter(rx.packets)
    packets = tuple(next(it) if s else None for s in decision.sent)
    symbols = rx.symbols
    if tx.symbols is not None:
        full = np.zeros(np.asarray(tx.symbols).size, np.complex64)
        if rx.symbols is not None:
            full[: decision.symbols_sent] = np.asarray(rx.symbols)[: decision.symbols_sent]
        symbols = full
    return replace(rx, packets=packets, symbols=symbols)


def _intact(tx: Transmission, rx: Reception) -> np.ndarray:
    """``[P]`` bool: the PDU was sent, received, and is bit for bit what was sent."""
    return np.array([r is not None and r.payload == t.payload and r.num_bits == t.num_bits
                     for t, r in zip(tx.packets, rx.packets)], dtype=bool)


def _add_roi_metrics(ref: Video, dist: Video, roi, values, unavailable, device: str):
    """PSNR (and LPIPS-alex when it was measured) inside/outside the scheme's region of interest."""
    roi_values, roi_unavailable = roi_metrics(ref, dist, roi, device=device,
                                              lpips=("lpips_alex" in values or "lpips_alex" in unavailable))
    values = {**values, **{k: v for k, v in roi_values.items() if not math.isnan(v)}}  # NaN (empty region) dropped
    return values, {**unavailable, **roi_unavailable}


def _state_dict(state) -> dict[str, Any]:
    d = {
        "snr_db": state.snr_db,
        "bits_per_channel_use": state.bits_per_channel_use,
        "pdu_loss": state.pdu_loss,
        "channel_use_budget": state.channel_use_budget,
        "overhead": state.overhead,
    }
    if state.mcs is not None:
        d["mcs"] = state.mcs.to_dict()
    return d
