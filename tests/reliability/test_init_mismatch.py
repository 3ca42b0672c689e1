"""A checkpoint that is not the model the command needs: meta-training `--init` from a
model of other widths, another t or other frames, and adapting or scoring a model on frames
of another size, each end in one line naming the checkpoint, what it holds and what is
asked for, with nothing written. Scoring and adaptation take the model's settings (t, the
widths) from the checkpoint, so the config's `model` section cannot contradict them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from fsad.data.adapters import load_videos
from fsad.data.store import write_store
from tests.helpers.cli import files, one_line_error, run_fsad
from tests.reliability.conftest import TINY_MODEL

META = {**TINY_MODEL, "meta": {"iterations": 1, "tasks": 1, "shots": 1, "checkpoint_every": 1},
        "inner": {"steps": 1}}
TARGET = {"device": "cpu", "targets": {"t": {"dataset": "synthetic", "scenes": ["s00"]}}}


def meta_train(init: Path, store: Path, out: Path, **model):
    params = {**META, "model": {**TINY_MODEL["model"], **model}}
    return run_fsad("train", "--method", "meta", "--source", "s", "--frames", store, "--init",
                    init, "--shots", 1, "--out", out / "model.pt", "--params",
                    json.dumps(params))


@pytest.mark.parametrize(("model", "says"), [
    ({"widths": [8, 16]}, "was trained with model.widths [4, 8], but the config asks for "
                          "model.widths [8, 16]"),
    ({"lstm_hidden": 8}, "was trained with model.lstm_hidden 4, but the config asks for "
                         "model.lstm_hidden 8"),
    ({"t": 2}, "was trained with model.t 3, but the config asks for model.t 2"),
])
def test_meta_init_from_a_model_of_other_settings(model, says, tiny_model, tiny_store,
                                                  tmp_path):
    out = tmp_path / "out"
    result = meta_train(tiny_model, tiny_store, out, **model)
    one_line_error(result, f"{tiny_model.name} (rgan) {says}",
                   "meta-train with the model settings it was trained with, or pre-train "
                   "again with these")
    assert files(out) == []


@pytest.fixture(scope="module")
def store_24(tiny_synth, tmp_path_factory) -> Path:
    """The tiny benchmark extracted at 24x24 instead of the model's 32x32."""
    out = tmp_path_factory.mktemp("frames24") / "frames24.h5"
    return write_store(load_videos("synthetic", tiny_synth), out, 24, 24, 1)


def test_meta_init_from_a_model_of_other_frames(tiny_model, store_24, tmp_path):
    out = tmp_path / "out"
    result = meta_train(tiny_model, store_24, out)
    one_line_error(result, f"{tiny_model.name} was trained on {{'height': 32, 'width': 32, "
                           "'channels': 1} frames but", "frames24.h5 holds {'height': 24",
                   "meta-train on frames extracted with the same frames settings")
    assert files(out) == []


@pytest.mark.parametrize("command", ["adapt", "score"])
def test_adapt_and_score_on_frames_of_another_size(command, tiny_model, store_24, tmp_path):
    out = tmp_path / "out"
    result = run_fsad(command, "--model", tiny_model, "--frames", store_24, "--target", "t",
                      "--shots", 1, "--out", out / "result", "--params", json.dumps(TARGET))
    one_line_error(result, f"{tiny_model.name} was trained on {{'height': 32",
                   "frames24.h5 holds {'height': 24", "extract the target with the same "
                   "frames settings")
    assert files(out) == []


def test_score_takes_t_from_the_checkpoint_not_the_config(tiny_model, tiny_store, tmp_path):
    out = tmp_path / "scores.csv"
    result = run_fsad("score", "--model", tiny_model, "--frames", tiny_store, "--target", "t",
                      "--shots", 1, "--out", out, "--params",
                      json.dumps({**TARGET, "model": {"t": 5, "widths": [64, 128]}}))
    assert result.returncode == 0, result.stderr
    with open(out, newline="") as fh:
        frames = [int(row["frame"]) for row in csv.DictReader(fh)]
    assert frames == list(range(3, 40))  # the checkpoint's t = 3: frames 3.. are predicted
