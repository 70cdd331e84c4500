"""Weights of learned schemes (pvsc, tvc, …): where the files are, their digest, safe loading, and a small
per-process cache of built models.

::

    --set weights=shipped  → <scheme package>/weights/<name>.safetensors + <name>.json
    --set weights=PATH     → PATH (a .safetensors file, or a folder holding <name>.safetensors) + its .json
    --set weights=random   → no file: a seeded random initialisation (provenance "random-init")

The JSON holds the sha256 of the safetensors file (checked at every load), the architecture and the
training record (``tokcom train`` writes both into ``RUN/export/``). Loading never unpickles: safetensors only.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokcom import models
from tokcom.errors import WeightsUnavailable

RANDOM_INIT = "random-init"
"""The weight digest recorded (provenance, reports) for a random initialisation."""


@dataclass(frozen=True)
class SchemeWeights:
    """The weight files of one learned scheme.

    Attributes:
        scheme: the scheme's name (messages).
        directory: where the shipped files live.
    """

    scheme: str
    directory: Path

    def files(self, weights: str, name: str) -> tuple[Path, Path] | None:
        """``(.safetensors, .json)`` of ``weights`` (``shipped`` | ``random`` | a path) for the file stem
        ``name`` (e.g. ``pvsc-small``); None for ``random``."""
        if weights == "random":
            return None
        if weights == "shipped":
            return self.directory / f"{name}.safetensors", self.directory / f"{name}.json"
        p = Path(weights).expanduser()
        if p.is_dir():
            p = p / f"{name}.safetensors"
        return p, p.with_suffix(".json")

    def meta(self, weights: str, name: str) -> dict[str, Any]:
        """The JSON beside the weights file (unchecked), or ``{}`` for random weights, absent or unreadable
        files — for provenance, which must not raise."""
        files = self.files(weights, name)
        if files is None or not files[0].is_file() or not files[1].is_file():
            return {}
        try:
            meta = json.loads(files[1].read_text())
        except (OSError, ValueError):
            return {}
        return meta if isinstance(meta, dict) else {}

    def digest(self, weights: str, name: str) -> str:
        """The sha256 recorded for the file (checked at load), :data:`RANDOM_INIT`, or ``absent``."""
        if self.files(weights, name) is None:
            return RANDOM_INIT
        return str(self.meta(weights, name).get("sha256") or "absent")

    def read(self, weights: str, name: str) -> tuple[dict[str, Any], dict[str, Any], str, Path]:
        """``(state dict as float32 tensors, the JSON, sha256, the file)``; one-line
        :class:`WeightsUnavailable` when the files are absent, unreadable or do not match their sha256."""
        from safetensors.torch import load_file

        files = self.files(weights, name)
        if files is None:
            raise ValueError("weights=random has no file")
        st, js = files
        if not st.is_file() or not js.is_file():
            what = "shipped weights" if weights == "shipped" else "weights"
            raise WeightsUnavailable(
                f"{self.scheme} {what} {st} (+ .json) not found; train them with `tokcom train --model {name}` "
                f"and copy export/{name}.* to {st.parent}, or run untrained with --set weights=random")
        try:
            meta = json.loads(js.read_text())
        except (OSError, ValueError) as e:
            raise WeightsUnavailable(f"{self.scheme} weights {js}: unreadable JSON ({e})") from None
        digest = models.sha256_file(st)
        if digest != meta.get("sha256"):
            raise WeightsUnavailable(f"{self.scheme} weights {st} have sha256 {digest[:12]}…, expected "
                                     f"{str(meta.get('sha256'))[:12]}… (recorded in {js.name})")
        return {k: v.float() for k, v in load_file(str(st)).items()}, meta, digest, st

    def load_into(self, model: Any, state: dict[str, Any], source: Path, what: str) -> None:
        """``model.load_state_dict(state)`` with a one-line :class:`WeightsUnavailable` when it does not fit."""
        try:
            model.load_state_dict(state)
        except RuntimeError as e:
            raise WeightsUnavailable(f"{self.scheme} weights {source} do not fit {what} "
                                     f"({str(e).splitlines()[0]})") from None


class ModelCache:
    """Built models kept per process, least recently used first out (a sweep worker decodes many points
    with the same weights)."""

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self._items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        value = build()
        self._items[key] = value
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return value
