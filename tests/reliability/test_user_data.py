"""Never delete what fsad did not make: `fsad synth --out DIR` and `fsad report figures
--out DIR` replace DIR as a whole, so they do it only when fsad made DIR (the `.fsad-output`
marker inside) or DIR is empty; the working directory, a folder above it and a folder
holding the inputs are refused outright. Each refusal is one line naming the folder, and
leaves the folder exactly as it was."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from fsad.metrics import SCORE_COLUMNS as COLUMNS
from fsad.outdir import MARKER
from tests.helpers.cli import files, one_line_error, run_fsad

TINY = json.dumps({"synth": {"scenes": 2, "train_videos": 1, "test_videos": 1, "frames": 40,
                             "height": 24, "width": 24}})


def synth(out, cwd: Path, *extra):
    return run_fsad("synth", "--out", out, "--params", TINY, *extra, cwd=cwd)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {f: (folder / f).read_bytes() for f in files(folder) if (folder / f).is_file()}


def thesis(folder: Path) -> Path:
    (folder / "thesis").mkdir(parents=True)
    (folder / "thesis" / "c.tex").write_text("\\chapter{Results}\n")
    return folder


def test_synth_refuses_a_folder_it_did_not_make(tmp_path):
    x = thesis(tmp_path / "x")
    before = snapshot(x)
    one_line_error(synth("x", tmp_path), "x: the folder exists", MARKER, "choose another --out")
    assert snapshot(x) == before
    assert files(tmp_path) == ["x", "x/thesis", "x/thesis/c.tex"]  # no temporary left


@pytest.mark.parametrize("out", [".", "..", "sub/.."])
def test_synth_refuses_the_working_directory_and_folders_above_it(tmp_path, out):
    work = thesis(tmp_path / "work")
    (work / "sub").mkdir()
    before = snapshot(tmp_path)
    one_line_error(synth(out, work), "working directory or a folder above it")
    assert snapshot(tmp_path) == before


def test_synth_refuses_a_folder_holding_its_config_even_if_fsad_made_it(tmp_path):
    assert synth("data", tmp_path).returncode == 0
    config = tmp_path / "data" / "my.yaml"
    config.write_text("seed: 0\n")
    one_line_error(synth("data", tmp_path, "--config", config), "holds the input",
                   "my.yaml")
    assert config.read_text() == "seed: 0\n"


def test_synth_refuses_a_file_where_the_folder_goes(tmp_path):
    (tmp_path / "x").write_text("mine\n")
    one_line_error(synth("x", tmp_path), "'x' is a file")  # click's own check
    assert (tmp_path / "x").read_text() == "mine\n"


def test_synth_replaces_its_own_folder_and_fills_an_empty_one(tmp_path):
    assert synth("data", tmp_path).returncode == 0
    assert (tmp_path / "data" / MARKER).is_file()
    first = snapshot(tmp_path / "data")
    (tmp_path / "data" / "stray.txt").write_text("left by a user in a folder fsad made\n")
    result = synth("data", tmp_path)  # fsad made it: replaced, byte-identical
    assert result.returncode == 0, result.stderr
    assert snapshot(tmp_path / "data") == first
    (tmp_path / "empty").mkdir()
    assert synth("empty", tmp_path).returncode == 0
    assert snapshot(tmp_path / "empty") == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "empty"]


def scores_csv(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for frame in range(3, 20):
            w.writerow(["src", "tgt", "rgan", "pretrained", 0, 0, "test/01", frame,
                        int(8 <= frame < 12), 0.1 + 0.05 * (8 <= frame < 12) + frame * 1e-3,
                        30.0])
    return path


def figures(out, scores: Path, cwd: Path):
    return run_fsad("report", "figures", scores, "--out", out, cwd=cwd)


def test_figures_refuse_a_user_folder_and_the_folder_of_their_inputs(tmp_path):
    scores = scores_csv(tmp_path / "scores" / "seed0.csv")
    x = thesis(tmp_path / "x")
    before = snapshot(tmp_path)
    one_line_error(figures("x", scores, tmp_path), "x: the folder exists", MARKER)
    one_line_error(figures("scores", scores, tmp_path), "holds the input", "seed0.csv")
    one_line_error(figures(".", scores, x), "working directory")
    assert snapshot(tmp_path) == before


def test_figures_replace_their_own_folder(tmp_path):
    scores = scores_csv(tmp_path / "scores" / "seed0.csv")
    assert figures("fig", scores, tmp_path).returncode == 0
    first = snapshot(tmp_path / "fig")
    assert MARKER in first and "roc.png" in first
    result = figures("fig", scores, tmp_path)
    assert result.returncode == 0, result.stderr
    assert snapshot(tmp_path / "fig") == first
