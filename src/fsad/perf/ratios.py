"""The default suite of `fsad bench` (``--suite ratios``): side-by-side measurements. Every
figure is a ratio of two things timed in the same process on the same inputs, alternating
round by round, and the median of the per-round ratios is reported (``alternate``), so
machine noise mostly cancels.

* ``train``: plain training throughput (samples/s) at the config's batch size;
* ``extract_vs_decode``: frames/s of extraction into the HDF5 store against OpenCV
  decode-only frames/s of the same videos (1.0 = extraction costs nothing beyond decoding);
* ``loader_vs_model``: windows/s the store's window sampler delivers against windows/s the
  model trains on (above 1 = the loader is never the bottleneck);
* ``score_vs_forward``: frames/s of ``fsad score``'s scoring loop (store reads, batching,
  Eq. 2 and PSNR per frame) against the model's bare batched forward pass on the same
  clips, computed as scoring computes it (``fsad.predict.clip_predictions``);
* ``meta_vs_plain``: one meta-iteration (tasks x (inner steps + query) on K windows, outer
  step, discriminator step) against the same number of plain forward/backward passes at
  the same batch sizes followed by one optimiser and one discriminator step;
  ``batching_speedup``: the same meta-iteration one task per pass against
  ``meta.tasks_per_pass`` (default: all tasks in one vmap pass).
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import replace
from pathlib import Path

import torch

from fsad import meta
from fsad.adapt import InnerRule, MetaSettings
from fsad.device import autocast
from fsad.models import split_output
from fsad.perf.timing import alternate, median_time, round_ratio
from fsad.perf.workload import bench_trainer, random_windows, task_batch
from fsad.train import meta_iteration, pretrain_step


def train_throughput(cfg: dict, backbone: str = "rgan", repeats: int = 5) -> dict:
    tr = bench_trainer(cfg, backbone)
    bs = cfg["pretrain"]["batch_size"]
    x, y = random_windows(cfg, bs, torch.Generator().manual_seed(0))
    seconds = median_time(lambda: pretrain_step(tr, x, y), repeats)
    return {"batch_size": bs, "step_s": seconds, "samples_per_s": bs / seconds}


def meta_vs_plain(cfg: dict, shots: int, backbone: str = "rgan", repeats: int = 3) -> dict:
    m, rule = MetaSettings.from_config(cfg["meta"]), InnerRule.from_config(cfg["inner"])
    tr = bench_trainer(cfg, backbone)
    batch = task_batch(cfg, shots)

    # The same forward/backward passes at the same batch sizes, through ordinary autograd:
    # per task, each inner step's support windows, then the K query windows.
    plain_batches = [meta.support_batch(xs, ys, step, rule.windows_per_step)
                     for xs, ys, _, _ in batch for step in range(1, rule.steps + 1)]
    plain_batches += [(xq, yq) for _, _, xq, yq in batch]
    passes = len(plain_batches)

    def plain() -> None:
        tr.opt_g.zero_grad(set_to_none=True)
        preds = []
        for x, y in plain_batches:
            out = tr.G(x)
            pred = split_output(out)[0]
            (tr.loss_fn(out, y) + tr.adversarial(pred)).backward()
            preds.append(pred.detach())
        tr.opt_g.step()
        tr.discriminator_step(torch.cat([yq for *_, yq in batch]),
                              torch.cat(preds[-len(batch):]))

    def meta_step(settings: MetaSettings = m) -> None:
        meta_iteration(tr, batch, rule, settings.first_order, settings.tasks_per_pass,
                       settings.recompute_inner)

    rounds = alternate([meta_step, plain, lambda: meta_step(replace(m, tasks_per_pass=1))],
                       repeats)
    meta_s, plain_s, seq_s = (statistics.median(t) for t in zip(*rounds, strict=True))
    return {"shots": shots, "tasks": m.tasks, "inner_steps": rule.steps,
            "first_order": m.first_order, "tasks_per_pass": m.tasks_per_pass,
            "passes": passes, "meta_iteration_s": meta_s, "plain_passes_s": plain_s,
            "meta_vs_plain": round_ratio([[t_meta, t_plain] for t_meta, t_plain, _ in rounds]),
            "one_task_per_pass_s": seq_s,
            "batching_speedup": round_ratio([[t_seq, t_meta] for t_meta, _, t_seq in rounds])}


def video_frames(synth: dict) -> int:
    """Frames per video of the benchmark scenes generated here: the configured benchmark's
    (its one set's, or its longest named set's), at least 60."""
    sets = (synth.get("sets") or {}).values()
    return max(60, synth.get("frames") or 0, *(s["frames"] for s in sets))


def data_path(cfg: dict, backbone: str = "rgan", repeats: int = 3) -> dict:
    """Extraction vs decode-only, and the window sampler vs the model's appetite, on a
    freshly generated synthetic scene of the configured size."""
    from fsad.data.adapters import load_videos
    from fsad.data.store import FrameStore, write_store
    from fsad.data.synth import generate
    from fsad.data.windows import WindowSet

    s, f = cfg["synth"], cfg["frames"]
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "synth", scenes=2, train_videos=2, test_videos=1,
                        frames=video_frames(s), height=s["height"], width=s["width"])
        videos = load_videos("synthetic", root)
        store_path = Path(tmp) / "s.h5"

        def decode() -> None:
            for v in videos:
                for _ in v.frames():
                    pass

        def extract() -> None:
            write_store(videos, store_path, f["height"], f["width"], f["channels"])

        rounds = alternate([decode, extract], max(repeats, 5))
        t_decode, t_extract = (statistics.median(t) for t in zip(*rounds, strict=True))
        store = FrameStore(store_path)
        n_frames = sum(v.length for v in store.videos)  # counted by the extraction itself
        windows = WindowSet(store, store.select(None, "train"), cfg["model"]["t"])
        bs = cfg["pretrain"]["batch_size"]
        gen = torch.Generator().manual_seed(0)
        t_load = median_time(lambda: windows.sample(bs, gen), max(repeats, 10))
        store.close()
    model = train_throughput(cfg, backbone, repeats)
    return {"frames": n_frames, "decode_fps": n_frames / t_decode,
            "extract_fps": n_frames / t_extract, "extract_vs_decode": round_ratio(rounds),
            "loader_windows_per_s": bs / t_load, "model_windows_per_s": model["samples_per_s"],
            "loader_vs_model": (bs / t_load) / model["samples_per_s"]}


def scoring(cfg: dict, backbone: str = "rgan", repeats: int = 3) -> dict:
    """``fsad score``'s loop against the bare forward pass, on one synthetic test scene."""
    from fsad import checkpoint
    from fsad.data.adapters import load_videos
    from fsad.data.store import FrameStore, write_store
    from fsad.data.synth import generate
    from fsad.predict import clip_predictions
    from fsad.score import score, video_clips

    s, f = cfg["synth"], cfg["frames"]
    bs = cfg["evaluate"]["batch_size"]
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "synth", scenes=2, train_videos=1, test_videos=2,
                        frames=video_frames(s), height=s["height"], width=s["width"])
        store_path = write_store(load_videos("synthetic", root), Path(tmp) / "s.h5",
                                 f["height"], f["width"], f["channels"])
        tr = bench_trainer(cfg, backbone)
        model = Path(tmp) / "m.pt"
        checkpoint.save(model, {**tr._payload(), "settings": {"loss": cfg["loss"]}})
        cfg = {**cfg, "targets": {"t": {"dataset": "synthetic", "scenes": ["s01"]}}}
        out = Path(tmp) / "scores.csv"

        def score_all() -> None:
            score(cfg, model, store_path, "t", 0, 0, out, {"source": "", "method": ""})

        store = FrameStore(store_path)
        t = cfg["model"]["t"]
        clips = [clip.to(tr.device) for v in store.select(["s01"], "test")
                 for _, clip in video_clips(store.frames(v.id), t, bs)]
        n = sum(len(clip) - t for clip in clips)
        tr.G.eval()

        def forward() -> None:  # the same precision as scoring (bf16 on CUDA)
            with torch.no_grad(), autocast(tr.device):
                for clip in clips:
                    clip_predictions(tr.G, clip, t)

        rounds = alternate([forward, score_all], repeats)
        store.close()
    t_forward, t_score = (statistics.median(t) for t in zip(*rounds, strict=True))
    return {"frames": n, "score_fps": n / t_score, "forward_fps": n / t_forward,
            "score_vs_forward": round_ratio(rounds)}
