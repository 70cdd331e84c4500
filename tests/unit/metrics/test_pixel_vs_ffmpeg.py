"""PSNR and SSIM against FFmpeg's own ``psnr``/``ssim`` filters (run through PyAV's filter graph).

FFmpeg is the independent reference: the frames go in as rgb24 (converted losslessly to gbrp inside
FFmpeg), and its per-frame ``lavfi.psnr.psnr_avg`` / ``lavfi.ssim.All`` metadata are compared with tokcom's
per-frame values and with the frame means tokcom reports.
"""

import io
from fractions import Fraction

import numpy as np
import pytest
from metrics_testutil import read_clip
from scipy.ndimage import gaussian_filter

from tokcom.metrics import compute_metrics
from tokcom.metrics.pixel import psnr_per_frame, ssim_ffmpeg_per_frame, ssim_per_frame

av = pytest.importorskip("av")


def ffmpeg_filter(ref: np.ndarray, dist: np.ndarray, name: str) -> list[dict]:
    """Per-frame metadata of FFmpeg filter ``name`` with ``dist`` as main input and ``ref`` as reference."""
    t, h, w, _ = ref.shape
    g = av.filter.Graph()
    main = g.add_buffer(width=w, height=h, format="rgb24", time_base=Fraction(1, 25))
    refb = g.add_buffer(width=w, height=h, format="rgb24", time_base=Fraction(1, 25))
    f = g.add(name)
    sink = g.add("buffersink")
    main.link_to(f, 0, 0)
    refb.link_to(f, 0, 1)
    f.link_to(sink)
    g.configure()
    out = []
    for i in range(t):
        for src, arr in ((main, dist[i]), (refb, ref[i])):
            fr = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
            fr.pts = i
            src.push(fr)
        while True:
            try:
                out.append(dict(sink.pull().metadata))
            except (av.BlockingIOError, av.EOFError):
                break
    main.push(None)
    refb.push(None)
    while True:
        try:
            out.append(dict(sink.pull().metadata))
        except (av.BlockingIOError, av.EOFError):
            break
    assert len(out) == t
    return out


def x264(frames: np.ndarray, crf: int) -> np.ndarray:
    """Encode + decode with libx264 (yuv420p: real chroma subsampling + coding artefacts)."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="matroska") as o:
        s = o.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        s.options = {"crf": str(crf), "preset": "ultrafast"}
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                o.mux(p)
        for p in s.encode():
            o.mux(p)
    buf.seek(0)
    with av.open(buf) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def _cases():
    rng = np.random.default_rng(0)
    bikes = read_clip("bikes.mp4", 4)
    vtest = read_clip("vtest.avi", 4, crop=np.s_[:290, :382])  # odd sizes: FFmpeg's 4-px remainder rule
    yield "bikes-x264", bikes, x264(bikes, 38)
    yield "vtest-x264", vtest[:, :288, :380], x264(vtest[:, :288, :380], 30)
    blur = gaussian_filter(vtest.astype(float), (0, 2, 2, 0))
    yield "vtest-blur", vtest, np.clip(blur, 0, 255).round().astype(np.uint8)
    yield "bikes-noise", bikes, np.clip(bikes + rng.normal(0, 9, bikes.shape), 0, 255).round().astype(np.uint8)


@pytest.fixture(scope="module")
def cases():
    return list(_cases())


def test_psnr_equals_ffmpeg(cases):
    for name, ref, dist in cases:
        ff = np.array([float(m["lavfi.psnr.psnr_avg"]) for m in ffmpeg_filter(ref, dist, "psnr")])
        mine = psnr_per_frame(ref, dist)
        assert np.abs(ff - mine).max() < 1e-3, name  # FFmpeg prints 6 decimals
        values, _ = compute_metrics(ref, dist, ["psnr"])
        assert abs(values["psnr"] - ff.mean()) < 0.05, name


def test_ssim_equals_ffmpeg(cases):
    for name, ref, dist in cases:
        ff = np.array([float(m["lavfi.ssim.All"]) for m in ffmpeg_filter(ref, dist, "ssim")])
        mine = ssim_ffmpeg_per_frame(ref, dist)
        assert np.abs(ff - mine).max() < 1e-5, name
        values, _ = compute_metrics(ref, dist, ["ssim"])
        assert abs(values["ssim"] - ff.mean()) < 0.002, name


def test_ssim_gauss_equals_skimage(cases):
    from skimage.metrics import structural_similarity

    _, ref, dist = cases[0]
    sk = [structural_similarity(r, d, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                data_range=255, channel_axis=-1) for r, d in zip(ref, dist)]
    np.testing.assert_allclose(ssim_per_frame(ref, dist), sk, atol=1e-6)


def test_identical_and_tiny_frames():
    a = np.random.default_rng(1).integers(0, 256, (2, 16, 20, 3), dtype=np.uint8)
    assert psnr_per_frame(a, a).tolist() == [100.0, 100.0]
    assert np.allclose(ssim_ffmpeg_per_frame(a, a), 1.0)
    with pytest.raises(Exception, match="8×8"):
        ssim_ffmpeg_per_frame(a[:, :7], a[:, :7])
