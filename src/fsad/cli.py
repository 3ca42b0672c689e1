"""The `fsad` command line. Every Snakemake rule calls exactly one of these subcommands, so
each step runs the same way from Snakemake, from a test and from a shell.

Settings come from ``--config FILE`` (a full YAML config; defaults when omitted) with
``--params JSON`` merged on top; Snakemake passes each step only the sections it reads.
"""

from __future__ import annotations

import logging
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
              help="Folder to write the benchmark into (replaced atomically).")
@CONFIG_OPT
@PARAMS_OPT
def synth(out, config_file, params_json) -> None:
    """Generate the synthetic multi-scene benchmark (real .avi videos + per-frame labels)."""
    from fsad.data.synth import check_settings, generate

    s = _cfg(config_file, params_json)["synth"]
    check_settings(s)
    generate(Path(out), **s)
    click.echo(f"wrote {s['scenes']} scenes to {out}", err=True)


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
@click.option("--frames", required=True, type=click.Path(dir_okay=False),
              help="Frame store of the source dataset.")
@click.option("--init", type=click.Path(dir_okay=False),
              help="meta: the pre-trained checkpoint to start from.")
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
        pretrain(cfg, Path(frames), source, backbone, Path(out))
        return
    if not init:
        raise FsadError("--method meta needs --init PRETRAINED.pt (meta-training starts from "
                        "the pre-trained model)")
    if shots is None:
        configured = cfg["meta"]["shots"]
        if configured == "matched":
            raise FsadError("--method meta needs --shots K (meta.shots is 'matched')")
        shots = configured
    meta_train(cfg, Path(frames), source, backbone, Path(init), shots, Path(out))


@cli.command()
@click.option("--model", required=True, type=click.Path(dir_okay=False))
@click.option("--frames", required=True, type=click.Path(dir_okay=False),
              help="Frame store holding the target scene.")
@click.option("--target", required=True, help="Target name from the config.")
@click.option("--shots", required=True, type=click.IntRange(0),
              help="K windows to adapt with (0 = none).")
@click.option("--seed", default=0, show_default=True, type=int, help="Adaptation draw.")
@click.option("--source", default="", help="Recorded in the output (the model's source).")
@click.option("--method", default="", help="Recorded in the output (pretrained or meta).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Scores CSV.")
@CONFIG_OPT
@PARAMS_OPT
@THREADS_OPT
def score(model, frames, target, shots, seed, source, method, out, config_file, params_json,
          threads) -> None:
    """Adapt a model to the target scene with K windows and score every test frame."""
    from fsad.score import score as run_score

    cfg = _cfg(config_file, params_json)
    _threads(threads)
    run_score(cfg, Path(model), Path(frames), target, shots, seed, Path(out),
              {"source": source, "method": method})


@cli.command()
@click.option("--model", required=True, type=click.Path(dir_okay=False))
@click.option("--frames", required=True, type=click.Path(dir_okay=False))
@click.option("--target", required=True)
@click.option("--shots", required=True, type=click.IntRange(1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Adapted checkpoint to write.")
@CONFIG_OPT
@PARAMS_OPT
def adapt(model, frames, target, shots, seed, out, config_file, params_json) -> None:
    """Adapt a model to a target scene with K windows and save the adapted checkpoint."""
    from fsad import checkpoint, meta
    from fsad.data.store import FrameStore
    from fsad.score import adaptation_windows, load_generator
    from fsad.train import objective

    cfg = _cfg(config_file, params_json)
    if target not in cfg["targets"]:
        raise FsadError(f"unknown target '{target}'")
    store = FrameStore(frames)
    generator, ckpt = load_generator(Path(model), store)
    x, y = adaptation_windows(store, cfg["targets"][target]["scenes"], ckpt["t"], shots, seed,
                              cfg["seed"])
    meta.adapt(generator, x, y, objective(ckpt["settings"]["loss"]), **cfg["inner"])
    checkpoint.save(out, {**{k: v for k, v in ckpt.items() if k not in ("format", "version")},
                          "generator": generator.state_dict(),
                          "adapted": {"target": target, "shots": shots, "seed": seed}})
    click.echo(f"wrote {out}", err=True)


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
    urfall); ROOT is the dataset's folder as unpacked from its release: UCSDped1 or
    UCSDped2 for ucsd; for avenue the folder holding both `Avenue Dataset/` and
    `ground_truth_demo/`; the release root for the others.
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
                   "second order with recomputed inner steps; peer: the "
                   "settings at which the authors' code was measured (issue #6); "
                   "throughput: at --size, fp32 against bf16 + channels_last (and "
                   "--compile), every K: samples/s, TFLOP/s against the peak, peak GPU "
                   "memory, and the config's whole grid projected from them.")
