#!/usr/bin/env bash
# fsad detect on a long video: frames/s and peak memory (docs/benchmarks.md).
# Run from a finished default run's folder (uses its meta-trained model):
#   bash bench/detect_long_video.sh [FRAMES]
set -euo pipefail
frames=${1:-6000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fsad synth --out "$work/long" --params "{\"synth\": {\"scenes\": 2, \"train_videos\": 1,
  \"test_videos\": 1, \"frames\": $frames, \"height\": 64, \"width\": 64}}" 2>&1 | tail -n 1
for video in "$work/long/s00/testing/01.avi"; do
  /usr/bin/time -f "peak RSS %M KiB, wall %e s" fsad detect \
    --model results/models/synthetic/rgan/meta/k5/model.pt \
    --normal "$work/long/s00/training/01.avi" --shots 5 "$video" --out "$work/out" \
    --threads 2 2>&1 | grep -E "peak RSS|frames scored"
done
for short in 600; do
  fsad synth --out "$work/short" --params "{\"synth\": {\"scenes\": 2, \"train_videos\": 1,
    \"test_videos\": 1, \"frames\": $short, \"height\": 64, \"width\": 64}}" 2>&1 | tail -n 1
  /usr/bin/time -f "peak RSS %M KiB, wall %e s ($short frames)" fsad detect \
    --model results/models/synthetic/rgan/meta/k5/model.pt \
    --normal "$work/long/s00/training/01.avi" --shots 5 "$work/short/s00/testing/01.avi" \
    --out "$work/out2" --threads 2 2>&1 | grep -E "peak RSS|frames scored"
done
