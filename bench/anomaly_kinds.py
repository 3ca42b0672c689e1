"""Which anomalies does a model see? Per anomaly kind of the validation scenes' labelled
test videos: the mean Eq. 2 loss of its frames and the AUC of its frames against the normal
frames (Eq. 4 scores, as the frame AUC ranks them), each model adapted by the config's inner
rule to K windows of each scene's training videos (the draws of bench/validation_sweep.py).

Run from a finished run's folder of the synthetic benchmark (the kinds are the `kind` column
of the generator's per-frame labels, results/raw/<dataset>/<scene>/testing/<NN>.csv):

    python bench/anomaly_kinds.py [--config config/config.yaml] [--draws 2] [MODEL.pt ...]

Two frame scores: Eq. 2 over the whole frame (the paper's, what fsad scores with) and,
for comparison, the largest mean absolute error of the prediction over 16 x 16 patches
(stride 8): an object that moves wrongly changes a few patches, which the frame mean
dilutes. Prints and writes results/sweeps/anomaly_kinds.csv: model, adaptation, score,
kind, frames, mean score, AUC against the normal frames. Below them, the same model's mean
Eq. 2 loss on windows cut from the scenes' normal training videos (``windows: normal``)
and on pseudo-anomalies made from them (``windows: backwards``, ``windows: faster``;
fsad.data.windows), the contrast that `loss.pseudo_anomaly_weight` trains for. Reads only
the validation scenes, never a target.
"""

from __future__ import annotations

import argparse
import copy
import csv
from pathlib import Path

import numpy as np
import torch

from fsad import FsadError
from fsad.adapt import InnerRule, adapt, training_windows
from fsad.atomic import write_csv
from fsad.data.store import FrameStore
from fsad.data.windows import WindowSet, sequential_windows
from fsad.losses import frame_loss, patch_error
from fsad.metrics import minmax
from fsad.models import split_output
from fsad.predict import predict
from fsad.score import load_generator
from validation_sweep import RUN_MODELS, validation_store


def frame_kinds(raw: Path, video_id: str, labels: np.ndarray) -> np.ndarray:
    """The per-frame kind ("normal", "speed", ...) of one synthetic test video
    (``<scene>/test/<NN>`` in the store), checked against the store's labels."""
    scene, _, name = video_id.split("/")
    path = raw / scene / "testing" / f"{name}.csv"
    if not path.exists():
        raise FsadError(f"{path} not found: the anomaly kinds come from the synthetic "
                        "benchmark's per-frame labels (results/raw/synthetic)")
    with path.open() as f:
        rows = list(csv.DictReader(f))
    kinds = np.array([r["kind"] for r in rows])
    if not np.array_equal(np.array([int(r["label"]) for r in rows]), labels):
        raise FsadError(f"{path}: its labels differ from those of the frame store; "
                        "extract the frames again")
    return kinds


def kind_table(videos: list[dict]) -> list[tuple[str, int, float, float]]:
    """(kind, frames, mean loss, AUC against the normal frames) per kind, and for every
    anomalous frame ("any anomaly"), from videos with per-frame "loss" and "kind": the
    scores are Eq. 4 (min-max per video), pooled over the videos."""
    from sklearn.metrics import roc_auc_score

    kinds = np.concatenate([v["kind"] for v in videos])
    losses = np.concatenate([v["loss"] for v in videos])
    scores = np.concatenate([minmax(v["loss"]) for v in videos])
    normal = kinds == "normal"
    rows = [("normal", int(normal.sum()), float(losses[normal].mean()), float("nan"))]
    for kind in ["any anomaly", *sorted(set(kinds) - {"normal"})]:
        mask = ~normal if kind == "any anomaly" else kinds == kind
        auc = roc_auc_score(np.r_[np.zeros(normal.sum()), np.ones(mask.sum())],
                            np.r_[scores[normal], scores[mask]])
        rows.append((kind, int(mask.sum()), float(losses[mask].mean()), float(auc)))
    return rows


# Windows per scene for the normal and pseudo-anomalous window losses.
WINDOWS = 16
PATCH = 16  # side of the patches of the patch score, taken at stride PATCH // 2


