"""K-shot adaptation rules compared on the validation scenes only (never on the targets).

Run from a finished run's folder (it reads the config's validation scenes from their frame
store and the trained checkpoints):

    python bench/validation_sweep.py [--config config/config.yaml] [--rule adam:1e-4:10:1 ...]
                                     [--draws 2] [MODEL.pt ...]

Models default to the run's pre-trained and meta-trained r-GAN; rules to the list RULES
below (``--rule OPTIMIZER:LR:STEPS[:WINDOWS_PER_STEP]``, repeatable, replaces it). For every
rule and model it prints, and writes to results/sweeps/validation_sweep.csv, the Eq. 2 query
loss of the validation tasks before and after adaptation (fsad.validation, the measure of
the validation curve) and the frame AUC of the validation scenes' own labelled test videos
after adapting to K windows of their training videos (mean over the scenes and draws),
with the mean Eq. 2 loss of their normal and of their anomalous test frames: the contrast
the AUC ranks, before Eq. 4's per-video normalisation.
A meta-trained model was trained with the config's inner rule: a rule that wins for it
here must be confirmed by meta-training with that rule (bench/meta_seeds.py).
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import numpy as np

from fsad import config as cfgmod
from fsad.adapt import InnerRule, adapt, training_windows
from fsad.atomic import write_csv
from fsad.data.store import FrameStore
from fsad.metrics import aucs
from fsad.score import load_generator, predict_video
from fsad.validation import ValidationSettings, ValidationTasks

# (optimizer, lr, steps, windows per step): the authors' rule first (Adam 1e-4, one
# window per step), then SGD and Adam at other rates and step counts.
RULES = [("adam", 1e-4, 10, 1), ("adam", 1e-4, 10, None), ("adam", 3e-4, 10, None),
         ("adam", 1e-3, 10, None), ("adam", 1e-3, 3, None), ("sgd", 0.003, 10, None),
         ("sgd", 0.01, 10, None), ("sgd", 0.03, 3, None)]

# A run folder's pre-trained and meta-trained r-GAN (the Snakefile's layout), the models the
# bench scripts that run in a finished run's folder measure by default.
RUN_MODELS = ["results/models/synthetic/rgan/pretrained/model.pt",
              "results/models/synthetic/rgan/meta/k5/model.pt"]


def parse_rule(text: str) -> tuple:
    """``adam:1e-4:10:1`` -> ("adam", 1e-4, 10, 1); the fourth field is optional."""
    parts = text.split(":")
    if len(parts) not in (3, 4):
        raise argparse.ArgumentTypeError(f"{text!r}: use OPTIMIZER:LR:STEPS[:WINDOWS_PER_STEP]")
    return (parts[0], float(parts[1]), int(parts[2]), int(parts[3]) if len(parts) == 4 else None)


def validation_store(ap: argparse.ArgumentParser,
                     config: str) -> tuple[dict, ValidationSettings, FrameStore]:
    """The config, its validation settings and the frame store of its validation scenes, in
    the finished run's folder this is run from (``ap.error`` names the folder otherwise)."""
    cfg = cfgmod.load(config)
    settings = ValidationSettings.from_config(cfg)
    if settings is None:
        raise SystemExit(f"{config} names no validation scenes (section `validation`)")
    path = Path(f"results/frames/{settings.dataset}.h5")
    if not path.exists():
        ap.error(f"{path} not found: run this in a finished run's folder (one that "
                 "bench/meta_seeds.py or `make run` wrote)")
    return cfg, settings, FrameStore(path)


def validation_auc(generator, store: FrameStore, scene: str, weights: dict,
                   t: int, patch: int | None = None) -> tuple[float, float, float]:
    """Frame AUC (Eq. 4 per video, fsad.metrics) of one validation scene's test videos, and
    the mean Eq. 2 loss (with ``patch``: the patch score, ``evaluate.patch``) of their
    normal and of their anomalous frames."""
    videos = {}
    for v in store.select([scene], "test"):
        losses = [loss for _, loss, _ in predict_video(generator, store.frames(v.id), t,
                                                        weights, 128, patch)]
        videos[v.id] = {"label": store.labels(v.id)[t:], "loss": np.array(losses)}
    labels = np.concatenate([v["label"] for v in videos.values()]).astype(bool)
    losses = np.concatenate([v["loss"] for v in videos.values()])
    return aucs(videos)[0], float(losses[~labels].mean()), float(losses[labels].mean())


def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("models", nargs="*", default=RUN_MODELS)
    ap.add_argument("--rule", dest="rules", action="append", type=parse_rule,
                    metavar="OPT:LR:STEPS[:PER_STEP]")
    ap.add_argument("--draws", type=int, default=2, help="adaptation draws per scene")
    ap.add_argument("--out", default="results/sweeps/validation_sweep.csv")
    ap.add_argument("--patch", type=int, default=None,
                    help="score frames by the patch score of this side (default: the "
                         "config's evaluate.patch; 0: Eq. 2)")
    args = ap.parse_args()
    cfg, settings, store = validation_store(ap, args.config)
    patch = cfg["evaluate"]["patch"] if args.patch is None else args.patch or None
    rows = []
    for path in args.models:
        g0, ck = load_generator(Path(path), store)
        t, weights = ck["t"], ck["settings"]["loss"]
        tasks = ValidationTasks(store, settings, t, cfg["seed"])
        auc, normal, anomalous = np.mean(
            [validation_auc(g0, store, s, weights, t, patch) for s in tasks.scenes], axis=0)
        print(f"{path}: validation AUC unadapted {100 * auc:.1f} (test frame loss normal "
              f"{normal:.4f}, anomalous {anomalous:.4f})", flush=True)
        rows.append([path, "none", "", "", f"{auc:.4f}", f"{normal:.5f}", f"{anomalous:.5f}"])
        for opt, lr, steps, per_step in args.rules or RULES:
            rule = InnerRule(steps=steps, lr=lr, optimizer=opt, windows_per_step=per_step)
            before, after = tasks.measure(g0, rule, weights, ck.get("inner_lr"))
            auc, normal, anomalous = np.mean(
                [validation_auc(adapt(copy.deepcopy(g0), *training_windows(
                    store, [s], t, settings.shots, draw, cfg["seed"]), rule, weights,
                    ck.get("inner_lr")), store, s, weights, t, patch)
                 for s in tasks.scenes for draw in range(args.draws)], axis=0)
            name = f"{opt} {lr:g} x{steps}" + (f" ({per_step}/step)" if per_step else "")
            rows.append([path, name, f"{before:.5f}", f"{after:.5f}", f"{auc:.4f}",
                         f"{normal:.5f}", f"{anomalous:.5f}"])
            print(f"{Path(path).parent.name:>10} {name:<24} query loss {before:.4f} -> "
                  f"{after:.4f}   validation AUC {100 * auc:.1f} (test frame loss normal "
                  f"{normal:.4f}, anomalous {anomalous:.4f})", flush=True)
    write_csv(Path(args.out), ["model", "rule", "loss_before", "loss_after",
                               "validation_auc", "normal_loss", "anomalous_loss"], rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
