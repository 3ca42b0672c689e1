"""A disk that fills up while a checkpoint or a video is written. As in test_bad_input, the
child runs under RLIMIT_FSIZE with SIGXFSZ ignored, so a write past the limit fails with
EFBIG exactly as a full disk fails it with ENOSPC; the message must name the output file
(not `?`), and no output may be counted or left as written."""

from __future__ import annotations

import json
import resource
import signal
import subprocess

import cv2
import numpy as np

from tests.helpers.cli import files, one_line_error, run_fsad

SMALL = {"device": "cpu", "sources": {"s": {"dataset": "synthetic", "scenes": ["s00"]}},
         "model": {"widths": [4, 8], "lstm_hidden": 4, "disc_width": 4},
         "pretrain": {"steps": 2, "batch_size": 2, "checkpoint_every": 1}}


def run_limited(limit: int, *args) -> subprocess.CompletedProcess:
    def child():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return run_fsad(*args, preexec=child)


def test_checkpoint_write_on_a_full_disk_names_the_checkpoint(tiny_store, tmp_path):
    out = tmp_path / "out"
    result = run_limited(8 * 1024, "train", "--method", "pretrain", "--source", "s",
                         "--frames", tiny_store, "--out", out / "model.pt", "--params",
                         json.dumps(SMALL))
    line = one_line_error(result, "out/state.pt: File too large", "free disk space")
    assert not line.startswith("fsad: error: ?")
    assert not [f for f in files(out) if ".tmp-" in f or f == "model.pt"]


def test_annotated_video_that_does_not_fit_is_reported_not_counted(tiny_model, tiny_synth,
                                                                   tmp_path):
    # Noise compresses badly: at 128x128 the annotated .avi grows far past the 64 KiB
    # limit, while the scores CSV and plot of the same video stay well below it.
    video = tmp_path / "camera.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 25, (128, 128))
    rng = np.random.default_rng(0)
    for _ in range(12):
        writer.write(rng.integers(0, 255, (128, 128, 3), np.uint8))
    writer.release()
    out = tmp_path / "out"
    result = run_limited(64 * 1024, "detect", "--model", tiny_model, "--normal",
                         tiny_synth / "s00/training/01.avi", "--shots", 1, video, "--out", out,
                         "--annotate", "--steps", 1, "--params", json.dumps({"device": "cpu"}))
    one_line_error(result, "out/camera.annotated.avi: only", "frames written can be read back",
                   "free disk space")
    assert "wrote" not in result.stderr
    assert not out.exists()  # created by this run, so removed with what it held


def test_synthetic_video_that_does_not_fit(tmp_path):
    params = {"synth": {"scenes": 2, "train_videos": 1, "test_videos": 1, "frames": 40,
                        "height": 64, "width": 64}}
    result = run_limited(16 * 1024, "synth", "--out", tmp_path / "synthetic", "--params",
                         json.dumps(params))
    one_line_error(result, "synthetic/s00/training/01.avi: only", "free disk space")
    assert files(tmp_path) == []


def test_a_video_written_in_full_passes_the_check(tmp_path):
    from fsad.data.video import VideoWriter, decodable_frames

    with VideoWriter(tmp_path / "v.avi", 16, 16) as writer:
        for i in range(5):
            writer.write(np.full((16, 16), 40 * i, np.uint8))
    assert decodable_frames(tmp_path / "v.avi") == 5
