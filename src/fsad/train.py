"""Training: standard pre-training on pooled source scenes, and MAML meta-training across
scenes (from the pre-trained model, or from a fresh initialisation). A source's scenes may
come from several datasets (``also``), one frame store each. Both resume from
their last checkpoint, and both keep generator snapshots at evenly spaced steps
(``snapshots.pt`` beside the model) for the validation curve (``fsad.validation``).

The state file (``state.pt`` beside the output) holds weights, optimiser moments, the
sampler's RNG state, torch's global RNG state (r-VAE samples its latent from it) and the
step; it is written atomically every ``checkpoint_every`` steps, the state it replaces is
kept as ``state.prev.pt``, and both are removed once the final model is written. Resuming
takes ``state.pt``, or ``state.prev.pt`` when ``state.pt`` is truncated or fails its
checksum (with a warning naming both). A state made with other settings (its fingerprint
differs) is ignored, so a changed config never resumes a stale run. On CPU a resumed run
ends bit-identical to an unbroken one.

Numerical faults: a non-finite loss stops the run with an FsadError naming the step and the
losses, after writing ``<out>.nonfinite.json`` (losses, per-layer weight and gradient norms,
the last finite checkpoint, suggested fixes); a state is never written while any weight or
optimiser moment is NaN or infinite. ``grad_clip`` (pretrain / meta) caps the global
gradient norm of the generator and of the discriminator before each optimiser step. A
discriminator that wins outright (its logged loss far below the 0.25 of a draw) is warned
about once per run: it has meant a collapsed generator.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

import torch
from tqdm import tqdm

from fsad import FsadError, checkpoint, faults, meta
from fsad.adapt import InnerRule, MetaSettings
from fsad.atomic import atomic_path, remove_stale
from fsad.config import fingerprint, source_parts
from fsad.data.store import FrameStore, StoreUnion
from fsad.data.windows import SceneTasks
from fsad.device import autocast, pick, prepare
from fsad.losses import frame_loss, lsgan_discriminator, lsgan_generator, objective
from fsad.models import build, split_output

log = logging.getLogger("fsad")

# The least-squares discriminator loss (Eq. 3) stays near 0.25 while predicted frames pass
# for real ones; healthy runs logged 0.20-0.26. The diverged pre-trainings measured
# (docs/benchmarks.md, "Diverged pre-trainings") fell below 0.05 within 100 steps of the
# jump, with a collapsed generator whose adapted models scored like the unadapted one.
COLLAPSED_D_LOSS = 0.05


class Trainer:
    """Models, optimisers, sampler and step of one training run, with save/resume."""

    def __init__(self, cfg: dict, backbone: str, frames: dict, out: Path, method: str,
                 lr_g: float, lr_d: float, settings: dict, grad_clip: float | None = None,
                 optimizer: str = "adam"):
        self.cfg, self.backbone, self.out, self.method = cfg, backbone, Path(out), method
        self.device = pick(cfg["device"], cfg.get("deterministic"), cfg.get("cpu_bf16", False))
        self.frames = frames  # {"height", "width", "channels"} of the training frames
        torch.manual_seed(cfg["seed"])
        g, d = build(backbone, cfg["model"], frames["channels"])
        self.G, self.D = prepare(g, self.device), prepare(d, self.device)
        self.opt_g = (torch.optim.SGD(self.G.parameters(), lr=lr_g) if optimizer == "sgd" else
                      torch.optim.Adam(self.G.parameters(), lr=lr_g, betas=(0.5, 0.999)))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=lr_d, betas=(0.5, 0.999))
        self.rng = torch.Generator().manual_seed(cfg["seed"])
        self.step = 0
        self.settings = settings
        self.grad_clip = grad_clip
        self.fingerprint = fingerprint({"settings": settings, "frames": self.frames,
                                        "backbone": backbone})
        self.state_path = self.out.with_name("state.pt")
        self.prev_path = self.out.with_name("state.prev.pt")
        self.diagnostic_path = self.out.with_name(self.out.name + ".nonfinite.json")
        self.last_checkpoint: tuple[Path, int] | None = None  # the newest state on disk
        # Size and mtime of the input files: a state made before they were rewritten (e.g.
        # frames re-extracted) is never resumed. Kept in the state only, not in the model,
        # so final checkpoints stay byte-identical across folders.
        self.inputs_stamp: list[int] | None = None
        self.keep_previous = True  # rotate state.pt to state.prev.pt on the next save
        self.adv = cfg["loss"]["adversarial"]
        self.loss_fn = objective(cfg["loss"])
        self.loss_weights = cfg["loss"]
        self.pseudo = cfg["loss"]["pseudo_anomaly_weight"]
        self.collapse_warned = False
        # Generator snapshots at evenly spaced steps, for the validation curve
        # (fsad.validation): part of the training state, written as snapshots.pt at the end.
        self.snapshot_steps: set[int] = set()
        self.snapshots: dict[int, dict] = {}
        self.snapshot_path = self.out.with_name("snapshots.pt")
        self.inner_lr: torch.nn.ParameterDict | None = None  # Meta-SGD's learned rates

    def learn_inner_lr(self, lr: float) -> None:
        """Meta-SGD: one inner rate per generator weight, initialised at ``lr`` and trained
        by the generator's optimiser (its own parameter group, no weight coupling)."""
        self.inner_lr = torch.nn.ParameterDict({
            _key(n): torch.nn.Parameter(torch.full_like(p.detach(), lr))
            for n, p in meta.parameters(self.G).items()})
        self.opt_g.add_param_group({"params": list(self.inner_lr.parameters())})

    def inner_rates(self) -> dict[str, torch.Tensor] | None:
        """The learned rates by generator parameter name (None without Meta-SGD)."""
        if self.inner_lr is None:
            return None
        return {n: self.inner_lr[_key(n)] for n in meta.parameters(self.G)}

    def take_snapshot(self) -> None:
        if self.step in self.snapshot_steps and self.step not in self.snapshots:
            rates = self.inner_rates()
            self.snapshots[self.step] = _canonical({
                "generator": {k: v.detach().clone() for k, v in self.G.state_dict().items()},
                **({"inner_lr": {k: v.detach().clone() for k, v in rates.items()}}
                   if rates else {})})

    @property
    def section(self) -> str:
        """The config section holding this run's settings."""
        return {"pretrained": "pretrain"}.get(self.method, self.method)

    def resume(self) -> None:
        """Continue from the newest readable state made with these settings: ``state.pt``,
        else (it is truncated or corrupt) the one before it, ``state.prev.pt``."""
        for path in (self.state_path, self.prev_path):
            for tmp in remove_stale(path):
                log.info("removed %s, left by a killed run", tmp)
        unreadable = None
        for path in (self.state_path, self.prev_path):
            if not path.exists():
                continue
            try:
                state = checkpoint.load(path)
            except FsadError as exc:
                log.warning("ignoring unreadable training state: %s", exc)
                unreadable = unreadable or path
                continue
            if state.get("fingerprint") != self.fingerprint:
                log.info("ignoring %s: it was made with other settings", path)
                continue
            if state.get("inputs_stamp") != self.inputs_stamp:
                log.info("ignoring %s: its input files have changed since", path)
                continue
            if unreadable is not None:
                log.warning("training state %s is unreadable; falling back to the previous "
                            "state %s (step %d)", unreadable, path, int(state["step"]))
                self.keep_previous = False  # the next save replaces the unreadable file
            self._restore(state)
            self.last_checkpoint = (path, self.step)
            log.info("resumed from %s at step %d", path, self.step)
            return
        if unreadable is not None:
            log.warning("no readable training state beside %s; starting from step 0",
                        self.out)

    def _restore(self, state: dict) -> None:
        self.load_weights(state)
        self.opt_g.load_state_dict(state["optim_g"])
        self.opt_d.load_state_dict(state["optim_d"])
        self.rng.set_state(state["rng"])
        # Stochastic backbones (r-VAE samples its latent) draw from torch's global
        # generator: restoring it makes a resumed run bit-identical to an unbroken one.
        if "torch_rng" in state:
            torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self.step = int(state["step"])
        self.snapshots = {step: _canonical(snap)
                          for step, snap in state.get("snapshots", {}).items()}

    def load_weights(self, payload: dict) -> None:
        self.G.load_state_dict(payload["generator"])
        self.D.load_state_dict(payload["discriminator"])
        if self.inner_lr is not None and "inner_lr" in payload:
            with torch.no_grad():
                for name, rate in payload["inner_lr"].items():
                    self.inner_lr[_key(name)].copy_(rate)

    def _payload(self) -> dict:
        rates = self.inner_rates()
        return {"backbone": self.backbone, "model": self.cfg["model"], "frames": self.frames,
                "t": self.cfg["model"]["t"], "method": self.method, "step": self.step,
                "settings": self.settings, "fingerprint": self.fingerprint,
                "generator": self.G.state_dict(), "discriminator": self.D.state_dict(),
                **({"inner_lr": {n: r.detach() for n, r in rates.items()}} if rates else {})}

    def save_state(self, desc: str = "train") -> None:
        """Write the training state; the one it replaces is kept as ``state.prev.pt``."""
        state = {**self._payload(), "optim_g": self.opt_g.state_dict(),
                 "optim_d": self.opt_d.state_dict(), "rng": self.rng.get_state(),
                 "torch_rng": torch.get_rng_state(), "inputs_stamp": self.inputs_stamp,
                 "snapshots": self.snapshots}
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        self.check_finite(state, desc)
        checkpoint.save(self.state_path, state,
                        previous=self.prev_path if self.keep_previous else None)
        self.keep_previous = True
        self.last_checkpoint = (self.state_path, self.step)

    def finish(self, desc: str = "train") -> None:
        payload = self._payload()
        self.check_finite(payload, desc)
        remove_stale(self.out)
        remove_stale(self.snapshot_path)
        checkpoint.save(self.snapshot_path, {"method": self.method, "backbone": self.backbone,
                                             "fingerprint": self.fingerprint,
                                             "snapshots": self.snapshots})
        checkpoint.save(self.out, payload)
        for path in (self.state_path, self.prev_path, self.diagnostic_path):
            path.unlink(missing_ok=True)
        log.info("wrote %s", self.out)

    def clip_gradients(self, module: torch.nn.Module) -> None:
        """Scale ``module``'s gradients to a global norm of at most ``grad_clip`` (if set)."""
        if self.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(module.parameters(), self.grad_clip)

    def discriminator_step(self, real: torch.Tensor, fake: torch.Tensor) -> float:
        if not self.adv:
            return 0.0
        self.opt_d.zero_grad(set_to_none=True)
        with autocast(self.device):
            loss = lsgan_discriminator(self.D(real), self.D(fake.detach()))
        loss.backward()
        self.clip_gradients(self.D)
        self.opt_d.step()
        return loss.item()

    def adversarial(self, pred: torch.Tensor) -> torch.Tensor:
        return self.adv * lsgan_generator(self.D(pred)) if self.adv else pred.new_zeros(())

    def contrast(self, pred: torch.Tensor, target: torch.Tensor, pseudo_pred: torch.Tensor,
                 pseudo_target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The pseudo-anomaly term (``loss.pseudo_anomaly_weight`` mu) and the mean Eq. 2
        loss of the pseudo-anomalous windows: mu times the normal windows' mean Eq. 2 loss
        over the pseudo-anomalous windows' one. Lowering it widens the gap between the
        two, the contrast the anomaly score ranks; as a ratio it is bounded below by 0 and
        its push on the pseudo-anomalous loss fades as that loss grows."""
        normal = frame_loss(pred, target, self.loss_weights).mean()
        pseudo = frame_loss(pseudo_pred, pseudo_target, self.loss_weights).mean()
        return self.pseudo * normal / pseudo, pseudo

    def loop(self, total: int, every: int, body, desc: str) -> None:
        """Run ``body()`` until step ``total``, checkpointing and logging on the way."""
        bar = tqdm(total=total, initial=self.step, desc=desc, disable=None)
        t0, s0 = time.perf_counter(), self.step
        self.take_snapshot()
        while self.step < total:
            stats = body()
            faults.kill_if("kill_at_step", self.step + 1)
            self.step += 1
            bar.update(1)
            self.take_snapshot()
            if not all(map(_finite, stats.values())):
                self.nonfinite(desc, "loss", stats)
            if self.step % every == 0 or self.step == total:
                self.save_state(desc)
                rate = (self.step - s0) / max(time.perf_counter() - t0, 1e-9)
                log.info("%s step %d/%d %s (%.2f steps/s)", desc, self.step, total,
                         _losses(stats), rate)
                if self.adv and not self.collapse_warned:  # without it, d is always 0
                    warning = collapse_warning(desc, self.step, stats, self.section,
                                               self.opt_g.param_groups[0]["lr"])
                    if warning:
                        log.warning("%s", warning)
                        self.collapse_warned = True
        bar.close()

    def check_finite(self, state: dict, desc: str) -> None:
        """Refuse to write a checkpoint holding NaN or infinity (weights or moments)."""
        bad = [name for name, value in _tensors(state) if value.is_floating_point()
               and not bool(torch.isfinite(value).all())]
        if bad:
            self.nonfinite(desc, "weights or optimiser state", {}, bad)

    def nonfinite(self, desc: str, what: str, stats: dict, tensors: list[str] = ()) -> None:
        """Stop on a numerical fault: write ``<out>.nonfinite.json`` and raise one line."""
        section = self.section
        last = (f"{self.last_checkpoint[0]} (step {self.last_checkpoint[1]})"
                if self.last_checkpoint else "none")
        report = {
            "stage": desc, "step": self.step, "fault": f"non-finite {what}",
            "losses": {k: _json_number(v) for k, v in stats.items()},
            "nonfinite_tensors": list(tensors),
            "last_finite_checkpoint": ({"path": str(self.last_checkpoint[0]),
                                        "step": self.last_checkpoint[1]}
                                       if self.last_checkpoint else None),
            "settings": {"lr_g": self.opt_g.param_groups[0]["lr"],
                         "lr_d": self.opt_d.param_groups[0]["lr"],
                         "grad_clip": self.grad_clip, "device": str(self.device)},
            "note": "norms are taken after the step's optimiser update; grad norms are the "
                    "gradients of that step (before clipping)",
            "generator": _layer_norms(self.G), "discriminator": _layer_norms(self.D),
            "suggested_fixes": [
                f"lower {section}.lr_g (now {self.opt_g.param_groups[0]['lr']:g}) and "
                f"{section}.lr_d (now {self.opt_d.param_groups[0]['lr']:g})",
                f"set {section}.grad_clip (now {self.grad_clip}), e.g. 1.0",
                "check the input frames (finite values in [0, 1]) and the loss weights",
                "on CUDA, rerun with device: cpu to tell a bf16 overflow from a real fault",
                "a rerun with unchanged settings resumes from the last finite checkpoint "
                "and will likely meet the same fault; changed settings start afresh",
            ],
        }
        with atomic_path(self.diagnostic_path) as tmp:
            tmp.write_text(json.dumps(report, indent=2) + "\n")
        shown = " ".join(f"{k}={v:.4g}" for k, v in stats.items())
        if tensors:
            shown = ", ".join(tensors[:3]) + (f" and {len(tensors) - 3} more"
                                              if len(tensors) > 3 else "")
        raise FsadError(f"{desc}: non-finite {what} at step {self.step} ({shown}); no "
                        f"checkpoint written, last finite checkpoint: {last}; diagnostic: "
                        f"{self.diagnostic_path}; lower {section}.lr_g/lr_d or set "
                        f"{section}.grad_clip")


def _tensors(value, prefix: str = ""):
    """(dotted name, tensor) for every tensor inside nested dicts and lists."""
    if isinstance(value, torch.Tensor):
        yield prefix, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _tensors(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _tensors(v, f"{prefix}.{i}")


def _layer_norms(module: torch.nn.Module) -> dict:
    out = {}
    for name, p in module.named_parameters():
        g = p.grad
        out[name] = {
            "param_norm": _json_number(p.detach().float().norm().item()),
            "nonfinite_params": int((~torch.isfinite(p.detach())).sum()),
            "grad_norm": None if g is None else _json_number(g.float().norm().item()),
            "nonfinite_grads": None if g is None else int((~torch.isfinite(g)).sum()),
        }
    return out


def _canonical(snapshot: dict) -> dict:
    """A snapshot with interned names: pickle writes a string once per object, so names
    shared by object in a fresh run but loaded as copies in a resumed one would make the
    two runs' snapshots.pt differ in bytes (not in values)."""
    return {sys.intern(part): {sys.intern(name): value for name, value in tensors.items()}
            for part, tensors in snapshot.items()}


def _head(out, k: int):
    """The first k samples of a generator's output (a prediction, or a tuple of per-sample
    tensors: prediction and regulariser)."""
    return tuple(o[:k] for o in out) if isinstance(out, tuple) else out[:k]


def _key(name: str) -> str:
    """A parameter name as a ParameterDict key (no dots allowed there)."""
    return name.replace(".", "__")


def snapshot_steps(total: int, count: int) -> set[int]:
    """Step 0, step ``total`` and ``count`` - 1 evenly spaced steps between."""
    return {round(i * total / count) for i in range(count + 1)}


def _json_number(value: float):
    """JSON has no NaN or infinity: write those as strings."""
    value = float(value)
    return value if _finite(value) else repr(value)


def frame_shape(store: FrameStore | StoreUnion) -> dict:
    return {"height": store.height, "width": store.width, "channels": store.channels}


def file_stamp(*paths: Path) -> list[int]:
    """Size and modification time (ns) of each file."""
    return [n for p in paths for st in [Path(p).stat()] for n in (st.st_size, st.st_mtime_ns)]


def collapse_warning(desc: str, step: int, stats: dict, section: str,
                     lr_g: float) -> str | None:
    """The warning for a discriminator that wins outright, or None."""
    d = stats.get("d")
    if d is None or d >= COLLAPSED_D_LOSS:
        return None
    return (f"{desc} step {step}: the discriminator loss is {d:.4f} ({_losses(stats)}), far "
            f"below the 0.25 it stays near while predicted frames pass for real ones: the "
            f"generator has likely collapsed, and its adapted models would score like the "
            f"unadapted one. Retrain with a lower {section}.lr_g (now {lr_g:g}; the paper "
            f"uses 0.0002) or with {section}.grad_clip set; changed settings start afresh")


def _losses(stats: dict) -> str:
    """A step's losses as the training log shows them: ``g=0.0712 adv=0.0061 d=0.2501``."""
    return " ".join(f"{k}={v:.4f}" for k, v in stats.items())


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")


Frames = Path | list[Path]  # one frame store per scene set of the source


def source_tasks(cfg: dict, frames: Frames, source: str) -> tuple[list[Path], SceneTasks]:
    """The frame stores (one per scene set of the source, in the config's order) and the
    training windows of the source's scenes. A source with ``also`` sets reads its stores as
    one (``StoreUnion``), its scenes named ``<dataset>/<scene>``."""
    paths = [Path(frames)] if isinstance(frames, str | Path) else [Path(f) for f in frames]
    parts = source_parts(cfg, source)
    if len(paths) != len(parts):
        raise FsadError(f"source '{source}' pools {len(parts)} scene set(s), of datasets "
                        f"{', '.join(p['dataset'] for p in parts)}, but {len(paths)} frame "
                        "store(s) were given; give one --frames per set, in that order")
    if len(parts) == 1:
        return paths, SceneTasks(FrameStore(paths[0]), parts[0]["scenes"], cfg["model"]["t"])
    store = StoreUnion({p["dataset"]: FrameStore(f) for p, f in zip(parts, paths, strict=True)})
    scenes = [f"{p['dataset']}/{scene}" for p in parts for scene in p["scenes"] or ["*"]]
    return paths, SceneTasks(store, scenes, cfg["model"]["t"])


def pretrain(cfg: dict, frames: Frames, source: str, backbone: str, out: Path) -> None:
    """Standard training on all source scenes pooled (the paper's pre-trained baseline)."""
    p = cfg["pretrain"]
    paths, tasks = source_tasks(cfg, frames, source)
    store = tasks.store
    settings = {"pretrain": p, "model": cfg["model"], "loss": cfg["loss"], "seed": cfg["seed"],
                "scenes": tasks.scenes, "frames_file": " + ".join(f.name for f in paths)}
    tr = Trainer(cfg, backbone, frame_shape(store), out, "pretrained", p["lr_g"], p["lr_d"],
                 settings, p["grad_clip"])
    tr.inputs_stamp = file_stamp(*paths)
    tr.snapshot_steps = snapshot_steps(p["steps"], p["snapshots"])
    tr.resume()
    log.info("pretrain %s on %d scenes (%d windows), %d steps of batch %d", backbone,
             len(tasks.scenes), len(tasks.pooled), p["steps"], p["batch_size"])

    def body() -> dict:
        batch = tasks.pooled.sample(p["batch_size"], tr.rng)
        if tr.pseudo:
            batch += tasks.pooled.sample_pseudo_anomalies(p["batch_size"], tr.rng)
        return pretrain_step(tr, *batch)

    tr.loop(p["steps"], p["checkpoint_every"], body, "pretrain")
    tr.finish()


def pretrain_step(tr: Trainer, x: torch.Tensor, y: torch.Tensor,
                  xp: torch.Tensor | None = None, yp: torch.Tensor | None = None) -> dict:
    """One standard GAN step: generator (Eq. 2 + adversarial, + the pseudo-anomaly term on
    the windows xp, yp when given), then discriminator (Eq. 3)."""
    x, y = x.to(tr.device), y.to(tr.device)
    with autocast(tr.device):
        out = tr.G(x)
        pred = split_output(out)[0]
        loss = tr.loss_fn(out, y)
        adv = tr.adversarial(pred)
        total, stats = loss + adv, {}
        if xp is not None:
            pseudo_pred = split_output(tr.G(xp.to(tr.device)))[0]
            term, pseudo = tr.contrast(pred, y, pseudo_pred, yp.to(tr.device))
            total, stats = total + term, {"pseudo": pseudo.item()}
    tr.opt_g.zero_grad(set_to_none=True)
    total.backward()
    tr.clip_gradients(tr.G)
    tr.opt_g.step()
    d = tr.discriminator_step(y, pred)
    return {"g": loss.item(), "adv": adv.item(), **stats, "d": d}


def meta_train(cfg: dict, frames: Frames, source: str, backbone: str, init: Path | None,
               shots: int, out: Path) -> None:
    """MAML across source scenes: a task is one scene with K support and K query windows.

    Outer objective per task: the query loss (Eq. 2, plus the adversarial term) of the
    weights adapted on the support windows; the meta-gradient is averaged over the tasks of
    a meta-batch and applied by Adam (or SGD, meta.optimizer). The discriminator is
    trained on the query predictions.
    Starts from the pre-trained model ``init`` (meta.init pretrained) or from the seed's
    fresh initialisation (meta.init random, ``init`` None). With meta.learn_inner_lr the
    inner rates are meta-learned too (Meta-SGD) and saved with the model.
    """
    m, rule = MetaSettings.from_config(cfg["meta"]), InnerRule.from_config(cfg["inner"])
    if (init is None) != (m.init == "random"):
        raise FsadError("meta.init is 'pretrained': give the pre-trained model with --init"
                        if init is None else
                        "meta.init is 'random': meta-training starts from a fresh "
                        "initialisation, so --init must not be given")
    if m.learn_inner_lr and rule.optimizer != "sgd":
        raise FsadError("meta.learn_inner_lr (Meta-SGD) learns the rates of SGD steps; set "
                        "inner.optimizer: sgd, or meta.learn_inner_lr: false")
    paths, tasks = source_tasks(cfg, frames, source)
    store = tasks.store
    start = None if init is None else checkpoint.load(init)
    if start is not None:
        if start["backbone"] != backbone:
            raise FsadError(f"{init}: a {start['backbone']} checkpoint cannot initialise "
                            f"{backbone}")
        if start["frames"] != frame_shape(store):
            raise FsadError(f"{init} was trained on {start['frames']} frames but {store.path} "
                            f"holds {frame_shape(store)}; meta-train on frames extracted with "
                            "the same frames settings, or pre-train again on these")
    # The config's sections as written: they are the run's fingerprint, and `fsad detect`
    # reads the inner rule back from the checkpoint.
    settings = {"meta": cfg["meta"], "inner": cfg["inner"], "shots": shots,
                "model": cfg["model"], "loss": cfg["loss"], "seed": cfg["seed"],
                "scenes": tasks.scenes,
                "init": "random" if start is None else start["fingerprint"]}
    tr = Trainer(cfg, backbone, frame_shape(store), out, "meta", m.lr_g, m.lr_d, settings,
                 m.grad_clip, m.optimizer)
    if m.learn_inner_lr:
        tr.learn_inner_lr(rule.lr)
    if start is not None:
        check_init(init, start, cfg["model"], tr)
        tr.load_weights(start)
    tr.inputs_stamp = file_stamp(*paths, *([init] if init else []))
    tr.snapshot_steps = snapshot_steps(m.iterations, m.snapshots)
    tr.resume()
    log.info("meta-train %s from %s: %d scenes, %d tasks x K=%d, %d inner %s steps at lr %g%s,"
             " %s order", backbone, m.init, len(tasks.scenes), m.tasks, shots, rule.steps,
             rule.optimizer, rule.lr, " (learned per weight)" if m.learn_inner_lr else "",
             "first" if m.first_order else "second")

    def body() -> dict:
        batch = tasks.sample_tasks(m.tasks, shots, tr.rng,
                                   disjoint=m.query_windows == "disjoint",
                                   pseudo_anomalies=bool(tr.pseudo))
        return meta_iteration(tr, batch, rule,
                              m.first_order, m.tasks_per_pass, m.recompute_inner,
                              m.unadapted_weight)

    tr.loop(m.iterations, m.checkpoint_every, body, f"meta K={shots}")
    tr.finish()


# The model settings that shape the weights, and the window length t (which does not).
ARCHITECTURE = ("t", "widths", "lstm_hidden", "disc_width", "latent_channels", "latent_stride",
                "vgg_width_divisor")


def check_init(init: Path, start: dict, model: dict, tr: Trainer) -> None:
    """Meta-training starts from ``start`` only if it is the model the config describes:
    weights of other shapes would stop in a size-mismatch traceback, and another t would
    meta-train, silently, a model on windows it was not pre-trained for."""
    def shapes(state: dict) -> dict:
        return {name: tuple(value.shape) for name, value in state.items()}

    mismatch = (start["model"].get("t") != model["t"]
                or shapes(start["generator"]) != shapes(tr.G.state_dict())
                or shapes(start["discriminator"]) != shapes(tr.D.state_dict()))
    if not mismatch:
        return
    keys = [k for k in ARCHITECTURE if start["model"].get(k) != model.get(k)]
    if not keys:  # not a setting above: a checkpoint of another fsad version
        raise FsadError(f"{init} ({start['backbone']}): its weights have other shapes than "
                        "the model the config describes; pre-train again with this config")
    held = ", ".join(f"model.{k} {start['model'].get(k)}" for k in keys)
    asked = ", ".join(f"model.{k} {model.get(k)}" for k in keys)
    raise FsadError(f"{init} ({start['backbone']}) was trained with {held}, but the config "
                    f"asks for {asked}; meta-train with the model settings it was trained "
                    "with, or pre-train again with these")


def meta_iteration(tr: Trainer, batch: list, rule: InnerRule, first_order: bool,
                   tasks_per_pass: int | None = None, recompute: bool = False,
                   unadapted_weight: float = 0.0) -> dict:
    """One outer step: the meta-gradient of the batch (``meta_gradient``), one step of the
    outer optimizer, then one discriminator step on the query predictions."""
    tr.opt_g.zero_grad(set_to_none=True)
    q_total, preds, reals, plain = meta_gradient(tr, batch, rule, first_order, tasks_per_pass,
                                                 recompute, unadapted_weight)
    tr.clip_gradients(tr.G)
    tr.opt_g.step()
    if tr.inner_lr is not None:  # a rate below 0 would step up the support loss
        with torch.no_grad():
            for rate in tr.inner_lr.values():
                rate.clamp_(min=0)
    d = tr.discriminator_step(torch.cat(reals), torch.cat(preds))
    stats = {"query": float(q_total), "d": d}
    if plain is not None:
        stats["unadapted"] = float(plain)
    return stats


def meta_gradient(tr: Trainer, batch: list, rule: InnerRule, first_order: bool,
                  tasks_per_pass: int | None = None, recompute: bool = False,
                  unadapted_weight: float = 0.0):
    """Adapt to every task on its support windows (the inner loop, by ``rule``: the same
    rule K-shot adaptation uses, ``fsad.adapt``), take the query loss of the adapted
    weights, and add the gradient of its mean over the tasks into the initial weights'
    ``.grad``. Returns the mean query loss (a device tensor), the query predictions and
    frames, for the discriminator, and the mean unadapted query loss.

    ``unadapted_weight`` (lambda, ``meta.unadapted_weight``) adds lambda times the query
    loss of the unadapted weights (the training objective without the adversarial term)
    to the outer objective; with 0 that loss is neither computed nor returned (None).

    Tasks go through ``meta.query_losses`` ``tasks_per_pass`` at a time (None: all at
    once): one batched pass per inner step for the whole group, at the memory of that many
    tasks. The losses stay on the device until the end (one host synchronisation).
    ``recompute``: second order with the inner steps' graphs rebuilt during the backward
    (``meta.recompute_inner``), one task per pass.

    With ``loss.pseudo_anomaly_weight`` the second half of each task's query windows are
    pseudo-anomalies (``SceneTasks.sample_tasks``): the adapted weights' outer objective
    adds the pseudo-anomaly term (``Trainer.contrast``) on them; everything else sees the
    normal half only."""
    theta = meta.parameters(tr.G)
    group = tasks_per_pass or len(batch)

    def query(out, target):
        pred = split_output(out)[0]
        if not tr.pseudo:
            return tr.loss_fn(out, target) + tr.adversarial(pred), pred
        k = target.shape[0] // 2
        term, _ = tr.contrast(pred[:k], target[:k], pred[k:], target[k:])
        return (tr.loss_fn(_head(out, k), target[:k]) + tr.adversarial(pred[:k]) + term,
                pred[:k])

    q_total, plain_total, preds, reals = 0.0, 0.0, [], []
    for first in range(0, len(batch), group):
        group_tasks = zip(*batch[first:first + group], strict=True)
        xs, ys, xq, yq = (torch.stack(a).to(tr.device) for a in group_tasks)
        # the K normal query windows (pseudo-anomalies follow them), for the unadapted
        # term and the critic
        xq_normal, yq_normal = xq[:, :xs.shape[1]], yq[:, :xs.shape[1]]
        with autocast(tr.device):
            q_loss, pred = meta.query_losses(
                tr.G, theta, xs, ys, xq, yq, tr.loss_fn, query, steps=rule.steps,
                lr=tr.inner_rates() or rule.lr,
                optimizer=rule.optimizer, first_order=first_order,
                windows_per_step=rule.windows_per_step, recompute=recompute)
        (q_loss.sum() / len(batch)).backward()
        q_total = q_total + q_loss.detach().sum() / len(batch)
        if unadapted_weight:
            with autocast(tr.device):  # the group's windows in one pass: a mean over them
                plain = tr.loss_fn(tr.G(xq_normal.flatten(0, 1)), yq_normal.flatten(0, 1)) * (
                    len(xq) / len(batch))
            (unadapted_weight * plain).backward()
            plain_total = plain_total + plain.detach()
        preds.append(pred.detach().flatten(0, 1))
        reals.append(yq_normal.flatten(0, 1))
    return q_total, preds, reals, plain_total if unadapted_weight else None
