"""The `fsad` command line. Every Snakemake rule calls exactly one of these subcommands, so
each step runs the same way from Snakemake, from a test and from a shell.

Settings come from ``--config FILE`` (a full YAML config; defaults when omitted) with
``--params JSON`` merged on top; Snakemake passes each step only the sections it reads.
"""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path

import click

from fsad import FsadError, __version__
from fsad import config as config_mod
from fsad.data.adapters import ADAPTERS

CONFIG_OPT = click.option("--config", "config_file", type=click.Path(dir_okay=False),
                          help="YAML config (default: built-in defaults = the synthetic "
                               "benchmark).")
PARAMS_OPT = click.option("--params", "params_json", metavar="JSON",
                          help="Config sections as a JSON object, merged over --config.")


def _cfg(config_file, params_json) -> dict:
    return config_mod.load(config_file, config_mod.parse_params(params_json))


def _threads(threads: int | None) -> None:
    if threads:
        import torch

        torch.set_num_threads(threads)


class FiniteFloat(click.FloatRange):
    """A float range that also refuses NaN and infinity, which pass its comparisons."""

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


POSITIVE = FiniteFloat(min=0, min_open=True)

# Adaptation draws: derived seeds (root seed * 100003 + draw) must fit torch's 64-bit seeds.
SEED = click.IntRange(0, 2**32 - 1)
THREADS_OPT = click.option("--threads", type=click.IntRange(1), default=None,
                           help="CPU threads for torch (default: all).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="fsad")
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def cli(verbose: bool) -> None:
    """Few-shot scene-adaptive video anomaly detection (Lu et al., ECCV 2020).

    Typical flow: synth -> extract -> train (pretrain, then meta) -> score -> evaluate ->
    report. `snakemake --cores all results/auc.csv` runs all of it.
    """
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)


@cli.command()
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder to write the benchmark into (replaced atomically, and only if "
                   "fsad made it or it is empty).")
@CONFIG_OPT
@PARAMS_OPT
def synth(out, config_file, params_json) -> None:
    """Generate the synthetic multi-scene benchmark (real .avi videos + per-frame labels)."""
    from fsad.data.synth import check_settings, generate, scene_names

    s = _cfg(config_file, params_json)["synth"]
    check_settings(s)
    generate(Path(out), **s, inputs=[Path(config_file)] if config_file else [])
    click.echo(f"wrote {len(scene_names(s))} scenes to {out}", err=True)


@cli.command()
@click.option("--dataset", help="Dataset name from the config's 'datasets' section.")
@click.option("--adapter", help="Adapter name (instead of --dataset).")
@click.option("--root", type=click.Path(), help="Dataset root (with --adapter).")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="HDF5 frame store to write (e.g. results/frames/NAME.h5).")
@click.option("--threads", type=click.IntRange(1), default=2, show_default=True,
              help="Decoding threads: this many videos are decoded at once (one video is "
                   "split across them).")
@CONFIG_OPT
@PARAMS_OPT
def extract(dataset, adapter, root, out, threads, config_file, params_json) -> None:
    """Decode a dataset in its released layout into the HDF5 frame store."""
    from fsad.data.adapters import load_videos
    from fsad.data.store import write_store

    cfg = _cfg(config_file, params_json)
    opts = {}
    if dataset:
        if dataset not in cfg["datasets"]:
            raise FsadError(f"unknown dataset '{dataset}' (configured: "
                            f"{', '.join(cfg['datasets'])})")
        spec = dict(cfg["datasets"][dataset])
        adapter, root = spec.pop("adapter"), spec.pop("root")
        opts = spec
    if not adapter or not root:
        raise FsadError("give --dataset NAME, or --adapter and --root")
    videos = load_videos(adapter, root, **opts)
    f = cfg["frames"]
    write_store(videos, Path(out), f["height"], f["width"], f["channels"],
                attrs={"adapter": adapter, "root": str(root)}, threads=threads)
    click.echo(f"wrote {len(videos)} videos to {out}", err=True)


@cli.command()
@click.option("--method", type=click.Choice(["pretrain", "meta"]), required=True,
              help="pretrain: standard training on pooled source scenes; meta: MAML.")
@click.option("--backbone", default="rgan", show_default=True)
@click.option("--source", required=True, help="Source name from the config.")
@click.option("--frames", required=True, multiple=True, type=click.Path(dir_okay=False),
              help="Frame store of the source dataset; a source that pools several datasets "
                   "(sources.NAME.also) takes one --frames per dataset, in the config's order.")
@click.option("--init", type=click.Path(dir_okay=False),
              help="meta: the pre-trained checkpoint to start from (not with meta.init "
                   "random).")
