"""bench/meta_seeds.py's arguments (its runs are whole pipelines, measured in
docs/benchmarks.md)."""

import subprocess
import sys

import pytest

from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from meta_seeds import override  # noqa: E402


def test_an_unknown_source_is_an_error_naming_the_sources(tmp_path):
    result = subprocess.run(
        [sys.executable, "bench/meta_seeds.py", "--config", "config/ped2_from_campus.yaml",
         "--sources", "campus", "campus_synth", "--out", tmp_path / "out"],
        cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    assert ("has no source campus_synth (its sources: campus, campus_synthetic)"
            in result.stderr)
    assert not (tmp_path / "out").exists()  # nothing ran


def test_set_reads_e_notation_as_the_number_it_means():
    cfg = override({"meta": {"lr_g": 0.0002, "iterations": 100}}, "meta.lr_g=2e-5")
    assert cfg["meta"] == {"lr_g": 2e-5, "iterations": 100}
    assert override({}, "inner.steps=20") == {"inner": {"steps": 20}}


@pytest.mark.parametrize("assignment, message", [
    ("meta.lr_g=fast", "invalid value at 'meta/lr_g'"),
    ("meta.lr_g", "--set meta.lr_g: write KEY=VALUE"),
    ("meta.lr=1.0e-4", "unknown key 'meta/lr'")])
def test_a_bad_set_is_an_error_before_anything_runs(tmp_path, assignment, message):
    result = subprocess.run(
        [sys.executable, "bench/meta_seeds.py", "--set", assignment, "--out", tmp_path / "out"],
        cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()
