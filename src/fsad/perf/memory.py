"""What one meta-iteration needs in memory (`fsad bench --suite memory`): its peak, measured
in a fresh child process (peak RSS on CPU, the allocator's peak on CUDA) so nothing else
counts, optionally under a cap on the child's address space."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import torch

from fsad.adapt import InnerRule, MetaSettings
from fsad.perf.workload import at, bench_trainer, random_windows, task_batch
from fsad.train import meta_iteration, pretrain_step


def peak_memory(cfg: dict, shots: int, backbone: str = "rgan", threads: int | None = None,
                limit_gb: float | None = None, plain: bool = False) -> dict:
    """Peak memory of one meta-iteration (``plain``: of one plain training step on a batch
    of ``shots`` windows, the yardstick), measured in a child process.

    ``limit_gb`` caps the child's address space (CPU), so a setting that does not fit
    reports ``fits: False`` instead of pushing the machine into swap.
    """
    args = json.dumps({"cfg": cfg, "shots": shots, "backbone": backbone, "threads": threads,
                       "plain": plain})
    code = "import sys, fsad.perf.memory as m; m._memory_child(sys.argv[1])"

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
    batch = task_batch(cfg, a["shots"])
    m, rule = MetaSettings.from_config(cfg["meta"]), InnerRule.from_config(cfg["inner"])
    cuda = tr.device.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    setup_gb = _rss_gb()
    t0 = time.perf_counter()
    if a["plain"]:
        pretrain_step(tr, *random_windows(cfg, a["shots"], torch.Generator().manual_seed(0)))
    else:
        meta_iteration(tr, batch, rule, m.first_order, m.tasks_per_pass, m.recompute_inner)
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
