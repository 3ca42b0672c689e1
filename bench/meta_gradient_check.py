"""Is the meta-gradient signal, and does a step along it lower the meta-objective?

Run from a finished run's folder (it reads the config, the source scenes' frame store and
the trained checkpoints; no target or validation label is read):

    python bench/meta_gradient_check.py [--config config/config.yaml] [--tasks 64]
                                        [--probe-tasks 16] [MODEL.pt ...]

For each model (default: the run's pre-trained r-GAN, where meta-training starts, and its
meta-trained one) it draws ``--tasks`` source tasks as meta-training does and takes each
task's meta-gradient alone (``fsad.train.meta_gradient``: the config's inner rule and
order, the query loss with its adversarial term). From these per-task gradients g_i:

* ``signal``: |G|^2, the squared norm of the expected meta-gradient G, estimated without
  bias as |mean g_i|^2 - tr(S)/N;
* ``noise``: tr(S), the summed per-weight variance of one task's meta-gradient;
* ``noise scale`` B = tr(S)/|G|^2 (McCandlish et al. 2018, "An Empirical Model of
  Large-Batch Training", B_simple): the meta-batch size at which the noise of the averaged
  gradient equals its signal. A meta-batch of b tasks points along G with an expected
  cosine of about 1/sqrt(1 + B/b).
* the cosine between the mean gradients of two disjoint halves of the tasks, a check of
  the same quantity that needs no formula.

Adam divides each step by the gradient's running magnitude, so a noise-dominated
meta-gradient still moves every weight by about the outer rate per step: a random walk
away from the initial weights. The figure says how many tasks per meta-batch (``meta.tasks``)
make the step follow the signal.

Then a line search: the meta-objective (the adapted query loss, as meta-training takes it)
and the unadapted query loss of ``--probe-tasks`` other source tasks, at the weights moved
by eps along two directions of the mean meta-gradient G: the first step of a fresh Adam
(sign(G): every weight moves by eps, which is what meta-training's first outer steps do),
and G itself scaled to the same root-mean-square movement per weight. If the objective
rises already at the outer rate's eps, the outer step, not the meta-gradient, is at fault.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from fsad import checkpoint
from fsad import config as cfgmod
from fsad.adapt import InnerRule, MetaSettings
from fsad.atomic import write_csv
from fsad.models import split_output
from fsad.train import Trainer, frame_shape, meta_gradient, source_tasks
from validation_sweep import RUN_MODELS

# Root-mean-square movements per weight of the line search; 2e-4 is the default outer rate.
EPSILONS = (0.0, 2e-5, 1e-4, 2e-4, 1e-3, 2e-3)


def noise_scale(grads: torch.Tensor) -> dict:
    """Statistics of N per-task gradients (an N x P matrix, N >= 4; see the docstring)."""
    n = grads.shape[0]
    mean = grads.mean(0)
    trace = float(((grads - mean) ** 2).sum() / (n - 1))
    signal = float(mean.square().sum()) - trace / n
    half = n // 2
    a, b = grads[:half].mean(0), grads[half:2 * half].mean(0)
    return {"tasks": n, "signal": signal, "noise": trace,
            "scale": trace / signal if signal > 0 else float("inf"),
            "half_cosine": float(torch.nn.functional.cosine_similarity(a, b, dim=0))}


def trained(tr: Trainer) -> list[torch.Tensor]:
    """The generator weights meta-training updates, in one fixed order."""
    return [p for p in tr.G.parameters() if p.requires_grad]


def per_task_gradients(tr: Trainer, batch: list, rule: InnerRule, first_order: bool):
    """One flattened generator meta-gradient per task, and the tasks' mean query loss."""
    grads, losses = [], []
    for task in batch:
        tr.G.zero_grad(set_to_none=True)
        q, *_ = meta_gradient(tr, [task], rule, first_order)
        grads.append(parameters_to_vector(
            p.grad if p.grad is not None else torch.zeros_like(p) for p in trained(tr)).double())
        losses.append(float(q))
    return torch.stack(grads), float(np.mean(losses))


def probe(tr: Trainer, batch: list, rule: InnerRule, first_order: bool) -> tuple[float, float]:
    """The tasks' mean query loss (Eq. 2 plus the adversarial term) after adaptation (the
    meta-objective) and without it."""
    adapted, *_ = meta_gradient(tr, batch, rule, first_order)
    tr.G.zero_grad(set_to_none=True)
    with torch.no_grad():
        xq, yq = (torch.stack([task[i] for task in batch]).flatten(0, 1).to(tr.device)
                  for i in (2, 3))
        out = tr.G(xq)
        unadapted = tr.loss_fn(out, yq) + tr.adversarial(split_output(out)[0])
    return float(adapted), float(unadapted)


