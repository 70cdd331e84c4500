"""The CLI contract under hostile or absurd input (issue 14): exit 2, one line on stderr, nothing left
behind — or a run that works; never a traceback, a MemoryError, or a half-written directory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tokcom.errors import InputError


def _tokcom(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "tokcom", *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def _one_line_error(p) -> None:
    assert p.returncode == 2, (p.returncode, p.stderr[-500:])
    assert p.stderr.startswith("tokcom: error:") and p.stderr.count("\n") == 1, p.stderr
    assert "Traceback" not in p.stderr


@pytest.fixture(scope="module")
def one_pixel_clip(tmp_path_factory):
    from tokcom.types import Video
    from tokcom.video.io import write_video

    p = tmp_path_factory.mktemp("clips") / "one.mkv"
    write_video(p, Video(np.full((5, 1, 1, 3), 90, np.uint8), 25.0))
    return p


RUN = ["run", "--frames", 5, "--channel", "awgn", "--cbr", 0.02, "--metric", "psnr"]


@pytest.mark.parametrize("extra", [
    ["--scheme", "h265", "--size", "100000x100000"],
    ["--scheme", "h265", "--seed", -1],
    ["--scheme", "h265", "--size", "0x10"],
])
def test_refused_with_one_line_and_nothing_left(extra, sample_path, tmp_path):
    out = tmp_path / "out"
    p = _tokcom(*RUN, "--input", sample_path, "--out", out, *extra)
    _one_line_error(p)
    assert not out.exists() and not any(tmp_path.iterdir())


@pytest.mark.parametrize("extra", [
    ["--scheme", "h264", "--cbr", 1e9],
    ["--scheme", "tokencom", "--size", "1x1", "--intent-box", "0,0,1,1"],
    ["--scheme", "resivid", "--size", "1x1"],
])
def test_absurd_but_valid_requests_run_or_refuse_cleanly(extra, sample_path, tmp_path):
    out = tmp_path / "out"
    p = _tokcom(*RUN, "--input", sample_path, "--out", out, *extra)
    if p.returncode == 2:
        _one_line_error(p)
        assert not out.exists()
    else:
        assert p.returncode == 0, p.stderr[-800:]
        assert (out / "result.json").is_file() and (out / "recon.mkv").is_file()


@pytest.mark.parametrize("scheme", ["h265", "h264", "tokencom", "resivid"])
def test_a_one_pixel_clip(scheme, one_pixel_clip, tmp_path):
    out = tmp_path / "out"
    extra = ["--intent-box", "0,0,1,1"] if scheme == "tokencom" else []
    p = _tokcom(*RUN, "--scheme", scheme, "--input", one_pixel_clip, "--out", out, *extra)
    if p.returncode == 2:
        _one_line_error(p)
        assert not out.exists()
    else:
        assert p.returncode == 0, p.stderr[-800:]


def test_out_on_an_unwritable_place(sample_path):
    p = _tokcom(*RUN, "--scheme", "h265", "--input", sample_path, "--out", "/proc/tokcom-cannot-write-here")
    _one_line_error(p)


def test_binary_sweep_spec(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_bytes(bytes(range(256)) * 8)
    out = tmp_path / "sweep"
    p = _tokcom("sweep", spec, "--out", out)
    _one_line_error(p)
    assert not out.exists()


def test_tokencom_b_delta_set_as_text():
    from tokcom.schemes.tokencom.config import TokenComConfig

    assert TokenComConfig(b_delta_set="10,12", intent_box="0,0,8,8").b_delta_set == (10, 12)
    with pytest.raises(InputError, match="b_delta_set"):
        TokenComConfig(b_delta_set="10,x", intent_box="0,0,8,8")


def test_receiver_never_loads_what_a_packet_names(sample_path, tmp_path, monkeypatch):
    """Side information with a valid CRC whose tokenizer index points at a configured fallback: the receiver
    uses the session's tokenizers, loaded before any packet is read, and never loads or fetches on demand."""
    from dataclasses import replace

    from tokcom.link.base import build_link
    from tokcom.schemes.base import build_scheme
    from tokcom.schemes.tokencom import bitstream as bs
    from tokcom.schemes.tokencom import scheme as tc
    from tokcom.types import Packet, Rate, Reception
    from tokcom.video import read_video

    v = read_video(sample_path, frames=9, size="64x64")
    s = build_scheme("tokencom", {"intent_box": "0,0,32,32", "fallback_tokenizers": "tokcom-dv8x16x16"})
    tx = s.encode(v, build_link("awgn").state(v.info, Rate(cbr=0.05)), np.random.default_rng(0))
    side = bs.decode_side_info(bs.join_side_pdus([p.payload for p in tx.packets if p.stream == "side"])[0])
    forged = bs.side_pdus(bs.encode_side_info(replace(side, tokenizer_index=1)))
    pk = [Packet(x, stream="side") for x in forged] + [p for p in tx.packets if p.stream != "side"]
    loads = []
    real = tc.load_discrete_tokenizer

    def spy(name, device, allow_hub=True):
        loads.append((name, allow_hub))
        return real(name, device, allow_hub=allow_hub)

    monkeypatch.setattr(tc, "load_discrete_tokenizer", spy)
    dec = s.decode(Reception(tx.info, tuple(pk)), np.random.default_rng(0))
    assert dec.video.frames.shape == v.frames.shape
    assert [n for n, _ in loads] == ["tokcom-dv4x8x8", "tokcom-dv8x16x16"]  # the session's, in order
    assert all(not hub for _, hub in loads)  # never from a hub in the receiver
    # a Cosmos fallback without local weights fails the session up front, with one line — not a download
    monkeypatch.setenv("TOKCOM_HOME", str(tmp_path))
    with pytest.raises(Exception) as e:
        build_scheme("tokencom", {"intent_box": "0,0,32,32", "fallback_tokenizers": "cosmos-dv8x16x16"}).decode(
            Reception(tx.info, tuple(pk)), np.random.default_rng(0))
    assert "\n" not in str(e.value)
    assert Path(tmp_path).exists()
