"""UCSD Ped2, standard (full-data) setting, within a time budget: extract, train r-GAN on
Ped2's training videos, score its test videos, evaluate. On a lent GPU through
``bash bench/gpu.sh ped2``; on the CPU one rung of bench/ped2_ladder.py.

    python bench/ped2_full_data.py (--pack PACK | --root PED2_ROOT)
                                   [--config bench/ped2_256/config.yaml] [--minutes 5]
                                   [--max-steps 20000] [--size 256] [--set KEY=VALUE ...]
                                   [--out gpu_out] [--work /tmp/fsad_ped2]

PACK is Ped2 packed by ``bench/pack_frames.py pack`` (13 MiB, small enough to travel), which
is unpacked first; ROOT is Ped2 in the "frames + .mat" layout. The number of training steps
is what fits ``--minutes``: one pre-training step of the config's model is timed on this
device first (on the path the pipeline takes: bf16 + channels_last on CUDA, and on the CPU
with ``cpu_bf16``), and ``pretrain.steps`` is set to 70 % of the budget over that time (the
training loop also reads windows from the HDF5 store, logs and checkpoints), at most
``--max-steps``. ``--size`` overrides the frame size, ``--set KEY=VALUE`` any config key
(a CPU dry run: ``--size 32 --set model.widths=[4,8,16] --minutes 0.2``).

Writes into --out: ``ped2_summary.md`` (device, steps, training wall time, samples/s, frame
AUC and mean per-video AUC), ``ped2_result.json`` (the same as numbers), ``ped2_auc.csv``,
``ped2_scores.csv`` (per test frame) and ``ped2_train.log``; the config as run, the frame
store and the checkpoint stay in --work, and a frame store already there is reused.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch
import yaml

from fsad import FsadError
from fsad import config as cfgmod
from fsad import device as devmod
from fsad.perf.throughput import train_rows

sys.path.insert(0, str(Path(__file__).resolve().parent))
from meta_seeds import override  # noqa: E402
from pack_frames import unpack  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SOURCE, TARGET, SAFETY = "full-ped2", "ped2", 0.7


def fsad(*args: str, log: Path) -> float:
    """Run ``python -m fsad ARGS`` (its stderr into ``log``); its wall time in seconds."""
    start = time.perf_counter()
    with open(log, "w") as err:
        result = subprocess.run([sys.executable, "-m", "fsad", *args], stderr=err)
    if result.returncode:
        sys.exit(f"fsad {args[0]} failed ({result.returncode}); the end of {log}:\n"
                 + log.read_text()[-2000:])
    return time.perf_counter() - start


def step_seconds(cfg: dict) -> tuple[float, str]:
    """Seconds of one pre-training step on the path the pipeline takes on this device."""
    dev = devmod.pick(cfg["device"], cfg.get("deterministic"), cfg.get("cpu_bf16", False))
    fast = devmod.fast(dev)
    row = next(train_rows(cfg, "rgan", 5, None, fast, ("fast" if fast else "fp32",)))
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
    return row["seconds"], f"{name}, {row['path']}"


def configure(config: Path, root: Path, size: int | None, sets: list[str]) -> dict:
    cfg = override(yaml.safe_load(config.read_text()),
                   f"datasets.{TARGET}.root={root.resolve()}")
    if size:
        cfg = override(cfg, f"frames={{height: {size}, width: {size}}}")
    for assignment in sets:
        cfg = override(cfg, assignment)
    return cfg


def run(cfg: dict, minutes: float, max_steps: int, out: Path, work: Path,
        steps: int | None = None) -> dict:
    """Train within ``minutes`` (or exactly ``steps`` steps), score, evaluate; the result as
    a dict (and its files)."""
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    seconds, path = step_seconds(cfgmod.validate(copy.deepcopy(cfg)))
    steps = steps or max(1, min(max_steps, int(SAFETY * minutes * 60 / seconds)))
    cfg = override(cfg, f"pretrain.steps={steps}")
    cfg = override(cfg, f"pretrain.checkpoint_every={min(500, steps)}")
    cfg_path = work / "config.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    print(f"one pre-training step {seconds:.3f} s ({path}): {steps} steps", flush=True)

    f = cfg["frames"]
    store = work / f"ped2_{f['height']}x{f['width']}x{f.get('channels', 3)}.h5"
    model = work / "model" / "model.pt"
    shutil.rmtree(model.parent, ignore_errors=True)  # never resume an earlier run's training
    common = ["--config", str(cfg_path)]
    if not store.exists():
        fsad("extract", "--dataset", TARGET, "--out", str(store), *common,
             log=work / "extract.log")
    train_s = fsad("train", "--method", "pretrain", "--source", SOURCE, "--frames", str(store),
                   "--out", str(model), *common, log=out / "ped2_train.log")
    scores = out / "ped2_scores.csv"
    fsad("score", "--model", str(model), "--frames", str(store), "--target", TARGET,
         "--shots", "0", "--source", SOURCE, "--method", "pretrained", "--out", str(scores),
         *common, log=work / "score.log")
    auc = out / "ped2_auc.csv"
    fsad("evaluate", str(scores), "--out", str(auc), log=work / "evaluate.log")
    with open(auc, newline="") as fh:
        row = next(csv.DictReader(fh))
    batch = cfg["pretrain"]["batch_size"]
    result = {"device": path, "seed": cfg["seed"], "size": [f["height"], f["width"]],
              "widths": cfg["model"]["widths"], "steps": steps, "batch_size": batch,
              "train_minutes": train_s / 60, "samples_per_s": steps * batch / train_s,
              "step_samples_per_s": batch / seconds, "frame_auc": float(row["frame_auc"]),
              "video_auc": float(row["video_auc"]) if row["video_auc"] else None}
    (out / "ped2_result.json").write_text(json.dumps(result, indent=1))
    summary = (
        f"Ped2 full data, r-GAN widths {result['widths']} at {f['height']}x{f['width']}; "
        f"{path}; {steps} steps of batch {batch}, training {result['train_minutes']:.1f} min "
        f"({result['samples_per_s']:.1f} samples/s end to end, "
        f"{result['step_samples_per_s']:.1f} in the timed step): frame AUC "
        f"{100 * result['frame_auc']:.1f} %, mean per-video AUC "
        + (f"{100 * result['video_auc']:.1f} %" if result["video_auc"] is not None else "n/a")
        + "\n")
    (out / "ped2_summary.md").write_text(summary)
    print(summary, end="", flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    data = ap.add_mutually_exclusive_group(required=True)
    data.add_argument("--pack", type=Path, help="Ped2 packed by bench/pack_frames.py")
    data.add_argument("--root", type=Path, help="Ped2 in the frames + .mat layout")
    ap.add_argument("--config", type=Path, default=REPO / "bench/ped2_256/config.yaml")
    ap.add_argument("--minutes", type=float, default=5.0, help="training budget")
    ap.add_argument("--max-steps", type=int, default=20000)
    ap.add_argument("--size", type=int, help="frame height and width (default: the config's)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", type=Path, default=Path("gpu_out"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/fsad_ped2"))
    args = ap.parse_args()
    # Packed: the frames adapter names the scene after the folder it unpacks to.
    root = args.work / TARGET if args.pack else args.root
    try:
        cfg = configure(args.config, root, args.size, args.sets)
        cfgmod.validate(copy.deepcopy(cfg), str(args.config))  # a bad --set stops here
    except FsadError as e:
        ap.error(str(e))
    if args.pack and not root.exists():
        args.work.mkdir(parents=True, exist_ok=True)
        unpack(args.pack, root)
    run(cfg, args.minutes, args.max_steps, args.out, args.work)


if __name__ == "__main__":
    main()