@click.option("--shots", type=click.IntRange(1), help="meta: K of the training tasks.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Checkpoint to write (training state is kept beside it until done).")
@CONFIG_OPT
@PARAMS_OPT
@THREADS_OPT
def train(method, backbone, source, frames, init, shots, out, config_file, params_json,
          threads) -> None:
    """Train a backbone: pre-training, or meta-training across scenes. Resumes after a crash."""
    from fsad.train import meta_train, pretrain

    cfg = _cfg(config_file, params_json)
    _threads(threads)
    if method == "pretrain":
        pretrain(cfg, [Path(f) for f in frames], source, backbone, Path(out))
        return
    if not init and cfg["meta"]["init"] == "pretrained":
        raise FsadError("--method meta needs --init PRETRAINED.pt (meta.init is 'pretrained': "
                        "meta-training starts from the pre-trained model)")
    if shots is None:
        shots = config_mod.meta_model_shots(cfg, None)
    meta_train(cfg, [Path(f) for f in frames], source, backbone, Path(init) if init else None,
               shots, Path(out))


@cli.command()
@click.option("--model", type=click.Path(dir_okay=False), help="Checkpoint to adapt and score.")
@click.option("--frames", required=True, type=click.Path(dir_okay=False),
              help="Frame store holding the target scene.")
@click.option("--target", required=True, help="Target name from the config.")
@click.option("--shots", type=click.IntRange(0), help="K windows to adapt with (0 = none).")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Adaptation draw.")
@click.option("--out", type=click.Path(dir_okay=False), help="Scores CSV.")
@click.option("--cell", "cells", multiple=True, metavar="K SEED MODEL OUT",
              type=(click.IntRange(0), SEED, click.Path(dir_okay=False),
                    click.Path(dir_okay=False)),
              help="Score several (K, seed, model) cells of the target in one process, each "
                   "into its own OUT; repeatable, instead of --model/--shots/--seed/--out.")
@click.option("--source", default="", help="Recorded in the output (the model's source).")
@click.option("--method", default="", help="Recorded in the output (pretrained or meta).")
@CONFIG_OPT
@PARAMS_OPT
@THREADS_OPT
def score(model, frames, target, shots, seed, out, cells, source, method, config_file,
          params_json, threads) -> None:
    """Adapt a model to the target scene with K windows and score every test frame."""
    from fsad.score import Cell, score_cells

    single = {"--model": model, "--shots": shots, "--out": out}
    if cells and any(v is not None for v in single.values()):
        raise click.UsageError("give either --cell or --model/--shots/--seed/--out, not both")
    if not cells:
        missing = [name for name, v in single.items() if v is None]
        if missing:
            raise click.UsageError(f"missing option(s) {', '.join(missing)} (or give --cell)")
        cells = [(shots, seed, model, out)]
    cfg = _cfg(config_file, params_json)
    _threads(threads)
    score_cells(cfg, Path(frames), target,
                [Cell(k, s, Path(m), Path(o)) for k, s, m, o in cells],
                {"source": source, "method": method})


@cli.command()
@click.option("--model", required=True, type=click.Path(dir_okay=False))
@click.option("--frames", required=True, type=click.Path(dir_okay=False))
@click.option("--target", required=True)
@click.option("--shots", required=True, type=click.IntRange(1))
@click.option("--seed", default=0, show_default=True, type=SEED)
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Adapted checkpoint to write.")
@CONFIG_OPT
@PARAMS_OPT
def adapt(model, frames, target, shots, seed, out, config_file, params_json) -> None:
    """Adapt a model to a target scene with K windows and save the adapted checkpoint."""
    from fsad import checkpoint
    from fsad.adapt import InnerRule, adapt, training_windows
    from fsad.data.store import FrameStore
    from fsad.predict import finite_loss, predict
    from fsad.score import load_generator

    cfg = _cfg(config_file, params_json)
    if target not in cfg["targets"]:
        raise FsadError(f"unknown target '{target}'")
    store = FrameStore(frames)
    generator, ckpt = load_generator(Path(model), store)
    x, y = training_windows(store, cfg["targets"][target]["scenes"], ckpt["t"], shots, seed,
                            cfg["seed"])
    adapt(generator, x, y, InnerRule.from_config(cfg["inner"]), ckpt["settings"]["loss"],
          ckpt.get("inner_lr"))
    # Finite weights can still overflow in the forward pass (a far too large rate): check
    # the adapted model's loss on its own K windows before saving it.
    for i, lv in enumerate(predict(generator, x, y, ckpt["settings"]["loss"])[0]):
        finite_loss(lv, f"{model} adapted to '{target}', its adaptation window {i + 1}",
                    adapted=True)
    checkpoint.save(out, {**{k: v for k, v in ckpt.items() if k not in ("format", "version")},
                          "generator": generator.state_dict(),
                          "adapted": {"target": target, "shots": shots, "seed": seed}})
    click.echo(f"wrote {out}", err=True)


