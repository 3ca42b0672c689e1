"""`fsad bench`'s suites run and written out: one JSON object (``as_json``) or lines of text.
The command line only parses its options and prints what :func:`run` returns."""

from __future__ import annotations

import json
from collections.abc import Callable

from fsad import FsadError
from fsad.config import meta_shots
from fsad.perf import reference

SUITES = ("ratios", "scaling", "memory", "peer", "throughput")


def run(suite: str, cfg: dict, backbone: str = "rgan", shots: list[int] = (),
        repeats: int = 3, size: int = 256, compile_g: bool = False,
        peak_tflops: float | None = None, memory_limit_gb: float | None = None,
        threads: int | None = None, reference_path=None, as_json: bool = False,
        progress: Callable[[str], None] = lambda line: None) -> str:
    """Run ``suite`` and return what `fsad bench` prints; ``progress`` gets a line per
    throughput row as soon as it is measured."""
    shots = list(shots)
    if suite == "ratios":
        result = _ratios(cfg, backbone, shots, repeats)
        return json.dumps(result, indent=2) if as_json else ratios_text(result)
    if suite == "throughput":
        from fsad.perf import throughput
        from fsad.perf.workload import at

        result = throughput.throughput(
            at(cfg, size=size), backbone, shots, repeats, peak_tflops, compile_g,
            lambda r: progress(f"measured {throughput.describe(r)}"),
            reference.load(reference_path))
        return json.dumps(result, indent=2) if as_json else throughput_text(result)
    if suite == "scaling":
        from fsad.perf.scaling import scaling

        result = {"rows": scaling(cfg, backbone, repeats)}
    elif suite == "memory":
        from fsad.perf.memory import memory_suite

        k = shots[0] if shots else 10
        result = {"rows": memory_suite(cfg, size, k, backbone, threads, memory_limit_gb)}
    elif suite == "peer":
        from fsad.perf.peer import peer

        figures = reference.require(reference.load(reference_path), "the peer suite")
        result = peer(cfg, figures, backbone, repeats)
    else:
        raise FsadError(f"unknown benchmark suite '{suite}' (suites: {', '.join(SUITES)})")
    if as_json:
        return json.dumps(result, indent=2)
    lines = rows_text(result["rows"])
    if suite == "peer":
        lines.append(f"forward GFLOP per window: {result['gflop_per_window_64']:.1f} at 64x64, "
                     f"{result['gflop_per_window_256']:.1f} at 256x256 (authors' code: "
                     f"{result['peer']['gflop_per_frame_256']:.0f} at 256x256)")
    return "\n".join(lines)


def _ratios(cfg: dict, backbone: str, shots: list[int], repeats: int) -> dict:
    from fsad.perf import ratios

    shots = shots or meta_shots(cfg)
    if not shots:
        raise FsadError("the config evaluates no K > 0, so no meta-trained K to measure; give "
                        "--shots K")
    result = {"train": ratios.train_throughput(cfg, backbone, repeats),
              "data": ratios.data_path(cfg, backbone, repeats),
              "scoring": ratios.scoring(cfg, backbone, repeats),
              "meta": [ratios.meta_vs_plain(cfg, k, backbone, repeats) for k in shots]}
    result["extract_vs_decode"] = result["data"]["extract_vs_decode"]
    result["loader_vs_model"] = result["data"]["loader_vs_model"]
    result["score_vs_forward"] = result["scoring"]["score_vs_forward"]
    result["meta_vs_plain"] = result["meta"][0]["meta_vs_plain"]
    return result


def ratios_text(result: dict) -> str:
    d, sc, t = result["data"], result["scoring"], result["train"]
    lines = [
        f"extraction: {d['extract_fps']:.0f} frames/s vs decode-only {d['decode_fps']:.0f} "
        f"frames/s -> x{d['extract_vs_decode']:.2f}",
        f"window loader: {d['loader_windows_per_s']:.0f} windows/s vs the model's "
        f"{d['model_windows_per_s']:.1f} -> x{d['loader_vs_model']:.1f}",
        f"scoring: {sc['score_fps']:.0f} frames/s vs bare forward {sc['forward_fps']:.0f}"
        f" frames/s -> x{sc['score_vs_forward']:.2f}",
        f"training: {t['samples_per_s']:.1f} samples/s (batch {t['batch_size']}, "
        f"{1000 * t['step_s']:.0f} ms/step)"]
    for r in result["meta"]:
        lines.append(
            f"meta-iteration K={r['shots']} ({r['tasks']} tasks x {r['inner_steps']} inner "
            f"steps, {'first' if r['first_order'] else 'second'} order): "
            f"{r['meta_iteration_s']:.3f} s vs {r['plain_passes_s']:.3f} s for {r['passes']} "
            f"plain passes -> x{r['meta_vs_plain']:.2f}; one task per pass "
            f"{r['one_task_per_pass_s']:.3f} s -> batching x{r['batching_speedup']:.2f}")
    return "\n".join(lines)


def throughput_text(result: dict) -> str:
    from fsad.perf.throughput import describe

    peak = f", peak {result['peak_tflops']:g} TFLOP/s" if result["peak_tflops"] else ""
    size = result["size"]
    lines = [f"{result['device']} (torch {result['torch']}), {result['backbone']} at "
             f"{size[0]}x{size[1]}, widths {result['widths']}{peak}"]
    lines += [describe(r) for r in result["rows"]]
    p = result["projection"]
    if p is None:
        lines.append("grid projection: needs every evaluated K (leave out --shots)")
        return "\n".join(lines)
    lines.append(
        f"grid projection, one job after another: pre-training {duration(p['pretrain_s'])}, "
        f"meta-training {duration(p['meta_s'])}, {p['score_cells']} scored (method, K, seed) "
        f"cells {duration(p['score_s'])} -> {duration(p['total_s'])}"
        + (f" (test frames estimated: {', '.join(p['estimated_frames'])})"
           if p["estimated_frames"] else "")
        + (f" (not scored, test frames unknown: {', '.join(p['unscored'])})"
           if p["unscored"] else ""))
    return "\n".join(lines)


def rows_text(rows: list[dict]) -> list[str]:
    """One line per row: ``key=value`` pairs, floats to 4 significant digits."""
    return ["  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                      for k, v in r.items()) for r in rows]


def duration(seconds: float) -> str:
    """``235.0 h``, ``12.5 min`` or ``41 s``: a projection's size at a glance."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"
