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
from pathlib import Path

import numpy as np
from tqdm import tqdm

from fsad import FsadError, checkpoint
from fsad.adapt import InnerRule, adapt, prefix_windows, training_windows
from fsad.atomic import write_csv
from fsad.data.store import FrameStore
from fsad.data.windows import sequential_windows
from fsad.device import pick, prepare
from fsad.metrics import SCORE_COLUMNS
from fsad.models import build
from fsad.predict import finite_loss, predict

log = logging.getLogger("fsad")

def load_generator(path: Path, store: FrameStore | None = None):
    """The generator of a checkpoint, checked against the frames it will see."""
    ckpt = checkpoint.load(path)
    if store is not None:
        want = ckpt["frames"]
        have = {"height": store.height, "width": store.width, "channels": store.channels}
        if want != have:
            raise FsadError(f"{path} was trained on {want} frames but {store.path} holds "
                            f"{have}; extract the target with the same frames settings")
    generator, _ = build(ckpt["backbone"], ckpt["model"], ckpt["frames"]["channels"])
    generator.load_state_dict(ckpt["generator"])
    return generator, ckpt


def score(cfg: dict, model: Path, frames: Path, target: str, shots: int, seed: int,
          out: Path, labels: dict) -> Path:
    """Adapt, score every test frame of ``target``, write the scores CSV atomically."""
    if shots < 0:
        raise FsadError(f"--shots must be >= 0 (0 = no adaptation), got {shots}")
    if target not in cfg["targets"]:
        raise FsadError(f"unknown target '{target}' (configured: {', '.join(cfg['targets'])})")
    scenes = cfg["targets"][target]["scenes"]
    store = FrameStore(frames)
    generator, ckpt = load_generator(model, store)
    device = pick(cfg["device"], cfg.get("deterministic"), cfg.get("cpu_bf16", False))
    generator = prepare(generator, device)
    weights = ckpt["settings"]["loss"]
    t = ckpt["t"]
    rule = InnerRule.from_config(cfg["inner"])
    per_video = cfg["evaluate"]["protocol"] == "test_prefix"
    if shots and not per_video:
        adapt(generator, *training_windows(store, scenes, t, shots, seed, cfg["seed"]), rule,
              weights, ckpt.get("inner_lr"))
    videos = store.select(scenes, "test")
    if not videos:
        raise FsadError(f"{store.path}: target '{target}' has no test videos")
    for video in videos:  # no window, so no score: its labels would silently drop out
        if video.length <= t:
            raise FsadError(f"{store.path}: test video {video.id} has {video.length} frames, "
                            f"too short for one scored frame (t + 1 = {t + 1}); use longer "
                            "videos or leave this one out of the dataset")
    rows = []
    for video in tqdm(videos, desc=f"score {target} K={shots}", disable=None):
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
                                           cfg["evaluate"]["batch_size"]):
            frame += skip
            finite_loss(lv, f"{model}, video {video.id} frame {frame}", adapted=shots > 0)
            rows.append([labels["source"], target, ckpt["backbone"], labels["method"], shots,
                         seed, video.id, frame, int(clip_labels[frame]), f"{lv:.8g}",
                         f"{pv:.8g}"])
    write_csv(out, SCORE_COLUMNS, rows)
    log.info("scored %d frames of %d test videos -> %s", len(rows), len(videos), out)
    return out


def predict_video(model, frames: np.ndarray, t: int, weights: dict, batch_size: int):
    """(frame index, Eq. 2 loss, PSNR) for every frame of ``frames`` from t on, predicted
    ``batch_size`` windows at a time."""
    for first, x, y in sequential_windows(frames, t, batch_size):
        losses, psnrs = predict(model, x, y, weights)
        for i, (lv, pv) in enumerate(zip(losses, psnrs, strict=True)):
            yield first + i, lv, pv
