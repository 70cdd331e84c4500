#!/usr/bin/env python3
"""Assemble the training set of the built-in tokenizers (issue 5).

Sources:
* the real clips in ``../shared/data`` (``--clips``), keeping ``bikes.mp4`` out (the evaluation clip);
* the photos of the Debian packages ``mate-backgrounds`` and ``plasma-workspace-wallpapers``, fetched with
  ``apt-get download`` and unpacked with ``dpkg -x`` into a temporary folder (nothing is installed), or taken
  from ``/usr/share/backgrounds`` and ``/usr/share/wallpapers`` when the packages are installed.

Output (``--out``, default ``/tmp/tokcom-train``)::

    OUT/videos/<clip>        symlinks to the clips
    OUT/images/<pkg>-<name>.jpg  photos, downscaled so the shorter side is ≤ --max-side (JPEG q95)
    OUT/MANIFEST.json        every file with its source and licence note

Nothing here is committed to the repository: it is training data only.

Usage: python scripts/assemble_training_set.py [--clips ../shared/data] [--out /tmp/tokcom-train]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

PACKAGES = ("mate-backgrounds", "plasma-workspace-wallpapers")
EVAL_CLIPS = ("bikes.mp4",)
VIDEO_EXT = {".mp4", ".avi", ".mkv", ".mov", ".webm", ".y4m"}
# synthetic/graphic wallpapers (not photos) are skipped by name
NOT_PHOTOS = ("stripes", "radioactive", "warm-no-logo", "cold-no-logo", "dark-no-logo", "float-into",
              "gulp", "arc-colors", "flow", "waves", "spring", "silk", "screenshot", "opal", "kay", "altai",
              "icecold", "elephant", "mate-", "next", "shell", "patak", "safe", "scripture")


def _package_roots(work: Path) -> list[tuple[str, Path]]:
    roots = []
    for pkg in PACKAGES:
        installed = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True, check=False).returncode == 0
        if installed:
            roots.append((pkg, Path("/")))
            continue
        d = work / pkg
        d.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["apt-get", "download", pkg], cwd=d, capture_output=True, text=True, check=False)
        debs = list(d.glob("*.deb"))
        if r.returncode != 0 or not debs:
            print(f"warning: could not download {pkg}: {(r.stderr or '').strip().splitlines()[-1:]}")
            continue
        subprocess.run(["dpkg", "-x", str(debs[0]), str(d / "root")], check=True)
        roots.append((pkg, d / "root"))
    return roots


def _photos(pkg: str, root: Path) -> list[Path]:
    bases = [root / "usr/share/backgrounds", root / "usr/share/wallpapers"]
    out = []
    for b in bases:
        if not b.is_dir():
            continue
        for p in sorted(b.rglob("*")):
            if p.suffix.lower() not in (".jpg", ".jpeg", ".png") or not p.is_file():
                continue
            low = str(p.relative_to(b)).lower()
            if any(k in low for k in NOT_PHOTOS) or "images_dark" in low:
                continue
            out.append(p)
    # one file per wallpaper folder (the largest), all files of flat folders
    best: dict[Path, Path] = {}
    for p in out:
        key = p.parent if p.parent.name == "images" else p
        if key not in best or p.stat().st_size > best[key].stat().st_size:
            best[key] = p
    return sorted(best.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--out", default="/tmp/tokcom-train")
    ap.add_argument("--max-side", type=int, default=720)
    ap.add_argument("--no-photos", action="store_true")
    args = ap.parse_args()
    import cv2

    out = Path(args.out)
    (out / "videos").mkdir(parents=True, exist_ok=True)
    (out / "images").mkdir(parents=True, exist_ok=True)
    manifest = []
    for f in sorted(Path(args.clips).iterdir()):
        if f.suffix.lower() in VIDEO_EXT and f.name not in EVAL_CLIPS:
            dst = out / "videos" / f.name
            if dst.is_symlink() or dst.exists():
                dst.unlink()
            dst.symlink_to(f.resolve())
            manifest.append({"file": f"videos/{f.name}", "source": str(f)})
    if not args.no_photos:
        work = Path(tempfile.mkdtemp(prefix="tokcom-wallpapers-"))
        try:
            for pkg, root in _package_roots(work):
                for p in _photos(pkg, root):
                    im = cv2.imread(str(p), cv2.IMREAD_COLOR)
                    if im is None or min(im.shape[:2]) < 256:
                        continue
                    s = args.max_side / min(im.shape[:2])
                    if s < 1:
                        im = cv2.resize(im, (round(im.shape[1] * s), round(im.shape[0] * s)),
                                        interpolation=cv2.INTER_AREA)
                    name = f"{pkg}-{p.parents[2].name if p.parent.name == 'images' else p.stem}.jpg"
                    cv2.imwrite(str(out / "images" / name), im, [cv2.IMWRITE_JPEG_QUALITY, 95])
                    manifest.append({"file": f"images/{name}", "source": f"Debian {pkg}: {p.relative_to(root)}"})
        finally:
            shutil.rmtree(work, ignore_errors=True)
    (out / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    n_img = sum(1 for m in manifest if m["file"].startswith("images/"))
    print(f"{out}: {len(manifest) - n_img} videos, {n_img} images (kept out: {', '.join(EVAL_CLIPS)})")


if __name__ == "__main__":
    main()
