"""What the benchmarks time: a freshly initialised trainer, random windows and tasks of the
config's sizes, and copies of the config with the benchmark's knobs changed."""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from fsad.train import Trainer

KEEP = object()  # "leave this knob as the config has it" (None is a meaningful value)


def at(cfg: dict, size: int | None = None, tasks: int | None = None,
       steps: int | None = None, first_order: bool | None = None,
       tasks_per_pass=KEEP, windows_per_step=KEEP, recompute: bool | None = None) -> dict:
    """A copy of ``cfg`` with the benchmark's knobs changed."""
    cfg = copy.deepcopy(cfg)
    if size is not None:
        cfg["frames"].update(height=size, width=size)
    if tasks is not None:
        cfg["meta"]["tasks"] = tasks
    if steps is not None:
        cfg["inner"]["steps"] = steps
    if first_order is not None:
        cfg["meta"]["first_order"] = first_order
    if tasks_per_pass is not KEEP:
        cfg["meta"]["tasks_per_pass"] = tasks_per_pass
    if windows_per_step is not KEEP:
        cfg["inner"]["windows_per_step"] = windows_per_step
    if recompute is not None:
        cfg["meta"]["recompute_inner"] = recompute
    return cfg


def bench_trainer(cfg: dict, backbone: str) -> Trainer:
    """A freshly initialised Trainer for timing: nothing is read or written."""
    f = cfg["frames"]
    frames = {"height": f["height"], "width": f["width"], "channels": f["channels"]}
    return Trainer(cfg, backbone, frames, Path("unused.pt"), "bench", 1e-4, 1e-4, {})


def random_windows(cfg: dict, n: int, gen: torch.Generator):
    """``n`` random (x, y) windows of the config's frame size: x (n, t, C, H, W), y (n, C, H, W)."""
    f, t = cfg["frames"], cfg["model"]["t"]
    x = torch.rand(n, t, f["channels"], f["height"], f["width"], generator=gen)
    y = torch.rand(n, f["channels"], f["height"], f["width"], generator=gen)
    return x, y


def task_batch(cfg: dict, shots: int, seed: int = 0) -> list:
    """``meta.tasks`` random tasks of K support and K query windows, as meta-training
    samples them: a list of (xs, ys, xq, yq)."""
    gen = torch.Generator().manual_seed(seed)
    batch = []
    for _ in range(cfg["meta"]["tasks"]):
        xs, ys = random_windows(cfg, shots, gen)
        xq, yq = random_windows(cfg, shots, gen)
        batch.append((xs, ys, xq, yq))
    return batch