@cli.command()
@click.option("--model", required=True, type=click.Path(dir_okay=False),
              help="A trained model (model.pt); its snapshots.pt lies beside it.")
@click.option("--frames", required=True, type=click.Path(dir_okay=False),
              help="Frame store holding the validation scenes.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="The curve as CSV: model,shots,step,before,after,copy_last.")
@CONFIG_OPT
@PARAMS_OPT
@THREADS_OPT
def validate(model, frames, out, config_file, params_json, threads) -> None:
    """The validation curve of a trained model: for each snapshot kept during its training,
    the Eq. 2 query loss of the validation scenes' fixed K-shot tasks before and after
    adaptation by the configured inner rule (config section `validation`)."""
    from fsad import checkpoint
    from fsad.adapt import InnerRule
    from fsad.atomic import write_csv
    from fsad.data.store import FrameStore
    from fsad.device import pick, prepare
    from fsad.score import load_generator
    from fsad.validation import CURVE_COLUMNS, ValidationSettings, ValidationTasks, curve

    cfg = _cfg(config_file, params_json)
    _threads(threads)
    settings = ValidationSettings.from_config(cfg)
    if settings is None:
        raise FsadError("the config names no validation scenes (section `validation`); add "
                        "one, e.g. {dataset: synthetic, scenes: [val*]}")
    store = FrameStore(frames)
    generator, ckpt = load_generator(Path(model), store)
    snapshots_path = Path(model).with_name("snapshots.pt")
    snaps = checkpoint.load(snapshots_path)
    if snaps.get("fingerprint") != ckpt["fingerprint"]:
        raise FsadError(f"{snapshots_path} belongs to another training run than {model}; "
                        "train the model again to write both")
    generator = prepare(generator, pick(cfg["device"], cfg.get("deterministic"),
                                        cfg.get("cpu_bf16", False)))
    tasks = ValidationTasks(store, settings, ckpt["t"], cfg["seed"])
    rows = curve(generator, snaps["snapshots"], tasks, InnerRule.from_config(cfg["inner"]),
                 ckpt["settings"]["loss"])
    name = ("pretrained" if ckpt["method"] == "pretrained"
            else f"meta K={ckpt['settings']['shots']}")
    write_csv(out, ["model", "shots", *CURVE_COLUMNS],
              [[name, settings.shots, step, f"{b:.6f}", f"{a:.6f}", f"{c:.6f}"]
               for step, b, a, c in rows])
    click.echo(f"wrote {len(rows)} points of {name} on {len(tasks.scenes)} validation scenes "
               f"to {out}", err=True)


@cli.command()
@click.argument("scores", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="results/auc.csv")
@click.option("--metrics", type=click.Path(dir_okay=False), help="Summary JSON (for DVC).")
def evaluate(scores, out, metrics) -> None:
    """Normalise per video (min-max, the paper's equation 4) and compute frame-level AUC of
    scores files into one AUC table."""
    from fsad.metrics import evaluate as run

    results = run([Path(s) for s in scores], Path(out), Path(metrics) if metrics else None)
    click.echo(f"wrote {len(results)} rows to {out}", err=True)


@cli.group()
def report() -> None:
    """Tables and figures."""


@report.command("tables")
@click.option("--auc", "auc_csv", required=True, type=click.Path(dir_okay=False))
@click.option("--out-md", required=True, type=click.Path(dir_okay=False))
@click.option("--out-csv", type=click.Path(dir_okay=False))
def report_tables(auc_csv, out_md, out_csv) -> None:
    """The AUC table in the paper's layout (mean ± std over seeds)."""
    from fsad.report import auc_tables

    click.echo(auc_tables(Path(auc_csv), Path(out_md), Path(out_csv) if out_csv else None))


@report.command("figures")
@click.argument("scores", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False))
def report_figures(scores, out) -> None:
    """Per-video score plots and ROC curves for one target."""
    from fsad.report import plot_target

    written = plot_target([Path(s) for s in scores], Path(out))
    click.echo(f"wrote {len(written)} figures to {out}", err=True)


@report.command("validation")
@click.argument("curves", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="PNG to write.")
def report_validation(curves, out) -> None:
    """The validation curves (fsad validate) of one source's models, as one figure."""
    from fsad.report import plot_validation

    click.echo(f"wrote {plot_validation([Path(c) for c in curves], Path(out))}", err=True)


