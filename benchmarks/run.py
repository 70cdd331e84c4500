"""Run the benchmarks and store their results with the facts of the machine they ran on.

Usage::

    python benchmarks/run.py [NAME ...] [--out benchmarks/results] [--quick] [--list] [-- EXTRA ARGS]

Each ``NAME`` runs ``benchmarks/bench_NAME.py`` (all of them by default, in name order) as a subprocess
with its default arguments (``--quick``: the short settings in ``QUICK_ARGS``; arguments after ``--`` are
passed to every bench run). The bench's output is streamed as it comes; the last JSON value it prints
(a one-line object, or a pretty-printed one ending the output) is its result, written to
``OUT/NAME.json`` as ``{"machine": {...}, "command": "...", "result": {...}}``. Ratios a bench reports
(a ``"ratios"`` object, or top-level numbers whose key contains ``ratio`` or ``speedup``) are printed
again at the end.

A bench that fails for want of an optional dependency (``ModuleNotFoundError``/``ImportError``, missing
weights, no CUDA) is reported as ``skipped: reason`` and does not fail the run; any other failure makes
the exit status 1 after every bench has run.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# Short settings for `--quick` (flags each bench already takes).
QUICK_ARGS: dict[str, list[str]] = {
    "h26x": ["--quick"],
    "link": ["--pdus", "32", "--per-pdu", "4"],
    "metrics": ["--frames", "16"],
    "interp": ["--quick"],
    "resivid": ["--quick"],
    "tokencom": ["--quick"],
    "pvsc": ["--quick"],
    "pvsc_side": ["--quick"],
    "pvsc_rungs": ["--quick"],
    "pvsc_ceiling": ["--quick"],
    "tvc": ["--quick"],
    "fuzz": ["--quick"],
}

# Output that means "an optional dependency is missing here", not "the bench is broken".
_SKIP_PATTERNS = [
    re.compile(r"(ModuleNotFoundError: No module named '[^']+')"),
    re.compile(r"(ImportError: .+)"),
    re.compile(r"(\w*WeightsUnavailable: .+)"),
    re.compile(r"(Torch not compiled with CUDA enabled|no CUDA GPUs are available|CUDA is not available.*)"),
]


def discover() -> list[str]:
    """Names of every ``benchmarks/bench_NAME.py``, sorted."""
    return sorted(p.stem[len("bench_"):] for p in HERE.glob("bench_*.py"))


# --------------------------------------------------------------------------------------------- machine


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _os_name() -> str:
    try:
        info = platform.freedesktop_os_release()
        return f"{info.get('PRETTY_NAME', info.get('NAME', 'Linux'))}, kernel {platform.release()}"
    except (OSError, AttributeError):
        return f"{platform.system()} {platform.release()}"


def machine_info() -> dict:
    """Facts of this machine that bear on speed (no hostname, no user names)."""
    info: dict = {
        "cpu": _cpu_model(),
        "arch": platform.machine(),
        "logical_cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": _os_name(),
        "python": platform.python_version(),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    }
    if hasattr(os, "sched_getaffinity"):
        info["usable_cores"] = len(os.sched_getaffinity(0))
    try:
        info["load_avg_1min"] = round(os.getloadavg()[0], 2)
    except OSError:
        pass
    versions: dict = {}
    try:
        import numpy

        versions["numpy"] = numpy.__version__
    except ImportError:
        versions["numpy"] = None
    try:
        import av

        versions["av"] = av.__version__
        versions["ffmpeg"] = {k: ".".join(map(str, v)) for k, v in av.library_versions.items()}
    except ImportError:
        versions["av"] = None
    try:
        import tokcom

        versions["tokcom"] = getattr(tokcom, "__version__", None)
    except ImportError:
        versions["tokcom"] = None
    try:
        import torch

        versions["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
            versions["cuda"] = torch.version.cuda
    except ImportError:
        versions["torch"] = None
    info.setdefault("gpu", None)
    info["versions"] = versions
    return info


# --------------------------------------------------------------------------------------------- running


def last_json(text: str):
    """The last JSON value in ``text``: the last line that parses, or the longest tail starting at a line
    that opens an object/array (a pretty-printed result). None when there is none."""
    lines = text.rstrip().splitlines()
    for i in range(len(lines) - 1, -1, -1):
        s = lines[i].strip()
        if s.startswith(("{", "[")):
            try:
                return json.loads(s)
            except ValueError:
                pass
            try:
                return json.loads("\n".join(lines[i:]))
            except ValueError:
                continue
    return None


def skip_reason(output: str) -> str | None:
    """Why a failed bench should count as skipped (a missing optional dependency), or None.

    An import error inside tokcom itself (``No module named 'tokcom.x'``, ``cannot import name ... from
    'tokcom...'``) is a bug, not a missing dependency."""
    for pat in _SKIP_PATTERNS:
        found = [f.strip() for f in pat.findall(output) if not re.search(r"['\"]tokcom[.'\"]", f)]
        if found:
            return found[-1]
    return None


def run_bench(name: str, args: list[str], out_dir: Path, machine: dict) -> dict:
    """Run one bench, streaming its output; write ``out_dir/name.json``. Returns a status record."""
    script = HERE / f"bench_{name}.py"
    cmd = [sys.executable, str(script), *args]
    shown = shlex.join(["python", f"benchmarks/bench_{name}.py", *args])
    print(f"\n=== {name}: {shown}", flush=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    src = str(REPO / "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    t0 = time.perf_counter()
    chunks: list[str] = []
    try:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1, errors="replace")
    except OSError as e:
        return {"name": name, "status": "failed", "reason": str(e)}
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            chunks.append(line)
        rc = proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        raise
    seconds = time.perf_counter() - t0
    output = "".join(chunks)
    if rc != 0:
        why = skip_reason(output)
        if why:
            print(f"--- {name}: skipped: {why}", flush=True)
            return {"name": name, "status": "skipped", "reason": why}
        print(f"--- {name}: FAILED (exit status {rc})", flush=True)
        return {"name": name, "status": "failed", "reason": f"exit status {rc}"}
    result = last_json(output)
    if result is None:
        print(f"--- {name}: FAILED (no JSON result in its output)", flush=True)
        return {"name": name, "status": "failed", "reason": "no JSON result"}
    out_dir.mkdir(parents=True, exist_ok=True)
    record = {"machine": machine, "command": shown, "seconds": round(seconds, 2), "result": result}
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(record, indent=1, allow_nan=False, default=str) + "\n")
    print(f"--- {name}: ok in {seconds:.1f} s → {_rel(path)}", flush=True)
    return {"name": name, "status": "ok", "path": str(path), "ratios": ratios_of(result)}


def ratios_of(result) -> dict[str, float]:
    """The ratios a bench reports: a ``ratios`` object, plus top-level numbers named *ratio* or *speedup*."""
    out: dict[str, float] = {}
    if not isinstance(result, dict):
        return out
    if isinstance(result.get("ratios"), dict):
        out.update({str(k): v for k, v in result["ratios"].items() if isinstance(v, (int, float))})
    for k, v in result.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and re.search(r"ratio|speedup", k):
            out[k] = v
    return out


def _rel(p: Path) -> str:
    try:
        return str(p.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    available = discover()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", metavar="NAME",
                    help=f"benches to run (default: all: {', '.join(available)})")
    ap.add_argument("--out", type=Path, default=HERE / "results",
                    help="results folder (default benchmarks/results)")
    ap.add_argument("--quick", action="store_true", help="short settings (QUICK_ARGS) where a bench has them")
    ap.add_argument("--list", action="store_true", help="list the benches and exit")
    a = ap.parse_args(argv)
    if a.list:
        print("\n".join(available))
        return 0
    names = a.names or available
    unknown = [n for n in names if n not in available]
    if unknown:
        ap.error(f"unknown bench {', '.join(unknown)}; valid: {', '.join(available)}")

    machine = machine_info()
    gpu = f", GPU {machine['gpu']}" if machine.get("gpu") else ""
    print(f"# {machine['cpu']}, {machine['logical_cores']} logical cores, {machine['memory_gib']} GiB, "
          f"{machine['os']}, python {machine['python']}{gpu}", flush=True)
    statuses = []
    for name in names:
        args = (QUICK_ARGS.get(name, []) if a.quick else []) + extra
        statuses.append(run_bench(name, args, a.out, machine))

    print("\n=== summary")
    for s in statuses:
        line = f"{s['name']:10s} {s['status']}"
        if s["status"] != "ok":
            line += f": {s['reason']}"
        print(line)
        for k, v in s.get("ratios", {}).items():
            print(f"    {k:50s} {v:8.3g}")
    return 1 if any(s["status"] == "failed" for s in statuses) else 0


if __name__ == "__main__":
    sys.exit(main())
