"""Training of the built-in tokenizers (``tokcom tokenizer train``).

Losses: L1 (+ optional MSE) on pixels, LPIPS-alex when its weights are cached and ``lpips_weight > 0``,
optional hinge adversarial loss with a small patch discriminator (``adv_weight > 0``, after
``adv_start`` steps). ResiTok additionally decodes a random prefix of its token sequence each step
(nested / tail dropout: the tokens after the prefix are replaced by the zero-flag), so early tokens learn to
carry the most important content and quality rises with the prefix length.

Mixed precision (bf16 autocast) on CUDA. Checkpoints (``OUT/ckpt/``: ``model.safetensors`` fp32,
``state.pt`` optimizer + step, loaded with ``weights_only=True``, ``config.json``) are written every
``ckpt_every`` steps and at the end; a run resumes from them. Every checkpoint also exports the shippable
fp16 weights to ``OUT/export/<name>.{safetensors,json}``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tokcom.errors import InputError
from tokcom.tokenizers.data import ClipSampler, DataConfig
from tokcom.tokenizers.nets import DVNet, ResiNet, interlaced_order
from tokcom.tokenizers.weights_io import save_weights

log = logging.getLogger(__name__)

# name → (kind, architecture, default training geometry); CPU defaults (small crops, short clips)
PRESETS: dict[str, dict[str, Any]] = {
    "tokcom-dv4x8x8": {"kind": "dv", "arch": {"temporal_factor": 4, "spatial_factor": 8, "width": 64,
                                              "levels": [8, 8, 8, 5, 5, 5]},
                       "frames": 9, "crop": 64, "batch": 8},
    "tokcom-dv8x16x16": {"kind": "dv", "arch": {"temporal_factor": 8, "spatial_factor": 16, "width": 64,
                                                "levels": [8, 8, 8, 5, 5, 5]},
                         "frames": 17, "crop": 96, "batch": 4},
    "tokcom-resitok": {"kind": "resitok", "arch": {"width": 64, "levels": [8, 8, 8, 8], "dec_blocks": 3},
                       "frames": 1, "crop": 128, "batch": 12},
}
PREFIX_FRACTIONS = (1 / 16, 1 / 8, 1 / 4, 1 / 2)


@dataclass(frozen=True)
class TrainConfig:
    """One training run. ``frames``/``crop``/``batch`` of 0 take the model preset's values."""

    model: str = "tokcom-dv4x8x8"
    data: tuple[str, ...] = ()
    out: str = "runs/tok"
    steps: int = 20000
    max_minutes: float = 0.0  # 0: no time limit; else the cosine schedule follows max(step, time) progress
    lr: float = 1e-3
    min_lr_ratio: float = 0.05
    warmup: int = 100
    batch: int = 0
    frames: int = 0
    crop: int = 0
    mse_weight: float = 1.0
    lpips_weight: float = 0.0
    adv_weight: float = 0.0
    adv_start: int = 2000
    threads: int = 0
    seed: int = 0
    device: str = "cpu"
    amp: bool = True
    ckpt_every: int = 200
    log_every: int = 20
    arch: dict[str, Any] = field(default_factory=dict)
    init_from: str = ""  # fine-tune: start from these weights (run folder or .safetensors), fresh schedule

    def resolved(self) -> TrainConfig:
        if self.model not in PRESETS:
            raise InputError(f"unknown built-in tokenizer {self.model!r}; valid: {', '.join(PRESETS)}")
        p = PRESETS[self.model]
        return replace(self, batch=self.batch or p["batch"], frames=self.frames or p["frames"],
                       crop=self.crop or p["crop"], arch={**p["arch"], **self.arch})


def build_net(model: str, arch: dict[str, Any]) -> nn.Module:
    kind = PRESETS[model]["kind"] if model in PRESETS else ("resitok" if "resitok" in model else "dv")
    if kind == "dv":
        return DVNet(arch["temporal_factor"], arch["spatial_factor"], arch["width"], tuple(arch["levels"]))
    return ResiNet(arch["width"], tuple(arch["levels"]), arch.get("dec_blocks", 3))


