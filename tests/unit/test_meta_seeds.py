"""bench/meta_seeds.py's arguments (its runs are whole pipelines, measured in
docs/benchmarks.md)."""

import subprocess
import sys

from tests.conftest import REPO


def test_an_unknown_source_is_an_error_naming_the_sources(tmp_path):
    result = subprocess.run(
        [sys.executable, "bench/meta_seeds.py", "--config", "config/ped2_from_campus.yaml",
         "--sources", "campus", "campus_synth", "--out", tmp_path / "out"],
        cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 2
    assert ("has no source campus_synth (its sources: campus, campus_synthetic)"
            in result.stderr)
    assert not (tmp_path / "out").exists()  # nothing ran
