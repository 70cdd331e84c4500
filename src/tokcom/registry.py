"""One generic registry (convention 1): ``register(name)`` decorator, duplicates rejected,
``get(name)`` raising with the valid names, ``list()`` for the CLI.

Registries are filled lazily: a registry knows the modules that register into it and imports them the first
time it is queried, so ``import tokcom`` stays light (convention 12).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tokcom.errors import UnknownNameError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    obj: T
    description: str


class Registry(Generic[T]):
    """Name → object registry of one kind (schemes, links, metrics, tokenizers, ...).

    Args:
        kind: what the registry holds, used in error messages (``"scheme"``).
        modules: dotted module names whose import registers the built-in entries.
    """

    def __init__(self, kind: str, modules: Iterable[str] = ()) -> None:
        self.kind = kind
        self._modules = tuple(modules)
        self._entries: dict[str, Entry[T]] = {}
        self._loaded = False

    def register(self, name: str, description: str | None = None) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``; a duplicate name raises ``ValueError``."""
        key = name.lower()

        def deco(obj: T) -> T:
            if key in self._entries and self._entries[key].obj is not obj:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            doc = description
            if doc is None:
                doc = ((getattr(obj, "__doc__", None) or "").strip().splitlines() or [""])[0]
            self._entries[key] = Entry(key, obj, doc)
            return obj

        return deco

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for mod in self._modules:
                importlib.import_module(mod)

    def get(self, name: str) -> T:
        """The object registered under ``name`` (case-insensitive); unknown → ``UnknownNameError``."""
        self._load()
        key = str(name).lower()
        if key not in self._entries:
            valid = ", ".join(self.list()) or "(none)"
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid: {valid}")
        return self._entries[key].obj

    def __contains__(self, name: str) -> bool:
        self._load()
        return str(name).lower() in self._entries

    def list(self) -> list[str]:
        """Sorted registered names."""
        self._load()
        return sorted(self._entries)

    def entries(self) -> list[Entry[T]]:
        self._load()
        return [self._entries[k] for k in self.list()]


# One instance per kind. The module lists name where the built-in entries live (imported on first use).
SCHEMES: Registry = Registry("scheme", ["tokcom.schemes"])
LINKS: Registry = Registry("channel", ["tokcom.link"])
METRICS: Registry = Registry("metric", ["tokcom.metrics"])
TOKENIZERS: Registry = Registry("tokenizer", ["tokcom.tokenizers"])
WEIGHTS: Registry = Registry("weights", ["tokcom.models"])
