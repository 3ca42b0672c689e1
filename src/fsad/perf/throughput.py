"""Throughput at full size on the device's fast path, as a fraction of the hardware's peak,
and the wall time of a whole grid projected from it (`fsad bench --suite throughput`).

On CUDA fsad always trains in bf16 autocast with channels_last weights (device.py); on the
CPU only with ``cpu_bf16``. On one device, in one process, this times:

* ``train``: one pre-training step (generator and discriminator, the config's batch size),
  in fp32 and on the fast path, and with ``compile`` the fast path with the generator
  compiled by ``torch.compile``;
* ``meta``: one meta-iteration at each K of a meta-trained model (the config's tasks, inner
  steps and order), as the pipeline runs it (on CUDA: the fast path). ``torch.compile``
  does not reach it (Dynamo does not trace a compiled module under the inner loop's
  ``torch.func.grad`` called from eager code, pytorch/pytorch#128711; it runs eagerly), so
  it is not timed compiled;
* ``adapt``: one K-shot adaptation (the config's ``inner`` rule) at each evaluated K;
* ``score``: scoring's batched forward pass with Eq. 2 per frame, in frames.

Each row gives seconds, samples (windows) per second, the FLOPs of one call as
``FlopCounterMode`` counts them (convolutions and matrix products, 2 per multiply-add),
the achieved TFLOP/s and its fraction of ``peak_tflops``, and on CUDA the allocator's peak
memory during the call. :func:`project` multiplies the rows by the work of the config's
grid (its sources, targets, K, seeds, steps and iterations) for one device running the jobs
one after another. The test frames of released datasets and the default peak on CUDA come
from the reference figures (``fsad.perf.reference``); without them, such targets are listed
as unscored and no fraction of the peak is given.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

import torch

from fsad import device as devmod
from fsad.adapt import InnerRule, MetaSettings, adapt
from fsad.config import adapted_shots, match_scenes, meta_shots
from fsad.data import synth
from fsad.perf.scaling import scoring_cost
from fsad.perf.timing import count_flops, median_time
from fsad.perf.workload import bench_trainer, random_windows, task_batch
from fsad.train import meta_iteration, pretrain_step


def test_frames(cfg: dict, target: str, known: dict) -> int | None:
    """Test frames of ``target``: counted from the synth settings for a generated dataset,
    else looked up in ``known`` by target or dataset name (None: unknown)."""
    dataset = cfg["targets"][target].get("dataset", target)
    if cfg["datasets"][dataset]["adapter"] == "synthetic":
        plans = synth.plan(cfg["synth"])
        names = cfg["targets"][target].get("scenes")
        chosen = match_scenes(names, [p.name for p in plans]) if names else None
        return sum(p.test_videos * p.frames for p in plans
                   if chosen is None or p.name in chosen)
    return known.get(target, known.get(dataset))


def support_windows(rule: InnerRule, k: int) -> int:
    """Windows one inner loop passes through the generator on K support windows."""
    return rule.steps * min(rule.windows_per_step or k, k)


def measure(fn, repeats: int, dev: torch.device, warmup: int = 0) -> dict:
    """Median seconds of ``fn`` and, on CUDA, the allocator's peak during it (GB). The
    callers have run ``fn`` once already (counting its FLOPs), so no warm-up by default."""
    cuda = dev.type == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    seconds = median_time(fn, repeats, warmup)  # every fn ends in a host read (.item())
    out = {"seconds": seconds}
    if cuda:
        out["peak_gb"] = torch.cuda.max_memory_allocated() / 2**30
    return out


def row(what: str, samples: int, flops: int, timing: dict, peak_tflops: float | None,
        **extra) -> dict:
    tflops = flops / timing["seconds"] / 1e12
    return {"what": what, **extra, "samples": samples, **timing,
            "samples_per_s": samples / timing["seconds"], "tflop_per_call": flops / 1e12,
            "tflops": tflops, "peak_fraction": tflops / peak_tflops if peak_tflops else None}


def _fresh() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def train_rows(cfg: dict, backbone: str, repeats: int, peak: float | None,
               pipeline_fast: bool, variants=("fp32", "fast")):
    """Pre-training step rows, one per variant (``fp32``, ``fast``: bf16 + channels_last,
    ``compiled``: the fast path under torch.compile), as they are measured; ``pipeline``
    marks the one the pipeline runs on this device (``pipeline_fast``)."""
    bs = cfg["pretrain"]["batch_size"]
    labels = {"fp32": "fp32", "fast": "bf16 + channels_last",
              "compiled": "bf16 + channels_last + torch.compile"}
    for variant in variants:
        fast, compiled = variant != "fp32", variant == "compiled"
        flops, timing = _train_step(cfg, backbone, repeats, fast, compiled)
        yield row("pre-training step", bs, flops, timing, peak, path=labels[variant],
                  pipeline=fast == pipeline_fast and not compiled, batch_size=bs)


def _train_step(cfg: dict, backbone: str, repeats: int, fast: bool, compiled: bool):
    _fresh()
    x, y = random_windows(cfg, cfg["pretrain"]["batch_size"], torch.Generator().manual_seed(0))
    with devmod.fast_path(fast):
        tr = bench_trainer(cfg, backbone)
        flops = count_flops(lambda: pretrain_step(tr, x, y))  # eager: before compiling
        if compiled:
            tr.G.compile()
        # compilation happens in the warm-up calls, not in the timed ones
        timing = measure(lambda: pretrain_step(tr, x, y), repeats, tr.device,
                         warmup=3 if compiled else 0)
    return flops, timing


def meta_row(cfg: dict, k: int, backbone: str, repeats: int, peak: float | None) -> dict:
    m, rule = MetaSettings.from_config(cfg["meta"]), InnerRule.from_config(cfg["inner"])
    _fresh()
    tr = bench_trainer(cfg, backbone)
    batch = task_batch(cfg, k)

    def step() -> dict:
        return meta_iteration(tr, batch, rule, m.first_order, m.tasks_per_pass,
                              m.recompute_inner)

    windows = m.tasks * (support_windows(rule, k) + k)  # support passes + query
    return row("meta-iteration", windows, count_flops(step), measure(step, repeats, tr.device),
               peak, shots=k, tasks=m.tasks, inner_steps=rule.steps,
               first_order=m.first_order)


def adapt_row(cfg: dict, k: int, backbone: str, repeats: int, peak: float | None) -> dict:
    rule = InnerRule.from_config(cfg["inner"])
    _fresh()
    tr = bench_trainer(cfg, backbone)
    x, y = (a.to(tr.device) for a in random_windows(cfg, k, torch.Generator().manual_seed(k)))

    def adapt_once() -> float:
        adapt(tr.G, x, y, rule, cfg["loss"])
        return next(tr.G.parameters()).sum().item()  # the host read that ends the call

    return row("adaptation", support_windows(rule, k), count_flops(adapt_once),
               measure(adapt_once, repeats, tr.device), peak, shots=k, inner_steps=rule.steps)


def score_row(cfg: dict, backbone: str, repeats: int, peak: float | None) -> dict:
    t, bs = cfg["model"]["t"], cfg["evaluate"]["batch_size"]
    frames = 4 * bs  # four full batches scored
    _fresh()
    flops = _score_flops(cfg, backbone, frames)
    timing = {"seconds": scoring_cost(cfg, frames + t, backbone, repeats)["seconds"]}
    return row("scoring", frames, flops, timing, peak, batch_size=bs)


def _score_flops(cfg: dict, backbone: str, frames: int) -> int:
    tr = bench_trainer(cfg, backbone)
    x, _ = random_windows(cfg, cfg["evaluate"]["batch_size"], torch.Generator().manual_seed(0))
    x = x.to(tr.device)
    tr.G.eval()
    with torch.no_grad(), devmod.autocast(tr.device):
        per_batch = count_flops(lambda: tr.G(x))
    return per_batch * frames // len(x)


def throughput(cfg: dict, backbone: str = "rgan", shots: list[int] | None = None,
               repeats: int = 2, peak_tflops: float | None = None, compile_g: bool = False,
               on_row: Callable[[dict], None] | None = None,
               figures: dict | None = None) -> dict:
    """Every row of the suite at the config's frame size, and the grid's projection.
    ``on_row`` sees each row as soon as it is measured (progress, and what is left if a
    later one never ends); the compiled step, the riskiest, comes last. ``figures``: the
    reference figures (test frames of released datasets, the default peak on CUDA)."""
    dev = devmod.pick(cfg["device"], cfg.get("deterministic"), cfg.get("cpu_bf16", False))
    if peak_tflops is None and dev.type == "cuda" and figures is not None:
        peak_tflops = figures["peak_tflops"]["cuda"]
    k_meta, k_adapt = (shots, shots) if shots else (meta_shots(cfg), adapted_shots(cfg))
    rows = []
    for r in _measure(cfg, backbone, k_meta, k_adapt, repeats, peak_tflops,
                      devmod.fast(dev), compile_g):
        if r["what"] == "pre-training step" and r["path"] != "fp32":
            r["speedup_vs_fp32"] = rows[0]["seconds"] / r["seconds"]  # fp32 comes first
        rows.append(r)
        if on_row:
            on_row(r)
    f = cfg["frames"]
    covered = set(meta_shots(cfg)) <= set(k_meta) and set(adapted_shots(cfg)) <= set(k_adapt)
    return {"device": torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu",
            "torch": torch.__version__, "size": [f["height"], f["width"], f["channels"]],
            "widths": cfg["model"]["widths"], "backbone": backbone,
            "peak_tflops": peak_tflops, "rows": rows,
            "projection": project(cfg, rows, figures) if covered else None}


def _measure(cfg, backbone, k_meta, k_adapt, repeats, peak, pipeline_fast, compile_g):
    """The suite's rows, one at a time, in the order they are measured."""
    yield from train_rows(cfg, backbone, repeats, peak, pipeline_fast)
    for k in k_meta:
        yield meta_row(cfg, k, backbone, repeats, peak)
    for k in k_adapt:
        yield adapt_row(cfg, k, backbone, repeats, peak)
    yield score_row(cfg, backbone, repeats, peak)
    if compile_g:
        yield from train_rows(cfg, backbone, repeats, peak, pipeline_fast, ("compiled",))


