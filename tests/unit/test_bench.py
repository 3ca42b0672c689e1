"""`fsad bench` at a tiny size: it runs and reports ratios (no timing thresholds)."""

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow  # an end-to-end benchmark run
def test_bench_json_reports_meta_vs_plain():
    result = subprocess.run(
        [sys.executable, "-m", "fsad.cli", "bench", "--config", str(REPO / "config/smoke.yaml"),
         "--repeats", "1", "--json"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("extract_vs_decode", "loader_vs_model", "meta_vs_plain", "score_vs_forward"):
        assert data[key] > 0, key
    assert data["train"]["samples_per_s"] > 0
    # the data path's scene: 2 scenes x 3 videos x max(synth.frames, 60) frames, as stored
    assert data["data"]["frames"] == 2 * 3 * 60
    # smoke.yaml has meta.shots: matched and evaluates K = 1, 2
    assert [m["shots"] for m in data["meta"]] == [1, 2]
    assert all(m["passes"] == 2 * (1 + 1) for m in data["meta"])
    assert all(m["batching_speedup"] > 0 for m in data["meta"])


def test_alternate_runs_the_functions_in_turn_and_ratios_are_taken_per_round():
    from fsad.bench import alternate, round_ratio

    calls = []
    rounds = alternate([lambda: calls.append("a"), lambda: calls.append("b")], 3)
    assert calls == ["a", "b"] * 4  # one warm-up each, then three rounds
    assert len(rounds) == 3 and all(len(r) == 2 and min(r) >= 0 for r in rounds)
    # per-round ratios 1, 2 and 9: their median is 2, the ratio of the medians (4 / 1) is 4
    assert round_ratio([[1, 1], [4, 2], [9, 1]]) == 2
