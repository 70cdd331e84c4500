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

from tokcom.devices import check_device
from tokcom.errors import InputError, TokcomError
from tokcom.experiments.spec import Point, SweepSpec
from tokcom.experiments.store import ResultStore
from tokcom.link.base import build_link
from tokcom.pipeline import simulate
from tokcom.provenance import differs, provenance
from tokcom.registry import METRICS
from tokcom.schemes.base import build_scheme
from tokcom.types import Rate
from tokcom.video.io import (
    available_memory_bytes,
    parse_size,
    probe_video,
    read_video,
    write_image,
    write_preview,
)

PREVIEW_DIR = "videos"
IMAGE_DIR = "images"


STALE_POLICIES = ("error", "mix", "rerun")
POINT_MEMORY_INTERCEPT = 2 << 30
"""Bytes a point needs beyond its frames (libraries, networks, encoder state): the intercept of the
memory target measured in ``benchmarks/bench_memory.py`` (docs/benchmarks.md)."""
POINT_MEMORY_SLOPE = 2.5
"""Bytes a point needs per raw uint8 byte of its clip (the input and the reconstruction, plus slack)."""


def point_frames_shape(p: Point) -> tuple[int, int, int]:
    """``(frames, width, height)`` a point will process, from the spec and the file's headers."""
    n, w, h = probe_video(p.input)
    if p.size is not None:
        w, h = parse_size(p.size)
    if p.frames is not None:
        n = p.frames
    elif n is not None:
        n = max(0, n - p.start)
    return int(n or 0), int(w), int(h)


def point_memory_bytes(p: Point) -> int:
    """The peak memory a point is expected to need: ``POINT_MEMORY_INTERCEPT + POINT_MEMORY_SLOPE × raw``."""
    n, w, h = point_frames_shape(p)
    return int(POINT_MEMORY_INTERCEPT + POINT_MEMORY_SLOPE * n * w * h * 3)


