"""bench/detect_real_camera.py on a video of the smoke run: it cuts the footage, runs
`fsad detect` as a user would, and leaves the score plot and the highest-scoring annotated
frame where the README takes them from."""

from __future__ import annotations

import subprocess
import sys

import cv2
import pytest

from tests.helpers.workflow import REPO


@pytest.mark.slow
def test_detect_real_camera_writes_its_figures_and_summary(smoke_run, tmp_path):
    video = smoke_run / "results/raw/synthetic/s03/testing/01.avi"
    model = smoke_run / "results/models/synthetic/rgan/pretrained/model.pt"
    result = subprocess.run(
        [sys.executable, str(REPO / "bench/detect_real_camera.py"), str(video),
         "--model", str(model), "--normal-frames", "20", "--shots", "1", "--repeat", "2",
         "--threads", "1", "--out", str(tmp_path / "out"), "--figures", str(tmp_path / "fig")],
        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "40 frames, 32x32" in result.stdout and "of the 20 frames after" in result.stdout
    assert "| the rest x 2, one video | 40 |" in result.stdout
    frame = cv2.imread(str(tmp_path / "fig/detect_01_frame.png"))
    assert frame is not None and frame.shape == (32, 32, 3)
    assert (tmp_path / "fig/detect_01_scores.png").stat().st_size > 0
    assert (tmp_path / "out/01_rest.scores.csv").is_file()
    missing = subprocess.run([sys.executable, str(REPO / "bench/detect_real_camera.py"),
                              str(tmp_path / "nope.avi")], capture_output=True, text=True)
    assert missing.returncode != 0 and "nope.avi: not found" in missing.stderr
