"""Input that used to be accepted silently: a still image named `.avi` (a one-frame video)
and videos too short for one window of t + 1 frames (a scores file with a header and no
rows, exit 0). Each is now one line naming the file and the fix, with nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers.cli import files, one_line_error, run_fsad

TARGET = {"device": "cpu", "targets": {"t": {"dataset": "synthetic", "scenes": ["s00"]}}}


@pytest.fixture
def synthetic(tiny_synth, tmp_path) -> Path:
    return Path(shutil.copytree(tiny_synth, tmp_path / "synthetic"))


def png_bytes() -> bytes:
    return cv2.imencode(".png", np.zeros((32, 32, 3), np.uint8))[1].tobytes()


def test_png_named_avi_in_a_dataset(synthetic, tmp_path):
    (synthetic / "s01/training/01.avi").write_bytes(png_bytes())
    out = tmp_path / "out"
    result = run_fsad("extract", "--adapter", "synthetic", "--root", synthetic, "--out",
                      out / "store.h5")
    one_line_error(result, "s01/training/01.avi: a PNG image, not a video")
    assert files(out) == []


def test_png_named_avi_given_to_detect(tiny_model, tiny_synth, tmp_path):
    video = tmp_path / "camera.avi"
    video.write_bytes(png_bytes())
    out = tmp_path / "out"
    result = run_fsad("detect", "--model", tiny_model, "--normal",
                      tiny_synth / "s00/training/01.avi", "--shots", 1, video, "--out", out,
                      "--steps", 1, "--params", json.dumps({"device": "cpu"}))
    one_line_error(result, "camera.avi: a PNG image, not a video")
    assert not out.exists()


def two_frame_video(path: Path, labels: Path | None = None) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (32, 32), True)
    for value in (60, 120):
        writer.write(np.full((32, 32, 3), value, np.uint8))
    writer.release()
    if labels is not None:
        labels.write_text("frame,label,kind\n0,0,normal\n1,1,speed\n")


def extract(root: Path, out: Path) -> Path:
    result = run_fsad("extract", "--adapter", "synthetic", "--root", root, "--out", out,
                      "--params", json.dumps({"frames": {"height": 32, "width": 32}}))
    assert result.returncode == 0, result.stderr  # extraction cannot know t: it passes
    return out


def test_scoring_a_test_video_shorter_than_one_window(synthetic, tiny_model, tmp_path):
    two_frame_video(synthetic / "s00/testing/01.avi", synthetic / "s00/testing/01.csv")
    store = extract(synthetic, tmp_path / "frames.h5")
    out = tmp_path / "out"
    result = run_fsad("score", "--model", tiny_model, "--frames", store, "--target", "t",
                      "--shots", 0, "--params", json.dumps(TARGET), "--out",
                      out / "scores.csv")
    one_line_error(result, "test video s00/test/01 has 2 frames",
                   "too short for one scored frame (t + 1 = 4)", "longer videos")
    assert files(out) == []


def test_training_on_videos_shorter_than_one_window(synthetic, tiny_store, tmp_path):
    two_frame_video(synthetic / "s00/training/01.avi")
    store = extract(synthetic, tmp_path / "frames.h5")
    out = tmp_path / "out"
    params = {"device": "cpu", "sources": {"s": {"dataset": "synthetic", "scenes": ["s00"]}},
              "model": {"widths": [4, 8], "lstm_hidden": 4, "disc_width": 4},
              "pretrain": {"steps": 1, "batch_size": 1, "checkpoint_every": 1}}
    result = run_fsad("train", "--method", "pretrain", "--source", "s", "--frames", store,
                      "--out", out / "model.pt", "--params", json.dumps(params))
    one_line_error(result, "only 0 exist in 1 video(s)", "2 frames or fewer",
                   "t + 1 = 4 frames", "use longer videos")
    assert [f for f in files(out) if f.endswith("model.pt")] == []
