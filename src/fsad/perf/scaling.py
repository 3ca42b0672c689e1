"""How fsad's cost grows (`fsad bench --suite scaling`; docs/benchmarks.md has the figures).

``scaling``: one meta-iteration as K, the number of tasks and the image size grow (one axis
at a time, the others at the config's values), and scoring one video as its length grows.
Each row gives the seconds, the work as FlopCounterMode counts it (GFLOP, deterministic:
linear in K, tasks and frames, about quadratic in the image side), and the seconds per unit
of work (per window, per pixel, per frame), which stays flat when the time grows as the
work does.
"""

from __future__ import annotations

import numpy as np
import torch

from fsad.adapt import InnerRule, MetaSettings
from fsad.config import meta_model_shots
from fsad.models import build
from fsad.perf.timing import count_flops, median_time
from fsad.perf.workload import at, bench_trainer, task_batch
from fsad.train import meta_iteration


def timed(fn, repeats: int) -> dict:
    """Seconds (median of ``repeats``) and GFLOP of ``fn``; the counted call is the warm-up."""
    flops = count_flops(fn)
    return {"seconds": median_time(fn, repeats, warmup=0), "gflop": flops / 1e9}


def meta_iteration_cost(cfg: dict, shots: int, backbone: str = "rgan",
                        repeats: int = 2) -> dict:
    """Seconds and GFLOP of one meta-iteration of the config's tasks at K = ``shots``."""
    tr = bench_trainer(cfg, backbone)
    batch = task_batch(cfg, shots)
    m, rule = MetaSettings.from_config(cfg["meta"]), InnerRule.from_config(cfg["inner"])
    return timed(lambda: meta_iteration(tr, batch, rule, m.first_order, m.tasks_per_pass,
                                        m.recompute_inner), repeats)


def scoring_cost(cfg: dict, frames: int, backbone: str = "rgan", repeats: int = 2) -> dict:
    """Seconds and GFLOP of scoring one video of ``frames`` frames (Eq. 2 and PSNR per
    frame, as ``fsad score`` does)."""
    from fsad.score import predict_video

    f = cfg["frames"]
    video = np.random.default_rng(0).integers(
        0, 256, (frames, f["height"], f["width"], f["channels"]), dtype=np.uint8)
    tr = bench_trainer(cfg, backbone)
    return timed(lambda: list(predict_video(tr.G, video, cfg["model"]["t"], cfg["loss"],
                                            cfg["evaluate"]["batch_size"])), repeats)


def scaling(cfg: dict, backbone: str = "rgan", repeats: int = 2,
            shots=(1, 5, 10), tasks=(1, 2, 4, 8), sizes=(32, 64, 128),
            lengths=(250, 500, 1000, 2000)) -> list[dict]:
    """One row per measurement: axis, value, seconds, GFLOP, and seconds per unit of work."""
    k0 = meta_model_shots(cfg, 5)  # the model evaluated at K = 5
    t0, s0 = cfg["meta"]["tasks"], cfg["frames"]["height"]
    rows = []
    for k in shots:
        c = meta_iteration_cost(cfg, k, backbone, repeats)
        rows.append({"axis": "K (support = query windows per task)", "value": k, **c,
                     "unit": "ms per window", "per_unit": 1e3 * c["seconds"] / (2 * k * t0)})
    for n in tasks:
        c = meta_iteration_cost(at(cfg, tasks=n), k0, backbone, repeats)
        rows.append({"axis": f"tasks per meta-batch (K = {k0})", "value": n, **c,
                     "unit": "ms per window", "per_unit": 1e3 * c["seconds"] / (2 * k0 * n)})
    for size in sizes:
        c = meta_iteration_cost(at(cfg, size=size), k0, backbone, repeats)
        rows.append({"axis": f"image size (K = {k0}, {t0} tasks)", "value": size, **c,
                     "unit": "us per pixel-window",
                     "per_unit": 1e6 * c["seconds"] / (2 * k0 * t0 * size * size)})
    for n in lengths:
        c = scoring_cost(cfg, n, backbone, repeats)
        rows.append({"axis": f"video length, scoring ({s0}x{s0})", "value": n, **c,
                     "unit": "ms per frame", "per_unit": 1e3 * c["seconds"] / n})
    return rows


def forward_gflop(cfg: dict, backbone: str = "rgan", size: int | None = None) -> float:
    """GFLOP (2 per multiply-add, as FlopCounterMode counts) of the generator's forward
    pass for one window, i.e. per predicted frame."""
    f, t = cfg["frames"], cfg["model"]["t"]
    size = size or f["height"]
    g, _ = build(backbone, cfg["model"], f["channels"])
    x = torch.rand(1, t, f["channels"], size, size)
    with torch.no_grad():
        return count_flops(lambda: g(x)) / 1e9
