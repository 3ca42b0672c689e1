"""Summarise the runs of run.sh: per run, the mean frame AUC over its cells; per model, the
mean and the spread between training seeds (docs/benchmarks.md, "At equal AUC?"):
    python bench/auc_vs_widths/summarize.py [OUT_DIR] [--record runs.csv] [--plot auc_by_model.png]
A run folder named MODEL (seed 0), MODEL@SEED or MODEL_seedSEED counts as one seed of MODEL.
Cells are (target, K) pairs; each cell is first averaged over its adaptation draws.
--record keeps the per-run means of every run so far (bench/auc_vs_widths/runs.csv): the
runs in OUT_DIR are added to it (replacing rows of the same name), and the tables and the
plot cover them all, so the figure can be redrawn without rerunning hours of training.
--compare A B prints B's mean minus A's over their seeds, its standard error and a Welch 95 %
interval: the gap is resolved when the interval excludes 0, and the models are equal to
within a margin only when the interval lies inside it.
--exclude RUN leaves a run (say, one whose pre-training diverged) out of the per-model
statistics and comparisons; the per-run table marks it and the plot draws it as a cross."""

import argparse
import csv
import re
import statistics
from collections import defaultdict
from pathlib import Path

from fsad.atomic import atomic_path

parser = argparse.ArgumentParser(description=__doc__.split("\n    python")[0])  # to the usage line
parser.add_argument("out", type=Path, nargs="?", help="run.sh's OUT_DIR")
parser.add_argument("--record", type=Path,
                    help="CSV of per-run means (run,k0,fine_tuned,meta_trained) to merge "
                         "OUT_DIR's runs into and summarise with them")
parser.add_argument("--plot", type=Path, help="also draw each run's means by model (PNG)")
parser.add_argument("--compare", nargs=2, action="append", default=[], metavar=("A", "B"),
                    help="print B minus A (models as named in the tables), fine-tuned and "
                         "meta-trained, with its standard error and 95 %% interval; repeatable")
parser.add_argument("--exclude", action="append", default=[], metavar="RUN",
                    help="leave this run out of the per-model statistics and comparisons "
                         "(it stays in the record, the per-run table and the plot); repeatable")
args = parser.parse_args()
if args.out is None and args.record is None:
    parser.error("give run.sh's OUT_DIR, a --record, or both")
COLUMNS = ("run", "k0", "fine_tuned", "meta_trained")



def run_means(path: Path) -> tuple[float, float, float]:
    """Mean AUC (%) over the K = 0, the fine-tuned and the meta-trained cells of a run."""
    draws = defaultdict(list)
    with open(path) as fh:
        for row in csv.DictReader(fh):
            draws[row["target"], row["method"], int(row["shots"])].append(
                100 * float(row["frame_auc"]))
    cells = {cell: statistics.mean(v) for cell, v in draws.items()}

    def over(keep) -> float:
        return statistics.mean(v for (_, method, k), v in cells.items() if keep(method, k))

    return (over(lambda m, k: k == 0), over(lambda m, k: k > 0 and m == "pretrained"),
            over(lambda m, k: k > 0 and m == "meta"))


record = {}  # run folder name -> its means (K = 0, fine-tuned, meta-trained) as written
if args.record and args.record.exists():
    with open(args.record) as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            parser.error(f"{args.record}: expected the columns {','.join(COLUMNS)}")
        record = {row["run"]: [row[c] for c in COLUMNS[1:]] for row in reader}
found = sorted(args.out.glob("*/results/auc.csv")) if args.out else []
if args.out and not found:
    parser.error(f"no {args.out}/*/results/auc.csv: run bench/auc_vs_widths/run.sh first")
for path in found:
    record[path.parent.parent.name] = [f"{v:.2f}" for v in run_means(path)]
if not record:
    parser.error(f"{args.record} holds no runs")
try:
    means = {name: tuple(map(float, row)) for name, row in record.items()}
except (TypeError, ValueError) as err:  # a short row reads as None
    parser.error(f"{args.record}: a mean that is not a number ({err})")

runs = {}  # run folder name -> (model, seed, K = 0, fine-tuned, meta-trained)
for name in sorted(means):
    seed = re.search(r"(?:@|_seed)(\d+)$", name)
    runs[name] = (re.sub(r"(?:@|_seed)\d+$", "", name), int(seed[1]) if seed else 0,
                  *means[name])

