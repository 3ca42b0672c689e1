"""Meta-trained against fine-tuned over several training seeds: the paired comparison with
power over the targets.

    python bench/meta_seeds.py --seeds 0 1 2 [--config config/config.yaml]
                               [--set meta.init=random ...] [--sources NAME ...]
                               [--out runs/meta_seeds] [--until validation]

Each seed is a full pipeline run (`snakemake --cores all results/auc.csv all`) in its own
folder OUT/seed<S>/ with the config's `seed` set to S (initialisation, task sampling and
adaptation draws; the benchmark's pixels keep `synth.seed`). ``--set KEY=VALUE`` (YAML
value, dotted key) changes the config for every seed, e.g. a method option to compare on
the validation scenes; ``--sources`` keeps only the named sources of the config. Finished
runs are reused (Snakemake reruns only what changed).

Prints and writes OUT/paired.md: per K, meta minus fine-tuned frame AUC in points, paired
by target and adaptation draw, averaged per target over draws and seeds, the mean over
targets with a 95 % t-interval (targets are the unit), and the same per seed.

``--until validation`` is how a method is chosen: it trains the models and draws their
validation curves only (no target is scored), then runs bench/validation_sweep.py with the
config's inner rule on the pre-trained and the meta-trained model, and writes
OUT/validation.md: per seed, each model's validation query loss before and after
adaptation and the validation scenes' own frame AUC after adapting.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

import yaml

from fsad import FsadError
from fsad import config as cfgmod
from fsad.config import yaml_float
from fsad.metrics import read_auc
from fsad.report import paired_differences, paired_table

REPO = Path(__file__).resolve().parents[1]


def override(cfg: dict, assignment: str) -> dict:
    """``cfg`` with one ``KEY=VALUE`` merged in (dotted key, YAML value; 2e-5 is read as
    the number it means, not as YAML 1.1's text)."""
    key, sep, value = assignment.partition("=")
    if not sep or not key:
        raise FsadError(f"--set {assignment}: write KEY=VALUE, e.g. --set meta.lr_g=2.0e-5")
    parsed = yaml.safe_load(yaml_float(value) or value)
    node: dict = {}
    top = node
    parts = key.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = parsed
    return cfgmod.merge(cfg, top)


def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2],
                    help="training seeds, one pipeline each (default: 0 1 2)")
    ap.add_argument("--config", default=str(REPO / "config/config.yaml"),
                    help="the config every seed starts from (default: config/config.yaml)")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="change the config for every seed (dotted key, YAML value); "
                         "repeatable")
    ap.add_argument("--sources", nargs="+", metavar="NAME",
                    help="train and score only these sources of the config (default: all)")
    ap.add_argument("--out", default="runs/meta_seeds",
                    help="one folder per seed under it, and the tables (default: "
                         "runs/meta_seeds)")
    ap.add_argument("--cores", default="all", help="Snakemake's --cores (default: all)")
    ap.add_argument("--until", choices=["auc", "validation"], default="auc",
                    help="auc: the whole pipeline and the paired table on the targets; "
                         "validation: the models and the validation-scene measures only")
    args = ap.parse_args()
    base = yaml.safe_load(Path(args.config).read_text())
    try:
        for assignment in args.sets:
            base = override(base, assignment)
        known = cfgmod.load(overrides=base)["sources"]  # a bad --set stops here
    except FsadError as e:
        ap.error(str(e))
    if args.sources:
        unknown = [name for name in args.sources if name not in known]
        if unknown:
            ap.error(f"{args.config} has no source {', '.join(unknown)} (its sources: "
                     f"{', '.join(known)})")
        base["sources"] = {name: known[name] for name in args.sources}
    out = Path(args.out).resolve()
    pooled, validation = [], []
    for seed in args.seeds:
        run = out / f"seed{seed}"
        run.mkdir(parents=True, exist_ok=True)
        cfg_path = run / "config.yaml"
        cfg_path.write_text(yaml.safe_dump({**base, "seed": seed}, sort_keys=False))
        print(f"== seed {seed}: {run}", file=sys.stderr, flush=True)
        cfg = cfgmod.load(cfg_path)
        targets = (["results/auc.csv", "all"] if args.until == "auc" else
                   [f"results/figures/validation/{s}_{b}.png"
                    for s in cfg["sources"] for b in cfg["backbones"]])
        subprocess.run([sys.executable, "-m", "snakemake", "--snakefile",
                        str(REPO / "Snakefile"), "--directory", str(run), "--configfile",
                        str(cfg_path), "--cores", args.cores, *targets], check=True)
        if args.until == "validation":
            validation += [f"seed {seed}", *validation_rows(run, cfg_path, cfg)]
            continue
        rows = read_auc(run / "results/auc.csv")
        print(f"-- seed {seed}\n{paired_table(paired_differences(rows))}", flush=True)
        # Pooled: each (seed, draw) is one more adaptation draw of the same target.
        pooled += [{**r, "seed": f"{seed}{int(r['seed']):04d}"} for r in rows]
    header = (f"Training seeds {', '.join(map(str, args.seeds))}; config {args.config}"
              + "".join(f"; {s}" for s in args.sets)
              + (f"; sources {', '.join(args.sources)}" if args.sources else "") + "\n\n")
    if args.until == "validation":
        text = header + "\n".join(validation) + "\n"
        (out / "validation.md").write_text(text)
    else:
        text = header + paired_table(paired_differences(pooled))
        (out / "paired.md").write_text(text)
    print(text)


def validation_rows(run: Path, cfg_path: Path, cfg: dict) -> list[str]:
    """bench/validation_sweep.py in ``run`` with the config's inner rule, on every trained
    model: its lines of the validation summary."""
    inner = cfg["inner"]
    rule = f"{inner['optimizer']}:{inner['lr']}:{inner['steps']}" + (
        f":{inner['windows_per_step']}" if inner.get("windows_per_step") else "")
    trained = run / "results/models"
    models = [str(p.relative_to(run)) for pattern in ("*/*/pretrained", "*/*/meta/*")
              for p in sorted(trained.glob(f"{pattern}/model.pt"))]
    subprocess.run([sys.executable, str(REPO / "bench/validation_sweep.py"), "--config",
                    str(cfg_path), "--rule", rule, *models], cwd=run, check=True)
    with open(run / "results/sweeps/validation_sweep.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    adapted = {r["model"]: r for r in rows if r["rule"] != "none"}
    unadapted = {r["model"]: r for r in rows if r["rule"] == "none"}
    return [f"- {m}: query loss {r['loss_before']} -> {r['loss_after']} ({r['rule']}); "
            f"validation AUC {100 * float(unadapted[m]['validation_auc']):.1f} unadapted, "
            f"{100 * float(r['validation_auc']):.1f} adapted" for m, r in adapted.items()]


if __name__ == "__main__":
    main()
