"""`fsad bench` at a tiny size: it runs and reports ratios (no timing thresholds)."""

import json
import subprocess
import sys

from tests.conftest import REPO


def test_bench_json_reports_meta_vs_plain():
    result = subprocess.run(
        [sys.executable, "-m", "fsad.cli", "bench", "--config", str(REPO / "config/smoke.yaml"),
         "--repeats", "1", "--json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("extract_vs_decode", "loader_vs_model", "meta_vs_plain", "score_vs_forward"):
        assert data[key] > 0, key
    assert data["train"]["samples_per_s"] > 0
    # smoke.yaml has meta.shots: matched and evaluates K = 1, 2
    assert [m["shots"] for m in data["meta"]] == [1, 2]
    assert all(m["passes"] == 2 * (1 + 1) for m in data["meta"])
    assert all(m["batching_speedup"] > 0 for m in data["meta"])
