"""How fsad's cost grows, what it needs in memory, and how it compares with the authors'
code (`fsad bench --suite scaling|memory|peer`; docs/benchmarks.md has the figures).

* ``scaling``: seconds per meta-iteration as K, the number of tasks and the image size
  grow (one axis at a time, the others at the config's values), and seconds to score a
  video as its length grows; each row also gives the cost per unit of work (per window,
  per pixel, per frame), which stays flat when the growth is linear.
* ``peak_memory``: the peak memory of one meta-iteration, measured in a fresh child
  process (peak RSS on CPU, the allocator's peak on CUDA) so nothing else counts.
* ``peer``: fsad's meta-iteration at the settings at which the issue measured the authors'
  public code, with the forward FLOPs of both, so the ratio can be read as "less work"
  times "faster work".
"""

from __future__ import annotations

import copy
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import torch

from fsad.adapt import InnerRule
from fsad.bench import bench_trainer, count_flops, median_time, random_windows, task_batch
from fsad.config import meta_model_shots
from fsad.models import build
from fsad.train import meta_iteration, pretrain_step

# The authors' public training code (Lu et al.), minimally patched to run, on fsad's 2-core
# development machine, as measured and reported in issue #6 (not re-measured here: their
# code is not part of this project). Seconds per meta-iteration of 6 tasks, first order.
PEER = {
    "source": "issue #6 (authors' public code, 2-core machine)",
    "tasks": 6,
    "meta_iteration_s": {"64x64 K=1": 20.1, "64x64 K=5": 78.0, "256x256 K=1": 345.0},
    "gflop_per_frame_256": 922.0,
    "memory_gb_256": 6.2,
}


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


def meta_iteration_time(cfg: dict, shots: int, backbone: str = "rgan",
                        repeats: int = 2) -> float:
    """Median seconds of one meta-iteration (after one warm-up)."""
    tr = bench_trainer(cfg, backbone)
    batch, m = task_batch(cfg, shots), cfg["meta"]
    rule = InnerRule.from_config(cfg["inner"])
    return median_time(lambda: meta_iteration(tr, batch, rule, m["first_order"],
                                              m["tasks_per_pass"], m["recompute_inner"]),
                       repeats)


def scoring_time(cfg: dict, frames: int, backbone: str = "rgan", repeats: int = 2) -> float:
    """Median seconds to score one video of ``frames`` frames (Eq. 2 and PSNR per frame)."""
    from fsad.score import predict_video

    f = cfg["frames"]
    video = np.random.default_rng(0).integers(
        0, 256, (frames, f["height"], f["width"], f["channels"]), dtype=np.uint8)
    tr = bench_trainer(cfg, backbone)
    return median_time(lambda: list(predict_video(tr.G, video, cfg["model"]["t"], cfg["loss"],
                                                  cfg["evaluate"]["batch_size"])),
                       repeats)


def scaling(cfg: dict, backbone: str = "rgan", repeats: int = 2,
            shots=(1, 5, 10), tasks=(1, 2, 4, 8), sizes=(32, 64, 128),
            lengths=(250, 500, 1000, 2000)) -> list[dict]:
    """One row per measurement: axis, value, seconds, and seconds per unit of work."""
    k0 = meta_model_shots(cfg, 5)  # the model evaluated at K = 5
    t0, s0 = cfg["meta"]["tasks"], cfg["frames"]["height"]
    rows = []
    for k in shots:
        s = meta_iteration_time(cfg, k, backbone, repeats)
        rows.append({"axis": "K (support = query windows per task)", "value": k, "seconds": s,
                     "unit": "ms per window", "per_unit": 1e3 * s / (2 * k * t0)})
    for n in tasks:
        s = meta_iteration_time(at(cfg, tasks=n), k0, backbone, repeats)
        rows.append({"axis": f"tasks per meta-batch (K = {k0})", "value": n, "seconds": s,
                     "unit": "ms per window", "per_unit": 1e3 * s / (2 * k0 * n)})
    for size in sizes:
        s = meta_iteration_time(at(cfg, size=size), k0, backbone, repeats)
        rows.append({"axis": f"image size (K = {k0}, {t0} tasks)", "value": size, "seconds": s,
                     "unit": "us per pixel-window",
                     "per_unit": 1e6 * s / (2 * k0 * t0 * size * size)})
    for n in lengths:
        s = scoring_time(cfg, n, backbone, repeats)
        rows.append({"axis": f"video length, scoring ({s0}x{s0})", "value": n, "seconds": s,
                     "unit": "ms per frame", "per_unit": 1e3 * s / n})
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


