"""`fsad detect` gives every input its own results: inputs that share a file name (``a/01.avi
b/01.avi``, two folders of frames called ``frames``) are written under names told apart by
their parent folders, the final line says which input went where, and the same video given
twice is refused: no input's results are written over another's."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2

from fsad.data.video import read_frames
from fsad.detect import input_stem, output_stems
from tests.helpers.cli import files, one_line_error, run_fsad


def frame_folder(video: Path, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for i, frame in enumerate(read_frames(video)):
        cv2.imwrite(str(folder / f"{i:03d}.png"), frame)  # lossless: the same frames
    return folder


def test_inputs_sharing_a_name_get_their_own_results(tiny_model, tiny_synth, tmp_path):
    quiet, busy = tiny_synth / "s00/testing/01.avi", tiny_synth / "s01/testing/01.avi"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(quiet, tmp_path / "a/01.avi")
    shutil.copy(busy, tmp_path / "b/01.avi")
    frame_folder(quiet, tmp_path / "cam1/frames")
    frame_folder(busy, tmp_path / "cam2/frames")
    result = run_fsad("detect", "--model", tiny_model, "--normal",
                      tiny_synth / "s00/training/01.avi", "--shots", 1, "--steps", 1,
                      "a/01.avi", "b/01.avi", "cam1/frames", "cam2/frames", "--out", "out",
                      "--params", json.dumps({"device": "cpu"}), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "wrote 8 files to out (inputs that share a name: a/01.avi -> a_01.*, b/01.avi -> "
        "b_01.*, cam1/frames -> cam1_frames.*, cam2/frames -> cam2_frames.*)")
    assert "INFO b/01.avi: 37 frames scored" in result.stderr
    assert "-> out/b_01.scores.csv" in result.stderr
    out = tmp_path / "out"
    assert files(out) == [f"{stem}.scores.{ext}" for stem in
                          ("a_01", "b_01", "cam1_frames", "cam2_frames") for ext in ("csv", "png")]
    # Each file holds its own input's scores: a video and the folder of its frames agree,
    # the two videos differ.
    csv = {stem: (out / f"{stem}.scores.csv").read_text()
           for stem in ("a_01", "b_01", "cam1_frames", "cam2_frames")}
    assert csv["a_01"] == csv["cam1_frames"] and csv["b_01"] == csv["cam2_frames"]
    assert csv["a_01"] != csv["b_01"]


def test_the_same_video_twice_is_refused(tiny_model, tiny_synth, tmp_path):
    video = tiny_synth / "s00/testing/01.avi"
    out = tmp_path / "out"
    result = run_fsad("detect", "--model", tiny_model, "--normal",
                      tiny_synth / "s00/training/01.avi", "--shots", 0, video,
                      video.parent / ".." / "testing" / "01.avi", "--out", out)
    one_line_error(result, "the same video is given twice (inputs 1 and 2)",
                   "give each video once")
    assert not out.exists()


def test_output_names_are_unique_and_kept_where_nothing_is_shared(tmp_path):
    given = ["a/01.avi", "b/01.avi", "x/a/01.avi", "y/a/01.avi", "a/01.mp4", "a/Cam.avi",
             "b/cam.avi", "a/03.avi", "a_01.avi", "cam/frames/"]
    for name in given:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir() if name.endswith("/") else path.write_bytes(b"")
    videos = [tmp_path / name for name in given]
    names = output_stems(videos)
    assert names == [
        "a_01",      # a/01.avi: its folder tells it from b/01.avi ...
        "b_01",
        "x_a_01",    # ... and two folders from the other a/01.avi files
        "y_a_01",
        "a_01-2",    # beside a/01.avi: no folder tells them apart, a suffix does
        "a_Cam",     # Cam and cam would be one file on a case-insensitive disk
        "b_cam",
        "03",        # nothing shares its name: unchanged
        "a_01-3",    # the input a_01.avi meets a name given above: a suffix
        "frames",    # a folder of frames: its name
    ]
    assert len({n.casefold() for n in names}) == len(names)
    assert output_stems(videos) == names
    assert [input_stem(v) for v in videos[-3:]] == ["03", "a_01", "frames"]
