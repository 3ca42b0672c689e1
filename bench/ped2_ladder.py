"""Ped2 full data on the CPU, a ladder of resolutions and widths: how the frame AUC grows
with what a 2-core machine can afford.

    python bench/ped2_ladder.py PED2_ROOT [--rungs 48 64] [--ladder bench/ped2_ladder.yaml]
                                [--out runs/ped2_ladder] [--seed S --steps N]

Each rung of the ladder file (frame size, widths, minutes of training; named by its size
unless it has a ``name``, e.g. a longer run at a size already there) is one run of
bench/ped2_full_data.py: steps set from the timed step, trained on Ped2's 16 training
videos, scored on its 12 test videos. ``cpu_bf16`` is on where the CPU has AVX-512 BF16 or
AMX (about 2x faster training, bf16 arithmetic). Results go to OUT/<name>/; the Markdown
table of all rungs run so far (with the CPU's name) is printed and written to OUT/ladder.md.

``--seed S`` repeats rungs with another training seed (initialisation and batch order),
into OUT/<name>-seed<S>/; ``--steps N`` trains exactly N steps instead of filling the
budget, so that a repeat trains as long as the run it repeats.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fsad import config as cfgmod  # noqa: E402
from ped2_full_data import REPO, configure, run  # noqa: E402


def cpu() -> tuple[str, bool]:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    name = re.search(r"model name\s*:\s*(.*)", info)
    return (name.group(1).strip() if name else "unknown CPU",
            bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", info)))


def name(rung: dict) -> str:
    return str(rung.get("name", rung["size"]))


def table(out: Path, cpu_name: str) -> str:
    lines = [f"CPU: {cpu_name}", "",
             "| rung | seed | size | widths | training | steps × batch | samples/s | "
             "frame AUC % | mean per-video AUC % |", "|---|---|---|---|---|---|---|---|---|"]
    results = [(p.parent.name, json.loads(p.read_text()))
               for p in out.glob("*/ped2_result.json")]
    for rung, r in sorted(results, key=lambda nr: (nr[1]["size"], nr[1]["steps"])):
        video = f"{100 * r['video_auc']:.1f}" if r["video_auc"] is not None else "n/a"
        lines.append(f"| {rung} | {r.get('seed', 0)} | {r['size'][0]}×{r['size'][1]} | "
                     f"{'-'.join(map(str, r['widths']))} | "
                     f"{r['train_minutes']:.1f} min ({r['device'].split(', ')[1]}) | "
                     f"{r['steps']} × {r['batch_size']} | {r['samples_per_s']:.0f} | "
                     f"{100 * r['frame_auc']:.1f} | {video} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root", type=Path, help="Ped2 in the frames + .mat layout")
    ap.add_argument("--ladder", type=Path, default=REPO / "bench/ped2_ladder.yaml")
    ap.add_argument("--rungs", nargs="*", help="rungs to run, by name (default: all)")
    ap.add_argument("--out", type=Path, default=Path("runs/ped2_ladder"))
    ap.add_argument("--seed", type=int, default=0, help="training seed (default 0)")
    ap.add_argument("--steps", type=int, help="train exactly this many steps")
    args = ap.parse_args()
    ladder = yaml.safe_load(args.ladder.read_text())
    names = [name(rung) for rung in ladder["rungs"]]
    unknown = [r for r in args.rungs or () if r not in names]
    if unknown:
        ap.error(f"{args.ladder} has no rung {', '.join(unknown)} (its rungs: "
                 f"{', '.join(names)})")
    cpu_name, bf16 = cpu()
    for rung in ladder["rungs"]:
        if args.rungs and name(rung) not in args.rungs:
            continue
        cfg = configure(REPO / "bench/ped2_256/config.yaml", args.root, rung["size"], [])
        cfg = cfgmod.merge(cfg, {**ladder.get("common", {}), "model": rung["model"],
                                 "cpu_bf16": bf16, "seed": args.seed})
        folder = name(rung) + (f"-seed{args.seed}" if args.seed else "")
        print(f"== rung {folder}: {rung['size']}x{rung['size']}, "
              + (f"{args.steps} steps" if args.steps else f"{rung['minutes']} min"), flush=True)
        run(cfg, rung["minutes"], 20000, args.out / folder, args.out / "work", args.steps)
    text = table(args.out, cpu_name)
    (args.out / "ladder.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
