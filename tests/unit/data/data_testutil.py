"""Builders for the corpus tests: a tiny fake package tree, a fake fetcher, a hand-made Qt .rcc archive."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from tokcom.data.fetch import FetchedPackage, SourceUnavailable
from tokcom.data.sources import Package, Pick, Source


# --------------------------------------------------------------------------------------------- media
def write_mp4(path: Path, frames: int = 10, width: int = 96, height: int = 64, seed: int = 0,
              fps: int = 25) -> Path:
    """A small real MPEG-4 clip written with PyAV (moving colour gradient + noise)."""
    import av

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=fps)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        yy, xx = np.mgrid[0:height, 0:width]
        for t in range(frames):
            img = np.stack([(xx * 2 + t * 8) % 256, (yy * 3) % 256, np.full_like(xx, 128 + seed * 40)], -1)
            img = np.clip(img + rng.integers(-8, 8, img.shape), 0, 255).astype(np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def png_bytes(width: int, height: int, seed: int = 0, grey: bool = False) -> bytes:
    import cv2

    rng = np.random.default_rng(seed)
    img = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    if grey:
        img[..., 1] = img[..., 2] = img[..., 0]
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


# --------------------------------------------------------------------------------------------- rcc
def build_rcc(files: dict[str, bytes], version: int = 3, compress: tuple[str, ...] = ()) -> bytes:
    """A Qt binary resource archive holding ``files`` (``a/b/c.png`` paths), per the documented format."""
    tree: dict = {}
    for path, data in files.items():
        d = tree
        parts = path.split("/")
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = (data, path in compress)
    names = bytearray()
    name_off: dict[str, int] = {}
    payload = bytearray()

    def nameoff(n: str) -> int:
        if n not in name_off:
            name_off[n] = len(names)
            names.extend(struct.pack(">HI", len(n), 0) + n.encode("utf-16-be"))
        return name_off[n]

    nodes: list = [None]
    queue = [(0, "", tree)]
    while queue:
        idx, name, d = queue.pop(0)
        if isinstance(d, dict):
            first = len(nodes)
            kids = sorted(d.items())
            nodes.extend([None] * len(kids))
            nodes[idx] = ("dir", name, len(kids), first)
            queue.extend((first + k, kn, kd) for k, (kn, kd) in enumerate(kids))
        else:
            data, comp = d
            body = struct.pack(">I", len(data)) + zlib.compress(data) if comp else data
            off = len(payload)
            payload.extend(struct.pack(">I", len(body)) + body)
            nodes[idx] = ("file", name, off, comp)
    head = 24 if version >= 3 else 20
    data_off = head
    names_off = data_off + len(payload)
    for n in nodes:
        nameoff(n[1])
    tree_off = names_off + len(names)
    tb = bytearray()
    for n in nodes:
        if n[0] == "dir":
            tb += struct.pack(">IHII", nameoff(n[1]) if n[1] else 0, 0x02, n[2], n[3])
        else:
            tb += struct.pack(">IHHHI", nameoff(n[1]), 0x01 if n[3] else 0, 0, 1, n[2])
        if version >= 2:
            tb += struct.pack(">Q", 0)
    header = b"qres" + struct.pack(">IIII", version, tree_off, data_off, names_off)
    if version >= 3:
        header += struct.pack(">I", 0)
    return bytes(header + payload + names + tb)


# --------------------------------------------------------------------------------------------- packages
def make_packages(base: Path) -> dict[str, Path]:
    """Two fake extracted packages and a local folder:

    - ``vidpkg``: ``media/clip1.mp4`` (96x64, 10 fr), ``media/clip2.mp4`` (different), ``media/bikes.mp4``,
      ``media/copy_of_clip1.mp4`` (same bytes as clip1), ``media/street.mp4`` (the local bikes.mp4), ``seq/f_000.png``..``f_004.png`` (a sequence),
      ``bundle.zip`` holding ``inner/zipped.mp4``, ``LICENSE``;
    - ``photopkg``: ``pics/a.png`` (300x200), ``pics/tiny.png`` (20x10), ``pics/outside.png`` (a symlink to a
      file outside the package), ``res.rcc`` holding
      ``x/photos/r1.png`` (compressed) and ``x/photos/readme``, ``usr/share/doc/photopkg/copyright``;
    - ``local``: ``cockatoo.mp4`` and ``bikes.mp4``.
    """
    v = base / "vidpkg"
    write_mp4(v / "media/clip1.mp4", seed=0)
    write_mp4(v / "media/clip2.mp4", frames=12, seed=1)
    write_mp4(v / "media/bikes.mp4", seed=2)
    (v / "media/copy_of_clip1.mp4").write_bytes((v / "media/clip1.mp4").read_bytes())
    (v / "seq").mkdir(parents=True)
    for k in range(5):
        (v / f"seq/f_{k:03d}.png").write_bytes(png_bytes(80, 60, seed=10 + k))
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("inner/zipped.mp4", write_mp4(base / "tmp_zipped.mp4", frames=6, seed=3).read_bytes())
    (v / "bundle.zip").write_bytes(zbuf.getvalue())
    (v / "LICENSE").write_text("MIT licence text\n")
    p = base / "photopkg"
    (p / "pics").mkdir(parents=True)
    (p / "pics/a.png").write_bytes(png_bytes(300, 200, seed=5))
    (p / "pics/tiny.png").write_bytes(png_bytes(20, 10, seed=6))
    (base / "outside.png").write_bytes(png_bytes(300, 200, seed=9))
    (p / "pics/outside.png").symlink_to(base / "outside.png")  # leaves the package: never read
    (p / "res.rcc").write_bytes(build_rcc({"x/photos/r1.png": png_bytes(120, 90, seed=7),
                                           "x/photos/readme": b"photo by someone, CC0\n"},
                                          compress=("x/photos/r1.png",)))
    (p / "usr/share/doc/photopkg").mkdir(parents=True)
    (p / "usr/share/doc/photopkg/copyright").write_text("Files: *\nLicense: CC0-1.0\n")
    loc = base / "local"
    write_mp4(loc / "cockatoo.mp4", frames=8, seed=4)
    write_mp4(loc / "bikes.mp4", frames=8, seed=8)
    (v / "media/street.mp4").write_bytes((loc / "bikes.mp4").read_bytes())  # bikes under another name
    return {"vidpkg": v, "photopkg": p, "local": loc}


def catalog() -> tuple[Source, ...]:
    return (
        Source("vids", Package("npm", "vidpkg", "1.0"), (
            Pick("video", ("media/*.mp4", "bundle.zip!inner/*.mp4"), "MIT"),
            Pick("video", ("seq/f_*.png",), "CC0-1.0", sequence=True, fps=10.0),
        ), "fake videos"),
        Source("pics", Package("debian", "photopkg", "2.0"), (
            Pick("photo", ("pics/*.png",), "CC-BY-4.0", min_short_side_px=50),
            Pick("photo", ("res.rcc!x/photos/*.png",), "CC0-1.0", min_short_side_px=50),
        ), "fake photos", licence_files=("res.rcc!*/readme",)),
        Source("local", Package("local", "shared-data"), (
            Pick("video", ("cockatoo.mp4", "bikes.mp4"), "unspecified"),
        ), "local clips"),
    )


class FakeFetcher:
    """Serves the fake package folders; names in ``offline`` raise SourceUnavailable. Counts calls."""

    def __init__(self, dirs: dict[str, Path], offline: tuple[str, ...] = ()) -> None:
        self.dirs = dirs
        self.offline = set(offline)
        self.calls: list[str] = []

    def fetch(self, package: Package, workdir: Path) -> FetchedPackage:
        self.calls.append(package.name)
        if package.name in self.offline:
            raise SourceUnavailable(f"{package.describe()}: network is unreachable")
        key = "local" if package.registry == "local" else package.name
        return FetchedPackage(self.dirs[key], package.version or "", None, owned=False)
