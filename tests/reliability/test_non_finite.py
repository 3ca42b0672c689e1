"""NaN never passes for a result: a NaN, infinite, zero or negative threshold or adaptation
rate is refused where it is given (command line, config, --params), adaptation that makes
the model non-finite stops with one line saying to lower the rate, and no NaN loss reaches
a scores file, a detect result or an adapted checkpoint."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from fsad import FsadError, checkpoint
from fsad.adapt import InnerRule
from tests.helpers.cli import files, one_line_error, run_fsad

TARGET = {"device": "cpu", "targets": {"t": {"dataset": "synthetic", "scenes": ["s00"]}}}


def detect(model: Path, tiny_synth: Path, out: Path, *options):
    return run_fsad("detect", "--model", model, "--normal", tiny_synth / "s00/training/01.avi",
                    "--shots", 1, "--steps", 1, tiny_synth / "s01/testing/01.avi", "--out", out,
                    "--params", json.dumps({"device": "cpu"}), *options)


@pytest.mark.parametrize(("option", "value", "says"), [
    ("--threshold", "nan", "'nan' is not a finite number"),
    ("--threshold", "inf", "'inf' is not a finite number"),
    ("--threshold", "0", "0.0 is not in the range x>0"),
    ("--threshold", "-1", "-1.0 is not in the range x>0"),
    ("--lr", "nan", "'nan' is not a finite number"),
    ("--lr", "-inf", "'-inf' is not a finite number"),
    ("--lr", "0", "0.0 is not in the range x>0"),
    ("--lr", "-0.05", "-0.05 is not in the range x>0"),
    ("--percentile", "nan", "'nan' is not a finite number"),
    ("--steps", "0", "0 is not in the range x>=1"),
])
def test_detect_refuses_a_non_finite_or_non_positive_threshold_or_rate(
        option, value, says, tiny_model, tiny_synth, tmp_path):
    out = tmp_path / "out"
    result = detect(tiny_model, tiny_synth, out, option, value)
    assert result.returncode == 2, result.stderr
    one_line_error(result, f"Invalid value for '{option}'", says)
    assert not out.exists()


def test_detect_with_a_rate_that_overflows_writes_no_nan_scores(tiny_model, tiny_synth,
                                                               tmp_path):
    out = tmp_path / "out"
    result = detect(tiny_model, tiny_synth, out, "--lr", "1e30")
    one_line_error(result, "s00/training/01.avi (normal footage) frame 3",
                   "loss is nan", "the adapted model is not finite",
                   "lower the adaptation rate", "--lr")
    assert not out.exists()


def score(model: Path, store: Path, out: Path, params: dict, shots: int = 1):
    return run_fsad("score", "--model", model, "--frames", store, "--target", "t", "--shots",
                    shots, "--out", out, "--params", json.dumps({**TARGET, **params}))


def test_score_with_a_rate_that_overflows_writes_no_scores_file(tiny_model, tiny_store,
                                                               tmp_path):
    out = tmp_path / "out"
    result = score(tiny_model, tiny_store, out / "scores.csv",
                   {"inner": {"lr": 1e30, "steps": 1}})
    one_line_error(result, "video s00/test/01 frame 3", "loss is nan",
                   "the adapted model is not finite", "lower the adaptation rate (inner.lr")
    assert files(out) == []


def test_score_with_a_model_whose_predictions_overflow_writes_no_scores_file(
        tiny_model, tiny_store, tmp_path):
    # Finite weights, 1e30 times too large: the forward pass overflows without adaptation.
    payload = {k: v for k, v in checkpoint.load(tiny_model).items()
               if k not in ("format", "version")}
    generator = {k: v * 1e30 if k.endswith("weight") else v
                 for k, v in payload["generator"].items()}
    huge = tmp_path / "huge.pt"
    checkpoint.save(huge, {**payload, "generator": generator})
    out = tmp_path / "out"
    result = score(huge, tiny_store, out / "scores.csv", {}, shots=0)
    one_line_error(result, "huge.pt, video s00/test/01 frame 3", "loss is nan",
                   "does not give finite predictions; retrain it")
    assert files(out) == []


@pytest.mark.parametrize(("inner", "says"), [
    ({"lr": 1e30, "steps": 1}, "its adaptation window 1: the prediction's loss is nan"),
    ({"lr": 1e38, "steps": 3}, "the adapted model is not finite: 18 of 18 weight tensors"),
])
def test_adapt_never_saves_a_non_finite_model(inner, says, tiny_model, tiny_store, tmp_path):
    out = tmp_path / "out"
    result = run_fsad("adapt", "--model", tiny_model, "--frames", tiny_store, "--target", "t",
                      "--shots", 1, "--out", out / "adapted.pt",
                      "--params", json.dumps({**TARGET, "inner": inner}))
    one_line_error(result, says, "the adapted model is not finite",
                   "lower the adaptation rate")
    assert files(out) == []


@pytest.mark.parametrize("text", ['{"inner": {"lr": NaN}}', '{"inner": {"lr": Infinity}}',
                                  '{"pretrain": {"lr_g": -Infinity}}'])
def test_params_with_nan_or_infinity_are_refused(text):
    # JSON as Python reads it has NaN and Infinity; the schema's comparisons let them pass.
    key = "inner/lr" if "inner" in text else "pretrain/lr_g"
    one_line_error(run_fsad("config", "--params", text), f"invalid value at '{key}'",
                   "is not a finite number; write a finite number there")


def test_yaml_nan_in_a_config_is_refused(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("inner:\n  lr: .nan\n")
    one_line_error(run_fsad("config", "--config", config),
                   "config.yaml: invalid value at 'inner/lr': nan is not a finite number")


@pytest.mark.parametrize(("field", "value", "says"), [
    ("lr", float("nan"), "learning rate nan is not a finite number above 0"),
    ("lr", float("inf"), "learning rate inf is not a finite number above 0"),
    ("lr", 0.0, "learning rate 0.0 is not a finite number above 0"),
    ("lr", -1e-3, "learning rate -0.001 is not a finite number above 0"),
    ("steps", 0, "adaptation steps 0: must be a whole number of at least 1"),
    ("steps", -3, "adaptation steps -3"),
    ("optimizer", "sgdd", "adaptation optimizer 'sgdd': use sgd or adam"),
    ("windows_per_step", 0, "inner.windows_per_step 0"),
])
def test_an_inner_rule_is_checked_wherever_it_is_built(field, value, says):
    # Config, --params, a checkpoint's settings and fsad detect's options all build one.
    rule = InnerRule(steps=1, lr=0.05)
    with pytest.raises(FsadError) as raised:
        dataclasses.replace(rule, **{field: value})
    assert says in str(raised.value)
    with pytest.raises(FsadError):
        InnerRule.from_config({"steps": 1, "lr": 0.05, "optimizer": "sgd", field: value})
