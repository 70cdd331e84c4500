"""Helpers shared by the CLI commands: number lists, key=value options, atomic output directories."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tokcom.config import parse_float_list  # re-exported for the commands
from tokcom.errors import InputError


def parse_int_list(text: str) -> list[int]:
    vals = parse_float_list(text)
    if any(not v.is_integer() for v in vals):
        raise InputError(f"expected integers: {text!r}")
    return [int(v) for v in vals]


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
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=parent))
    except OSError as e:
        raise InputError(f"cannot write to {parent}: {e.strerror}") from None
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes 0700; the result should look like any other directory
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        if not final.exists():
            os.replace(tmp, final)
            return
        for item in tmp.iterdir():
            target = final / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(item, target)
    except OSError as e:
        raise InputError(f"cannot write the output to {final}: {e.strerror}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)