class PatchDisc(nn.Module):
    """Small PatchGAN discriminator on single frames (hinge loss)."""

    def __init__(self, c: int = 48) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(3, c, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(c, 2 * c, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * c, 4 * c, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(4 * c, 1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def _frames2d(v: torch.Tensor) -> torch.Tensor:
    return v.transpose(1, 2).reshape(-1, 3, v.shape[-2], v.shape[-1])


def resitok_prefix_missing(n: int, h: int, w: int, gen: torch.Generator, device) -> torch.Tensor:
    """``(n,1,h,w)`` float mask of missing grid positions for random prefixes (nested dropout)."""
    L = h * w
    order = interlaced_order(h, w)
    rank = torch.empty(L, dtype=torch.int64)
    rank[order] = torch.arange(L)
    ks = []
    for _ in range(n):
        if torch.rand((), generator=gen) < 0.5:
            f = PREFIX_FRACTIONS[int(torch.randint(len(PREFIX_FRACTIONS), (), generator=gen))]
            ks.append(max(1, round(f * L)))
        else:
            ks.append(int(torch.randint(1, L, (), generator=gen)))
    k = torch.tensor(ks).view(n, 1)
    miss = (rank.view(1, L) >= k).float().view(n, 1, h, w)
    return miss.to(device)


def _init_weights(src: str, load: bool = True) -> tuple[dict[str, torch.Tensor] | None, dict[str, Any]]:
    """Weights to fine-tune from: a run folder (its ``ckpt/model.safetensors``, fp32) or a ``.safetensors``
    file (e.g. shipped fp16 weights; with its JSON beside it, the sha256 is checked by
    :func:`~tokcom.tokenizers.weights_io.load_tensors`). Returns ``(state_dict or None when not load,
    lineage)``; the lineage (earlier steps and seconds, from the JSON record where there is one) goes into
    the new training record."""
    from safetensors.torch import load_file

    from tokcom.tokenizers.weights_io import load_tensors, read_config

    p = Path(src)
    record: dict[str, Any] = {}
    shipped = p.is_file() and p.with_suffix(".json").is_file()
    if p.is_dir():
        st = p / "ckpt" / "model.safetensors"
        exports = sorted((p / "export").glob("*.json"))
        if exports:
            record = json.loads(exports[0].read_text())
    else:
        st = p
        if shipped:
            record = read_config(p.stem, p.parent)
    if not st.is_file():
        raise InputError(f"--init-from {src}: no weights there (expected a run folder or a .safetensors file)")
    tr = record.get("training", {})
    before = tr.get("init_from", {})
    lineage = {"from": p.name, "steps": int(tr.get("steps", 0)) + int(before.get("steps", 0)),
               "seconds": round(float(tr.get("seconds", 0.0)) + float(before.get("seconds", 0.0)), 1)}
    if not load:
        return None, lineage
    if shipped:
        return load_tensors(p.stem, p.parent)[0], lineage
    return {k: v.float() for k, v in load_file(str(st)).items()}, lineage


def _hardware(device: str, threads: int) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU {cpu}, {threads} torch thread(s), {os.cpu_count()} logical cores (shared)"


def train(cfg: TrainConfig) -> Path:
    """Train (or resume) ``cfg.model``; returns the exported safetensors path."""
    cfg = cfg.resolved()
    if not cfg.data:
        raise InputError("no training data: give --data FOLDER (see scripts/assemble_training_set.py)")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = torch.device(cfg.device)
    out = Path(cfg.out)
    ck = out / "ckpt"
    ck.mkdir(parents=True, exist_ok=True)

    def write_log(rec: dict[str, Any]) -> None:
        with open(out / "train.log", "a") as f:
            f.write(json.dumps(rec) + "\n")

    sampler = ClipSampler(DataConfig(tuple(cfg.data)))
    kind = PRESETS[cfg.model]["kind"]
    net = build_net(cfg.model, cfg.arch).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr, betas=(0.9, 0.99))
    disc = dopt = None
    if cfg.adv_weight > 0:
        disc = PatchDisc().to(device)
        dopt = torch.optim.Adam(disc.parameters(), lr=cfg.lr, betas=(0.5, 0.99))
    lpips_net = None
    if cfg.lpips_weight > 0:
        from tokcom.metrics.perceptual import get_net, weights_unavailable

        why = weights_unavailable("lpips-alex")
        if why:
            log.warning("LPIPS loss disabled: %s", why)
        else:
            lpips_net = get_net("lpips-alex", str(device))
            for p in lpips_net.parameters():
                p.requires_grad_(False)
    step, elapsed = 0, 0.0
    lineage: dict[str, Any] = {}
    sd0 = None
    resuming = (ck / "state.pt").is_file()
    if cfg.init_from:  # on resume only the lineage is needed: the checkpoint below has the weights
        sd0, lineage = _init_weights(cfg.init_from, load=not resuming)
    if sd0 is not None:
        try:
            net.load_state_dict(sd0)
        except RuntimeError as e:
            raise InputError(f"--init-from {cfg.init_from}: weights do not fit {cfg.model} {cfg.arch} "
                             f"({str(e).splitlines()[0]})") from None
        log.info("initialised %s from %s (%d earlier steps)", cfg.model, cfg.init_from, lineage["steps"])
    if resuming:
        from safetensors.torch import load_file

        net.load_state_dict(load_file(str(ck / "model.safetensors"), device=str(device)))
        st = torch.load(ck / "state.pt", map_location=device, weights_only=True)
        opt.load_state_dict(st["opt"])
        if disc is not None and "disc" in st:
            disc.load_state_dict(st["disc"])
            dopt.load_state_dict(st["dopt"])
        step, elapsed = int(st["step"]), float(st["elapsed"])
        log.info("resumed %s at step %d", cfg.model, step)
    (ck / "config.json").write_text(json.dumps(asdict(cfg), indent=2))
    use_amp = cfg.amp and device.type == "cuda"
    gen = torch.Generator().manual_seed(cfg.seed + 7919 * step)
    rng = np.random.default_rng(cfg.seed + step)
    t_start = time.time() - elapsed
    budget_s = cfg.max_minutes * 60.0

    def progress() -> float:
        f = step / cfg.steps
        if budget_s > 0:
            f = max(f, (time.time() - t_start) / budget_s)
        return min(f, 1.0)

    def save() -> Path:
        from safetensors.torch import save_file

        sd = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
        save_file(sd, str(ck / "model.tmp"))
        os.replace(ck / "model.tmp", ck / "model.safetensors")
        st = {"opt": opt.state_dict(), "step": step, "elapsed": time.time() - t_start}
        if disc is not None:
            st.update(disc=disc.state_dict(), dopt=dopt.state_dict())
        torch.save(st, ck / "state.tmp")
        os.replace(ck / "state.tmp", ck / "state.pt")
        record = {
            "name": cfg.model, "kind": kind, "arch": cfg.arch,
            "training": {"steps": step, "seconds": round(time.time() - t_start, 1),
                         "hardware": _hardware(cfg.device, torch.get_num_threads()),
                         "batch": cfg.batch, "frames": cfg.frames, "crop": cfg.crop, "lr": cfg.lr,
                         "losses": {"l1": 1.0, "mse": cfg.mse_weight,
                                    "lpips_alex": cfg.lpips_weight if lpips_net is not None else 0.0,
                                    "adversarial": cfg.adv_weight},
                         "data": sampler.summary(), "torch": torch.__version__},
        }
        if lineage:
            record["training"]["init_from"] = lineage
        return save_weights(cfg.model, sd, record, out / "export")

    net.train()
    last = time.time()
    while step < cfg.steps and progress() < 1.0:
        f = progress()
        lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup) * (
            cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * f)))
        for g in opt.param_groups:
            g["lr"] = lr
        clips = sampler.sample(rng, cfg.batch, cfg.frames, cfg.crop)
        x = torch.from_numpy(clips).to(device).permute(0, 4, 1, 2, 3).float() / 127.5 - 1.0  # (B,3,T,H,W)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            if kind == "dv":
                rec, _ = net(x)
                ref = x
                rec2d, ref2d = _frames2d(rec), _frames2d(ref)
                extra = torch.zeros((), device=device)
            else:
                ref2d = _frames2d(x)
                z = net.encode_latent(ref2d)
                codes, _ = net.fsq(z)
                n, _, h, w = codes.shape
                zero = torch.zeros(n, 1, h, w, device=device)
                rec2d = net.decode_grid(codes, zero)
                miss = resitok_prefix_missing(n, h, w, gen, device)
                pre = net.decode_grid(codes, miss)
                extra = F.l1_loss(pre.float(), ref2d) + cfg.mse_weight * F.mse_loss(pre.float(), ref2d)
            rec2d = rec2d.float()
            loss = F.l1_loss(rec2d, ref2d) + cfg.mse_weight * F.mse_loss(rec2d, ref2d) + extra
            if lpips_net is not None:
                loss = loss + cfg.lpips_weight * lpips_net(rec2d, ref2d).mean()
            if disc is not None and step >= cfg.adv_start:
                loss = loss - cfg.adv_weight * disc(rec2d).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        if disc is not None and step >= cfg.adv_start:
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
                dl = F.relu(1 - disc(ref2d)).mean() + F.relu(1 + disc(rec2d.detach())).mean()
            dopt.zero_grad(set_to_none=True)
            dl.backward()
            dopt.step()
        step += 1
        if step % cfg.log_every == 0:
            with torch.no_grad():
                mse = F.mse_loss(rec2d.clamp(-1, 1), ref2d).item()
            rec_ = {"step": step, "loss": round(loss.item(), 5), "psnr_train": round(10 * math.log10(4 / max(mse, 1e-10)), 2),
                    "lr": round(lr, 6), "s_per_step": round((time.time() - last) / cfg.log_every, 3),
                    "elapsed_s": round(time.time() - t_start, 1)}
            last = time.time()
            write_log(rec_)
        if step % cfg.ckpt_every == 0:
            save()
    path = save()
    write_log({"done": step, "elapsed_s": round(time.time() - t_start, 1)})
    return path