@torch.no_grad()
def frame_scores(net, frames: np.ndarray, t: int, weights: dict) -> dict[str, np.ndarray]:
    """Per frame from t on: the Eq. 2 loss, and the largest mean absolute error over the
    frame's PATCH x PATCH patches."""
    net.eval()
    eq2, patch = [], []
    for _, x, y in sequential_windows(frames, t, 128):
        pred = split_output(net(x))[0].float()
        eq2 += frame_loss(pred, y, weights).tolist()
        patch += patch_error(pred, y, PATCH).tolist()
    return {"Eq. 2": np.array(eq2), "patch": np.array(patch)}


def adapted_videos(generator, store: FrameStore, raw: Path, scenes: list[str], rule, weights,
                   inner_lr, t: int, shots: int, draws: int, seed: int
                   ) -> tuple[list[dict], dict[str, list[float]]]:
    """Per-frame scores and kind of every validation test video, and the mean loss of normal,
    backwards and faster windows of each scene's training videos, the generator adapted to
    each scene ``draws`` times (``rule`` None: unadapted, once)."""
    out, windows = [], {"normal": [], "backwards": [], "faster": []}
    for scene in scenes:
        normal = WindowSet(store, store.select([scene], "train"), t)
        gen = torch.Generator().manual_seed(seed * 100_003 + 77_777)
        xn, yn = normal.sample(WINDOWS, gen)
        xp, yp = normal.sample_pseudo_anomalies(2 * WINDOWS, gen)  # backwards, faster, ...
        for draw in range(draws if rule else 1):
            net = generator if rule is None else adapt(
                copy.deepcopy(generator), *training_windows(store, [scene], t, shots, draw,
                                                            seed), rule, weights, inner_lr)
            for v in store.select([scene], "test"):
                out.append({**frame_scores(net, store.frames(v.id), t, weights),
                            "kind": frame_kinds(raw, v.id, store.labels(v.id))[t:]})
            windows["normal"].append(float(np.mean(predict(net, xn, yn, weights)[0])))
            pseudo = predict(net, xp, yp, weights)[0]
            windows["backwards"].append(float(np.mean(pseudo[0::2])))
            windows["faster"].append(float(np.mean(pseudo[1::2])))
    return out, windows


def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--config", default="config/config.yaml")
    ap.add_argument("models", nargs="*", default=RUN_MODELS)
    ap.add_argument("--draws", type=int, default=2, help="adaptation draws per scene")
    ap.add_argument("--out", default="results/sweeps/anomaly_kinds.csv")
    args = ap.parse_args()
    cfg, settings, store = validation_store(ap, args.config)
    raw = Path(f"results/raw/{settings.dataset}")
    rule = InnerRule.from_config(cfg["inner"])
    scenes = sorted({v.scene for v in store.select(settings.scenes, "test")})
    rows = []
    for path in args.models:
        generator, ck = load_generator(Path(path), store)
        t, weights = ck["t"], ck["settings"]["loss"]
        for label, r in (("unadapted", None), ("adapted", rule)):
            videos, windows = adapted_videos(generator, store, raw, scenes, r, weights,
                                    ck.get("inner_lr"), t, settings.shots, args.draws,
                                    cfg["seed"])
            print(f"{path} ({label})", flush=True)
            for score in ("Eq. 2", "patch"):
                table = kind_table([{"loss": v[score], "kind": v["kind"]} for v in videos])
                for kind, n, mean, auc in table:
                    rows.append([path, label, score, kind, n, f"{mean:.5f}",
                                 "" if auc != auc else f"{auc:.4f}"])
                    print(f"  {score:<6} {kind:<11} {n:>5} frames  mean {mean:.4f}"
                          + ("" if auc != auc else f"  AUC {100 * auc:.1f}"), flush=True)
            for name, values in windows.items():
                rows.append([path, label, "Eq. 2", f"windows: {name}", WINDOWS * len(scenes),
                             f"{np.mean(values):.5f}", ""])
                print(f"  windows: {name:<10} loss {np.mean(values):.4f}", flush=True)
    write_csv(Path(args.out), ["model", "adaptation", "score", "kind", "frames", "mean",
                               "auc_vs_normal"], rows)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    try:
        main()
    except FsadError as exc:  # a run folder without the synthetic labels: one line, no trace
        raise SystemExit(f"anomaly_kinds.py: error: {exc}") from None
