"""Evaluation: Eq. 4 per-video min-max normalisation and frame-level ROC AUC.

* frame AUC ("micro", the convention of Liu et al. and MPN): normalise each video's losses
  to [0, 1], concatenate all test frames of the target, one ROC AUC;
* video AUC ("macro"): the mean of per-video AUCs over the videos that hold both normal and
  anomalous frames (empty when none does).
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from fsad import FsadError
from fsad.atomic import atomic_path, write_csv

KEY = ["source", "target", "backbone", "method", "shots", "seed"]
# A scores file (written by fsad.score, read here): one row per scored test frame.
SCORE_COLUMNS = [*KEY, "video", "frame", "label", "loss", "psnr"]
AUC_COLUMNS = [*KEY, "frame_auc", "video_auc"]


def minmax(values: np.ndarray) -> np.ndarray:
    """Eq. 4: (L - min L) / (max L - min L); a constant video maps to zeros."""
    values = np.asarray(values, dtype=np.float64)
    span = values.max() - values.min()
    return (values - values.min()) / span if span > 0 else np.zeros_like(values)


def read_scores(path: Path) -> dict:
    """One scores CSV -> key fields plus per-video arrays of labels and losses.

    A truncated file, a file without the scores columns or a loss that is not a finite
    number (a diverged model) is refused with the file and row, never passed to the AUC."""
    try:
        with open(path, newline="") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in SCORE_COLUMNS if c not in (reader.fieldnames or [])]
            rows = [] if missing else list(reader)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FsadError(f"{path}: not a readable CSV file ({exc}); pass the CSV files "
                        "`fsad score` writes, or rerun it") from None
    if missing:
        raise FsadError(f"{path}: not a scores file (column(s) {', '.join(missing)} "
                        "missing); pass the CSV files `fsad score` writes, or rerun it")
    if not rows:
        raise FsadError(f"{path}: no scored frames")
    videos: dict[str, dict[str, list]] = defaultdict(lambda: {"label": [], "loss": [],
                                                               "psnr": [], "frame": []})
    for line, r in enumerate(rows, 2):
        try:
            label, loss = int(r["label"]), float(r["loss"])
            psnr, frame = float(r["psnr"]), int(r["frame"])
        except (TypeError, ValueError):
            raise FsadError(f"{path}:{line}: malformed row (a value missing or not a number; "
                            "the file may be truncated); rerun the `fsad score` step that "
                            "wrote it") from None
        if not math.isfinite(loss):
            raise FsadError(f"{path}:{line}: loss {r['loss']} (video {r['video']}, frame "
                            f"{frame}) is not a finite number, so no AUC can be computed; the "
                            "model diverged: retrain it (a lower learning rate, or grad_clip) "
                            "and rerun `fsad score`")
        if label not in (0, 1):
            raise FsadError(f"{path}:{line}: label {label}, but labels are 0 or 1; rerun the "
                            "`fsad score` step that wrote it")
        v = videos[r["video"]]
        v["label"].append(label)
        v["loss"].append(loss)
        v["psnr"].append(psnr)
        v["frame"].append(frame)
    key = {k: rows[0][k] for k in KEY}
    return {"key": key, "videos": {k: {f: np.array(a) for f, a in v.items()}
                                   for k, v in videos.items()}}


def aucs(videos: dict) -> tuple[float, float | None]:
    # imported here: scoring needs this module's columns, not scikit-learn (seconds to load)
    from sklearn.metrics import roc_auc_score

    labels = np.concatenate([v["label"] for v in videos.values()])
    scores = np.concatenate([minmax(v["loss"]) for v in videos.values()])
    if labels.min() == labels.max():
        raise FsadError("frame AUC undefined: the test frames hold only one class")
    frame = float(roc_auc_score(labels, scores))
    per_video = [roc_auc_score(v["label"], v["loss"]) for v in videos.values()
                 if 0 < v["label"].sum() < len(v["label"])]
    return frame, (float(np.mean(per_video)) if per_video else None)


def evaluate(score_files: list[Path], out_csv: Path, out_json: Path | None = None) -> list[dict]:
    results = []
    for path in score_files:
        data = read_scores(Path(path))
        try:
            frame, video = aucs(data["videos"])
        except FsadError as exc:
            raise FsadError(f"{path}: {exc}") from None
        results.append({**data["key"], "frame_auc": frame, "video_auc": video})
    results.sort(key=lambda r: (r["source"], r["target"], r["backbone"], r["method"],
                                int(r["shots"]), int(r["seed"])))
    write_csv(out_csv, AUC_COLUMNS, [
        [*(r[k] for k in KEY), f"{r['frame_auc']:.6f}",
         "" if r["video_auc"] is None else f"{r['video_auc']:.6f}"] for r in results])
    if out_json is not None:
        _write_metrics(results, Path(out_json))
    return results


def summarise(results: list[dict]) -> list[dict]:
    """Mean and standard deviation over adaptation seeds, per table cell."""
    groups: dict[tuple, list[float]] = defaultdict(list)
    for r in results:
        groups[tuple(str(r[k]) for k in KEY[:-1])].append(float(r["frame_auc"]))
    return [{**dict(zip(KEY[:-1], key, strict=True)), "mean": float(np.mean(v)),
             "std": float(np.std(v)), "n": len(v)} for key, v in sorted(groups.items())]


def _write_metrics(results: list[dict], path: Path) -> None:
    """DVC reads metrics from JSON only: the summary, keyed by cell."""
    out = {"/".join([s["source"], s["target"], s["backbone"], s["method"], f"k{s['shots']}"]):
           {"frame_auc_mean": round(s["mean"], 6), "frame_auc_std": round(s["std"], 6),
            "seeds": s["n"]} for s in summarise(results)}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")


def read_auc(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))
