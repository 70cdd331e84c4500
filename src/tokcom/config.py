"""Building config dataclasses from loose options (CLI flags, sweep specs, Python keyword arguments).

Schemes and links each declare a frozen ``Config`` dataclass whose defaults come from the papers;
:func:`make_config` validates names and converts types so every entry point builds configs the same way.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

from tokcom.errors import InputError


def _convert(name: str, value: Any, tp: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for a in args:
            if a is type(None):
                continue
            try:
                return _convert(name, value, a)
            except InputError as e:
                errors.append(str(e))
        raise InputError(errors[0] if errors else f"option {name}: invalid value {value!r}")
    if origin is typing.Literal:
        if value in args:
            return value
        if isinstance(value, str):
            for a in args:
                if str(a).lower() == value.lower():
                    return a
        raise InputError(f"option {name}: {value!r} is not one of {', '.join(map(str, args))}")
    if origin in (tuple, list):
        seq = value.split(",") if isinstance(value, str) else list(value)
        inner = args[0] if args else Any
        out = [_convert(name, v, inner) for v in seq]
        return tuple(out) if origin is tuple else out
    if tp is bool:
        if isinstance(value, bool):
            return value
        s = str(value).strip().lower()
        if s in ("1", "true", "yes", "on"):
            return True
        if s in ("0", "false", "no", "off"):
            return False
        raise InputError(f"option {name}: expected true/false, got {value!r}")
    if tp is int:
        try:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            return int(str(value).strip()) if isinstance(value, str) else int(value)
        except (TypeError, ValueError):
            raise InputError(f"option {name}: expected an integer, got {value!r}") from None
    if tp is float:
        return to_float(value, f"option {name}")
    if tp is str:
        return str(value)
    return value


def to_float(value: Any, what: str) -> float:
    """``value`` as a finite float (bools refused), else InputError naming ``what``."""
    if isinstance(value, bool):
        raise InputError(f"{what}: expected a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}: expected a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InputError(f"{what}: expected a finite number, got {value!r}")
    return v


def make_config(cls: type, options: Mapping[str, Any] | None = None, *, what: str = "") -> Any:
    """Instantiate dataclass ``cls`` from ``options`` (``-`` and ``_`` interchangeable; None = default).

    Raises:
        InputError: an unknown option (the message lists the valid ones) or a value of the wrong type.
    """
    options = dict(options or {})
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in options.items():
        name = key.replace("-", "_")
        if name not in fields:
            valid = ", ".join(sorted(n.replace("_", "-") for n in fields)) or "(none)"
            raise InputError(f"{what or cls.__name__}: unknown option '{key.replace('_', '-')}'; valid: {valid}")
        if value is None:
            continue
        kwargs[name] = _convert(key.replace("_", "-"), value, hints[name])
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        if isinstance(e, InputError):
            raise
        raise InputError(f"{what or cls.__name__}: {e}") from None


def config_dict(cfg: Any) -> dict[str, Any]:
    """A config dataclass as a plain dict (for ``result.json``)."""
    return dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else dict(cfg or {})


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
        n = math.floor((stop - start) / step + 1e-9) + 1
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
