"""Scoring: adapt a trained model to the target scene with K windows (K = 0: no
adaptation; ``fsad.adapt``), then predict every frame of every test video
(``fsad.predict``) and record the raw Eq. 2 loss and the PSNR per frame. Normalisation
(Eq. 4) and AUC happen in fsad.metrics.

The first t frames of a video have no prediction and are not scored (as Liu et al. drop
the first frames); the scores file lists the frames that are.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from fsad import FsadError, checkpoint
from fsad.adapt import InnerRule, adapt, prefix_windows, training_windows
from fsad.atomic import write_csv
from fsad.data.store import FrameStore
from fsad.data.windows import to_tensor
from fsad.device import pick, prepare
from fsad.metrics import SCORE_COLUMNS
from fsad.models import build
from fsad.predict import finite_loss, predict_clip

log = logging.getLogger("fsad")


def load_generator(path: Path, store: FrameStore | None = None, ckpt: dict | None = None):
    """The generator of a checkpoint (read from ``path`` unless ``ckpt`` is its content
    already), checked against the frames it will see."""
    ckpt = checkpoint.load(path) if ckpt is None else ckpt
    if store is not None:
        want = ckpt["frames"]
        have = {"height": store.height, "width": store.width, "channels": store.channels}
        if want != have:
            raise FsadError(f"{path} was trained on {want} frames but {store.path} holds "
                            f"{have}; extract the target with the same frames settings")
    generator, _ = build(ckpt["backbone"], ckpt["model"], ckpt["frames"]["channels"])
    generator.load_state_dict(ckpt["generator"])
    return generator, ckpt


@dataclass(frozen=True)
class Cell:
    """One scores file: ``model`` adapted with ``shots`` windows of draw ``seed``."""

    shots: int
    seed: int
    model: Path
    out: Path


def score(cfg: dict, model: Path, frames: Path, target: str, shots: int, seed: int,
          out: Path, labels: dict) -> Path:
    """Adapt, score every test frame of ``target``, write the scores CSV atomically."""
    return score_cells(cfg, frames, target, [Cell(shots, seed, model, out)], labels)[0]


def score_cells(cfg: dict, frames: Path, target: str, cells: list[Cell],
                labels: dict) -> list[Path]:
    """:func:`score` for several cells of one target in one process: the interpreter
    starts, and the frame store and each checkpoint are opened, once per target and method
    instead of once per K and seed. Each cell starts from its checkpoint's own weights and
    writes its file as soon as it is done, so every file equals the one a single-cell run
    writes."""
    if target not in cfg["targets"]:
        raise FsadError(f"unknown target '{target}' (configured: {', '.join(cfg['targets'])})")
    for cell in cells:
        if cell.shots < 0:
            raise FsadError(f"--shots must be >= 0 (0 = no adaptation), got {cell.shots}")
    scenes = cfg["targets"][target]["scenes"]
    store = FrameStore(frames)
    checkpoints = {path: checkpoint.load(path) for path in dict.fromkeys(c.model for c in cells)}
    for path, ckpt in checkpoints.items():
        load_generator(path, store, ckpt)  # refuse a mismatch before any file is written
    videos = store.select(scenes, "test")
    if not videos:
        raise FsadError(f"{store.path}: target '{target}' has no test videos")
    t_max = max(ckpt["t"] for ckpt in checkpoints.values())
    for video in videos:  # no window, so no score: its labels would silently drop out
        if video.length <= t_max:
            raise FsadError(f"{store.path}: test video {video.id} has {video.length} frames, "
                            f"too short for one scored frame (t + 1 = {t_max + 1}); use "
                            "longer videos or leave this one out of the dataset")
    device = pick(cfg["device"], cfg.get("deterministic"), cfg.get("cpu_bf16", False))
    rule = InnerRule.from_config(cfg["inner"])
    written = []
    for cell in cells:
        ckpt = checkpoints[cell.model]
        generator = prepare(load_generator(cell.model, None, ckpt)[0], device)
        rows = _score_cell(cfg, store, scenes, videos, generator, ckpt, rule, cell,
                           [labels["source"], target, ckpt["backbone"], labels["method"]])
        write_csv(cell.out, SCORE_COLUMNS, rows)
        log.info("scored %d frames of %d test videos -> %s", len(rows), len(videos), cell.out)
        written.append(cell.out)
    return written


def _score_cell(cfg: dict, store: FrameStore, scenes: list[str], videos: list, generator,
                ckpt: dict, rule: InnerRule, cell: Cell, prefix: list) -> list[list]:
    """The scores rows of one cell: adapt ``generator`` (in place) and predict every frame."""
    weights, t, shots = ckpt["settings"]["loss"], ckpt["t"], cell.shots
    per_video = cfg["evaluate"]["protocol"] == "test_prefix"
    if shots and not per_video:
        adapt(generator, *training_windows(store, scenes, t, shots, cell.seed, cfg["seed"]),
              rule, weights, ckpt.get("inner_lr"))
    rows = []
    for video in tqdm(videos, desc=f"score {prefix[1]} K={shots}", disable=None):
        # read per video, per cell: the test videos of a real dataset need not fit in memory
        clip_frames, clip_labels = store.frames(video.id), store.labels(video.id)
        net, skip = generator, 0
        if shots and per_video:
            # MPN's protocol: adapt a fresh copy on this video's first K windows and leave
            # the frames they cover (targets t .. t+K-1) out of the scores.
            if len(clip_frames) < t + shots + 1:
                raise FsadError(f"{video.id}: {len(clip_frames)} frames, too short for "
                                f"{shots} adaptation windows plus one scored frame")
            net, skip = copy.deepcopy(generator), shots
            adapt(net, *prefix_windows(clip_frames, t, shots), rule, weights, ckpt.get("inner_lr"))
        for frame, lv, pv in predict_video(net, clip_frames[skip:], t, weights,
                                           cfg["evaluate"]["batch_size"],
                                           cfg["evaluate"]["patch"]):
            frame += skip
            finite_loss(lv, f"{cell.model}, video {video.id} frame {frame}", adapted=shots > 0)
            rows.append([*prefix, shots, cell.seed, video.id, frame, int(clip_labels[frame]),
                         f"{lv:.8g}", f"{pv:.8g}"])
    return rows


def predict_video(model, frames: np.ndarray, t: int, weights: dict, batch_size: int,
                  patch: int | None = None):
    """(frame index, Eq. 2 loss, PSNR) for every frame of ``frames`` from t on, predicted
    ``batch_size`` windows at a time (with ``patch``, the patch score for the loss)."""
    for first, clip in video_clips(frames, t, batch_size):
        losses, psnrs = predict_clip(model, clip, t, weights, patch)
        for i, (lv, pv) in enumerate(zip(losses, psnrs, strict=True)):
            yield first + i, lv, pv


def video_clips(frames: np.ndarray, t: int, batch_size: int):
    """(index of the first scored frame, clip) covering every frame of ``frames`` from t on,
    ``batch_size`` scored frames per clip, each clip with the t frames before its first."""
    for first in range(t, len(frames), batch_size):
        last = min(len(frames), first + batch_size)  # frames first .. last-1 are scored
        yield first, to_tensor(frames[first - t:last])
