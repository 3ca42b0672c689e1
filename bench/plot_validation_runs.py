"""Validation curves of several meta-training runs in one figure (bench/meta_seeds.py
--until validation folders): per run, the validation query loss of its meta-trained model
before (dashed) and after (solid) K-shot adaptation over meta-training, with the
pre-trained model adapted by the same rule as the level to beat.

    python bench/plot_validation_runs.py RUN_DIR[=LABEL] ... --out docs/figures/meta_runs.png

RUN_DIR is a folder written by meta_seeds (its seed0/results/validation/*/*/ CSVs).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from fsad.atomic import atomic_path  # noqa: E402
from fsad.report import read_curve  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("runs", nargs="+", metavar="RUN_DIR[=LABEL]")
    ap.add_argument("--seed", default="0")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    baseline = None
    for i, spec in enumerate(args.runs):
        folder, _, label = spec.partition("=")
        curves = Path(folder) / f"seed{args.seed}/results/validation"
        meta = sorted(curves.glob("*/*/meta_k*.csv"))
        if not meta:
            raise SystemExit(f"{curves}: no meta_k*.csv (run bench/meta_seeds.py --until "
                             "validation first)")
        rows = read_curve(meta[0])
        steps = [r["step"] for r in rows]
        color = f"C{i}"
        label = label or Path(folder).name
        ax.plot(steps, [r["before"] for r in rows], ls="--", color=color, lw=1)
        ax.plot(steps, [r["after"] for r in rows], ls="-", marker=".", color=color,
                label=f"{label}")
        baseline = baseline or (rows[0]["after"] if rows[0]["step"] == 0 else None)
        copy_last = rows[0]["copy_last"]
    if baseline is not None:
        ax.axhline(baseline, color="black", lw=1, ls=":",
                   label="pre-trained, adapted (first run's rule)")
    ax.axhline(copy_last, color="grey", lw=1, label="copy last frame")
    ax.set_yscale("log")
    ax.set(xlabel="meta-iteration", ylabel="validation query loss (Eq. 2)",
           title=f"Validation curves, K = {rows[0]['shots']}: adapted (solid), "
                 "unadapted (dashed)")
    ax.legend(fontsize=7)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        fig.tight_layout()
        fig.savefig(tmp, dpi=110, format="png")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
