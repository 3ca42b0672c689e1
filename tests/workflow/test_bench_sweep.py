"""bench/validation_sweep.py on a finished smoke run: every model and rule gets its
validation loss and AUC, from the validation scenes only."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

from tests.helpers.workflow import REPO, copy_run


@pytest.mark.slow
def test_validation_sweep_scores_each_model_and_rule(smoke_run, tmp_path):
    run = copy_run(smoke_run, tmp_path / "run", ("results", "config"))
    models = ["results/models/synthetic/rgan/pretrained/model.pt",
              "results/models/synthetic/rgan/meta/k1/model.pt"]
    result = subprocess.run(
        [sys.executable, str(REPO / "bench/validation_sweep.py"), "--config",
         "config/smoke.yaml", "--rule", "sgd:0.05:1", "--rule", "adam:1e-4:2:1",
         "--draws", "1", *models], cwd=run, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    with open(run / "results/sweeps/validation_sweep.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["model"], r["rule"]) for r in rows] == [
        (m, rule) for m in models for rule in ("none", "sgd 0.05 x1", "adam 0.0001 x2 (1/step)")]
    for r in rows:
        assert 0 <= float(r["validation_auc"]) <= 1
        assert float(r["normal_loss"]) > 0 and float(r["anomalous_loss"]) > 0
        if r["rule"] != "none":
            assert float(r["loss_before"]) > 0 and float(r["loss_after"]) > 0
    with pytest.raises(subprocess.CalledProcessError):
        subprocess.run([sys.executable, str(REPO / "bench/validation_sweep.py"), "--rule",
                        "adam:fast"], cwd=run, check=True, capture_output=True)