def line_search(tr: Trainer, batch: list, rule: InnerRule, first_order: bool,
                mean_grad: torch.Tensor) -> list[tuple[str, float, float, float]]:
    """(direction, eps, meta-objective, unadapted loss) along -sign(G) and -G/rms(G)."""
    params = trained(tr)
    start = parameters_to_vector(params).detach().clone()
    rows = []
    for name, direction in (("adam", torch.sign(mean_grad)),
                            ("gradient", mean_grad / mean_grad.square().mean().sqrt())):
        for eps in EPSILONS:
            with torch.no_grad():
                vector_to_parameters(start - eps * direction.to(start.dtype), params)
            rows.append((name, eps, *probe(tr, batch, rule, first_order)))
    with torch.no_grad():
        vector_to_parameters(start, params)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("models", nargs="*", default=RUN_MODELS)
    ap.add_argument("--source", default="synthetic")
    ap.add_argument("--tasks", type=int, default=64, help="source tasks drawn per model")
    ap.add_argument("--probe-tasks", type=int, default=16,
                    help="other source tasks the line search measures (0: no line search)")
    ap.add_argument("--shots", type=int, help="K of the tasks (default: meta.shots)")
    ap.add_argument("--out", default="results/sweeps/meta_gradient_check.csv")
    args = ap.parse_args()
    if args.tasks < 4:
        ap.error("--tasks must be at least 4: the noise needs a variance, the check two halves")
    cfg = cfgmod.load(args.config)
    m, rule = MetaSettings.from_config(cfg["meta"]), InnerRule.from_config(cfg["inner"])
    shots = args.shots or m.shots
    if not isinstance(shots, int):
        ap.error(f"meta.shots is {shots!r} in {args.config}: give --shots")
    frames = [f"results/frames/{part['dataset']}.h5"
              for part in cfgmod.source_parts(cfg, args.source)]
    missing = [f for f in frames if not Path(f).exists()]
    if missing:
        ap.error(f"{', '.join(missing)} not found: run this in a finished run's folder "
                 "(one that bench/meta_seeds.py or `make run` wrote)")
    _, tasks = source_tasks(cfg, frames, args.source)
    rows, searched = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for path in args.models:
            ck = checkpoint.load(path)
            tr = Trainer(cfg, ck["backbone"], frame_shape(tasks.store), Path(tmp) / "model.pt",
                         "meta", m.lr_g, m.lr_d, {})
            if "inner_lr" in ck:  # Meta-SGD: adapt with the model's learned rates
                tr.learn_inner_lr(rule.lr)
            tr.load_weights(ck)
            batch = tasks.sample_tasks(args.tasks, shots,
                                       torch.Generator().manual_seed(cfg["seed"]))
            grads, loss = per_task_gradients(tr, batch, rule, m.first_order)
            s = noise_scale(grads)
            cosine = {b: (1 / np.sqrt(1 + s["scale"] / b)) for b in (m.tasks, 4 * m.tasks)}
            rows.append([path, s["tasks"], f"{loss:.5f}", f"{s['signal']:.4g}",
                         f"{s['noise']:.4g}", f"{s['scale']:.1f}", f"{s['half_cosine']:.3f}",
                         f"{cosine[m.tasks]:.3f}"])
            print(f"{path}: {s['tasks']} tasks, query loss {loss:.4f}; |G|^2 {s['signal']:.3g}, "
                  f"tr(S) {s['noise']:.3g}: noise scale {s['scale']:.1f} tasks; cosine of two "
                  f"{s['tasks'] // 2}-task halves {s['half_cosine']:.3f}; expected cosine "
                  f"with G of a {m.tasks}-task meta-batch {cosine[m.tasks]:.3f}, of "
                  f"{4 * m.tasks} tasks {cosine[4 * m.tasks]:.3f}", flush=True)
            if args.probe_tasks:
                held = tasks.sample_tasks(args.probe_tasks, shots,
                                          torch.Generator().manual_seed(cfg["seed"] + 1))
                for name, eps, adapted, unadapted in line_search(
                        tr, held, rule, m.first_order, grads.mean(0)):
                    searched.append([path, name, eps, f"{adapted:.5f}", f"{unadapted:.5f}"])
                    print(f"  step {eps:g} along {name:<8}: meta-objective {adapted:.4f}, "
                          f"unadapted {unadapted:.4f}", flush=True)
    write_csv(Path(args.out), ["model", "tasks", "query_loss", "signal", "noise",
                               "noise_scale", "half_cosine", f"cosine_{m.tasks}_tasks"], rows)
    if searched:
        steps = Path(args.out).with_name(Path(args.out).stem + "_line_search.csv")
        write_csv(steps, ["model", "direction", "eps", "meta_objective", "unadapted"], searched)
        print(f"wrote {steps}")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
