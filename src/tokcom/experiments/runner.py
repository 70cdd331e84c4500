"""Running sweeps: every point is one :func:`tokcom.simulate`, stored as one ``result.json`` record.

Backends: a local process pool (default) and Ray (``--backend ray --address auto|HOST:PORT``). The driver
alone writes the store, one committed record per finished point; points already stored are skipped, so
resuming is the default and a killed sweep loses at most the points in flight.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tokcom.errors import InputError
from tokcom.experiments.spec import Point, SweepSpec
from tokcom.experiments.store import ResultStore

PREVIEW_DIR = "videos"
IMAGE_DIR = "images"


def run_point(point: dict[str, Any], out_dir: str | None = None, preview: bool = True) -> dict[str, Any]:
    """Run one sweep point; returns its ``result.json`` dict (plus ``point_key``).

    When ``out_dir`` is given and ``preview`` is set, the reconstruction's H.264 preview is written to
    ``out_dir/videos/<key>.mp4`` (the report plays it); the lossless recon is not kept for sweeps.
    """
    from tokcom.link.base import build_link
    from tokcom.pipeline import simulate
    from tokcom.schemes.base import build_scheme
    from tokcom.types import Rate
    from tokcom.video.io import read_video, write_image, write_preview

    p = Point.from_dict(point)
    video = read_video(p.input, frames=p.frames, start=p.start, size=p.size)
    scheme = build_scheme(p.scheme, dict(p.options), device=p.device)
    link_opts = dict(p.link_options)
    for k in ("snr_db", "csi_nmse_db", "pdu_loss", "phy"):
        if getattr(p, k) is not None:
            link_opts[k] = getattr(p, k)
    link = build_link(p.channel, link_opts)
    rate = Rate(cbr=p.cbr, bitrate_bps=p.bitrate, bandwidth_hz=p.bandwidth_hz)
    axis = {k: getattr(p, k) for k in ("scheme", "input", "channel", "phy", "snr_db", "csi_nmse_db", "pdu_loss",
                                       "cbr", "bitrate", "bandwidth_hz", "seed", "size", "frames", "start")}
    result = simulate(scheme, video, link, p.seed, rate=rate, metrics=p.metrics, device=p.device,
                      config_extra=axis)
    rec = result.to_dict()
    rec["point_key"] = p.key
    if out_dir is not None and preview:
        vdir = Path(out_dir) / PREVIEW_DIR
        vdir.mkdir(parents=True, exist_ok=True)
        tmp = vdir / f".{p.key}.tmp.mp4"
        write_preview(tmp, result.recon)
        os.replace(tmp, vdir / f"{p.key}.mp4")
    if out_dir is not None and result.artifacts:
        idir = Path(out_dir) / IMAGE_DIR
        idir.mkdir(parents=True, exist_ok=True)
        rec["artifacts"] = {}
        for name, img in sorted(result.artifacts.items()):
            write_image(idir / f"{p.key}-{name}.png", img)
            rec["artifacts"][name] = f"{IMAGE_DIR}/{p.key}-{name}.png"
    return rec


def _die_with_parent() -> None:
    """Worker initializer: on Linux, ask the kernel to SIGKILL this worker when the driver dies."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:  # pragma: no cover
            pass
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def _run_point_safe(point: dict[str, Any], out_dir: str | None, preview: bool) -> tuple[str, dict | None, str | None]:
    """Run a point; a failing point (bad input, or an internal error, located) becomes an error record
    instead of killing the sweep."""
    from tokcom.errors import TokcomError

    try:
        return "ok", run_point(point, out_dir, preview), None
    except TokcomError as e:
        return "error", None, str(e)
    except Exception as e:  # an internal error in one point must not lose the others' results
        import traceback

        where = traceback.extract_tb(e.__traceback__)[-1]
        return "error", None, (f"internal error: {type(e).__name__}: {e} "
                               f"({Path(where.filename).name}:{where.lineno})")


def run_sweep(
    spec: SweepSpec,
    out_dir: str | Path,
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    preview: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """Run every missing point of ``spec`` into ``out_dir``'s store.

    Returns:
        ``{"points": n, "done_before": k, "ran": m, "errors": {key: message}}``.
    """
    points = spec.points()
    out = Path(out_dir)
    store = ResultStore(out)
    try:
        done = store.keys()
        todo = [(i, p) for i, p in enumerate(points) if p.key not in done]
        store.set_meta("spec", {"axes": {k: list(v) for k, v in spec.axes.items()},
                                "fixed": _jsonable_fixed(spec.fixed), "source": spec.source})
        errors: dict[str, str] = {}
        say = progress or (lambda _d, _t, _m: None)
        finished = len(points) - len(todo)
        say(finished, len(points), "resuming" if finished else "starting")
        if backend == "local":
            results = _local(todo, str(out), preview, workers)
        elif backend == "ray":
            results = _ray(todo, str(out), preview, address, workers)
        else:
            raise InputError(f"--backend must be local or ray; got {backend!r}")
        for (i, p), (status, rec, err) in results:
            if status == "ok":
                store.put(p.key, i, p.to_dict(), rec)
            else:
                errors[p.key] = err or "error"
            finished += 1
            say(finished, len(points), f"{p.scheme} {p.channel} " + (err or "done"))
        return {"points": len(points), "done_before": len(points) - len(todo), "ran": len(todo),
                "errors": errors}
    finally:
        store.close()


def _jsonable_fixed(fixed: dict[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in fixed.items()}


def _local(todo: list[tuple[int, Point]], out: str, preview: bool, workers: int | None) -> Iterable:
    if not todo:
        return
    n = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    if n == 1:
        for i, p in todo:
            yield (i, p), _run_point_safe(p.to_dict(), out, preview)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_die_with_parent) as ex:
        futs = {ex.submit(_run_point_safe, p.to_dict(), out, preview): (i, p) for i, p in todo}
        for f in as_completed(futs):
            yield futs[f], f.result()


def _ray(todo: list[tuple[int, Point]], out: str, preview: bool, address: str | None,
         workers: int | None) -> Iterable:
    try:
        import ray
    except ImportError:
        raise InputError("--backend ray needs Ray: pip install 'ray[default]'") from None
    if not todo:
        return
    started = False
    if not ray.is_initialized():
        try:
            ray.init(address=address or None, include_dashboard=False, log_to_driver=False,
                     ignore_reinit_error=True, **({} if address else {"num_cpus": workers or os.cpu_count()}))
        except (ConnectionError, ValueError, RuntimeError) as e:
            raise InputError(f"cannot connect to Ray at {address or 'a new local head'}: {e}") from None
        started = True
    try:
        remote = ray.remote(_run_point_safe)
        refs = {}
        for i, p in todo:
            opts = {"num_cpus": 1, "num_gpus": 1 if str(p.device).startswith("cuda") else 0, "max_retries": 2}
            refs[remote.options(**opts).remote(p.to_dict(), out, preview)] = (i, p)
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for r in ready:
                yield refs[r], ray.get(r)
    finally:
        if started:
            ray.shutdown()
