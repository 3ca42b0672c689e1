"""Training: standard pre-training on pooled source scenes, and MAML meta-training across
scenes (initialised from the pre-trained model). Both resume from their last checkpoint.

The state file (``state.pt`` beside the output) holds weights, optimiser moments, the
sampler's RNG state and the step; it is written atomically every ``checkpoint_every``
steps and removed once the final model is written. A state made with other settings (its
fingerprint differs) is ignored, so a changed config never resumes a stale run.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from torch.func import functional_call
from tqdm import tqdm

from fsad import FsadError, checkpoint, meta
from fsad.config import fingerprint
from fsad.data.store import FrameStore
from fsad.data.windows import SceneTasks
from fsad.device import autocast, pick, prepare
from fsad.losses import frame_loss, lsgan_discriminator, lsgan_generator
from fsad.models import build, split_output

log = logging.getLogger("fsad")


def objective(weights: dict):
    """The generator's prediction objective: mean Eq. 2 loss (+ the backbone's regulariser)."""
    def loss_fn(out, target: torch.Tensor) -> torch.Tensor:
        pred, reg = split_output(out)
        loss = frame_loss(pred, target, weights).mean()
        return loss if reg is None else loss + reg.mean()
    return loss_fn


class Trainer:
    """Models, optimisers, sampler and step of one training run, with save/resume."""

    def __init__(self, cfg: dict, backbone: str, frames: dict, out: Path, method: str,
                 lr_g: float, lr_d: float, settings: dict):
        self.cfg, self.backbone, self.out, self.method = cfg, backbone, Path(out), method
        self.device = pick(cfg["device"])
        self.frames = frames  # {"height", "width", "channels"} of the training frames
        torch.manual_seed(cfg["seed"])
        g, d = build(backbone, cfg["model"], frames["channels"])
        self.G, self.D = prepare(g, self.device), prepare(d, self.device)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=lr_g, betas=(0.5, 0.999))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr_d, betas=(0.5, 0.999))
        self.rng = torch.Generator().manual_seed(cfg["seed"])
        self.step = 0
        self.settings = settings
        self.fingerprint = fingerprint({"settings": settings, "frames": self.frames,
                                        "backbone": backbone})
        self.state_path = self.out.with_name("state.pt")
        self.adv = cfg["loss"]["adversarial"]
        self.loss_fn = objective(cfg["loss"])

    def load_weights(self, payload: dict) -> None:
        self.G.load_state_dict(payload["generator"])
        self.D.load_state_dict(payload["discriminator"])

    def resume(self) -> None:
        if not self.state_path.exists():
            return
        try:
            state = checkpoint.load(self.state_path)
        except FsadError as exc:
            log.warning("ignoring unreadable training state: %s", exc)
            return
        if state.get("fingerprint") != self.fingerprint:
            log.info("ignoring %s: it was made with other settings", self.state_path)
            return
        self.load_weights(state)
        self.opt_g.load_state_dict(state["optim_g"])
        self.opt_d.load_state_dict(state["optim_d"])
        self.rng.set_state(state["rng"])
        self.step = int(state["step"])
        log.info("resumed from %s at step %d", self.state_path, self.step)

    def _payload(self) -> dict:
        return {"backbone": self.backbone, "model": self.cfg["model"], "frames": self.frames,
                "t": self.cfg["model"]["t"], "method": self.method, "step": self.step,
                "settings": self.settings, "fingerprint": self.fingerprint,
                "generator": self.G.state_dict(), "discriminator": self.D.state_dict()}

    def save_state(self) -> None:
        checkpoint.save(self.state_path, {**self._payload(), "optim_g": self.opt_g.state_dict(),
                                          "optim_d": self.opt_d.state_dict(),
                                          "rng": self.rng.get_state()})

    def finish(self) -> None:
        checkpoint.save(self.out, self._payload())
        self.state_path.unlink(missing_ok=True)
        log.info("wrote %s", self.out)

    def discriminator_step(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        if not self.adv:
            return 0.0
        self.opt_d.zero_grad(set_to_none=True)
        with autocast(self.device):
            loss = lsgan_discriminator(self.D(real), self.D(fake.detach()))
        loss.backward()
        self.opt_d.step()
        return loss.item()

    def adversarial(self, pred: torch.Tensor) -> torch.Tensor:
        return self.adv * lsgan_generator(self.D(pred)) if self.adv else pred.new_zeros(())

    def loop(self, total: int, every: int, body, desc: str) -> None:
        """Run ``body()`` until step ``total``, checkpointing and logging on the way."""
        bar = tqdm(total=total, initial=self.step, desc=desc, disable=None)
        t0, s0 = time.perf_counter(), self.step
        while self.step < total:
            stats = body()
            self.step += 1
            bar.update(1)
            if not all(map(_finite, stats.values())):
                raise FsadError(f"{desc}: non-finite loss at step {self.step} ({stats}); lower "
                                "the learning rate")
            if self.step % every == 0 or self.step == total:
                self.save_state()
                rate = (self.step - s0) / max(time.perf_counter() - t0, 1e-9)
                log.info("%s step %d/%d %s (%.2f steps/s)", desc, self.step, total,
                         " ".join(f"{k}={v:.4f}" for k, v in stats.items()), rate)
        bar.close()


def frame_shape(store: FrameStore) -> dict:
    return {"height": store.height, "width": store.width, "channels": store.channels}


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")


def _source_scenes(cfg: dict, source: str) -> list[str] | None:
    if source not in cfg["sources"]:
        raise FsadError(f"unknown source '{source}' (configured: {', '.join(cfg['sources'])})")
    return cfg["sources"][source]["scenes"]


def pretrain(cfg: dict, frames: Path, source: str, backbone: str, out: Path) -> None:
    """Standard training on all source scenes pooled (the paper's pre-trained baseline)."""
    p = cfg["pretrain"]
    store = FrameStore(frames)
    tasks = SceneTasks(store, _source_scenes(cfg, source), cfg["model"]["t"])
    settings = {"pretrain": p, "model": cfg["model"], "loss": cfg["loss"], "seed": cfg["seed"],
                "scenes": tasks.scenes, "frames_file": Path(frames).name}
    tr = Trainer(cfg, backbone, frame_shape(store), out, "pretrained", p["lr_g"], p["lr_d"],
                 settings)
    tr.resume()
    log.info("pretrain %s on %d scenes (%d windows), %d steps of batch %d", backbone,
             len(tasks.scenes), len(tasks.pooled), p["steps"], p["batch_size"])

    def body() -> dict:
        return pretrain_step(tr, *tasks.pooled.sample(p["batch_size"], tr.rng))

    tr.loop(p["steps"], p["checkpoint_every"], body, "pretrain")
    tr.finish()


def pretrain_step(tr: Trainer, x: torch.Tensor, y: torch.Tensor) -> dict:
    """One standard GAN step: generator (Eq. 2 + adversarial), then discriminator (Eq. 3)."""
    x, y = x.to(tr.device), y.to(tr.device)
    with autocast(tr.device):
        out = tr.G(x)
        pred = split_output(out)[0]
        loss = tr.loss_fn(out, y)
        adv = tr.adversarial(pred)
    tr.opt_g.zero_grad(set_to_none=True)
    (loss + adv).backward()
    tr.opt_g.step()
    d = tr.discriminator_step(y, pred)
    return {"g": loss.item(), "adv": adv.item(), "d": d}


def meta_train(cfg: dict, frames: Path, source: str, backbone: str, init: Path, shots: int,
               out: Path) -> None:
    """MAML across source scenes: a task is one scene with K support and K query windows.

    Outer objective per task: the query loss (Eq. 2, plus the adversarial term) of the
    weights adapted on the support windows; the meta-gradient is averaged over the tasks of
    a meta-batch and applied by Adam. The discriminator is trained on the query predictions.
    """
    m, inner = cfg["meta"], cfg["inner"]
    store = FrameStore(frames)
    tasks = SceneTasks(store, _source_scenes(cfg, source), cfg["model"]["t"])
    start = checkpoint.load(init)
    if start["backbone"] != backbone:
        raise FsadError(f"{init}: a {start['backbone']} checkpoint cannot initialise {backbone}")
    settings = {"meta": m, "inner": inner, "shots": shots, "model": cfg["model"],
                "loss": cfg["loss"], "seed": cfg["seed"], "scenes": tasks.scenes,
                "init": start["fingerprint"]}
    tr = Trainer(cfg, backbone, frame_shape(store), out, "meta", m["lr_g"], m["lr_d"], settings)
    tr.load_weights(start)
    tr.resume()
    log.info("meta-train %s: %d scenes, %d tasks x K=%d, %d inner %s steps at lr %g, %s order",
             backbone, len(tasks.scenes), m["tasks"], shots, inner["steps"], inner["optimizer"],
             inner["lr"], "first" if m["first_order"] else "second")

    def body() -> dict:
        return meta_iteration(tr, tasks.sample_tasks(m["tasks"], shots, tr.rng), inner,
                              m["first_order"])

    tr.loop(m["iterations"], m["checkpoint_every"], body, f"meta K={shots}")
    tr.finish()


def meta_iteration(tr: Trainer, batch: list, inner: dict, first_order: bool) -> dict:
    """One outer step: per task, adapt on the support windows (inner loop, one batched
    pass per step), take the query loss of the adapted weights, accumulate its gradient
    into the initial weights; then one Adam step, then one discriminator step."""
    theta = meta.parameters(tr.G)
    tr.opt_g.zero_grad(set_to_none=True)
    q_total, preds, reals = 0.0, [], []
    for xs, ys, xq, yq in batch:
        xs, ys, xq, yq = (a.to(tr.device) for a in (xs, ys, xq, yq))
        with autocast(tr.device):
            fast = meta.inner_loop(tr.G, theta, xs, ys, tr.loss_fn, inner["steps"],
                                   inner["lr"], inner["optimizer"], first_order)
            out_q = functional_call(tr.G, fast, (xq,))
            pred = split_output(out_q)[0]
            q_loss = tr.loss_fn(out_q, yq) + tr.adversarial(pred)
        (q_loss / len(batch)).backward()
        q_total += q_loss.item() / len(batch)
        preds.append(pred.detach())
        reals.append(yq)
    tr.opt_g.step()
    d = tr.discriminator_step(torch.cat(reals), torch.cat(preds))
    return {"query": q_total, "d": d}