@click.option("--size", type=click.IntRange(16), default=256, show_default=True,
              help="Image size of the memory and throughput suites.")
@click.option("--compile", "compile_g", is_flag=True,
              help="throughput: also time the training step with torch.compile.")
@click.option("--peak-tflops", type=click.FloatRange(min=0, min_open=True),
              help="throughput: the device's peak, for the fraction achieved (default on "
                   "CUDA: 790, an H200's bf16 dense rate on matrix products).")
@click.option("--memory-limit-gb", type=click.FloatRange(min=0.5), default=None,
              help="Cap the memory suite's child processes (address space, CPU).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@CONFIG_OPT
@PARAMS_OPT
@THREADS_OPT
def bench(backbone, shots_list, repeats, suite, size, compile_g, peak_tflops, memory_limit_gb,
          as_json, config_file, params_json, threads) -> None:
    """Measure fsad's speed side by side: ratios against the limits that bound them
    (default), how the cost scales, peak memory, the authors' code's settings, and
    throughput against the hardware's peak with the grid's projected wall time."""
    import json

    from fsad import bench as b

    cfg = _cfg(config_file, params_json)
    _threads(threads)
    if suite == "throughput":
        _bench_throughput(cfg, backbone, shots_list, repeats, size, compile_g, peak_tflops,
                          as_json)
        return
    if suite != "ratios":
        _bench_suite(suite, cfg, backbone, shots_list, repeats, size, memory_limit_gb,
                     as_json, threads)
        return
    if not shots_list:
        k = cfg["meta"]["shots"]
        shots_list = [k] if k != "matched" else [s for s in cfg["evaluate"]["shots"] if s > 0]
    result = {"train": b.train_throughput(cfg, backbone, repeats),
              "data": b.data_path(cfg, backbone, repeats),
              "scoring": b.scoring(cfg, backbone, repeats),
              "meta": [b.meta_vs_plain(cfg, k, backbone, repeats) for k in shots_list]}
    result["extract_vs_decode"] = result["data"]["extract_vs_decode"]
    result["loader_vs_model"] = result["data"]["loader_vs_model"]
    result["score_vs_forward"] = result["scoring"]["score_vs_forward"]
    result["meta_vs_plain"] = result["meta"][0]["meta_vs_plain"]
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    d, sc, t = result["data"], result["scoring"], result["train"]
    click.echo(f"extraction: {d['extract_fps']:.0f} frames/s vs decode-only "
               f"{d['decode_fps']:.0f} frames/s -> x{d['extract_vs_decode']:.2f}")
    click.echo(f"window loader: {d['loader_windows_per_s']:.0f} windows/s vs the model's "
               f"{d['model_windows_per_s']:.1f} -> x{d['loader_vs_model']:.1f}")
    click.echo(f"scoring: {sc['score_fps']:.0f} frames/s vs bare forward {sc['forward_fps']:.0f}"
               f" frames/s -> x{sc['score_vs_forward']:.2f}")
    click.echo(f"training: {t['samples_per_s']:.1f} samples/s (batch {t['batch_size']}, "
               f"{1000 * t['step_s']:.0f} ms/step)")
    for r in result["meta"]:
        click.echo(f"meta-iteration K={r['shots']} ({r['tasks']} tasks x {r['inner_steps']} "
                   f"inner steps, {'first' if r['first_order'] else 'second'} order): "
                   f"{r['meta_iteration_s']:.3f} s vs {r['plain_passes_s']:.3f} s for "
                   f"{r['passes']} plain passes -> x{r['meta_vs_plain']:.2f}; one task per "
                   f"pass {r['one_task_per_pass_s']:.3f} s -> batching x"
                   f"{r['batching_speedup']:.2f}")


def _bench_throughput(cfg, backbone, shots_list, repeats, size, compile_g, peak_tflops,
                      as_json) -> None:
    import json

    from fsad import scaling, throughput

    def progress(r: dict) -> None:
        click.echo(f"measured {throughput.describe(r)}", err=True)

    result = throughput.throughput(scaling.at(cfg, size=size), backbone, list(shots_list),
                                   repeats, peak_tflops, compile_g, progress)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    peak = f", peak {result['peak_tflops']:g} TFLOP/s" if result["peak_tflops"] else ""
    click.echo(f"{result['device']} (torch {result['torch']}), {backbone} at "
               f"{size}x{size}, widths {result['widths']}{peak}")
    for r in result["rows"]:
        click.echo(throughput.describe(r))
    p = result["projection"]
    if p is None:
        click.echo("grid projection: needs every evaluated K (leave out --shots)")
        return
    click.echo(f"grid projection, one job after another: pre-training "
               f"{_duration(p['pretrain_s'])}, meta-training {_duration(p['meta_s'])}, "
               f"{p['score_jobs']} scoring jobs {_duration(p['score_s'])} -> "
               f"{_duration(p['total_s'])}"
               + (f" (test frames estimated: {', '.join(p['estimated_frames'])})"
                  if p["estimated_frames"] else "")
               + (f" (not scored, test frames unknown: {', '.join(p['unscored'])})"
                  if p["unscored"] else ""))


def _duration(seconds: float) -> str:
    """``235.0 h``, ``12.5 min`` or ``41 s``: a projection's size at a glance."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _bench_suite(suite, cfg, backbone, shots_list, repeats, size, limit_gb, as_json,
                 threads) -> None:
    import json

    from fsad import scaling as s

    if suite == "scaling":
        result = {"rows": s.scaling(cfg, backbone, repeats)}
    elif suite == "memory":
        k = shots_list[0] if shots_list else 10
        result = {"rows": s.memory_suite(cfg, size, k, backbone, threads, limit_gb)}
    else:
        result = s.peer(cfg, backbone, repeats)
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    for r in result["rows"]:
        click.echo("  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in r.items()))
    if suite == "peer":
        click.echo(f"forward GFLOP per window: {result['gflop_per_window_64']:.1f} at 64x64, "
                   f"{result['gflop_per_window_256']:.1f} at 256x256 (authors' code: "
                   f"{s.PEER['gflop_per_frame_256']:.0f} at 256x256)")


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
              type=click.FloatRange(50, 100, max_open=True),
              help="Threshold = this percentile of the normal footage's losses.")
@click.option("--threshold", type=float, help="An absolute loss threshold instead.")
@click.option("--seed", default=0, show_default=True, type=int, help="Draw of the K windows.")
@click.option("--batch", default=32, show_default=True, type=click.IntRange(1),
              help="Frames scored per chunk (bounds memory).")
@click.option("--steps", type=click.IntRange(1), help="Adaptation steps (default: the rule "
              "the model was meta-trained with, else the config's inner.steps).")
@click.option("--lr", type=float, help="Adaptation learning rate (same default rule).")
@click.option("--optimizer", type=click.Choice(["sgd", "adam"]), help="(same default rule)")
@CONFIG_OPT
@PARAMS_OPT
@THREADS_OPT
def detect(model, normal, shots, videos, out, annotate, percentile, threshold, seed, batch,
           steps, lr, optimizer, config_file, params_json, threads) -> None:
    """Adapt a model to your camera with K normal windows and flag anomalous frames."""
    from fsad import checkpoint
    from fsad.detect import detect as run

    cfg = _cfg(config_file, params_json)
    _threads(threads)
    rule = dict(checkpoint.load(model).get("settings", {}).get("inner") or cfg["inner"])
    for key, value in (("steps", steps), ("lr", lr), ("optimizer", optimizer)):
        if value is not None:
            rule[key] = value
    written = run(Path(model), Path(normal), shots, [Path(v) for v in videos], Path(out), rule,
                  seed, percentile, threshold, annotate, batch, cfg["device"])
    click.echo(f"wrote {len(written)} files to {out}", err=True)


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
