"""Tables and figures from results/auc.csv and the scores files (`fsad report`).

* ``auc_tables``: the paper's layout: one row per (source, target, backbone), pre-trained
  and meta-trained side by side for every K, mean +- standard deviation over seeds (%), as
  Markdown (and, optionally, the same cells as CSV).
* ``paired_differences``: meta minus fine-tuned per K, paired by target and adaptation
  draw, with a 95 % t-interval over the targets (appended to the Markdown table).
* ``plot_validation``: the validation curve of a source's models over training.
* ``plot_target``: for one (source, target, backbone), the ROC curves of every method and K
  (``roc.png``) and, per test video, the normalised score (Eq. 4) over time with the
  anomalous frames shaded, one line per method (``scores_<video>.png``).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import t as student_t  # noqa: E402
from sklearn.metrics import roc_curve  # noqa: E402

from fsad.atomic import atomic_path, write_csv  # noqa: E402
from fsad.metrics import minmax, read_auc, read_scores, summarise  # noqa: E402
from fsad.outdir import atomic_dir  # noqa: E402


def auc_tables(auc_csv: Path, out_md: Path, out_csv: Path | None = None) -> str:
    summary = summarise(read_auc(auc_csv))
    cells = {(s["source"], s["target"], s["backbone"], s["method"], int(s["shots"])): s
             for s in summary}
    shots = sorted({k[4] for k in cells})
    methods = [m for m in ("pretrained", "meta") if any(k[3] == m for k in cells)]
    rows = sorted({k[:3] for k in cells})
    head = ["source", "target", "backbone"]
    cols = [(m, k) for k in shots for m in methods if any((*r, m, k) in cells for r in rows)]
    lines = [
        "Frame-level AUC (%), mean ± std over adaptation seeds; K = 0 is each model "
        "unadapted, pretrained at K > 0 is the pre-trained model fine-tuned with the same "
        "K-shot rule (and the same K windows) as meta.",
        "",
        "| " + " | ".join(head + [f"{m} K={k}" for m, k in cols]) + " |",
        "|" + "---|" * (len(head) + len(cols)),
    ]
    flat = []
    for r in rows:
        vals = []
        for m, k in cols:
            c = cells.get((*r, m, k))
            if c is None:
                vals.append("–")
                continue
            vals.append(f"{100 * c['mean']:.1f}" + (f" ± {100 * c['std']:.1f}" if c["n"] > 1
                                                    else ""))
            flat.append([*r, m, k, f"{c['mean']:.6f}", f"{c['std']:.6f}", c["n"]])
        lines.append("| " + " | ".join([*r, *vals]) + " |")
    text = "\n".join(lines) + "\n"
    paired = paired_differences(read_auc(auc_csv))
    if paired:
        text += "\n" + paired_table(paired)
    with atomic_path(out_md) as tmp:
        tmp.write_text(text)
    if out_csv is not None:
        write_csv(out_csv, ["source", "target", "backbone", "method", "shots", "mean", "std",
                            "seeds"], flat)
    return text


def paired_differences(results: list[dict]) -> list[dict]:
    """Per (source, backbone, K): meta minus pretrained frame AUC, paired on the same target
    and the same adaptation draw (seed: the same K windows), averaged over the draws of
    each target; then the mean over targets with a 95 % t-interval (targets as the unit,
    so n - 1 degrees of freedom). An interval needs at least two targets."""
    auc = {(r["source"], r["target"], r["backbone"], r["method"], int(r["shots"]),
            int(r["seed"])): float(r["frame_auc"]) for r in results}
    per_target: dict[tuple, list[float]] = defaultdict(list)
    for (source, target, backbone, method, k, seed), value in sorted(auc.items()):
        base = auc.get((source, target, backbone, "pretrained", k, seed))
        if method == "meta" and base is not None:
            per_target[(source, backbone, k, target)].append(value - base)
    by_cell: dict[tuple, list[float]] = defaultdict(list)
    for (source, backbone, k, _), diffs in sorted(per_target.items()):
        by_cell[(source, backbone, k)].append(float(np.mean(diffs)))
    out = []
    for (source, backbone, k), diffs in sorted(by_cell.items()):
        mean, n = float(np.mean(diffs)), len(diffs)
        half = (float(student_t.ppf(0.975, n - 1) * np.std(diffs, ddof=1) / np.sqrt(n))
                if n > 1 else float("nan"))
        out.append({"source": source, "backbone": backbone, "shots": k, "targets": n,
                    "mean": mean, "low": mean - half, "high": mean + half,
                    "wins": sum(d > 0 for d in diffs)})
    return out


def paired_table(paired: list[dict]) -> str:
    lines = [
        "Meta-trained minus fine-tuned (pretrained) frame AUC, in points: paired on the same "
        "target and adaptation draw, averaged per target, mean over targets with a 95 % "
        "t-interval (targets are the unit). Above 0: meta-training helps.",
        "",
        "| source | backbone | K | meta − pretrained | 95 % interval | targets meta wins |",
        "|---|---|---|---|---|---|",
    ]
    for c in paired:
        interval = ("–" if c["targets"] < 2 else
                    f"[{100 * c['low']:+.1f}, {100 * c['high']:+.1f}]")
        lines.append(f"| {c['source']} | {c['backbone']} | {c['shots']} | "
                     f"{100 * c['mean']:+.1f} | {interval} | {c['wins']} of {c['targets']} |")
    return "\n".join(lines) + "\n"


def plot_validation(curves: list[Path], out: Path) -> Path:
    """The validation curve (``fsad validate``): per model, the Eq. 2 query loss of the
    validation tasks before (dashed) and after (solid) K-shot adaptation over training,
    pre-training on the left, meta-training on the right, with the loss of copying the
    last input frame (grey) as the level to beat."""
    rows = [r for path in curves for r in read_curve(Path(path))]
    models = sorted({r["model"] for r in rows}, key=lambda m: (m != "pretrained", m))
    panels = [["pretrained"], [m for m in models if m != "pretrained"]]
    panels = [p for p in panels if p and p[0] in models]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.6), squeeze=False)
    for ax, names in zip(axes[0], panels, strict=True):
        for i, name in enumerate(names):
            mine = sorted((r for r in rows if r["model"] == name), key=lambda r: r["step"])
            steps = [r["step"] for r in mine]
            color = f"C{i}"
            ax.plot(steps, [r["before"] for r in mine], ls="--", color=color,
                    label=f"{name}, unadapted")
            ax.plot(steps, [r["after"] for r in mine], ls="-", color=color, marker=".",
                    label=f"{name}, adapted")
        ax.axhline(rows[0]["copy_last"], color="grey", lw=1, label="copy last frame")
        ax.set(xlabel="pre-training step" if names == ["pretrained"] else "meta-iteration",
               ylabel="validation query loss (Eq. 2)",
               title=("pre-training" if names == ["pretrained"] else "meta-training")
               + f", K = {rows[0]['shots']}")
        ax.legend(fontsize=7)
    return _save(fig, Path(out))


def read_curve(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return [{"model": r["model"], "shots": int(r["shots"]), "step": int(r["step"]),
                 "before": float(r["before"]), "after": float(r["after"]),
                 "copy_last": float(r["copy_last"])} for r in csv.DictReader(fh)]


def _shade(ax, frames: np.ndarray, labels: np.ndarray) -> None:
    start = None
    for f, lab in zip(frames, labels, strict=True):
        if lab and start is None:
            start = f
        if not lab and start is not None:
            ax.axvspan(start - 0.5, f - 0.5, color="tab:red", alpha=0.15, lw=0)
            start = None
    if start is not None:
        ax.axvspan(start - 0.5, frames[-1] + 0.5, color="tab:red", alpha=0.15, lw=0)


def plot_target(score_files: list[Path], out_dir: Path) -> list[Path]:
    """Score-over-time per test video and ROC curves for one (source, target, backbone).

    The folder is filled under a temporary sibling name and renamed when complete, so a
    run killed half-way never leaves a partial figure folder under its final name; an
    existing folder is replaced only when fsad made it (``fsad.outdir``)."""
    out_dir = Path(out_dir)
    with atomic_dir(out_dir, score_files) as tmp:
        names = [p.name for p in _plot_target(score_files, tmp)]
    return [out_dir / name for name in names]


def _plot_target(score_files: list[Path], out_dir: Path) -> list[Path]:
    runs = [read_scores(Path(p)) for p in score_files]
    written = []
    # ROC: every method and K (first seed of each), one figure.
    fig, ax = plt.subplots(figsize=(5, 5))
    for run in sorted(runs, key=lambda r: (r["key"]["method"], int(r["key"]["shots"]))):
        k = run["key"]
        if int(k["seed"]) != min(int(r["key"]["seed"]) for r in runs
                                 if r["key"]["method"] == k["method"]
                                 and r["key"]["shots"] == k["shots"]):
            continue
        labels = np.concatenate([v["label"] for v in run["videos"].values()])
        scores = np.concatenate([minmax(v["loss"]) for v in run["videos"].values()])
        fpr, tpr, _ = roc_curve(labels, scores)
        ax.plot(fpr, tpr, ls="-" if k["method"] == "meta" else "--",
                label=f"{k['method']} K={k['shots']}")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.5)
    ax.set(xlabel="false positive rate", ylabel="true positive rate",
           title=f"ROC, {runs[0]['key']['target']} ({runs[0]['key']['backbone']})")
    ax.legend(fontsize=7)
    written.append(_save(fig, out_dir / "roc.png"))
    # Scores over time: the largest K, first seed, every method.
    top = max(int(r["key"]["shots"]) for r in runs)
    chosen = defaultdict(dict)
    for run in runs:
        k = run["key"]
        if int(k["shots"]) in (top, 0) and k["method"] not in chosen[int(k["shots"])]:
            chosen[int(k["shots"])][k["method"]] = run
    shown = [(f"{m} K={k}", run) for k in sorted(chosen) for m, run in chosen[k].items()]
    for video in runs[0]["videos"]:
        fig, ax = plt.subplots(figsize=(8, 2.6))
        ref = runs[0]["videos"][video]
        _shade(ax, ref["frame"], ref["label"])
        for name, run in shown:
            v = run["videos"][video]
            ax.plot(v["frame"], minmax(v["loss"]), lw=1, label=name)
        ax.set(xlabel="frame", ylabel="score S(t)", ylim=(-0.02, 1.02),
               title=f"{video} (shaded: labelled anomalous)")
        ax.legend(fontsize=7, loc="upper right")
        written.append(_save(fig, out_dir / f"scores_{video.replace('/', '_')}.png"))
    return written


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path
