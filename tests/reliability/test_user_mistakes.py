"""User mistakes that used to end in a traceback: each now ends in one line naming the file
or key and the fix, with a non-zero exit status and nothing written."""

from __future__ import annotations

import csv
import json
import pickle
import shutil
from pathlib import Path

import pytest

from fsad.metrics import SCORE_COLUMNS as COLUMNS
from tests.helpers import layouts
from tests.helpers.cli import files, one_line_error, run_fsad

# --- label files ------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["-1", "256"])
def test_synthetic_label_outside_0_1(tiny_synth, tmp_path, value):
    root = Path(shutil.copytree(tiny_synth, tmp_path / "synthetic"))
    labels = root / "s01/testing/01.csv"
    rows = labels.read_text().splitlines()
    frame, _, kind = rows[5].split(",")
    rows[5] = ",".join([frame, value, kind])
    labels.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    result = run_fsad("extract", "--adapter", "synthetic", "--root", root, "--out",
                      out / "store.h5")
    one_line_error(result, f"s01/testing/01.csv:6: label {value}", "regenerate")
    assert files(out) == []


def _pickle(path: Path) -> None:
    path.write_bytes(pickle.dumps({"gt": [[1, 2]]}))


def _text(path: Path) -> None:
    path.write_text("gt = {[3; 6], [1 8; 2 9]};\n" * 20)


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:100])


@pytest.mark.parametrize("spoil", [_pickle, _text, _truncated], ids=["pickle", "text",
                                                                     "truncated"])
def test_mat_label_file_that_is_not_a_mat(tmp_path, spoil):
    root = layouts.frames_mat(tmp_path / "tiny")
    spoil(root / "tiny.mat")
    out = tmp_path / "out"
    result = run_fsad("extract", "--adapter", "frames", "--root", root, "--out",
                      out / "store.h5")
    one_line_error(result, "tiny.mat: cannot read as a MATLAB v5 .mat file",
                   "re-download the label file")
    assert files(out) == []


@pytest.mark.parametrize("spoil", [_pickle, _truncated], ids=["pickle", "truncated"])
def test_avenue_mask_file_that_is_not_a_mat(tmp_path, spoil):
    root = layouts.avenue(tmp_path / "avenue")
    spoil(root / "ground_truth_demo/testing_label_mask/1_label.mat")
    one_line_error(run_fsad("datasets", "check", "avenue", root),
                   "1_label.mat: cannot read as a MATLAB v5 .mat file", "ground_truth_demo.zip")


# --- scores files given to fsad evaluate --------------------------------------------------


def scores_csv(path: Path, loss=lambda frame: f"{0.1 + frame * 1e-3:.6f}") -> Path:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for frame in range(3, 20):
            w.writerow(["src", "tgt", "rgan", "pretrained", 0, 0, "test/01", frame,
                        int(8 <= frame < 12), loss(frame), 30.0])
    return path


def evaluate(tmp_path: Path, scores: Path):
    out = tmp_path / "out"
    result = run_fsad("evaluate", scores, "--out", out / "auc.csv", "--metrics",
                      out / "metrics.json")
    assert files(out) == []
    return result


def test_evaluate_truncated_scores_csv(tmp_path):
    scores = scores_csv(tmp_path / "seed0.csv")
    text = scores.read_text()
    scores.write_text(text[: text.rindex("test/01") + 5])  # cut inside the last row
    one_line_error(evaluate(tmp_path, scores), "seed0.csv:18: malformed row", "truncated")


def test_evaluate_scores_csv_without_its_columns(tmp_path):
    scores = tmp_path / "seed0.csv"
    scores.write_text("0.1\n0.2\n0.3\n")
    one_line_error(evaluate(tmp_path, scores), "seed0.csv: not a scores file",
                   "column(s) source, target")


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf"])
def test_evaluate_refuses_non_finite_losses(tmp_path, bad):
    scores = scores_csv(tmp_path / "seed0.csv",
                        loss=lambda frame: bad if frame == 9 else f"{frame * 1e-3:.6f}")
    one_line_error(evaluate(tmp_path, scores), f"seed0.csv:8: loss {bad}", "frame 9",
                   "not a finite number", "retrain")


# --- configs ------------------------------------------------------------------------------


def test_synth_height_at_the_schema_minimum_works_and_below_is_refused(tmp_path):
    small = {"scenes": 2, "train_videos": 1, "test_videos": 1, "frames": 40, "height": 20,
             "width": 16}
    result = run_fsad("synth", "--out", tmp_path / "ok", "--params",
                      json.dumps({"synth": small}))
    assert result.returncode == 0, result.stderr
    result = run_fsad("synth", "--out", tmp_path / "no", "--params",
                      json.dumps({"synth": {**small, "height": 16}}))
    one_line_error(result, "'synth/height'", "16 is less than the minimum of 20")
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("params", [{"seed": 1000000000000000}, {"seed": -1},
                                    {"synth": {"seed": 2**40}}])
def test_seed_outside_the_range_torch_and_numpy_take(params):
    key = "seed" if "seed" in params else "synth/seed"
    one_line_error(run_fsad("config", "--params", json.dumps(params)), f"'{key}'")


def test_score_seed_outside_the_range(tmp_path):
    result = run_fsad("score", "--model", tmp_path / "m.pt", "--frames", tmp_path / "f.h5",
                      "--target", "t", "--shots", 1, "--seed", 10**20, "--out",
                      tmp_path / "s.csv")
    one_line_error(result, "'--seed'", "0<=x<=4294967295")
    assert files(tmp_path) == []


def _views_folder(root: Path, frames: int) -> Path:
    import numpy as np

    from fsad.data.video import VideoWriter

    root.mkdir(parents=True)
    writer = VideoWriter(root / "cam.avi", 32, 24)
    for t in range(frames):
        writer.write(np.full((24, 32, 3), 10 * t, np.uint8))
    writer.close()
    return root


@pytest.mark.parametrize("case", ["not a video", "too short"])
def test_views_folder_that_cannot_be_cut(tmp_path, case):
    root = _views_folder(tmp_path / "cams", 6 if case == "too short" else 12)
    if case == "not a video":
        (root / "notes.txt").write_text("camera moved on Tuesday")
    out = tmp_path / "out"
    result = run_fsad("extract", "--adapter", "views", "--root", root, "--out",
                      out / "store.h5")
    if case == "not a video":
        one_line_error(result, "cams/notes.txt: not a video file", "move it out")
    else:
        one_line_error(result, "cam.avi: 6 frames cannot be cut into 4 clips",
                       "lower the dataset's clips option")
    assert files(out) == []
