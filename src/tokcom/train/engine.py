"""The training engine: one loop for every learned part of tokcom.

::

    RunConfig ─► Trainer.fit()
      TRAINABLE[model] ─► TrainableModel + Recipe (stages)      ClipSampler ─► ClipStream(seed, rank, step)
      for each step:  stage = recipe.locate(progress)  →  freeze groups, lr (warm-up + cosine)
                      out = model.training_step(batch, ctx)  →  LossSet(stage.losses)  →  backward, clip, Adam
                      [stage.gan]  PatchDiscriminator hinge step
                      every log_every: train.log (mean over ranks)     every ckpt_every: checkpoint + export
                      stop: steps done | budget (--max-minutes) | SIGTERM / SIGINT  (all ranks agree)
      end: checkpoint, export, record.json, loss.png; DDP teardown (release, barrier, destroy)

Multi-process data parallel: launch the same command under ``torchrun --nproc_per_node N``; ``batch`` is
per process (global batch ``N · batch``), every process draws its own share of each global batch
(:mod:`tokcom.train.stream`), rank 0 writes every file. bf16 autocast on CUDA (``amp``).

Wall-clock budget (``max_minutes``): with ``budget="anneal"`` (default) the schedule's clock is
``max(step / steps, elapsed / budget)``, so the learning rate anneals by the deadline and the run ends
there with a complete schedule; with ``budget="stop"`` the schedule follows the steps only and the run
checkpoints and stops at the deadline, to be resumed later. Either way, and on SIGTERM/SIGINT, the run
ends after the step in flight with a checkpoint, an export and its record; re-running the same command
resumes it.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tokcom.devices import resolve_device
from tokcom.errors import InputError
from tokcom.train import checkpoint as ckpt_io
from tokcom.train import distributed as ddp
from tokcom.train.config import BUDGETS, RunConfig, RunResult
from tokcom.train.data import ClipSampler, DataConfig
from tokcom.train.gan import PatchDiscriminator, discriminator_logits, hinge_d_loss
from tokcom.train.losses import LossSet, fold_frames
from tokcom.train.model import StepContext, TrainableModel, check_groups
from tokcom.train.recipe import TRAINABLE, Recipe, TrainableSpec
from tokcom.train.record import PLOT_FILE, Progress, RunLog, hardware, plot_losses, write_record
from tokcom.train.stream import ClipGeometry, ClipStream, batches, to_model_input

log = logging.getLogger(__name__)
def _step_seed(seed: int, step: int, rank: int) -> int:
    return int(np.random.SeedSequence([seed & 0xFFFFFFFF, step, rank, 7]).generate_state(1)[0])


class Trainer:
    """Runs :class:`RunConfig` (``fit``). ``model``/``sampler``/``net_loader`` may be injected (tests)."""

    def __init__(self, cfg: RunConfig, *, sampler: ClipSampler | None = None, net_loader=None) -> None:
        if cfg.budget not in BUDGETS:
            raise InputError(f"budget must be one of {', '.join(BUDGETS)}; got {cfg.budget!r}")
        if not cfg.data and sampler is None:
            raise InputError("no training data: give --data FOLDER|CORPUS|VIMEO90K|SHARDS")
        self.cfg, self._sampler, self._net_loader = cfg, sampler, net_loader
        self.spec: TrainableSpec = TRAINABLE.get(cfg.model)
        recipe = self.spec.recipe(cfg.recipe)
        recipe = recipe.with_steps(cfg.steps) if cfg.steps else recipe
        self.recipe: Recipe = recipe.with_lr(cfg.lr) if cfg.lr else recipe
        self.out = Path(cfg.out)
        self._signal = ""
        self._ddp = self._ddisc = None

    # ------------------------------------------------------------------------------------------ setup
    def _setup(self) -> None:
        cfg = self.cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        resolve_device(cfg.device)  # one-line InputError for a bad name or CUDA where there is none
        self.info = ddp.setup(cfg.device)
        self.device = self.info.device
        self.main = self.info.is_main
        self.ck = self.out / "ckpt"
        if self.main:
            self.ck.mkdir(parents=True, exist_ok=True)
        self.log = RunLog(self.out, self.main)
        self.sampler = self._sampler or ClipSampler(DataConfig(tuple(cfg.data), **cfg.data_options))
        torch.manual_seed(cfg.seed)  # the same initial weights on every rank
        self.model: TrainableModel = self.spec.build(dict(cfg.model_options)).to(self.device)
        self.groups = check_groups(self.model)
        r = self.recipe
        pgs = [{"params": ps, "name": g} for g, ps in self.groups.items() if ps]
        opt_cls = torch.optim.AdamW if r.weight_decay > 0 else torch.optim.Adam
        self.opt = opt_cls(pgs, lr=r.stages[0].lr, betas=r.betas, weight_decay=r.weight_decay)
        self.disc = self.dopt = None
        if r.uses_gan:
            self.disc = PatchDiscriminator().to(self.device)
            self.dopt = torch.optim.Adam(self.disc.parameters(), lr=r.stages[0].lr, betas=r.disc_betas)
        self.step, self.elapsed, self.samples = 0, 0.0, 0
        self.stage_idx, self.stage_start = -1, 0
        self.lineage: dict[str, Any] = {}
        resuming = ckpt_io.has_checkpoint(self.ck)
        if cfg.init_from:  # on resume only the lineage: the checkpoint has the weights
            sd, self.lineage = ckpt_io.init_weights(cfg.init_from, load=not resuming)
            if sd is not None:
                self.model.load_weights({k: v.to(self.device) for k, v in sd.items()}, f"--init-from {cfg.init_from}")
                log.info("initialised %s from %s (%d earlier steps)", cfg.model, cfg.init_from, self.lineage["steps"])
        if resuming:
            self._resume()
        self.saved_stage = self.stage_idx
        if self.main:
            (self.ck / "config.json").write_text(json.dumps({"run": cfg.to_dict(), "recipe": self.recipe.to_dict()},
                                                            indent=2, default=str))

    def _resume(self) -> None:
        weights, st = ckpt_io.load_checkpoint(self.ck, self.device)
        self.model.load_weights(weights, f"checkpoint {self.ck}")
        self.opt.load_state_dict(st["opt"])
        if self.disc is not None and "disc" in st:
            self.disc.load_state_dict(st["disc"])
            self.dopt.load_state_dict(st["dopt"])
        self.step, self.elapsed = int(st["step"]), float(st["elapsed"])
        self.samples = int(st.get("samples", 0))
        self.stage_idx, self.stage_start = int(st.get("stage", -1)), int(st.get("stage_start", 0))
        self.lineage = st.get("lineage") or self.lineage
        if "rng" in st:
            ckpt_io.restore_rng(st["rng"])
        log.info("resumed %s at step %d", self.cfg.model, self.step)

    # ------------------------------------------------------------------------------------------ stages
    def _geometry(self, i: int) -> ClipGeometry:
        s, c, sp = self.recipe.stages[i], self.cfg, self.spec
        return ClipGeometry(batch=s.batch or c.batch or sp.batch, frames=s.frames or c.frames or sp.frames,
                            crop=s.crop or c.crop or sp.crop)

    def _enter_stage(self, i: int, fresh: bool) -> None:
        stage = self.recipe.stages[i]
        self.stage_idx = i
        if fresh:
            self.stage_start = self.step
            if stage.reset_optimizer:
                self.opt.state.clear()
        train = set(stage.trainable(list(self.groups)))
        for g, ps in self.groups.items():
            for p in ps:
                p.requires_grad_(g in train)
        self._ddp = None  # the trainable set changed: a new DDP reducer
        self._ddp = ddp.wrap(self.model, self.info, self.model.find_unused_parameters)
        if stage.gan and self.disc is not None and self._ddisc is None:
            self._ddisc = ddp.wrap(self.disc, self.info)
        self.losses = LossSet(stage.loss_weights, str(self.device), self._net_loader)
        if self.losses.uses_gan and not stage.gan:
            raise InputError(f"stage {stage.name!r} weights 'gan' but does not train the discriminator (gan: true)")
        self.geom = self._geometry(i)
        self._data = batches(ClipStream(self.sampler, self.geom, self.cfg.seed, self.info.rank, start=self.step),
                             self.cfg.workers, pin_memory=self.device.type == "cuda")
        self.log.write({"event": "stage", "at": self.step, "stage": stage.name, "index": i,
                        "trainable": sorted(train), "geometry": asdict(self.geom), "losses": stage.loss_weights})

    # ------------------------------------------------------------------------------------------ loop
    def _progress(self, elapsed: float) -> float:
        total = self.recipe.total_steps
        p = self.step / total if total else 1.0
        if self.cfg.max_minutes > 0 and self.cfg.budget == "anneal":
            p = max(p, elapsed / (self.cfg.max_minutes * 60.0))
        return min(p, 1.0)

    def _train_step(self, x: torch.Tensor, stage, lr: float) -> dict[str, torch.Tensor]:
        use_amp = self.cfg.amp and self.device.type == "cuda"
        gen = torch.Generator().manual_seed(_step_seed(self.cfg.seed, self.step, self.info.rank))
        ctx = StepContext(stage, self.step, self.step - self.stage_start, gen, self.device, use_amp,
                          self.info.rank, self.info.world_size)
        gan_on = stage.gan and ctx.stage_step >= stage.gan_start
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_amp):
            out = self._ddp(x, ctx)
            total, terms = self.losses(out, self.disc if gan_on else None)
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        if self.recipe.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.grad is not None],
                                           self.recipe.grad_clip)
        self.opt.step()
        if gan_on and out.recon is not None:
            for g in self.dopt.param_groups:
                g["lr"] = lr * self.recipe.disc_lr_ratio
            real = fold_frames(out.target if out.target is not None else x).detach()
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=use_amp):
                lr_, lf_ = discriminator_logits(self._ddisc, real, fold_frames(out.recon).detach())
                dl = hinge_d_loss(lr_, lf_)
            self.dopt.zero_grad(set_to_none=True)
            dl.backward()
            self.dopt.step()
            terms["disc"] = dl.detach()
        if out.recon is not None and out.target is not None:
            terms["_mse"] = torch.nn.functional.mse_loss(out.recon.detach().float().clamp(-1, 1), out.target.float())
        for k, v in out.logs.items():
            terms[k] = torch.as_tensor(float(v))
        return terms

    def fit(self) -> RunResult:
        self._setup()
        handlers = self._install_signals()
        cfg, r = self.cfg, self.recipe
        total = r.total_steps
        t0 = time.time() - self.elapsed
        status = "done"
        bar = Progress(total, self.step, self.main, f"{cfg.model}")
        self.log.write({"event": "start", "at": self.step, "recipe": r.name, "total_steps": total,
                        "world_size": self.info.world_size, "device": str(self.device)})
        last_t, last_step, last_plot = time.time(), self.step, time.time()
        first_step = self.step
        try:
            while True:
                stop, elapsed = ddp.all_reduce_max([1.0 if self._signal else 0.0, time.time() - t0], self.info)
                self.elapsed = elapsed
                if stop:
                    status = self._signal or "SIGTERM"
                    break
                if cfg.budget == "stop" and cfg.max_minutes > 0 and elapsed >= cfg.max_minutes * 60:
                    status = "budget"
                    break
                p = self._progress(elapsed)
                if self.step >= total or p >= 1.0:
                    status = "done" if self.step >= total or cfg.budget != "anneal" or not cfg.max_minutes else "budget"
                    break
                i, frac = r.locate(p * total)
                if i != self.stage_idx or not hasattr(self, "_data"):
                    self._enter_stage(i, fresh=not (i == self.saved_stage and self.step > self.stage_start))
                    if self.step == last_step:  # stage setup is not a step's time
                        last_t = time.time()
                stage = r.stages[i]
                lr = stage.lr_at(self.step - self.stage_start, frac)
                mult = dict(stage.lr_mult)
                for g in self.opt.param_groups:
                    g["lr"] = lr * float(mult.get(g["name"], 1.0))
                s, clips = next(self._data)
                assert s == self.step, f"data stream at step {s}, trainer at {self.step}"
                terms = self._train_step(to_model_input(clips, self.device), stage, lr)
                self.step += 1
                self.samples += self.geom.batch * self.info.world_size
                bar.update(self.step)
                if self.step % cfg.log_every == 0:
                    vals = ddp.all_reduce_mean(terms, self.info)
                    mse = vals.pop("_mse", None)
                    now = time.time()
                    dt = max(now - last_t, 1e-9)
                    rec = {"step": self.step, "stage": stage.name, **{k: round(v, 6) for k, v in vals.items()},
                           "lr": round(lr, 8), "s_per_step": round(dt / (self.step - last_step), 4),
                           "samples_per_s": round(self.geom.batch * self.info.world_size * (self.step - last_step) / dt, 3),
                           "elapsed_s": round(time.time() - t0, 1)}
                    if mse is not None:
                        rec["psnr_train"] = round(10 * np.log10(4 / max(mse, 1e-10)), 2)
                    self.log.write(rec)
                    bar.update(self.step, f"loss {vals.get('loss', float('nan')):.4f}", stage.name)
                    last_t, last_step = now, self.step
                if self.step % cfg.ckpt_every == 0:
                    plot = time.time() - last_plot >= cfg.plot_every_s
                    self._save("running", time.time() - t0, plot=plot)
                    last_plot = time.time() if plot else last_plot
                if cfg.stop_after and self.step - first_step >= cfg.stop_after and self.step < total:
                    status = "paused"
                    break
        finally:
            bar.close()
            self._restore_signals(handlers)
        self.elapsed = time.time() - t0
        export = self._save(status, self.elapsed, plot=True)
        self.log.write({"event": "done" if status == "done" else "stop", "reason": status, "at": self.step,
                        "elapsed_s": round(self.elapsed, 1)})
        self.close()
        return RunResult(self.out, export, self.out / "record.json" if self.main else None, self.step,
                         round(self.elapsed, 1), status)

    def close(self) -> None:
        """Release the data stream and the DDP wrappers, then leave the process group (every rank)."""
        self._data = iter(())
        self._ddp = self._ddisc = None
        ddp.teardown(self.info)

    # ------------------------------------------------------------------------------------------ output
    def training_record(self, status: str, seconds: float) -> dict[str, Any]:
        i = max(self.stage_idx, 0)
        geom = self._geometry(i)
        stage = self.recipe.stages[i]
        rec = {"steps": self.step, "seconds": round(seconds, 1), "hours": round(seconds / 3600, 4),
               "hardware": hardware(self.device, torch.get_num_threads(), self.info.world_size),
               "world_size": self.info.world_size, "batch": geom.batch,
               "global_batch": geom.batch * self.info.world_size, "frames": geom.frames, "crop": geom.crop,
               "lr": self.recipe.stages[0].lr, "samples": self.samples, "recipe": self.recipe.name,
               "stage": stage.name, "losses": stage.loss_weights, "data": self.sampler.summary(),
               "torch": torch.__version__, "device": str(self.device), "status": status}
        if self.lineage:
            rec["init_from"] = self.lineage
        return rec

    def _save(self, status: str, seconds: float, plot: bool) -> Path | None:
        state = {"opt": self.opt.state_dict(), "step": self.step, "elapsed": seconds, "samples": self.samples,
                 "stage": self.stage_idx, "stage_start": self.stage_start, "lineage": self.lineage,
                 "schedule": {"stage": self.stage_idx, "stage_start": self.stage_start, "recipe": self.recipe.name},
                 "rng": ckpt_io.capture_rng(), "world_size": self.info.world_size}
        if self.disc is not None:
            state.update(disc=self.disc.state_dict(), dopt=self.dopt.state_dict())
        if not self.main:
            return None
        ckpt_io.save_checkpoint(self.ck, self.model.weights(), state)
        training = self.training_record(status, seconds)
        export = self.model.export(self.out / "export", training)
        final = {k: v for r in self.log.records()[-200:] if "step" in r for k, v in r.items()}
        write_record(self.out, {"model": self.cfg.model, **self.model.describe(), "training": training,
                                "recipe": self.recipe.to_dict(), "run": self.cfg.to_dict(), "final": final,
                                "export": str(export), "updated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        if plot:
            plot_losses(self.log, self.out / PLOT_FILE, f"{self.cfg.model} · {self.recipe.name}")
        self.log.write({"event": "checkpoint", "at": self.step, "status": status})
        return export

    # ------------------------------------------------------------------------------------------ signals
    def _install_signals(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        old: dict[int, Any] = {}

        def handler(signum, _frame):
            name = signal.Signals(signum).name
            if self._signal and signum == signal.SIGINT:  # a second Ctrl-C: stop now
                raise KeyboardInterrupt
            self._signal = name
            log.warning("%s: stopping after this step (checkpoint + export)", name)

        for sig in (signal.SIGTERM, signal.SIGINT):
            old[sig] = signal.signal(sig, handler)
        return old

    @staticmethod
    def _restore_signals(old: dict[int, Any]) -> None:
        for sig, h in old.items():
            signal.signal(sig, h)


def train(cfg: RunConfig, **kw) -> RunResult:
    """Run ``cfg`` (see :class:`Trainer`)."""
    return Trainer(cfg, **kw).fit()
