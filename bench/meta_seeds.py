"""Meta-trained against fine-tuned over several training seeds: the paired comparison with
power over the targets.

    python bench/meta_seeds.py --seeds 0 1 2 [--config config/config.yaml]
                               [--set meta.init=random ...] [--out runs/meta_seeds]

Each seed is a full pipeline run (`snakemake --cores all results/auc.csv all`) in its own
folder OUT/seed<S>/ with the config's `seed` set to S (initialisation, task sampling and
adaptation draws; the benchmark's pixels keep `synth.seed`). ``--set KEY=VALUE`` (YAML
value, dotted key) changes the config for every seed, e.g. a method option to compare on
the validation scenes. Finished runs are reused (Snakemake reruns only what changed).

Prints and writes OUT/paired.md: per K, meta minus fine-tuned frame AUC in points, paired
by target and adaptation draw, averaged per target over draws and seeds, the mean over
targets with a 95 % t-interval (targets are the unit), and the same per seed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

from fsad import config as cfgmod
from fsad.metrics import read_auc
from fsad.report import paired_differences, paired_table

REPO = Path(__file__).resolve().parents[1]


def override(cfg: dict, assignment: str) -> dict:
    key, _, value = assignment.partition("=")
    node: dict = {}
    top = node
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = yaml.safe_load(value)
    return cfgmod.merge(cfg, top)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--config", default=str(REPO / "config/config.yaml"))
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", default="runs/meta_seeds")
    ap.add_argument("--cores", default="all")
    args = ap.parse_args()
    base = yaml.safe_load(Path(args.config).read_text())
    for assignment in args.sets:
        base = override(base, assignment)
    out = Path(args.out).resolve()
    pooled = []
    for seed in args.seeds:
        run = out / f"seed{seed}"
        run.mkdir(parents=True, exist_ok=True)
        cfg_path = run / "config.yaml"
        cfg_path.write_text(yaml.safe_dump({**base, "seed": seed}, sort_keys=False))
        print(f"== seed {seed}: {run}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "snakemake", "--snakefile",
                        str(REPO / "Snakefile"), "--directory", str(run), "--configfile",
                        str(cfg_path), "--cores", args.cores, "results/auc.csv", "all"],
                       check=True)
        rows = read_auc(run / "results/auc.csv")
        print(f"-- seed {seed}\n{paired_table(paired_differences(rows))}", flush=True)
        # Pooled: each (seed, draw) is one more adaptation draw of the same target.
        pooled += [{**r, "seed": f"{seed}{int(r['seed']):04d}"} for r in rows]
    text = (f"Training seeds {', '.join(map(str, args.seeds))}; config {args.config}"
            + "".join(f"; {s}" for s in args.sets) + "\n\n"
            + paired_table(paired_differences(pooled)))
    (out / "paired.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
