"""Sweep specs (YAML, ``docs/design/CLI.md``): every list is an axis of the grid, scalars are fixed.

Example::

    schemes: [tokencom, resivid, h265]
    inputs: [clip1.mp4, clip2.mp4]
    size: 256x256
    frames: 64
    channels: [awgn]            # or rayleigh (with csi_nmse_db), erasure (with pdu_loss)
    snr_db: [-2, 0, 2, 4, 6, 8, 10]
    cbr: [2e-4, 4e-4, 8e-4]    # or bitrate: [...] or bandwidth_hz: [...]
    phy: abstract
    seeds: [0]
    options: {tokencom: {intent_box: [116, 60, 180, 208]}, resivid: {stride: 8}}

Expansion is deterministic: axes nest in the fixed order of :data:`AXES`, values in the order given. An
axis that does not apply to a point's channel (``snr_db`` on ``erasure``, ``pdu_loss`` on ``awgn``,
``csi_nmse_db`` off ``rayleigh``) is dropped for that point, and the duplicate points this creates are
merged.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokcom.config import parse_float_list, to_float
from tokcom.devices import check_device_name
from tokcom.errors import InputError
from tokcom.registry import LINKS
from tokcom.video.io import parse_size

# (spec key, point key) in nesting order; the first varies slowest.
AXES: tuple[tuple[str, str], ...] = (
    ("schemes", "scheme"),
    ("inputs", "input"),
    ("channels", "channel"),
    ("phy", "phy"),
    ("snr_db", "snr_db"),
    ("csi_nmse_db", "csi_nmse_db"),
    ("pdu_loss", "pdu_loss"),
    ("cbr", "cbr"),
    ("bitrate", "bitrate"),
    ("bandwidth_hz", "bandwidth_hz"),
    ("seeds", "seed"),
)
SCALARS = ("size", "frames", "start", "metrics", "options", "link_options", "device", "preview")
RATE_KEYS = ("cbr", "bitrate", "bandwidth_hz")
NUMERIC_AXES = ("snr_db", "csi_nmse_db", "pdu_loss", "cbr", "bitrate", "bandwidth_hz", "seeds")
# which link options exist on which channel (others are dropped from that channel's points)
CHANNEL_AXES = {
    "erasure": {"pdu_loss"},
    "awgn": {"snr_db", "phy"},
    "rayleigh": {"snr_db", "phy", "csi_nmse_db"},
}


@dataclass(frozen=True)
class Point:
    """One run of a sweep: every value that shapes it. ``key`` is a hash of all of them."""

    scheme: str
    input: str
    channel: str
    seed: int
    size: str | None = None
    frames: int | None = None
    start: int = 0
    phy: str | None = None
    snr_db: float | None = None
    csi_nmse_db: float | None = None
    pdu_loss: float | None = None
    cbr: float | None = None
    bitrate: float | None = None
    bandwidth_hz: float | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    link_options: Mapping[str, Any] = field(default_factory=dict)
    metrics: tuple[str, ...] | None = None
    device: str = "cpu"

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["options"] = dict(self.options)
        d["link_options"] = dict(self.link_options)
        d["metrics"] = list(self.metrics) if self.metrics is not None else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Point:
        d = dict(d)
        if d.get("metrics") is not None:
            d["metrics"] = tuple(d["metrics"])
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    @property
    def key(self) -> str:
        """sha256 of the canonical JSON of every field (16 hex digits)."""
        blob = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep spec. ``axes`` maps a point key to its list of values; ``fixed`` holds scalars."""

    axes: Mapping[str, tuple[Any, ...]]
    fixed: Mapping[str, Any]
    source: str = ""

    def points(self) -> list[Point]:
        return expand(self)


def _as_list(v: Any) -> list[Any]:
    return list(v) if isinstance(v, (list, tuple)) else [v]


def _numbers(name: str, v: Any) -> list[float]:
    """A number, or a string "a,b,c" / "start:stop:step" (stop included) → floats."""
    if isinstance(v, str):

        try:
            return parse_float_list(v)
        except InputError as e:
            raise InputError(f"sweep spec: {name}: {e}") from None
    return [_num(name, v)]


def _num(name: str, v: Any) -> float:

    return to_float(v, f"sweep spec: {name}")


