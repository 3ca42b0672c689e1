#!/usr/bin/env bash
# AUC of the default CPU model against the paper's widths, under one protocol
# (protocol.yaml) on the synthetic benchmark; the real Snakemake pipeline, one folder each:
#   bash bench/auc_vs_widths/run.sh OUT_DIR
# Prints both AUC tables and the per-job seconds (Snakemake benchmark files).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=$(mkdir -p "${1:?usage: run.sh OUT_DIR}" && cd "$1" && pwd)
for model in default paper_widths; do
  overlay=()
  [[ $model == paper_widths ]] && overlay=("$here/paper_widths.yaml")
  echo "== $model" >&2
  snakemake -s "$repo/Snakefile" --directory "$out/$model" --cores 2 \
      --configfile "$repo/config/config.yaml" "$here/protocol.yaml" "${overlay[@]}" \
      -- results/auc.csv results/tables/auc.md
done
for model in default paper_widths; do
  echo "## $model"
  cat "$out/$model/results/tables/auc.md"
  for b in "$out/$model"/results/benchmarks/*/*.tsv; do
    echo "$(basename "$(dirname "$b")")/$(basename "$b" .tsv): $(tail -1 "$b" | cut -f1) s"
  done
done
