"""Scoring: adapt a trained model to the target scene with K windows (K = 0: no
adaptation), then predict every frame of every test video and record the raw Eq. 2 loss
and the PSNR per frame. Normalisation (Eq. 4) and AUC happen in fsad.metrics.

The first t frames of a video have no prediction and are not scored (as Liu et al. drop
the first frames); the scores file lists the frames that are.
"""

from __future__ import annotations

import copy
import csv
import logging
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from fsad import FsadError, checkpoint, meta
from fsad.atomic import atomic_path
from fsad.data.store import FrameStore
from fsad.data.windows import WindowSet, sequential_windows, to_tensor
from fsad.device import autocast, pick, prepare
from fsad.losses import frame_loss, psnr
from fsad.models import build, split_output
from fsad.train import objective

log = logging.getLogger("fsad")

COLUMNS = ["source", "target", "backbone", "method", "shots", "seed", "video", "frame",
           "label", "loss", "psnr"]


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


def adaptation_windows(store: FrameStore, scenes: list[str] | None, t: int, shots: int,
                       seed: int, root_seed: int):
    """K windows from the target's normal training videos, drawn by (root seed, seed).

    Also seeds torch's global generator with the same value, so stochastic backbones
    (r-VAE samples its latent while adapting) adapt reproducibly too."""
    windows = WindowSet(store, store.select(scenes, "train"), t)
    if not len(windows):
        raise FsadError(f"{store.path}: the target has no training windows to adapt on")
    draw = root_seed * 100_003 + seed
    torch.manual_seed(draw)
    return windows.sample(shots, torch.Generator().manual_seed(draw))


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
    inner = cfg["inner"]

    def adapt(model, x, y):
        with autocast(device):
            meta.adapt(model, x.to(device), y.to(device), objective(weights), **inner)

    per_video = cfg["evaluate"]["protocol"] == "test_prefix"
    if shots and not per_video:
        adapt(generator, *adaptation_windows(store, scenes, t, shots, seed, cfg["seed"]))
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
        model, skip = generator, 0
        if shots and per_video:
            # MPN's protocol: adapt a fresh copy on this video's first K windows and leave
            # the frames they cover (targets t .. t+K-1) out of the scores.
            if len(clip_frames) < t + shots + 1:
                raise FsadError(f"{video.id}: {len(clip_frames)} frames, too short for "
                                f"{shots} adaptation windows plus one scored frame")
            model, skip = copy.deepcopy(generator), shots
            prefix = to_tensor(np.stack([clip_frames[i:i + t + 1] for i in range(shots)]))
            adapt(model, prefix[:, :-1], prefix[:, -1])
        for frame, lv, pv in predict_video(model, clip_frames[skip:], t, weights, device,
                                           cfg["evaluate"]["batch_size"]):
            frame += skip
            rows.append([labels["source"], target, ckpt["backbone"], labels["method"], shots,
                         seed, video.id, frame, int(clip_labels[frame]), f"{lv:.8g}",
                         f"{pv:.8g}"])
    write_csv(out, COLUMNS, rows)
    log.info("scored %d frames of %d test videos -> %s", len(rows), len(videos), out)
    return out


@torch.no_grad()
def predict_video(model, frames: np.ndarray, t: int, weights: dict, device, batch_size: int):
    """(frame index, Eq. 2 loss, PSNR) for every frame of ``frames`` from t on."""
    model.eval()
    for first, x, y in sequential_windows(frames, t, batch_size):
        x, y = x.to(device), y.to(device)
        with autocast(device):
            pred = split_output(model(x))[0]
        pred = pred.float()
        losses, psnrs = frame_loss(pred, y, weights).tolist(), psnr(pred, y).tolist()
        for i, (lv, pv) in enumerate(zip(losses, psnrs, strict=True)):
            yield first + i, lv, pv


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    """Write a CSV atomically (temporary name, then rename)."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