def memory_plan(points: list[Point], workers: int, available: int | None) -> tuple[int, dict[str, str]]:
    """How many points may run at once so that the machine neither swaps nor kills them, and which points
    cannot run at all: ``(workers, {point key: one-line reason})``."""
    if available is None or not points:
        return workers, {}
    need = {p.key: point_memory_bytes(p) for p in points}
    too_big = {k: (f"needs about {v / 2**30:.1f} GiB of memory ({POINT_MEMORY_SLOPE:g} × the raw clip + "
                   f"{POINT_MEMORY_INTERCEPT / 2**30:.0f} GiB); {available / 2**30:.1f} GiB are available: use "
                   "fewer frames or a smaller --size") for k, v in need.items() if v > available}
    fitting = [v for k, v in need.items() if k not in too_big]
    if not fitting:
        return 1, too_big
    return max(1, min(workers, int(available // max(fitting)))), too_big


def _link_options(p: Point) -> dict[str, Any]:
    opts = dict(p.link_options)
    for k in ("snr_db", "csi_nmse_db", "pdu_loss", "phy"):
        if getattr(p, k) is not None:
            opts[k] = getattr(p, k)
    return opts


def point_provenance(p: Point) -> dict[str, Any]:
    """The code and weights a point will run with (:mod:`tokcom.provenance`), known before it runs.

    Raises:
        InputError: the point cannot run (unknown scheme/option/channel, missing input, bad rate or metric).
    """
    if not Path(p.input).is_file():
        raise InputError(f"no such input: {p.input}")
    Rate(cbr=p.cbr, bitrate_bps=p.bitrate, bandwidth_hz=p.bandwidth_hz)
    for m in p.metrics or ():
        METRICS.get(m)
    if p.frames is not None and p.frames < 1:
        raise InputError(f"frames must be ≥ 1; got {p.frames}")
    if p.start < 0:
        raise InputError(f"start must be ≥ 0; got {p.start}")
    if p.seed < 0:
        raise InputError(f"seeds must be ≥ 0; got {p.seed}")
    build_link(p.channel, _link_options(p))
    return provenance(build_scheme(p.scheme, dict(p.options), device="cpu"), p.metrics)


def full_key(p: Point, prov: dict[str, Any]) -> str:
    """The store key of a point: its fields and the code and weights it runs with (16 hex digits)."""
    import hashlib
    import json

    blob = json.dumps({"point": p.key, "provenance": prov}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def validate(points: list[Point]) -> dict[str, dict[str, Any]]:
    """Check every point before anything is created: ``{point key: provenance}``.

    Raises:
        InputError: one line naming the first point that cannot run (and how many cannot).
    """
    provs: dict[str, dict[str, Any]] = {}
    bad: list[tuple[Point, str]] = []
    for p in points:
        try:
            provs[p.key] = point_provenance(p)
        except TokcomError as e:
            bad.append((p, str(e)))
    if bad:
        p, why = bad[0]
        more = f" ({len(bad)} of {len(points)} points cannot run)" if len(bad) > 1 else ""
        raise InputError(f"sweep point {p.scheme} on {Path(p.input).name} ({p.channel}) cannot run: {why}{more}")
    return provs


def run_point(point: dict[str, Any], out_dir: str | None = None, preview: bool = True) -> dict[str, Any]:
    """Run one sweep point; returns its ``result.json`` dict (plus ``point_key``).

    When ``out_dir`` is given and ``preview`` is set, the reconstruction's H.264 preview is written to
    ``out_dir/videos/<key>.mp4`` (the report plays it); the lossless recon is not kept for sweeps.
    """
    p = Point.from_dict(point)
    video = read_video(p.input, frames=p.frames, start=p.start, size=p.size)
    check_device(p.device)  # a bad device fails the point with one line, not a traceback
    scheme = build_scheme(p.scheme, dict(p.options), device=p.device)
    link = build_link(p.channel, _link_options(p))
    rate = Rate(cbr=p.cbr, bitrate_bps=p.bitrate, bandwidth_hz=p.bandwidth_hz)
    axis = {k: getattr(p, k) for k in ("scheme", "input", "channel", "phy", "snr_db", "csi_nmse_db", "pdu_loss",
                                       "cbr", "bitrate", "bandwidth_hz", "seed", "size", "frames", "start")}
    result = simulate(scheme, video, link, p.seed, rate=rate, metrics=p.metrics, device=p.device,
                      config_extra=axis)
    rec = result.to_dict()
    rec["point_base"] = p.key
    rec["point_key"] = full_key(p, rec["provenance"])
    if out_dir is not None and preview:
        vdir = Path(out_dir) / PREVIEW_DIR
        vdir.mkdir(parents=True, exist_ok=True)
        tmp = vdir / f".{rec['point_key']}.tmp.mp4"
        write_preview(tmp, result.recon)
        os.replace(tmp, vdir / f"{rec['point_key']}.mp4")
    if out_dir is not None and result.artifacts:
        idir = Path(out_dir) / IMAGE_DIR
        idir.mkdir(parents=True, exist_ok=True)
        rec["artifacts"] = {}
        for name, img in sorted(result.artifacts.items()):
            write_image(idir / f"{rec['point_key']}-{name}.png", img)
            rec["artifacts"][name] = f"{IMAGE_DIR}/{rec['point_key']}-{name}.png"
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
    try:
        return "ok", run_point(point, out_dir, preview), None
    except TokcomError as e:
        return "error", None, str(e)
    except Exception as e:  # noqa: BLE001 - an internal error in one point must not lose the others' results
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
    on_stale: str = "error",
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, Any]:
    """Run every missing point of ``spec`` into ``out_dir``'s store.

    Every point is checked before anything is created (:func:`validate`). A point is stored under a key of
    its fields *and* the code and weights it runs with (:mod:`tokcom.provenance`), so a store never passes a
    record made by other code or weights off as current. Records of the same point made by other code or
    weights are *stale*; ``on_stale`` decides: ``error`` (default: stop with one line, nothing run), ``mix``
    (keep them as they are, run only the missing points, and record the mix in the store: the report says
    so) or ``rerun`` (replace them).

    Returns:
        ``{"points": n, "done_before": k, "ran": m, "stale": s, "errors": {key: message}}``.
    """
    if on_stale not in STALE_POLICIES:
        raise InputError(f"on_stale must be one of {', '.join(STALE_POLICIES)}; got {on_stale!r}")
    if backend not in ("local", "ray"):
        raise InputError(f"--backend must be local or ray; got {backend!r}")
    points = spec.points()
    provs = validate(points)
    out = Path(out_dir)
    store = ResultStore(out)
    try:
        stored = {}
        for key, _pt, rec in store.records():
            stored[key] = rec
        by_base: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for key, rec in stored.items():
            # a record of a tokcom without provenance was stored under the point's bare key
            by_base.setdefault(str(rec.get("point_base") or key), []).append((key, rec))
        todo: list[tuple[int, Point]] = []
        stale: list[tuple[int, Point, list[tuple[str, dict[str, Any]]]]] = []
        for i, p in enumerate(points):
            if full_key(p, provs[p.key]) in stored:
                continue
            olds = by_base.get(p.key)
            if olds:
                stale.append((i, p, olds))
            else:
                todo.append((i, p))
        if stale:
            what = sorted({d for _, p, olds in stale for _, rec in olds
                           for d in (differs(rec.get("provenance") or {}, provs[p.key]) or ["provenance"])})
            if on_stale == "error":
                raise InputError(
                    f"{out} holds {len(stale)} result(s) of these points made by other code or weights "
                    f"({'; '.join(what[:3])}{'; …' if len(what) > 3 else ''}); use a new --out, or "
                    "--allow-mixed to keep them and run only the missing points, or --rerun-stale to replace them")
            if on_stale == "rerun":
                for i, p, olds in stale:
                    for key, _ in olds:
                        store.delete(key)
                    todo.append((i, p))
                todo.sort(key=lambda ip: ip[0])
            else:
                store.set_meta("mixed", sorted(set(store.get_meta("mixed", []) or []) | set(what)))
        store.set_meta("spec", {"axes": {k: list(v) for k, v in spec.axes.items()},
                                "fixed": _jsonable_fixed(spec.fixed), "source": spec.source})
        errors: dict[str, str] = {}
        say = progress or (lambda _d, _t, _m: None)
        finished = len(points) - len(todo)
        say(finished, len(points), "resuming" if finished else "starting")
        # size the worker pool to memory: a point that cannot fit fails alone, with one line

        n_workers, too_big = memory_plan([p for _, p in todo], workers or os.cpu_count() or 1,
                                         available_memory_bytes())
        for _, p in [ip for ip in todo if ip[1].key in too_big]:
            errors[p.key] = too_big[p.key]
            finished += 1
            say(finished, len(points), f"{p.scheme} {p.channel} {too_big[p.key]}")
        todo = [ip for ip in todo if ip[1].key not in too_big]
        if backend == "local":
            results = _local(todo, str(out), preview, n_workers)
        else:
            results = _ray(todo, str(out), preview, address, workers)
        for (i, p), (status, rec, err) in results:
            if status == "ok" and rec["point_key"] != full_key(p, provs[p.key]):
                status, err = "error", ("the code or weights changed while the sweep ran (the point ran with "
                                        f"{'; '.join(differs(rec['provenance'], provs[p.key]))}); rerun the sweep")
            if status == "ok":
                store.put(rec["point_key"], i, p.to_dict(), rec)
            else:
                errors[p.key] = err or "error"
            finished += 1
            say(finished, len(points), f"{p.scheme} {p.channel} " + (err or "done"))
        return {"points": len(points), "done_before": len(points) - len(todo), "ran": len(todo),
                "stale": len(stale), "errors": errors}
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
            opts = {"num_cpus": 1, "num_gpus": 1 if str(p.device).startswith("cuda") else 0, "max_retries": 2,
                    "memory": point_memory_bytes(p)}  # Ray schedules (and admits) by declared memory
            refs[remote.options(**opts).remote(p.to_dict(), out, preview)] = (i, p)
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for r in ready:
                yield refs[r], ray.get(r)
    finally:
        if started:
            ray.shutdown()
