"""Peak memory of one meta-iteration at 256x256, K = 10, the paper's widths
(config/paper.yaml): second order, second order with recomputed inner steps
(meta.recompute_inner), then first order, each in a child process whose address space is
capped (docs/benchmarks.md, "Peak memory"):
    python bench/memory_256_k10.py [--bf16] [--steps 1] [--limit-gb 19] [--order second]
--bf16 runs them under cpu_bf16 autocast (the CPU's counterpart of the CUDA fast path).
One JSON row per line, as `fsad bench --suite memory` writes them."""

import argparse
import json

from fsad.config import load
from fsad.perf.memory import peak_memory
from fsad.perf.workload import at

parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
parser.add_argument("--bf16", action="store_true", help="cpu_bf16 autocast")
parser.add_argument("--limit-gb", type=float, default=19, help="address-space cap per row")
parser.add_argument("--steps", type=int, default=1, help="inner steps")
parser.add_argument("--order", choices=["second", "recomputed", "first"], action="append",
                    help="only this order (repeatable; default: all three); recomputed: "
                         "second order with meta.recompute_inner")
args = parser.parse_args()
cfg = load("config/paper.yaml", {"cpu_bf16": args.bf16})
for order in args.order or ["second", "recomputed", "first"]:
    one = at(cfg, size=256, tasks=1, tasks_per_pass=1, steps=args.steps,
               first_order=order == "first", recompute=order == "recomputed")
    row = peak_memory(one, 10, threads=2, limit_gb=args.limit_gb)
    print(json.dumps({**row, "cpu_bf16": args.bf16}), flush=True)
