"""Side-by-side measurements (`fsad bench`). Every figure is a ratio of two things timed in
the same process, one after the other, on the same inputs, so machine noise mostly cancels.

* ``train``: plain training throughput (samples/s) at the config's batch size;
* ``meta_vs_plain``: one meta-iteration (tasks x (inner steps + query) on K windows, outer
  step, discriminator step) against the same number of plain forward/backward passes at
  the same batch sizes followed by one optimiser and one discriminator step.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from fsad.models import split_output
from fsad.train import Trainer, meta_iteration, pretrain_step


def _time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs, after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _trainer(cfg: dict, backbone: str) -> Trainer:
    f = cfg["frames"]
    frames = {"height": f["height"], "width": f["width"], "channels": f["channels"]}
    return Trainer(cfg, backbone, frames, Path("unused.pt"), "bench", 1e-4, 1e-4, {})


def _windows(cfg: dict, n: int, gen: torch.Generator):
    f, t = cfg["frames"], cfg["model"]["t"]
    x = torch.rand(n, t, f["channels"], f["height"], f["width"], generator=gen)
    y = torch.rand(n, f["channels"], f["height"], f["width"], generator=gen)
    return x, y


def train_throughput(cfg: dict, backbone: str = "rgan", repeats: int = 5) -> dict:
    tr = _trainer(cfg, backbone)
    bs = cfg["pretrain"]["batch_size"]
    x, y = _windows(cfg, bs, torch.Generator().manual_seed(0))
    seconds = _time(lambda: pretrain_step(tr, x, y), repeats)
    return {"batch_size": bs, "step_s": seconds, "samples_per_s": bs / seconds}


def meta_vs_plain(cfg: dict, shots: int, backbone: str = "rgan", repeats: int = 3) -> dict:
    m, inner = cfg["meta"], cfg["inner"]
    tr = _trainer(cfg, backbone)
    gen = torch.Generator().manual_seed(0)
    batch = []
    for _ in range(m["tasks"]):
        xs, ys = _windows(cfg, shots, gen)
        xq, yq = _windows(cfg, shots, gen)
        batch.append((xs, ys, xq, yq))
    passes = m["tasks"] * (inner["steps"] + 1)

    def plain() -> None:
        # The same forward/backward passes at batch K, through ordinary autograd.
        tr.opt_g.zero_grad(set_to_none=True)
        reals, preds = [], []
        for i in range(passes):
            x, y = batch[i % len(batch)][:2]
            out = tr.G(x)
            pred = split_output(out)[0]
            (tr.loss_fn(out, y) + tr.adversarial(pred)).backward()
            reals.append(y)
            preds.append(pred.detach())
        tr.opt_g.step()
        tr.discriminator_step(torch.cat(reals[: m["tasks"]]), torch.cat(preds[: m["tasks"]]))

    def meta_step() -> None:
        meta_iteration(tr, batch, inner, m["first_order"])

    # Interleave the two so that drift in machine load hits both alike.
    t_meta, t_plain = [], []
    for _ in range(repeats):
        t_meta.append(_time(meta_step, 1))
        t_plain.append(_time(plain, 1))
    meta_s, plain_s = statistics.median(t_meta), statistics.median(t_plain)
    return {"shots": shots, "tasks": m["tasks"], "inner_steps": inner["steps"],
            "first_order": m["first_order"], "passes": passes, "meta_iteration_s": meta_s,
            "plain_passes_s": plain_s, "meta_vs_plain": meta_s / plain_s}
