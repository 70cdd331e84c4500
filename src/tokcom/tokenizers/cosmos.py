"""Adapter for NVIDIA Cosmos video tokenizers (TorchScript ``encoder.jit`` / ``decoder.jit``; paper 000).

Supported: ``cosmos-dv4x8x8``, ``cosmos-dv8x8x8``, ``cosmos-dv8x16x16`` (discrete, FSQ (8,8,8,5,5,5) = 64000
tokens) and ``cosmos-cv4x8x8``, ``cosmos-cv8x8x8``, ``cosmos-cv8x16x16`` (continuous, 16 channels). The hub
ids are declared once in :mod:`tokcom.models` (weight sets of the same names).

TorchScript signatures (as published by NVIDIA's Cosmos-Tokenizer):

* DV encoder: ``forward(x: Tensor[B,3,1+T,H,W]) -> (indices Tensor[B,t,h,w], codes Tensor[B,6,t,h,w])``
* DV decoder: ``forward(indices: Tensor[B,t,h,w]) -> Tensor[B,3,1+(t-1)·tf,h·sf,w·sf]``
* CV encoder: ``forward(x) -> (latent Tensor[B,16,t,h,w],)``; CV decoder: ``forward(latent) -> video``

Where the files come from, in order: ``path=`` (a folder with ``encoder.jit`` and ``decoder.jit``), the
folder ``$TOKCOM_COSMOS_DIR/Cosmos-Tokenizer-<ID>``, the tokcom cache
``$TOKCOM_HOME/cosmos/Cosmos-Tokenizer-<ID>/``, then the model hub (downloaded into the cache). When none
works the loader raises a one-line :class:`~tokcom.errors.WeightsUnavailable`.

TorchScript files are code as well as weights: load only files you trust (NVIDIA's, from the hub).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import torch

from tokcom import models
from tokcom.devices import resolve_device
from tokcom.errors import InputError, WeightsUnavailable
from tokcom.tokenizers.base import ContinuousVideoTokenizer, DiscreteVideoTokenizer, VideoTokenizerSpec
from tokcom.tokenizers.dv import resolve_dtype

COSMOS_IDS = ("DV4x8x8", "DV8x8x8", "DV8x16x16", "CV4x8x8", "CV8x8x8", "CV8x16x16")
FSQ_LEVELS = (8, 8, 8, 5, 5, 5)
CV_CHANNELS = 16


def cosmos_spec(tok_id: str) -> VideoTokenizerSpec:
    """Spec of ``Cosmos-Tokenizer-<tok_id>`` (``DV4x8x8`` → tf 4, sf 8, 64000 tokens)."""
    kind = tok_id[:2].upper()
    tf, sf, _ = (int(v) for v in tok_id[2:].lower().split("x"))
    if kind == "DV":
        return VideoTokenizerSpec(f"cosmos-{tok_id.lower()}", "discrete", tf, sf, 64000, 6, FSQ_LEVELS)
    return VideoTokenizerSpec(f"cosmos-{tok_id.lower()}", "continuous", tf, sf, 0, CV_CHANNELS, None)


def _hub_urls(name: str) -> dict[str, str]:
    urls: dict[str, str] = {}
    try:
        ws = models.WEIGHTS.get(name)
    except InputError:
        return urls
    for c in ws.components:
        for s in c.sources:
            if isinstance(s, models.HubSource):
                urls.setdefault(c.key, s.url)
    return urls


def cosmos_dir(tok_id: str) -> Path:
    """The cache folder of ``Cosmos-Tokenizer-<tok_id>``."""
    return models.cache_dir() / "cosmos" / f"Cosmos-Tokenizer-{tok_id}"


def _has_files(d: Path) -> bool:
    return (d / "encoder.jit").is_file() and (d / "decoder.jit").is_file()


def locate(tok_id: str, path: str | Path | None = None, allow_hub: bool = True) -> Path:
    """A folder holding ``encoder.jit`` and ``decoder.jit`` for ``tok_id``; downloads into the cache if needed.

    Raises:
        WeightsUnavailable: one line, when no local copy exists and the hub cannot be reached.
        InputError: ``path`` given but lacking the files.
    """
    full = f"Cosmos-Tokenizer-{tok_id}"
    if path is not None:
        d = Path(path).expanduser()
        if _has_files(d / full) and not _has_files(d):
            d = d / full
        if not _has_files(d):
            raise InputError(f"{d}: needs encoder.jit and decoder.jit of {full}")
        return d
    env = os.environ.get("TOKCOM_COSMOS_DIR")
    cands = [Path(env).expanduser() / full, Path(env).expanduser()] if env else []
    cands.append(cosmos_dir(tok_id))
    for d in cands:
        if _has_files(d):
            return d
    name = f"cosmos-{tok_id.lower()}"
    urls = _hub_urls(name)
    if not allow_hub or not urls:
        raise WeightsUnavailable(f"{full} not found locally; download encoder.jit and decoder.jit from the "
                                 f"hub (nvidia/{full}) into {cosmos_dir(tok_id)} or pass path=")
    dest = cosmos_dir(tok_id)
    tmp = dest.with_name(dest.name + ".part")
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        for part in ("encoder", "decoder"):
            _download(urls[part], tmp / f"{part}.jit")
    except WeightsUnavailable:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return dest


def _download(url: str, out: Path) -> None:
    import urllib.request
    from urllib.parse import urlparse

    try:
        with urllib.request.urlopen(url, timeout=20) as r, open(out, "wb") as f:
            shutil.copyfileobj(r, f)
    except Exception as e:  # noqa: BLE001  (offline, DNS, HTTP 401/404: one line)
        raise WeightsUnavailable(
            f"cannot fetch {Path(urlparse(url).path).name} of {url.split('/resolve/')[0].rsplit('/', 1)[-1]} "
            f"from {urlparse(url).netloc} ({type(e).__name__}); copy the .jit files into the cache "
            f"or pass path=") from None


def _load_jit(p: Path, device: torch.device, dtype: torch.dtype) -> torch.jit.ScriptModule:
    m = torch.jit.load(str(p), map_location=device)
    m = m.to(dtype)
    m.eval()
    return m


class _CosmosBase:
    def _setup(self, tok_id: str, path, device, dtype, allow_hub) -> None:
        self.spec = cosmos_spec(tok_id)
        self._device = resolve_device(device)
        self.dtype = resolve_dtype(dtype)
        self.folder = locate(tok_id, path, allow_hub)
        self._enc = _load_jit(self.folder / "encoder.jit", self._device, self.dtype)
        self._dec = _load_jit(self.folder / "decoder.jit", self._device, self.dtype)


class CosmosDV(_CosmosBase, DiscreteVideoTokenizer):
    """Cosmos discrete video tokenizer behind the :class:`DiscreteVideoTokenizer` interface."""

    def __init__(self, tok_id: str, path: str | Path | None = None, device: str = "cpu", dtype: str = "fp32",
                 allow_hub: bool = True) -> None:
        self._setup(tok_id, path, device, dtype, allow_hub)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self._enc(self.pad(x).to(self._device, self.dtype))
        indices, codes = out[0], out[1]
        return indices.to(torch.int64), codes.float()

    @torch.no_grad()
    def decode(self, indices: torch.Tensor) -> torch.Tensor:
        y = self._dec(indices.to(self._device))
        return (y[0] if isinstance(y, (tuple, list)) else y).float().clamp(-1, 1)


class CosmosCV(_CosmosBase, ContinuousVideoTokenizer):
    """Cosmos continuous video tokenizer behind the :class:`ContinuousVideoTokenizer` interface."""

    def __init__(self, tok_id: str, path: str | Path | None = None, device: str = "cpu", dtype: str = "fp32",
                 allow_hub: bool = True) -> None:
        self._setup(tok_id, path, device, dtype, allow_hub)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> torch.Tensor:
        out = self._enc(self.pad(x).to(self._device, self.dtype))
        return (out[0] if isinstance(out, (tuple, list)) else out).float()

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        y = self._dec(z.to(self._device, self.dtype))
        return (y[0] if isinstance(y, (tuple, list)) else y).float().clamp(-1, 1)


def load_cosmos(name: str, device: str = "cpu", dtype: str = "fp32", path: str | Path | None = None,
                allow_hub: bool = True, **_: object) -> CosmosDV | CosmosCV:
    """``cosmos-dv4x8x8`` … ``cosmos-cv8x16x16`` → a loaded adapter."""
    tok_id = {i.lower(): i for i in COSMOS_IDS}.get(name.lower().removeprefix("cosmos-"))
    if tok_id is None:
        raise InputError(f"unknown Cosmos tokenizer {name!r}; valid: "
                         + ", ".join(f"cosmos-{i.lower()}" for i in COSMOS_IDS))
    cls = CosmosDV if tok_id.startswith("DV") else CosmosCV
    return cls(tok_id, path=path, device=device, dtype=dtype, allow_hub=allow_hub)
