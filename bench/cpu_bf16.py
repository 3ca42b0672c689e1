"""The paper's widths at 64x64, fp32 against `cpu_bf16: true`: one plain pre-training step
of batch 8, and one K = 1 meta-iteration of 6 tasks (1 inner step, one window) with all
tasks in one vmap pass and with one task per pass:
    python bench/cpu_bf16.py
(docs/benchmarks.md, "Against the authors' code")."""

import torch

from fsad import config
from fsad.perf.ratios import train_throughput
from fsad.perf.scaling import meta_iteration_cost
from fsad.perf.workload import at

torch.set_num_threads(2)
base = at(config.load("config/paper.yaml"), size=64, tasks=6, first_order=True, steps=1,
          windows_per_step=1)
for bf16 in (False, True):
    cfg = {**base, "cpu_bf16": bf16}
    name = "bf16" if bf16 else "fp32"
    print(f"{name}: plain step, batch 8: {train_throughput(cfg, repeats=2)['step_s']:.2f} s",
          flush=True)
    for per_pass in (None, 1):
        seconds = meta_iteration_cost(at(cfg, tasks_per_pass=per_pass), 1, repeats=1)["seconds"]
        print(f"{name}: meta-iteration K=1, tasks_per_pass={per_pass}: {seconds:.2f} s",
              flush=True)