def describe(r: dict) -> str:
    """One row as a line of text."""
    label = r["what"] + (f" ({r['path']})" if "path" in r else "") + (
        f" K={r['shots']}" if "shots" in r else "")
    share = (f" = {100 * r['peak_fraction']:.1f} % of the peak"
             if r["peak_fraction"] is not None else "")
    memory = f", peak {r['peak_gb']:.1f} GB" if "peak_gb" in r else ""
    faster = f", x{r['speedup_vs_fp32']:.2f} over fp32" if "speedup_vs_fp32" in r else ""
    return (f"{label}: {r['seconds']:.4g} s, {r['samples_per_s']:.1f} windows/s, "
            f"{r['tflops']:.2f} TFLOP/s{share}{memory}{faster}")


def project(cfg: dict, rows: list[dict], figures: dict | None = None) -> dict:
    """Seconds the config's grid would take on this device, one job after another, from
    the rows of what the pipeline runs (``pipeline``; not the compiled one): pre-training and
    the meta-training of every K per source and backbone, then per (source, target,
    backbone) every scored cell of the evaluation (K = 0 once per method; each K > 0 once
    per method and seed, each with one adaptation). Frame extraction (CPU work) is not included;
    a target whose test frame count is unknown (not generated, and not in ``figures``, the
    reference figures) is listed under ``unscored``."""
    reference = (figures or {}).get("test_frames", {})
    known, estimated = reference.get("frames", {}), set(reference.get("estimated", ()))
    by = {(r["what"], r.get("shots")): r["seconds"] for r in rows if r.get("pipeline", True)}
    frame_s = next(r["seconds"] / r["samples"] for r in rows if r["what"] == "scoring")
    models = len(cfg["sources"]) * len(cfg["backbones"])
    ev = cfg["evaluate"]
    pretrain_s = models * cfg["pretrain"]["steps"] * by[("pre-training step", None)]
    meta_s = models * sum(cfg["meta"]["iterations"] * by[("meta-iteration", k)]
                          for k in meta_shots(cfg)) if "meta" in ev["methods"] else 0.0
    score_s, unscored, cells = 0.0, [], 0
    for target in cfg["targets"]:
        frames = test_frames(cfg, target, known)
        if frames is None:
            unscored.append(target)
            continue
        for k in ev["shots"]:
            runs = len(ev["methods"]) * (1 if k == 0 else ev["seeds"])
            adapt_s = by[("adaptation", k)] if k else 0.0
            score_s += models * runs * (adapt_s + frames * frame_s)
            cells += models * runs
    return {"pretrain_s": pretrain_s, "meta_s": meta_s, "score_s": score_s,
            "score_cells": cells, "total_s": pretrain_s + meta_s + score_s,
            "total_h": (pretrain_s + meta_s + score_s) / 3600, "unscored": unscored,
            "estimated_frames": sorted(estimated & set(cfg["targets"]))}
