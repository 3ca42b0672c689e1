"""K-shot adaptation, written once: a generator, K windows and the configured rule give the
adapted weights. Scoring (``fsad score``), ``fsad adapt`` and ``fsad detect`` all call
:func:`adapt`; meta-training's inner loop runs the same rule through the same
:func:`fsad.meta.inner_loop` (``fsad.train.meta_iteration``), so a rule cannot differ between
where it is chosen and where it is used.

* :class:`InnerRule` is the config's ``inner`` section and :class:`MetaSettings` its ``meta``
  section, as typed values built from the validated config (``from_config``): a reader can
  follow ``inner.lr`` from the YAML to the update that uses it.
* Where the K windows come from: :func:`training_windows` (the target's normal training
  videos, drawn by the root seed and the adaptation seed), :func:`prefix_windows` (the first
  K windows of one test video, MPN's protocol) and :func:`footage_windows` (``fsad detect``:
  normal footage of the user's camera, drawn by the seed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from fsad import FsadError, meta
from fsad.data.store import FrameStore
from fsad.data.windows import WindowSet, to_tensor
from fsad.device import autocast
from fsad.losses import objective


@dataclass(frozen=True)
class InnerRule:
    """The update rule of the inner loop and of K-shot adaptation (config section ``inner``):
    ``steps`` updates of ``optimizer`` ("sgd" or "adam") at learning rate ``lr``, each on all
    K windows (``windows_per_step`` None, Eq. 1) or on the next ``windows_per_step`` of them,
    cyclically (1: the authors' code)."""

    steps: int
    lr: float
    optimizer: str = "sgd"
    windows_per_step: int | None = None

    def __post_init__(self) -> None:
        """Refuse a rule that cannot adapt, wherever it was built (the config, ``--params``,
        a checkpoint's settings, ``fsad detect --lr/--steps``): a NaN, infinite, zero or
        negative rate would give NaN or unchanged weights and every score NaN."""
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise FsadError(f"adaptation steps {self.steps!r}: must be a whole number of at "
                            "least 1; set inner.steps (or --steps of fsad detect)")
        if isinstance(self.lr, bool) or not isinstance(self.lr, int | float) \
                or not math.isfinite(self.lr) or self.lr <= 0:
            raise FsadError(f"adaptation learning rate {self.lr!r} is not a finite number "
                            "above 0; set inner.lr (or --lr of fsad detect) to a positive "
                            "rate such as 0.05")
        if self.optimizer not in ("sgd", "adam"):
            raise FsadError(f"adaptation optimizer {self.optimizer!r}: use sgd or adam "
                            "(inner.optimizer, or --optimizer of fsad detect)")
        if self.windows_per_step is not None and (
                isinstance(self.windows_per_step, bool)
                or not isinstance(self.windows_per_step, int) or self.windows_per_step < 1):
            raise FsadError(f"inner.windows_per_step {self.windows_per_step!r}: must be null "
                            "(all K windows) or a whole number of at least 1")

    @classmethod
    def from_config(cls, inner: Mapping) -> InnerRule:
        """From the validated config's ``inner`` section, or a checkpoint's
        ``settings["inner"]`` (written before ``windows_per_step`` existed: None)."""
        per_step = inner.get("windows_per_step")
        return cls(steps=int(inner["steps"]), lr=float(inner["lr"]),
                   optimizer=str(inner["optimizer"]),
                   windows_per_step=None if per_step is None else int(per_step))


@dataclass(frozen=True)
class MetaSettings:
    """Meta-training's settings (config section ``meta``; the schema documents each)."""

    iterations: int
    tasks: int
    shots: int | str  # an int, or "matched": one model per evaluated K (fsad.config)
    first_order: bool
    tasks_per_pass: int | None
    recompute_inner: bool
    lr_g: float
    lr_d: float
    checkpoint_every: int
    grad_clip: float | None
    init: str = "pretrained"  # or "random": a fresh initialisation
    learn_inner_lr: bool = False  # Meta-SGD
    snapshots: int = 10
    optimizer: str = "adam"  # the outer optimizer: adam or sgd
    unadapted_weight: float = 0.0  # lambda of the unadapted query loss in the outer objective
    query_windows: str = "shuffled"  # or "disjoint": support and query share no frame

    @classmethod
    def from_config(cls, m: Mapping) -> MetaSettings:
        """From the validated config's ``meta`` section."""
        return cls(iterations=m["iterations"], tasks=m["tasks"], shots=m["shots"],
                   first_order=m["first_order"], tasks_per_pass=m["tasks_per_pass"],
                   recompute_inner=m["recompute_inner"], lr_g=m["lr_g"], lr_d=m["lr_d"],
                   checkpoint_every=m["checkpoint_every"], grad_clip=m["grad_clip"],
                   init=m["init"], learn_inner_lr=m["learn_inner_lr"],
                   snapshots=m["snapshots"], optimizer=m["optimizer"],
                   unadapted_weight=m["unadapted_weight"], query_windows=m["query_windows"])


def adapt(generator: nn.Module, x: torch.Tensor, y: torch.Tensor, rule: InnerRule,
          loss_weights: dict, rates: dict[str, torch.Tensor] | None = None) -> nn.Module:
    """Adapt ``generator`` in place to the K windows ``x`` (K, t, C, H, W) -> ``y``
    (K, C, H, W) by ``rule``, minimising the objective it was trained with (Eq. 2 with
    ``loss_weights``, plus its regulariser), and return it.

    It runs where the generator's weights are, on that device's path (bf16 autocast on CUDA
    and with ``cpu_bf16``, exact fp32 otherwise). Adaptation is first order: the inner
    loop's gradients are taken on detached weights, and its result is written into the
    module. ``rates``: the per-weight rates a Meta-SGD model learned (its checkpoint's
    ``inner_lr``), used instead of ``rule.lr``.

    Adapted weights that are NaN or infinite (a finite but far too large rate overflows)
    stop here with one line, before anything is scored or saved."""
    device = next(generator.parameters()).device
    x, y = x.to(device), y.to(device)
    with autocast(device):
        params = {n: p.detach().requires_grad_(True)
                  for n, p in meta.parameters(generator).items()}
        lr = rule.lr if rates is None else {n: r.to(device) for n, r in rates.items()}
        adapted = meta.inner_loop(generator, params, x, y, objective(loss_weights),
                                  steps=rule.steps, lr=lr, optimizer=rule.optimizer,
                                  first_order=True, windows_per_step=rule.windows_per_step)
        finite = torch.stack([torch.isfinite(p).all() for p in adapted.values()])
        if not bool(finite.all()):  # one host synchronisation on CUDA
            bad = [name for name, ok in zip(adapted, finite.tolist(), strict=True) if not ok]
            raise FsadError(
                f"the adapted model is not finite: {len(bad)} of {len(adapted)} weight "
                f"tensors hold NaN or infinity (e.g. {bad[0]}) after {rule.steps} "
                f"{rule.optimizer} step(s) at lr {rule.lr:g} on {len(x)} window(s); lower the "
                "adaptation rate (inner.lr, or --lr of fsad detect)")
        with torch.no_grad():
            for name, p in generator.named_parameters():
                if name in adapted:
                    p.copy_(adapted[name])
    return generator


def training_windows(store: FrameStore, scenes: list[str] | None, t: int, shots: int,
                     seed: int, root_seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """K windows from the target's normal training videos, drawn by (root seed, seed).

    Also seeds torch's global generator with the same value, so stochastic backbones
    (r-VAE samples its latent while adapting) adapt reproducibly too."""
    windows = WindowSet(store, store.select(scenes, "train"), t)
    if not len(windows):
        raise FsadError(f"{store.path}: the target has no training windows to adapt on")
    draw = root_seed * 100_003 + seed
    torch.manual_seed(draw)
    return windows.sample(shots, torch.Generator().manual_seed(draw))


def prefix_windows(frames: np.ndarray, t: int, shots: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first K windows of one video (targets t .. t+K-1), MPN's protocol."""
    clips = to_tensor(np.stack([frames[i:i + t + 1] for i in range(shots)]))
    return clips[:, :-1], clips[:, -1]


def footage_windows(frames: np.ndarray, t: int, shots: int,
                    seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """K windows of normal footage at distinct starts drawn by ``seed`` (in frame order).
    Also seeds torch's global generator with ``seed`` (see :func:`training_windows`)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    starts = np.sort(torch.randperm(len(frames) - t, generator=gen)[:shots].numpy())
    clips = to_tensor(np.stack([frames[s:s + t + 1] for s in starts]))
    return clips[:, :-1], clips[:, -1]