unknown = sorted(set(args.exclude) - set(runs))  # checked before anything is printed
if unknown:
    parser.error(f"--exclude {' '.join(unknown)}: no such run; runs: {', '.join(runs)}")
by_model = {}  # model -> [(seed, fine-tuned, meta-trained)] of its included runs, by seed
excluded = defaultdict(list)  # model -> [(seed, fine-tuned, meta-trained)] left out
for name, (model, seed, _, fine, meta) in runs.items():
    by_model.setdefault(model, [])
    (excluded if name in args.exclude else by_model)[model].append((seed, fine, meta))
for rows in by_model.values():
    rows.sort()
for a, b in args.compare:
    for model in (a, b):
        if len(by_model.get(model, ())) < 2:
            parser.error(f"--compare {a} {b}: {model} needs at least two seeds in the runs left in "
                         f"(it has {len(by_model.get(model, ()))}); models: {', '.join(by_model)}")

if args.record and found:  # only once every input has been checked
    with atomic_path(args.record) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows([name, *row] for name, row in record.items())

print("| run | K = 0 | fine-tuned | meta-trained | all adapted |\n|---|---|---|---|---|")
for name, (_, _, k0, fine, meta) in runs.items():
    mark = " (excluded)" if name in args.exclude else ""
    print(f"| {name}{mark} | {k0:.1f} | {fine:.1f} | {meta:.1f} | {(fine + meta) / 2:.1f} |")


def spread(values):
    if not values:
        return "–"
    mean = statistics.mean(values)
    return f"{mean:.1f} ± {statistics.stdev(values):.1f}" if len(values) > 1 else f"{mean:.1f}"


print("\n| model | seeds | fine-tuned | meta-trained |\n|---|---|---|---|")
for model, rows in by_model.items():
    print(f"| {model} | {', '.join(str(s) for s, _, _ in rows)} | "
          f"{spread([f for _, f, _ in rows])} | {spread([m for _, _, m in rows])} |")


def welch(a: list[float], b: list[float]) -> str:
    """mean(b) - mean(a) ± its standard error [Welch 95 % interval] (unequal variances)."""
    from scipy import stats

    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    gap, se = statistics.mean(b) - statistics.mean(a), (va + vb) ** 0.5
    if se == 0:  # every seed of both gave the same mean
        return f"{gap:+.1f} ± 0.0 (no spread between seeds)"
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = stats.t.ppf(0.975, dof) * se
    return f"{gap:+.1f} ± {se:.1f} ({abs(gap) / se:.1f} SE) [{gap - half:+.1f}, {gap + half:+.1f}]"


if args.compare:
    print("\n| B minus A | seeds | fine-tuned | meta-trained |\n|---|---|---|---|")
for a, b in args.compare:
    fine = welch(*([f for _, f, _ in by_model[m]] for m in (a, b)))
    meta = welch(*([x for _, _, x in by_model[m]] for m in (a, b)))
    print(f"| {b} minus {a} | {len(by_model[b])} vs {len(by_model[a])} | {fine} | {meta} |")

if args.plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1.2 + 1.1 * len(by_model), 3.6))
    first_excluded = next((model for model in by_model if excluded[model]), None)
    for x, (model, rows) in enumerate(by_model.items()):
        for dx, column, label, marker in ((-0.12, 1, "fine-tuned", "o"),
                                          (0.12, 2, "meta-trained", "s")):
            ys = [r[column] for r in rows]
            ax.scatter([x + dx] * len(ys), ys, marker=marker, alpha=0.7,
                       color=f"C{column - 1}", label=label if x == 0 else None)
            if ys:
                ax.hlines(statistics.mean(ys), x + dx - 0.08, x + dx + 0.08,
                          color=f"C{column - 1}")
            left_out = [r[column] for r in excluded[model]]
            ax.scatter([x + dx] * len(left_out), left_out, marker="x", color="0.5",
                       label="left out of the means"
                       if model == first_excluded and column == 1 else None)
    ax.set_xticks(range(len(by_model)), list(by_model), rotation=30, ha="right")
    ax.set_ylabel("mean frame AUC of a run (%)")
    ax.legend(frameon=False)
    fig.tight_layout()
    with atomic_path(args.plot) as tmp:
        fig.savefig(tmp, dpi=120)
    print(f"\nplot: {args.plot}")
