"""Tables and figures from results/auc.csv and the scores files (`fsad report`).

* ``auc_tables``: the paper's layout: one row per (source, target, backbone), pre-trained
  and meta-trained side by side for every K, mean +- standard deviation over seeds (%), as
  Markdown (and, optionally, the same cells as CSV).
* ``plot_target``: for one (source, target, backbone), the ROC curves of every method and K
  (``roc.png``) and, per test video, the normalised score (Eq. 4) over time with the
  anomalous frames shaded, one line per method (``scores_<video>.png``).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
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
    cols = [(m, k) for k in shots for m in methods if (m != "meta" or k > 0)
            and any((*r, m, k) in cells for r in rows)]
    lines = [
        "Frame-level AUC (%), mean ± std over adaptation seeds; K = 0 is the unadapted "
        "pre-trained model (shared baseline), pretrained at K > 0 is that model fine-tuned "
        "with the same K-shot rule as meta.",
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
    with atomic_path(out_md) as tmp:
        tmp.write_text(text)
    if out_csv is not None:
        write_csv(out_csv, ["source", "target", "backbone", "method", "shots", "mean", "std",
                            "seeds"], flat)
    return text


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
