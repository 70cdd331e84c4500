"""Helpers shared by the CLI commands: number lists, key=value options, atomic output directories."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tokcom.errors import InputError


def parse_float_list(text: str) -> list[float]:
    """``"-2,0,2"`` or ``"start:stop:step"`` (stop included) → floats."""
    s = str(text).strip()
    if not s:
        raise InputError("empty number list")
    if ":" in s:
        parts = s.split(":")
        if len(parts) != 3:
            raise InputError(f"a range is start:stop:step; got {text!r}")
        try:
            start, stop, step = (float(p) for p in parts)
        except ValueError:
            raise InputError(f"not a number range: {text!r}") from None
        if step == 0 or not all(map(math.isfinite, (start, stop, step))) or (stop - start) / step < 0:
            raise InputError(f"range {text!r} never reaches its stop")
        n = int(math.floor((stop - start) / step + 1e-9)) + 1
        if n > 100000:
            raise InputError(f"range {text!r} has too many points")
        return [round(start + i * step, 12) for i in range(n)]
    try:
        vals = [float(p) for p in s.split(",") if p.strip()]
    except ValueError:
        raise InputError(f"not a comma-separated number list: {text!r}") from None
    if not vals or not all(map(math.isfinite, vals)):
        raise InputError(f"not a list of finite numbers: {text!r}")
    return vals


def parse_int_list(text: str) -> list[int]:
    vals = parse_float_list(text)
    if any(not v.is_integer() for v in vals):
        raise InputError(f"expected integers: {text!r}")
    return [int(v) for v in vals]


def parse_box(text: str) -> tuple[int, int, int, int]:
    """``"x0,y0,x1,y1"`` → a tuple of four integers."""
    m = re.fullmatch(r"\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*", text or "")
    if not m:
        raise InputError(f"a box is x0,y0,x1,y1 in pixels; got {text!r}")
    return tuple(int(g) for g in m.groups())  # type: ignore[return-value]


def parse_key_values(items: list[str] | None) -> dict[str, Any]:
    """``["gop=16", "preset=fast"]`` → ``{"gop": "16", "preset": "fast"}`` (types converted later)."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise InputError(f"expected KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        if not k.strip():
            raise InputError(f"expected KEY=VALUE, got {item!r}")
        out[k.strip().replace("-", "_")] = v.strip()
    return out


@contextmanager
def atomic_output_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success its files move into ``path``.

    On any error the temporary directory is removed, so a failed command leaves no half-written output.
    """
    final = Path(path)
    parent = final.parent if str(final.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cannot create output directory {final}: {e.strerror}") from None
    if final.exists() and not final.is_dir():
        raise InputError(f"--out {final} exists and is not a directory")
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; the result should look like any other directory
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if not final.exists():
        os.replace(tmp, final)
        return
    for item in tmp.iterdir():
        target = final / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(item, target)
    shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)