@cli.group()
def datasets() -> None:
    """Inspect datasets in their released layouts."""


@datasets.command("check")
@click.argument("adapter", type=click.Choice(ADAPTERS))
@click.argument("root", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def datasets_check(adapter, root, as_json) -> None:
    """Validate a download (every frame decoded, labels matched) and summarise it.

    ADAPTER is one of the layouts (synthetic, frames, ucsd, avenue, shanghaitech, ucf_crime,
    urfall, views); ROOT is the dataset's folder as unpacked from its release: UCSDped1 or
    UCSDped2 for ucsd; for avenue the folder holding both `Avenue Dataset/` and
    `ground_truth_demo/`; for views a folder of normal videos (checked with its default
    2x2 views); the release root for the others.
    """
    import json

    from tqdm import tqdm

    from fsad.data.adapters import load_videos

    videos = load_videos(adapter, root)
    summary = {"adapter": adapter, "root": str(root), "videos": {"train": 0, "test": 0},
               "frames": 0, "scenes": sorted({v.scene for v in videos}), "test_frames": 0,
               "anomalous_frames": 0}
    for v in tqdm(videos, desc="decoding", disable=None):
        n = sum(1 for _ in v.frames())
        if v.labels is not None and len(v.labels) != n:
            raise FsadError(f"{v.label_source or v.source}: {len(v.labels)} labels for {n} "
                            f"frames of {v.source}")
        summary["videos"][v.split] += 1
        summary["frames"] += n
        if v.split == "test":
            summary["test_frames"] += n
            summary["anomalous_frames"] += int(v.labels.sum())
    if as_json:
        click.echo(json.dumps(summary))
        return
    click.echo(f"{root} ({adapter}): OK")
    click.echo(f"  videos: {summary['videos']['train']} train, {summary['videos']['test']} test;"
               f" {summary['frames']} frames; scenes: {', '.join(summary['scenes'])}")
    click.echo(f"  test frames: {summary['test_frames']}, anomalous: "
               f"{summary['anomalous_frames']}")


@cli.command()
@click.option("--backbone", default="rgan", show_default=True)
@click.option("--shots", "shots_list", type=click.IntRange(1), multiple=True,
              help="K of the meta-iteration benchmark (repeatable; default: meta.shots, or "
                   "the evaluated K when matched).")
@click.option("--repeats", type=click.IntRange(1), default=3, show_default=True)
@click.option("--suite", type=click.Choice(["ratios", "scaling", "memory", "peer",
                                           "throughput"]),
              default="ratios", show_default=True,
              help="ratios: the side-by-side ratios; scaling: cost against K, tasks, image "
                   "size and video length; memory: peak memory of one meta-iteration at "
                   "--size with K = --shots (default 10), first order, second order and "
                   "second order with recomputed inner steps; peer: fsad at the settings "
                   "at which the authors' code was timed (figures from --reference); "
                   "throughput: at --size, fp32 against bf16 + channels_last (and "
                   "--compile), every K: samples/s, TFLOP/s against the peak, peak GPU "
                   "memory, and the config's whole grid projected from them.")
@click.option("--size", type=click.IntRange(16), default=256, show_default=True,
              help="Image size of the memory and throughput suites.")
@click.option("--compile", "compile_g", is_flag=True,
              help="throughput: also time the training step with torch.compile.")
@click.option("--peak-tflops", type=POSITIVE,
              help="throughput: the device's peak, for the fraction achieved (default on "
                   "CUDA: the H200 bf16 rate in the reference figures).")
@click.option("--memory-limit-gb", type=FiniteFloat(min=0.5), default=None,
              help="Cap the memory suite's child processes (address space, CPU).")
@click.option("--reference", "reference_path", type=click.Path(dir_okay=False),
              help="Figures from outside fsad, with their sources (default: the "
                   "repository's bench/reference_figures.yaml).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@CONFIG_OPT
@PARAMS_OPT
@THREADS_OPT
def bench(backbone, shots_list, repeats, suite, size, compile_g, peak_tflops, memory_limit_gb,
          reference_path, as_json, config_file, params_json, threads) -> None:
    """Measure fsad's speed side by side: ratios against the limits that bound them
    (default), how the cost scales, peak memory, the authors' code's settings, and
    throughput against the hardware's peak with the grid's projected wall time."""
    from fsad.perf.report import run

    cfg = _cfg(config_file, params_json)
    _threads(threads)
    click.echo(run(suite, cfg, backbone=backbone, shots=list(shots_list), repeats=repeats,
                   size=size, compile_g=compile_g, peak_tflops=peak_tflops,
                   memory_limit_gb=memory_limit_gb, threads=threads,
                   reference_path=reference_path, as_json=as_json,
                   progress=lambda line: click.echo(line, err=True)))


@cli.command()
@click.option("--model", required=True, type=click.Path(dir_okay=False),
              help="A meta-trained (or pre-trained) checkpoint.")
@click.option("--normal", required=True, type=click.Path(),
              help="Normal footage of the scene: a video file or a folder of frames.")
@click.option("--shots", required=True, type=click.IntRange(0),
              help="K windows to adapt with (0 = none).")
@click.argument("videos", nargs=-1, required=True, type=click.Path())
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder for <video>.scores.csv, .scores.png (and .annotated.avi).")
@click.option("--annotate", is_flag=True, help="Also write an annotated copy of each video.")
@click.option("--percentile", default=99.0, show_default=True,
              type=FiniteFloat(50, 100, max_open=True),
              help="Threshold = this percentile of the normal footage's losses.")
@click.option("--threshold", type=POSITIVE, help="An absolute loss threshold instead.")
@click.option("--seed", default=0, show_default=True, type=SEED, help="Draw of the K windows.")
@click.option("--batch", default=32, show_default=True, type=click.IntRange(1),
              help="Frames scored per chunk (bounds memory).")
@click.option("--steps", type=click.IntRange(1), help="Adaptation steps (default: the rule "
              "the model was meta-trained with, else the config's inner.steps).")
@click.option("--lr", type=POSITIVE, help="Adaptation learning rate (same default rule).")
@click.option("--optimizer", type=click.Choice(["sgd", "adam"]), help="(same default rule)")
@CONFIG_OPT
@PARAMS_OPT
@THREADS_OPT
def detect(model, normal, shots, videos, out, annotate, percentile, threshold, seed, batch,
           steps, lr, optimizer, config_file, params_json, threads) -> None:
    """Adapt a model to your camera with K normal windows and flag anomalous frames."""
    from dataclasses import replace

    from fsad import checkpoint
    from fsad.adapt import InnerRule
    from fsad.detect import detect as run
    from fsad.detect import input_stem, output_stems

    cfg = _cfg(config_file, params_json)
    _threads(threads)
    # The rule the model was meta-trained with, else the config's; options override it.
    rule = InnerRule.from_config(checkpoint.load(model).get("settings", {}).get("inner")
                                 or cfg["inner"])
    rule = replace(rule, steps=rule.steps if steps is None else steps,
                   lr=rule.lr if lr is None else lr,
                   optimizer=rule.optimizer if optimizer is None else optimizer)
    paths = [Path(v) for v in videos]
    written = run(Path(model), Path(normal), shots, paths, Path(out), rule, seed, percentile,
                  threshold, annotate, batch, cfg["device"])
    renamed = [f"{v} -> {stem}.*" for v, stem in zip(paths, output_stems(paths), strict=True)
               if stem != input_stem(v)]
    click.echo(f"wrote {len(written)} files to {out}" + (
        f" (inputs that share a name: {', '.join(renamed)})" if renamed else ""), err=True)


@cli.command("config")
@CONFIG_OPT
@PARAMS_OPT
@click.option("--markdown", is_flag=True,
              help="Print the schema's table of keys (key, type, default, meaning) instead.")
@click.option("--into", type=click.Path(dir_okay=False),
              help="With --markdown: rewrite the table between the markers of this file "
                   "(config/README.md).")
def show_config(config_file, params_json, markdown, into) -> None:
    """Print the validated config with every default filled in."""
    if markdown:
        from fsad import config_doc

        if into is None:
            click.echo(config_doc.markdown(), nl=False)
        else:
            changed = config_doc.write_into(into)
            click.echo(f"{into}: {'table regenerated' if changed else 'up to date'}", err=True)
        return
    if into is not None:
        raise click.UsageError("--into needs --markdown")
    import yaml

    click.echo(yaml.safe_dump(_cfg(config_file, params_json), sort_keys=False))


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except FsadError as exc:
        click.echo(f"fsad: error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("fsad: aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:
        # One line, like every other error (click's own format spreads over four).
        command = exc.ctx.command_path if exc.ctx else "fsad"
        click.echo(f"fsad: error: {exc.format_message()} (see `{command} --help`)", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"fsad: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:
        # Disk full, permissions, a file where a folder should be: not a bug, so no traceback.
        from fsad.ioerrors import describe

        click.echo(f"fsad: error: {describe(exc)}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("fsad: interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
