"""A gap or a duplicate in the numbering of frame files would shift every later label by
one frame without any error: the adapters reading numbered frames (frames, UCSD,
ShanghaiTech, UR Fall) refuse them, naming the folder and the missing or doubled number.
Checked through `fsad datasets check`, the command a user runs on a fresh download."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers import layouts
from tests.helpers.cli import one_line_error, run_fsad
from tests.helpers.real_data import PED2, needs


def check(adapter: str, root: Path):
    return run_fsad("datasets", "check", adapter, root)


def test_ucsd_missing_tif_in_the_middle_of_a_test_clip(tmp_path):
    root = layouts.ucsd(tmp_path, test=((10, "3:10"), (9, "1:2, 8:9"), (80, "70:80")))
    assert check("ucsd", root).returncode == 0
    (root / "Test/Test003/077.tif").unlink()
    one_line_error(check("ucsd", root), "Test/Test003: frame 77 is missing", "re-download")


def test_ucsd_clip_that_lost_its_first_frames(tmp_path):
    root = layouts.ucsd(tmp_path)
    (root / "Train/Train001/001.tif").unlink()
    (root / "Train/Train001/002.tif").unlink()
    one_line_error(check("ucsd", root), "Train/Train001: frame numbering starts at 3, not at 1")


def test_frames_missing_jpeg_in_a_test_video(tmp_path):
    root = layouts.frames_mat(tmp_path / "tiny")
    for name in ("004.jpg", "005.jpg"):
        (root / "testing/frames/01" / name).unlink()
    one_line_error(check("frames", root), "testing/frames/01: frames 4..5 are missing")


def test_frames_same_number_twice(tmp_path):
    root = layouts.frames_mat(tmp_path / "tiny")
    folder = root / "testing/frames/02"
    shutil.copy(folder / "005.jpg", folder / "5.jpg")
    one_line_error(check("frames", root), "testing/frames/02: frame number 5 appears twice",
                   "005.jpg and 5.jpg")


def test_frames_one_video_without_its_first_frame(tmp_path):
    # Every other folder starts at 000.jpg; this one at 001.jpg: its frame 0 is gone.
    root = layouts.frames_mat(tmp_path / "tiny")
    (root / "testing/frames/02/000.jpg").unlink()
    one_line_error(check("frames", root), "testing/frames/02: frame numbering starts at 1",
                   "training/frames/01 starts at 0")


def test_shanghaitech_same_number_twice(tmp_path):
    root = layouts.shanghaitech(tmp_path / "shanghaitech")
    folder = root / "testing/frames/01_0014"
    shutil.copy(folder / "003.jpg", folder / "3.jpg")
    one_line_error(check("shanghaitech", root), "01_0014: frame number 3 appears twice")


def test_urfall_same_number_twice(tmp_path):
    root = layouts.urfall(tmp_path / "urfall")
    folder = root / "fall-02-cam0-rgb"
    shutil.copy(folder / "fall-02-cam0-rgb-003.png", folder / "fall-02-cam0-rgb-03.png")
    one_line_error(check("urfall", root), "fall-02-cam0-rgb: frame number 3 appears twice")


@needs(PED2)
def test_the_real_ped2_copy_still_passes():
    result = check("frames", PED2)
    assert result.returncode == 0, result.stderr
    assert "12 test; 4560 frames" in result.stdout and "anomalous: 1648" in result.stdout
