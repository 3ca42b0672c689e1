"""Does the generator use its first input frames? The Eq. 2 loss of the validation tasks'
query windows (normal) with the input windows intact and with the earlier frames replaced
by later ones, before and after adaptation by the config's inner rule.

Run from a finished run's folder (it reads the config's validation scenes from their frame
store and the trained checkpoints):

    python bench/input_frames_check.py [--config config/config.yaml] [MODEL.pt ...]

Variants of each input window x_1 .. x_t (t = 3 by default):

* ``intact``: as recorded;
* ``first repeated``: x_1 replaced by x_2, so only the last t - 1 frames differ;
* ``static``: every frame replaced by x_t, no motion left to see.

A model that predicts from motion loses accuracy as frames are replaced; one whose loss
does not change ignores them (then more ConvLSTM capacity is the option to try). Reads
only the validation scenes' normal training windows, never a target.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np
import torch

from fsad.adapt import InnerRule, adapt
from fsad.atomic import write_csv
from fsad.predict import predict
from fsad.score import load_generator
from fsad.validation import ValidationTasks
from validation_sweep import RUN_MODELS, validation_store


def first_repeated(x: torch.Tensor) -> torch.Tensor:
    """Windows (B, t, C, H, W) with frame 1 replaced by frame 2."""
    out = x.clone()
    out[:, 0] = x[:, 1]
    return out


def static(x: torch.Tensor) -> torch.Tensor:
    """Windows (B, t, C, H, W) with every frame replaced by the last."""
    return x[:, -1:].expand_as(x).clone()


VARIANTS = {"intact": lambda x: x, "first repeated": first_repeated, "static": static}


def variant_losses(generator, tasks: ValidationTasks, rule: InnerRule | None, weights: dict,
                   inner_lr: dict | None = None) -> dict[str, float]:
    """Mean query loss over the tasks for each input variant, the generator adapted first to
    each task's support windows by ``rule`` (``None``: unadapted)."""
    out: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for xs, ys, xq, yq in tasks.tasks:
        net = generator
        if rule is not None:
            net = adapt(copy.deepcopy(generator).train(), xs, ys, rule, weights, inner_lr)
        for name, change in VARIANTS.items():
            out[name].append(np.mean(predict(net, change(xq), yq, weights)[0]))
    return {name: float(np.mean(v)) for name, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("models", nargs="*", default=RUN_MODELS)
    ap.add_argument("--out", default="results/sweeps/input_frames_check.csv")
    args = ap.parse_args()
    cfg, settings, store = validation_store(ap, args.config)
    rule = InnerRule.from_config(cfg["inner"])
    rows = []
    for path in args.models:
        generator, ck = load_generator(Path(path), store)
        tasks = ValidationTasks(store, settings, ck["t"], cfg["seed"])
        weights = ck["settings"]["loss"]
        for label, r in (("unadapted", None), ("adapted", rule)):
            losses = variant_losses(generator, tasks, r, weights, ck.get("inner_lr"))
            rows.append([path, label] + [f"{losses[n]:.5f}" for n in VARIANTS])
            print(f"{Path(path).parent.name:>10} {label:<10} "
                  + "  ".join(f"{n} {losses[n]:.4f}" for n in VARIANTS), flush=True)
    copy_last = tasks.copy_last_loss(weights)
    print(f"copying the last input frame: {copy_last:.4f}")
    write_csv(Path(args.out), ["model", "adaptation"] + list(VARIANTS), rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
