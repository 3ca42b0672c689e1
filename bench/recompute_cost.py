"""What recomputing the inner steps costs in time (meta.recompute_inner): one second-order
meta-iteration with every inner step's graph kept, against the same with each step rebuilt
during the outer backward, alternating (`fsad.perf.timing.alternate`), one task, K = 5, 5 inner
Adam steps, and the median of the per-round ratios:
    python bench/recompute_cost.py [--config config/paper.yaml] [--size 64] [--rounds 5]
(docs/benchmarks.md, "Peak memory"). The ratio is the time price of the memory saving."""

import argparse
import statistics

import torch

from fsad.adapt import InnerRule
from fsad.config import load
from fsad.perf.timing import alternate, round_ratio
from fsad.perf.workload import at, bench_trainer, task_batch
from fsad.train import meta_iteration

parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
parser.add_argument("--config", default="config/paper.yaml")
parser.add_argument("--size", type=int, default=64)
parser.add_argument("--shots", type=int, default=5)
parser.add_argument("--steps", type=int, default=5, help="inner steps")
parser.add_argument("--rounds", type=int, default=5)
parser.add_argument("--threads", type=int, default=2)
args = parser.parse_args()
torch.set_num_threads(args.threads)
cfg = at(load(args.config), size=args.size, tasks=1, tasks_per_pass=1, steps=args.steps,
         first_order=False)
tr = bench_trainer(cfg, "rgan")
batch = task_batch(cfg, args.shots)


def iteration(recompute: bool) -> None:
    meta_iteration(tr, batch, InnerRule.from_config(cfg["inner"]), False, 1, recompute)


rounds = alternate([lambda: iteration(False), lambda: iteration(True)], args.rounds)
kept, recomputed = (statistics.median(t) for t in zip(*rounds, strict=True))
print(f"{args.config} {args.size}x{args.size}, K={args.shots}, {args.steps} inner steps, "
      f"second order: graph kept {kept:.2f} s, recomputed {recomputed:.2f} s -> "
      f"x{round_ratio([[r, k] for k, r in rounds]):.2f} (median of {args.rounds} rounds)")