def parse_spec(data: Mapping[str, Any], base_dir: Path | None = None, source: str = "") -> SweepSpec:
    """Validate a spec mapping. Relative input paths are resolved against ``base_dir``."""
    if not isinstance(data, Mapping):
        raise InputError("sweep spec: the top level must be a mapping")
    known = {k for k, _ in AXES} | set(SCALARS) | {"scheme", "input", "channel", "seed"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise InputError(f"sweep spec: unknown keys {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
    d = dict(data)
    for single, plural in (("scheme", "schemes"), ("input", "inputs"), ("channel", "channels"), ("seed", "seeds")):
        if single in d:
            if plural in d:
                raise InputError(f"sweep spec: give {single} or {plural}, not both")
            d[plural] = d.pop(single)
    for req in ("schemes", "inputs"):
        if not d.get(req):
            raise InputError(f"sweep spec: '{req}' is required")
    if sum(k in d for k in RATE_KEYS) > 1:
        raise InputError("sweep spec: give at most one of cbr, bitrate, bandwidth_hz")
    axes: dict[str, tuple[Any, ...]] = {}
    for spec_key, point_key in AXES:
        if spec_key not in d or d[spec_key] is None:
            continue
        vals = _as_list(d[spec_key])
        if spec_key in NUMERIC_AXES:
            vals = [x for v in vals for x in _numbers(spec_key, v)]  # "start:stop:step" entries expand
        if not vals:
            raise InputError(f"sweep spec: '{spec_key}' is an empty list")
        if spec_key == "seeds":
            if any(not float(v).is_integer() for v in vals):
                raise InputError(f"sweep spec: seeds must be integers; got {vals}")
            vals = [int(v) for v in vals]
        elif spec_key in NUMERIC_AXES:
            pass
        elif spec_key == "inputs":
            vals = [str((base_dir / v) if base_dir and not Path(str(v)).is_absolute() else v) for v in vals]
        else:
            vals = [str(v) for v in vals]
        axes[point_key] = tuple(vals)
    axes.setdefault("channel", ("erasure",))
    axes.setdefault("seed", (0,))
    for ch in axes["channel"]:
        if ch not in CHANNEL_AXES:

            LINKS.get(ch)  # raises with the valid names when unknown
    fixed: dict[str, Any] = {}
    if d.get("size") is not None:

        w, h = parse_size(str(d["size"]))
        fixed["size"] = f"{w}x{h}"
    for k in ("frames", "start"):
        if d.get(k) is not None:
            fixed[k] = int(_num(k, d[k]))
    if d.get("metrics") is not None:
        fixed["metrics"] = tuple(str(m) for m in _as_list(d["metrics"]))
    for k in ("options", "link_options"):
        v = d.get(k) or {}
        if not isinstance(v, Mapping) or not all(isinstance(x, Mapping) for x in v.values()):
            raise InputError(f"sweep spec: '{k}' maps a name to a mapping of options")
        fixed[k] = {str(n): dict(o) for n, o in v.items()}
    if d.get("device") is not None:
        fixed["device"] = check_device_name(d["device"])
    return SweepSpec(axes=axes, fixed=fixed, source=source)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and validate a YAML sweep spec."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such sweep spec: {p}")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise InputError(f"sweep spec {p.name} is not valid YAML: {str(e).splitlines()[0]}") from None
    except UnicodeDecodeError:
        raise InputError(f"sweep spec {p.name} is not a text (YAML) file") from None
    except OSError as e:
        raise InputError(f"cannot read sweep spec {p.name}: {e.strerror}") from None
    return parse_spec(data or {}, base_dir=p.resolve().parent, source=str(p))


def expand(spec: SweepSpec) -> list[Point]:
    """Every point of the grid, in a fixed order, duplicates (after dropping non-applicable axes) merged."""
    import itertools

    keys = [pk for _, pk in AXES if pk in spec.axes]
    out: list[Point] = []
    seen: set[str] = set()
    for combo in itertools.product(*(spec.axes[k] for k in keys)):
        values = dict(zip(keys, combo))
        ch = values["channel"]
        applicable = CHANNEL_AXES.get(ch)
        if applicable is not None:
            for k in ("snr_db", "csi_nmse_db", "pdu_loss", "phy"):
                if k not in applicable:
                    values.pop(k, None)
        opts = spec.fixed.get("options", {}).get(values["scheme"], {})
        lopts = spec.fixed.get("link_options", {}).get(ch, {})
        p = Point(
            **values,
            size=spec.fixed.get("size"),
            frames=spec.fixed.get("frames"),
            start=spec.fixed.get("start", 0),
            options=opts,
            link_options=lopts,
            metrics=spec.fixed.get("metrics"),
            device=spec.fixed.get("device", "cpu"),
        )
        if p.key not in seen:
            seen.add(p.key)
            out.append(p)
    return out
