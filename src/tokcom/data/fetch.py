"""Registry clients: fetch a catalog package with the registry's ordinary client and extract it.

=========  ==========================================================  ===========================
registry   download                                                    extract
=========  ==========================================================  ===========================
debian     ``apt-get download NAME``                                   ``dpkg-deb -x NAME_*.deb DIR``
pypi       ``python -m pip download --no-deps --only-binary=:all:``    zip (wheel)
           (``--no-binary=:all:`` for an sdist) ``NAME==VER``          tar (sdist)
npm        ``npm pack NAME@VER``                                       tar
local      nothing: the folder ``../shared/data`` (or ``$TOKCOM_LOCAL_DATA``, or ``--local-dir``) is used
           as it is, and skipped when it does not exist
=========  ==========================================================  ===========================

An archive already present in the downloads folder is reused, so an interrupted fetch resumes without
downloading again. The fetcher is injectable: :func:`tokcom.data.build.fetch_corpus` takes any object with
the :class:`Fetcher` method, which is how the tests work without a network.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tokcom.data.sources import Package
from tokcom.errors import TokcomError

__all__ = [
    "FetchedPackage",
    "Fetcher",
    "RegistryFetcher",
    "SourceSkipped",
    "SourceUnavailable",
    "default_local_dir",
]

_TIMEOUT_S = 1800


class SourceUnavailable(TokcomError):
    """A corpus package could not be fetched (offline, not on the registry, client missing); one line."""


class SourceSkipped(Exception):
    """A source that is optional here (the local clip folder does not exist)."""


@dataclass(frozen=True)
class FetchedPackage:
    """An extracted package.

    Attributes:
        root: folder the catalog's member paths are relative to.
        version: the version fetched (Debian: from the .deb; others: as pinned).
        archive: the downloaded archive (None for a local folder).
        owned: True when ``root`` is a scratch folder the caller may delete.
    """

    root: Path
    version: str
    archive: Path | None = None
    owned: bool = True


class Fetcher(Protocol):
    def fetch(self, package: Package, workdir: Path) -> FetchedPackage:
        """Fetch and extract ``package`` below the scratch folder ``workdir``.

        Raises:
            SourceUnavailable: the package cannot be fetched (one line naming it and why).
            SourceSkipped: the source is optional and absent here.
        """
        ...


def default_local_dir() -> Path:
    """``$TOKCOM_LOCAL_DATA``, else ``../shared/data`` next to this checkout (src layout)."""
    env = os.environ.get("TOKCOM_LOCAL_DATA")
    if env:
        return Path(env).expanduser()
    return (Path(__file__).resolve().parents[3] / ".." / "shared" / "data").resolve()


class RegistryFetcher:
    """Fetches with ``apt-get``/``dpkg-deb``, ``pip`` and ``npm``.

    Args:
        downloads: folder for archives (one subfolder per registry); archives found there are reused.
        local_dir: the folder of the ``local`` source (default :func:`default_local_dir`).
    """

    def __init__(self, downloads: Path, local_dir: Path | None = None) -> None:
        self.downloads = Path(downloads)
        self.local_dir = Path(local_dir) if local_dir is not None else default_local_dir()

    # ------------------------------------------------------------------ dispatch
    def fetch(self, package: Package, workdir: Path) -> FetchedPackage:
        if package.registry == "local":
            if not self.local_dir.is_dir():
                raise SourceSkipped(f"local folder {self.local_dir} does not exist")
            return FetchedPackage(self.local_dir, "", None, owned=False)
        archive, version = self.download(package)
        dest = Path(workdir) / "pkg"
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        try:
            self.extract(package, archive, dest)
        except (OSError, tarfile.TarError, zipfile.BadZipFile, ValueError, subprocess.SubprocessError) as e:
            raise SourceUnavailable(f"{package.describe()}: cannot extract {archive.name}: {e}") from None
        return FetchedPackage(dest, version, archive)

    def download(self, package: Package) -> tuple[Path, str]:
        """The archive of ``package`` in the downloads folder (downloaded when absent) and its version."""
        d = self.downloads / package.registry
        d.mkdir(parents=True, exist_ok=True)
        if package.registry == "debian":
            return self._debian(package, d)
        if package.registry == "pypi":
            return self._pypi(package, d), package.version
        if package.registry == "npm":
            return self._npm(package, d), package.version
        raise SourceUnavailable(f"{package.describe()}: unknown registry {package.registry!r}")

    # ------------------------------------------------------------------ registries
    def _debian(self, package: Package, d: Path) -> tuple[Path, str]:
        found = sorted(d.glob(f"{package.name}_*.deb"))
        if not found:
            os.chmod(d, 0o755)  # let apt's sandbox user write there when run as root
            _run(["apt-get", "download", package.name], d, package, "apt-get download")
            found = sorted(d.glob(f"{package.name}_*.deb"))
            if not found:
                raise SourceUnavailable(f"{package.describe()}: apt-get download produced no .deb")
        deb = found[-1]
        out = _run(["dpkg-deb", "-f", str(deb), "Version"], d, package, "dpkg-deb -f")
        return deb, out.strip() or package.version

    def _pypi(self, package: Package, d: Path) -> Path:
        names = {package.name.lower(), re.sub(r"[-_.]+", "_", package.name.lower())}
        sdist = package.dist == "sdist"

        def existing() -> list[Path]:
            out = []
            for f in d.iterdir():
                low = f.name.lower()
                ok_kind = low.endswith((".tar.gz", ".zip", ".tgz")) if sdist else low.endswith(".whl")
                if ok_kind and any(low.startswith(f"{n}-{package.version}".lower()) for n in names):
                    out.append(f)
            return sorted(out)

        found = existing()
        if not found:
            binary = "--no-binary=:all:" if sdist else "--only-binary=:all:"
            _run([sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
                  "--quiet", binary, "-d", str(d), f"{package.name}=={package.version}"], d, package,
                 "pip download")
            found = existing()
            if not found:
                raise SourceUnavailable(f"{package.describe()}: pip download produced no archive")
        return found[0]

    def _npm(self, package: Package, d: Path) -> Path:
        base = package.name.lstrip("@").replace("/", "-")
        want = d / f"{base}-{package.version}.tgz"
        if not want.is_file():
            if shutil.which("npm") is None:
                raise SourceUnavailable(f"{package.describe()}: npm is not installed")
            _run(["npm", "pack", "--loglevel=error", f"{package.name}@{package.version}"], d, package, "npm pack")
            if not want.is_file():
                raise SourceUnavailable(f"{package.describe()}: npm pack produced no {want.name}")
        return want

    # ------------------------------------------------------------------ extraction
    def extract(self, package: Package, archive: Path, dest: Path) -> None:
        name = archive.name.lower()
        if name.endswith(".deb"):
            _run(["dpkg-deb", "-x", str(archive), str(dest)], dest, package, "dpkg-deb -x")
        elif name.endswith((".whl", ".zip")):
            _extract_zip(archive, dest)
        elif name.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar")):
            with tarfile.open(archive) as t:
                if hasattr(tarfile, "data_filter"):
                    t.extractall(dest, filter="data")
                else:  # pragma: no cover - Python < 3.10.12 / 3.11.4
                    _check_tar(t, dest)
                    t.extractall(dest)
        else:
            raise ValueError(f"unknown archive type {archive.name}")


def _extract_zip(archive: Path, dest: Path) -> None:
    base = dest.resolve()
    with zipfile.ZipFile(archive) as z:
        for info in z.infolist():
            target = (dest / info.filename).resolve()
            if not target.is_relative_to(base):
                raise ValueError(f"unsafe path in {archive.name}: {info.filename}")
        z.extractall(dest)


def _check_tar(t: tarfile.TarFile, dest: Path) -> None:  # pragma: no cover - old Pythons only
    base = dest.resolve()
    for m in t.getmembers():
        if not (dest / m.name).resolve().is_relative_to(base) or m.issym() or m.islnk():
            raise ValueError(f"unsafe member {m.name}")


def _run(cmd: list[str], cwd: Path, package: Package, what: str) -> str:
    """Run a registry client; a failure becomes SourceUnavailable with the client's last error line."""
    if shutil.which(cmd[0]) is None and not os.path.isabs(cmd[0]):
        raise SourceUnavailable(f"{package.describe()}: {cmd[0]} is not installed here")
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise SourceUnavailable(f"{package.describe()}: {what} timed out after {_TIMEOUT_S} s") from None
    except OSError as e:
        raise SourceUnavailable(f"{package.describe()}: {what} failed: {e}") from None
    if r.returncode != 0:
        raise SourceUnavailable(f"{package.describe()}: {what} failed: {_last_error(r.stderr or r.stdout)}")
    return r.stdout


def _last_error(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    errs = [ln for ln in lines if re.match(r"^(E:|ERROR|npm ERR!|npm error|error)", ln, re.IGNORECASE)]
    if errs:  # the first error line says what; npm's first one is only a code: add its first message
        line = errs[0]
        if re.search(r"npm (ERR!|error) code", line):
            said = [e for e in errs[1:] if not re.match(r"npm (ERR!|error)\s+(code|syscall|errno|at)\b", e)]
            line = "; ".join([line, *said[:1]])
    else:
        line = (lines or ["no output"])[-1]
    if "Unable to locate package" in line:
        line += " (is the package list current? apt-get update)"
    return " ".join(line.split())[:300]
