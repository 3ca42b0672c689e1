"""`fsad detect` on synthetic video: a planted anomaly scores higher than normal frames;
outputs decode; every documented error is a one-line message."""

import csv

import cv2
import numpy as np
import pytest

from fsad import checkpoint
from fsad import config as cfgmod
from fsad.data.video import VideoWriter, read_frames
from fsad.train import pretrain
from tests.helpers.cli import run_fsad


@pytest.fixture(scope="module")
def model(tiny_store, tmp_path_factory):
    cfg = cfgmod.load(overrides={
        "device": "cpu", "sources": {"s": {"dataset": "synthetic", "scenes": ["s00"]}},
        "model": {"widths": [8, 16], "lstm_hidden": 4, "disc_width": 4},
        "pretrain": {"steps": 60, "batch_size": 8, "checkpoint_every": 60}})
    out = tmp_path_factory.mktemp("m") / "model.pt"
    pretrain(cfg, tiny_store, "s", "rgan", out)
    return out


@pytest.fixture(scope="module")
def planted(tiny_synth, tmp_path_factory):
    """The scene's second-half normal footage with a bright square jumping in frames 20-27."""
    frames = list(read_frames(tiny_synth / "s00/training/01.avi"))
    path = tmp_path_factory.mktemp("v") / "planted.avi"
    rng = np.random.default_rng(0)
    with VideoWriter(path, 32, 32) as w:
        for i, f in enumerate(frames):
            f = f.copy()
            if 20 <= i < 28:
                y, x = rng.integers(0, 22, 2)
                f[y:y + 10, x:x + 10] = 255
            w.write(f)
    return path


def fsad(*args):
    return run_fsad(*args)


def test_planted_anomaly_scores_higher(model, planted, tiny_synth, tmp_path):
    normal = tiny_synth / "s00/training/01.avi"
    r = fsad("detect", "--model", model, "--normal", normal, "--shots", 2, planted,
             "--out", tmp_path, "--annotate", "--threads", 1)
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "planted.scores.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["frame"]) for r in rows] == list(range(3, 40))
    score = {int(r["frame"]): float(r["score"]) for r in rows}
    inside = [score[f] for f in range(21, 28)]  # 20 is still predicted from clean frames
    outside = [s for f, s in score.items() if f < 20 or f > 30]
    assert min(inside) > max(outside)
    assert sum(int(r["flag"]) for r in rows if 21 <= int(r["frame"]) < 28) == 7
    assert (tmp_path / "planted.scores.png").stat().st_size > 1000
    annotated = list(read_frames(tmp_path / "planted.annotated.avi"))
    assert len(annotated) == 40 and annotated[0].shape == (32, 32, 3)


def test_folder_of_frames_and_long_chunks(model, planted, tiny_synth, tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, f in enumerate(read_frames(planted)):
        cv2.imwrite(str(folder / f"{i:04d}.png"), f)
    r = fsad("detect", "--model", model, "--normal", tiny_synth / "s00/training/01.avi",
             "--shots", 0, folder, "--out", tmp_path / "o", "--batch", 5)
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader((tmp_path / "o/frames.scores.csv").read_text().splitlines()))
    assert len(rows) == 37  # chunking of 5 windows loses no frame


@pytest.mark.parametrize("case", ["unreadable", "short", "too_many_shots", "version",
                                  "backbone"])
def test_errors(case, model, planted, tiny_synth, tmp_path):
    normal, video, shots, ckpt = tiny_synth / "s00/training/01.avi", planted, 2, model
    if case == "unreadable":
        video = tmp_path / "bad.avi"
        video.write_bytes(b"not a video")
        expect = "bad.avi"
    elif case == "short":
        video = tmp_path / "short.avi"
        with VideoWriter(video, 32, 32) as w:
            for _ in range(2):
                w.write(np.zeros((32, 32, 3), np.uint8))
        expect = "at least t + 1 = 4"
    elif case == "too_many_shots":
        shots, expect = 100, "--shots 100 needs 100 windows"
    else:
        payload = checkpoint.load(model)
        payload = {k: v for k, v in payload.items() if k not in ("format", "version")}
        ckpt = tmp_path / "other.pt"
        if case == "version":
            import torch

            torch.save({**payload, "format": "fsad-checkpoint", "version": 99}, ckpt)
            expect = "format version 99"
        else:
            checkpoint.save(ckpt, {**payload, "backbone": "nope"})
            expect = "unknown backbone 'nope'"
    r = fsad("detect", "--model", ckpt, "--normal", normal, "--shots", shots, video,
             "--out", tmp_path / "out")
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and expect in r.stderr, r.stderr
