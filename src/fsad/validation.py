"""Validation scenes: the diagnostic that every training run records, and the measure every
choice of method or rule is made by (never the targets' test labels).

A fixed set of K-shot tasks is drawn once from the validation scenes' normal training
videos: per scene, ``tasks_per_scene`` draws of K support and K query windows, by the root
seed. Training keeps generator snapshots at evenly spaced steps (``snapshots.pt`` beside
the model, ``fsad.train``); :func:`curve` takes each snapshot, adapts a copy of its weights
to each task's support windows by the configured inner rule (the rule scoring uses) and
records the Eq. 2 loss of the query windows (no adversarial term) before and after that
adaptation. Both models meet the same tasks, so their curves compare directly; so does
the loss of copying the last input frame, the level a useful predictor must beat.

``fsad validate`` writes the curve as CSV; ``fsad report validation`` draws it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from fsad.adapt import InnerRule, adapt
from fsad.data.store import FrameStore
from fsad.data.windows import SceneTasks, split_task
from fsad.losses import frame_loss
from fsad.predict import predict

CURVE_COLUMNS = ["step", "before", "after", "copy_last"]


@dataclass(frozen=True)
class ValidationSettings:
    """The config's ``validation`` section (null: no validation scenes, no curve)."""

    dataset: str
    scenes: list[str] | None
    shots: int
    tasks_per_scene: int

    @classmethod
    def from_config(cls, cfg: dict) -> ValidationSettings | None:
        v = cfg.get("validation")
        if not v:
            return None
        return cls(dataset=v["dataset"], scenes=v["scenes"], shots=v["shots"],
                   tasks_per_scene=v["tasks_per_scene"])


class ValidationTasks:
    """The fixed K-shot tasks of the validation scenes (see the module docstring)."""

    def __init__(self, store: FrameStore, settings: ValidationSettings, t: int, seed: int):
        scenes = SceneTasks(store, settings.scenes, t)
        gen = torch.Generator().manual_seed(seed * 100_003 + 99_991)
        self.scenes = scenes.scenes
        self.tasks = [split_task(*scenes.sets[s].sample(2 * settings.shots, gen),
                                 settings.shots, gen)
                      for s in scenes.scenes for _ in range(settings.tasks_per_scene)]

    def copy_last_loss(self, weights: dict) -> float:
        """Eq. 2 loss of predicting each query frame by the last input frame."""
        return float(np.mean([frame_loss(xq[:, -1], yq, weights).mean().item()
                              for _, _, xq, yq in self.tasks]))

    def measure(self, generator: nn.Module, rule: InnerRule, weights: dict,
                inner_lr: dict | None = None) -> tuple[float, float]:
        """Mean query loss (Eq. 2) over the tasks, before and after adaptation by ``rule``
        (with per-parameter rates ``inner_lr`` where the model learned them, Meta-SGD), each
        task adapting a copy of the generator exactly as scoring does (``fsad.adapt``).

        Leaves the generator's weights, its mode and torch's global RNG as they were, so a
        measured run trains exactly as an unmeasured one."""
        rng, mode = torch.get_rng_state(), generator.training
        before, after = [], []
        try:
            for xs, ys, xq, yq in self.tasks:
                generator.train()
                fast = adapt(copy.deepcopy(generator), xs, ys, rule, weights, inner_lr)
                for net, out in ((generator, before), (fast, after)):
                    out.append(np.mean(predict(net, xq, yq, weights)[0]))
        finally:
            generator.train(mode)
            torch.set_rng_state(rng)
        return float(np.mean(before)), float(np.mean(after))


def curve(generator: nn.Module, snapshots: dict[int, dict], tasks: ValidationTasks,
          rule: InnerRule, weights: dict) -> list[list]:
    """Rows of CURVE_COLUMNS, one per snapshot (step order): the query loss before and
    after adapting that snapshot, and the copy-last-frame loss of the same tasks."""
    copy_last = tasks.copy_last_loss(weights)
    rows = []
    for step in sorted(snapshots):
        snap = snapshots[step]
        generator.load_state_dict(snap["generator"])
        before, after = tasks.measure(generator, rule, weights, snap.get("inner_lr"))
        rows.append([step, before, after, copy_last])
    return rows
