#!/usr/bin/env bash
# The performance figures of docs/benchmarks.md, one JSON file per suite:
#   bash bench/performance.sh OUT_DIR [--memory]
# ratios, scaling and the authors' settings take about 15 minutes on 2 CPU cores; the
# memory suite at 256x256 with the paper's widths (--memory) about an hour and 16 GB.
# Two more, on their own: python bench/extract_real.py frames PED2_ROOT (real
# video), python bench/cpu_bf16.py (fp32 against bf16 at the paper's widths) and
# bash bench/auc_vs_widths/run.sh OUT (AUC of three generators, ~1.5 hours). On a CUDA GPU:
# bash bench/gpu.sh (throughput at 256x256, TFLOP/s, GPU memory, the paper grid projected).
set -euo pipefail
out=${1:?usage: bench/performance.sh OUT_DIR [--memory]}
mkdir -p "$out"
run() { local name=$1; shift; echo "== $name: fsad bench $*" >&2
        fsad bench "$@" --threads 2 --json > "$out/$name.json"; }
run ratios       --config config/config.yaml --shots 1 --shots 5 --repeats 3
run scaling      --config config/config.yaml --suite scaling --repeats 2
run peer_default --config config/config.yaml --suite peer --repeats 2
run peer_paper   --config config/paper.yaml  --suite peer --repeats 1
if [[ ${2:-} == --memory ]]; then
  run memory_paper --config config/paper.yaml --suite memory --size 256 --shots 10 \
      --memory-limit-gb 17
fi