def peak_memory(cfg: dict, shots: int, backbone: str = "rgan", threads: int | None = None,
                limit_gb: float | None = None, plain: bool = False) -> dict:
    """Peak memory of one meta-iteration (``plain``: of one plain training step on a batch
    of ``shots`` windows, the yardstick), measured in a child process.

    ``limit_gb`` caps the child's address space (CPU), so a setting that does not fit
    reports ``fits: False`` instead of pushing the machine into swap.
    """
    args = json.dumps({"cfg": cfg, "shots": shots, "backbone": backbone, "threads": threads,
                       "plain": plain})
    code = "import sys, fsad.scaling as s; s._memory_child(sys.argv[1])"

    def cap() -> None:
        if limit_gb:
            limit = int(limit_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code, args], capture_output=True, text=True,
                          preexec_fn=cap)
    result = {"what": "plain step" if plain else "meta-iteration", "shots": shots,
              "size": cfg["frames"]["height"], "tasks": cfg["meta"]["tasks"],
              "tasks_per_pass": cfg["meta"]["tasks_per_pass"],
              "inner_steps": cfg["inner"]["steps"], "first_order": cfg["meta"]["first_order"],
              "recompute_inner": cfg["meta"]["recompute_inner"],
              "wall_s": time.perf_counter() - t0}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode == 0 and lines:
        return {**result, "fits": True, **json.loads(lines[-1])}
    tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
    return {**result, "fits": False, "error": tail[:300]}


def memory_suite(cfg: dict, size: int, shots: int, backbone: str = "rgan",
                 threads: int | None = None, limit_gb: float | None = None) -> list[dict]:
    """Peak memory of one task at ``size`` and K = ``shots``: a plain training step on the
    K windows (the yardstick), then first order, second order and second order with
    recomputed inner steps (``meta.recompute_inner``), each with 1 and 2 inner steps. First
    order is flat in the steps; second order keeps the graph of every inner step, so it
    grows by one step's worth each; recomputed, it grows by one copy of the weights (and
    Adam moments) per step."""
    one = at(cfg, size=size, tasks=1, tasks_per_pass=1)
    rows = [peak_memory(one, shots, backbone, threads, limit_gb, plain=True)]
    orders = ((True, False), (False, False), (False, True))  # (first_order, recompute)
    return rows + [peak_memory(at(one, steps=steps, first_order=fo, recompute=rc), shots,
                               backbone, threads, limit_gb)
                   for fo, rc in orders for steps in (1, 2)]


def _memory_child(args_json: str) -> None:
    a = json.loads(args_json)
    if a["threads"]:
        torch.set_num_threads(a["threads"])
    cfg = a["cfg"]
    tr = bench_trainer(cfg, a["backbone"])
    batch, m = task_batch(cfg, a["shots"]), cfg["meta"]
    cuda = tr.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    setup_gb = _rss_gb()
    t0 = time.perf_counter()
    if a["plain"]:
        pretrain_step(tr, *random_windows(cfg, a["shots"], torch.Generator().manual_seed(0)))
    else:
        meta_iteration(tr, batch, InnerRule.from_config(cfg["inner"]), m["first_order"],
                       m["tasks_per_pass"],
                       m["recompute_inner"])
    if cuda:
        torch.cuda.synchronize()
    out = {"iteration_s": time.perf_counter() - t0, "setup_rss_gb": setup_gb,
           "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
           "device": tr.device.type}
    if cuda:
        out["peak_cuda_gb"] = torch.cuda.max_memory_allocated() / 2**30
    print(json.dumps(out))


def _rss_gb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30


def peer(cfg: dict, backbone: str = "rgan", repeats: int = 2) -> dict:
    """fsad at the issue's settings for the authors' code: 6 tasks, 64x64, first order,
    K = 1 and 5, K inner Adam steps. ``windows_per_step`` 1 is the authors' inner loop (step s
    trains on support window s: the same work as theirs); "all" is Eq. 1 on all K windows
    per step (K times the work at K > 1). ``cfg`` holds the architecture to compare
    (config/paper.yaml: the paper's widths; config/config.yaml: the default CPU model)."""
    base = at(cfg, size=64, tasks=PEER["tasks"], first_order=True)
    rows = []
    for k, per_step in ((1, 1), (5, 1), (5, None)):
        s = meta_iteration_time(at(base, steps=k, windows_per_step=per_step), k, backbone,
                                repeats)
        ref = PEER["meta_iteration_s"][f"64x64 K={k}"]
        rows.append({"shots": k, "inner_steps": k, "windows_per_step": per_step or "all",
                     "seconds": s, "peer_seconds": ref, "speedup": ref / s})
    return {"rows": rows, "gflop_per_window_64": forward_gflop(base, backbone, 64),
            "gflop_per_window_256": forward_gflop(base, backbone, 256), "peer": PEER}
