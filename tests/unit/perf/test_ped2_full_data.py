"""Ped2 full data within a time budget: the dataset packed small enough to travel to a GPU
and unpacked to the same videos and labels (bench/pack_frames.py), `bash bench/gpu.sh ped2`
dry-run on the CPU, and the CPU ladder (bench/ped2_ladder.py) at a tiny size."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fsad.data.adapters import load_videos
from tests.helpers.layouts import frames_mat
from tests.helpers.real_data import PED2, needs

REPO = Path(__file__).resolve().parents[3]


def pack_frames(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "bench/pack_frames.py", *map(str, args)], cwd=REPO,
                          capture_output=True, text=True)


def test_pack_and_unpack_keep_videos_labels_and_names(tmp_path):
    root = frames_mat(tmp_path / "ped2", name="ped2")
    assert pack_frames("pack", root, tmp_path / "pack").returncode == 0
    assert pack_frames("unpack", tmp_path / "pack", tmp_path / "un" / "ped2").returncode == 0
    before, after = load_videos("frames", root), load_videos("frames", tmp_path / "un" / "ped2")
    assert [(v.id, v.split, v.scene) for v in after] == [(v.id, v.split, v.scene) for v in before]
    for a, b in zip(before, after, strict=True):
        assert len(list(a.frames())) == len(list(b.frames()))
        assert (a.labels is None and b.labels is None) or a.labels.tolist() == b.labels.tolist()
    assert sorted(p.name for p in (tmp_path / "un/ped2/testing/frames/01").iterdir())[:2] == \
        ["000.png", "001.png"]


def test_unpack_stops_when_a_video_lost_frames(tmp_path):
    root = frames_mat(tmp_path / "ped2", name="ped2")
    pack_frames("pack", root, tmp_path / "pack")
    manifest = json.loads((tmp_path / "pack/manifest.json").read_text())
    manifest["videos"]["testing/01"]["frames"] += 1
    (tmp_path / "pack/manifest.json").write_text(json.dumps(manifest))
    result = pack_frames("unpack", tmp_path / "pack", tmp_path / "un")
    assert result.returncode == 1
    assert "testing/01.avi: 10 frames decoded, the manifest says 11" in result.stderr
    assert not (tmp_path / "un").exists()  # nothing under the final name


@needs(PED2)
def test_packed_ped2_is_close_to_the_original(tmp_path):
    """The lossy copy a GPU run trains on: every frame within 30 dB PSNR of the JPEG."""
    assert pack_frames("pack", PED2, tmp_path / "pack").returncode == 0
    size = sum(f.stat().st_size for f in (tmp_path / "pack").rglob("*") if f.is_file())
    assert size < 24 * 2**20  # travels within the device's 64 MiB with the repository
    assert pack_frames("unpack", tmp_path / "pack", tmp_path / "ped2").returncode == 0
    import cv2

    for original in sorted((PED2 / "testing/frames/01").iterdir())[::20]:
        a = cv2.imread(str(original), cv2.IMREAD_GRAYSCALE).astype(float)
        b = cv2.imread(str(tmp_path / "ped2/testing/frames/01" / (original.stem + ".png")),
                       cv2.IMREAD_GRAYSCALE).astype(float)
        assert 10 * np.log10(255**2 / ((a - b) ** 2).mean()) > 30


@pytest.mark.slow  # trains and scores, at a tiny size
def test_the_ped2_gpu_script_runs_through_on_the_cpu(tmp_path):
    """`bash bench/gpu.sh ped2`, the Ped2 call a lent GPU gets, on a tiny packed dataset."""
    pack_frames("pack", frames_mat(tmp_path / "ped2", name="ped2"), tmp_path / "pack")
    env = {**os.environ, "PYTHON": sys.executable, "OUT": str(tmp_path / "out"),
           "PACK": str(tmp_path / "pack"), "WORK": str(tmp_path / "work"), "MINUTES": "0.02",
           "LIMIT_SCALE": "20",  # the step limit is the GPU's: a busy CPU may need far more
           "PED2_ARGS": "--size 16 --set model.widths=[4,8] --set model.lstm_hidden=4 "
                        "--set model.disc_width=4 --set evaluate.batch_size=4"}
    result = subprocess.run(["bash", "bench/gpu.sh", "ped2"], cwd=REPO, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = (tmp_path / "out/ped2_summary.md").read_text()
    assert "at 16x16; cpu, fp32;" in summary and "frame AUC" in summary
    assert (tmp_path / "out/ped2_auc.csv").read_text().count("\n") == 2  # header, one row
    # every test frame with t = 3 frames before it: (10 - 3) + (9 - 3), and the header
    assert len((tmp_path / "out/ped2_scores.csv").read_text().splitlines()) == 1 + 7 + 6


@pytest.mark.slow  # trains and scores, at a tiny size
def test_the_ladder_runs_a_rung_and_tabulates_it(tmp_path):
    root = frames_mat(tmp_path / "ped2", name="ped2")
    (tmp_path / "ladder.yaml").write_text(
        "common: {evaluate: {batch_size: 4}}\n"
        "rungs:\n"
        "  - {size: 16, minutes: 0.02, model: {widths: [4, 8], lstm_hidden: 4, disc_width: 4}}\n"
        "  - {size: 24, minutes: 9, model: {widths: [4, 8], lstm_hidden: 4, disc_width: 4}}\n")
    result = subprocess.run(
        [sys.executable, "bench/ped2_ladder.py", root, "--ladder", tmp_path / "ladder.yaml",
         "--rungs", "16", "--out", tmp_path / "out"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    table = (tmp_path / "out/ladder.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| 16 | 0 | 16×16 |")]
    assert len(rows) == 1 and "| 4-8 |" in rows[0]
    assert "24×24" not in table  # only the rung asked for
    assert table.startswith("CPU: ")
    # A repeat with another seed and a fixed number of steps: its own folder and row.
    result = subprocess.run(
        [sys.executable, "bench/ped2_ladder.py", root, "--ladder", tmp_path / "ladder.yaml",
         "--rungs", "16", "--seed", "3", "--steps", "2", "--out", tmp_path / "out"],
        cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    repeat = json.loads((tmp_path / "out/16-seed3/ped2_result.json").read_text())
    assert repeat["seed"] == 3 and repeat["steps"] == 2
    table = (tmp_path / "out/ladder.md").read_text()
    assert "| 16 | 0 | 16×16 |" in table and "| 16-seed3 | 3 | 16×16 |" in table


def test_the_ladder_stops_on_a_rung_it_does_not_have(tmp_path):
    """A mistyped rung is an error naming the rungs there are, not a run of nothing."""
    result = subprocess.run(
        [sys.executable, "bench/ped2_ladder.py", tmp_path, "--rungs", "64", "100", "--out",
         tmp_path / "out"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    assert "has no rung 100 (its rungs: 48, 64, 96, 128, 64-long, 64-wide)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_bad_set_is_an_error_before_anything_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, "bench/ped2_full_data.py", "--root", tmp_path, "--set",
         "pretrain.lr_g=quick", "--out", tmp_path / "out", "--work", tmp_path / "work"],
        cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid value at 'pretrain/lr_g'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "work").exists()
