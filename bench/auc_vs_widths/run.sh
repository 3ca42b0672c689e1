#!/usr/bin/env bash
# AUC of the default CPU model against the paper's widths (and any other overlay here),
# under one protocol (protocol.yaml) on the synthetic benchmark; the real Snakemake
# pipeline, one folder per model:
#   bash bench/auc_vs_widths/run.sh OUT_DIR [MODEL ...]
# MODEL: default (base.yaml, the one-set benchmark, as is) or the name of an overlay in this folder
# (paper_widths, widths_24, default_seed1, ...), optionally with @SEED to train it from
# another seed (widths_24_bf16@2 runs in OUT_DIR/widths_24_bf16@2);
# default: default paper_widths deep_narrow.
# Prints each AUC table and the per-job seconds (Snakemake benchmark files).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(mkdir -p "${1:?usage: run.sh OUT_DIR [MODEL ...]}" && cd "$1" && pwd)
shift
models=("$@")
[[ ${#models[@]} -gt 0 ]] || models=(default paper_widths deep_narrow)
for model in "${models[@]}"; do
  name=${model%@*}
  overlay=() seed=()
  if [[ $name != default ]]; then
    [[ -f $here/$name.yaml ]] || { echo "run.sh: no overlay $here/$name.yaml" >&2; exit 2; }
    overlay=("$here/$name.yaml")
  fi
  [[ $model == *@* ]] && seed=(--config "seed=${model#*@}")
  echo "== $model" >&2
  snakemake -s "$repo/Snakefile" --directory "$out/$model" --cores 2 \
      --configfile "$here/base.yaml" "$here/protocol.yaml" "${overlay[@]}" \
      "${seed[@]}" -- results/auc.csv results/tables/auc.md
done
for model in "${models[@]}"; do
  echo "## $model"
  cat "$out/$model/results/tables/auc.md"
  for b in "$out/$model"/results/benchmarks/*/*.tsv; do
    echo "$(basename "$(dirname "$b")")/$(basename "$b" .tsv): $(tail -1 "$b" | cut -f1) s"
  done
done
