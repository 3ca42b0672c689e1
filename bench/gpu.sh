#!/usr/bin/env bash
# r-GAN at the paper's widths and 256x256 on one CUDA GPU, in one run of at most 8 minutes
# (a few minutes on an H200), with step limits that leave room to rerun. On a GPU machine
# whose Python has PyTorch and every fsad dependency but jsonschema, fetch that as wheels
# first, on a machine with network access (into .whl/, which git ignores):
#   bash bench/gpu.sh fetch
# then, from the repository root on the GPU machine, with .whl/ copied along:
#   bash bench/gpu.sh          # the throughput and memory suites (below)
#   bash bench/gpu.sh ped2     # UCSD Ped2 full data at 256x256 (bench/ped2_full_data.py)
# The ped2 mode trains r-GAN at the paper's widths on Ped2's training videos for MINUTES (5)
# and scores its test videos; Ped2 travels packed (13 MiB), made here beforehand with
#   python bench/pack_frames.py pack PED2_ROOT .ped2pack
# (PACK names another folder; PED2_ARGS adds options of bench/ped2_full_data.py). It writes
# gpu.txt, ped2.log and bench/ped2_full_data.py's files (ped2_summary.md, ped2_auc.csv, ...).
# It writes to $OUT (or ./gpu_out): the GPU tests' log, `fsad bench --suite throughput`
# (fp32 / bf16 + channels_last / + torch.compile, every K, TFLOP/s against the peak in
# bench/reference_figures.yaml, the paper grid's projected wall time) and `--suite memory` (peak GPU memory at K = 10,
# first and second order), each as .json and as text. CONFIG, SIZE, REPEATS (timed calls
# per throughput row, 3) and SHOTS (K of the memory suite, 10) override the defaults (a CPU
# dry run: CONFIG=config/smoke.yaml SIZE=32 REPEATS=1 SHOTS=2 PYTHON=.venv/bin/python).
# GPU_TESTS replaces the list of test files run first. LIMIT_SCALE multiplies every step's
# time limit (the CPU dry run of the tests sets it: a busy 2-core machine is slower than a GPU).
set -uo pipefail
PYTHON=${PYTHON:-python3}
if [[ ${1:-} == fetch ]]; then
  rm -rf .whl
  exec "$PYTHON" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl jsonschema==4.26.0 \
    jsonschema-specifications==2025.9.1 referencing==0.37.0 rpds-py==2026.9.1
fi
out=${OUT:-gpu_out}
config=${CONFIG:-config/paper.yaml}
size=${SIZE:-256}
repeats=${REPEATS:-3}
shots=${SHOTS:-10}
mkdir -p "$out"
if ! "$PYTHON" -c 'import jsonschema' 2>/dev/null; then
  "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || { echo "no wheels: run 'bash bench/gpu.sh fetch' first"; exit 2; }
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH=$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
status=0
step() {  # step NAME TIMEOUT_S COMMAND...: output to $out/NAME, a failure noted, not fatal
  local name=$1 limit; limit=$(awk "BEGIN {print int($2 * ${LIMIT_SCALE:-1})}"); shift 2
  echo "== $name: $*"
  local t0=$SECONDS
  timeout "$limit" "$@" > "$out/$name" 2> "$out/$name.err" || { echo "   failed ($?)"; status=1; }
  echo "   $((SECONDS - t0)) s"
}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$out/gpu.txt"
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
if [[ ${1:-} == ped2 ]]; then
  minutes=${MINUTES:-5}
  read -ra ped2_args <<< "${PED2_ARGS:-}"
  # the budget is training's; unpacking, extraction, the timed step and scoring come on top
  step ped2.log "$(awk "BEGIN {print int($minutes * 60 * 1.1 + 150)}")" \
    "$PYTHON" bench/ped2_full_data.py --pack "${PACK:-.ped2pack}" --minutes "$minutes" \
    --out "$out" --work "${WORK:-/tmp/fsad_ped2}" "${ped2_args[@]}"
  cat "$out/ped2.log" "$out/ped2.log.err"
  exit $status
fi
# GPU_TESTS narrows the tests (the CPU dry run takes the GPU-marked file only: the test suite
# runs the others itself).
read -ra gpu_tests <<< "${GPU_TESTS:-tests/unit/test_gpu.py tests/unit/test_device.py tests/unit/perf/test_throughput.py}"
step gpu_tests.log 90 "$PYTHON" -m pytest -q -p no:cacheprovider "${gpu_tests[@]}" \
  -k "not gpu_script"  # not itself
bench=("$PYTHON" -m fsad.cli bench --config "$config" --size "$size")
step throughput.json 240 "${bench[@]}" --suite throughput --compile --repeats "$repeats" --json
step memory.json 120 "${bench[@]}" --suite memory --shots "$shots" --json
# the text form of both, from the JSON (no second measurement)
"$PYTHON" - "$out" <<'EOF'
import json, sys
out = sys.argv[1]
for name in ("throughput.json", "memory.json"):
    try:
        result = json.load(open(f"{out}/{name}"))
    except (OSError, ValueError) as e:
        print(f"{name}: {e}")
        continue
    for r in result["rows"]:
        print("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in r.items()))
    if result.get("projection"):
        print("projection:", json.dumps(result["projection"]))
EOF
tail -3 "$out/gpu_tests.log"
exit $status
