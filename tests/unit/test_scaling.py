"""`fsad bench --suite scaling|memory|peer` machinery at a tiny size (no timing thresholds)."""

import json
import subprocess
import sys

import pytest

from fsad import config, scaling
from tests.conftest import REPO


@pytest.fixture(scope="module")
def smoke():
    return config.load(REPO / "config/smoke.yaml")


def test_scaling_rows_cover_every_axis_and_normalise_by_the_work(smoke):
    rows = scaling.scaling(smoke, repeats=1, shots=(1, 2), tasks=(1, 2), sizes=(16, 24),
                           lengths=(12, 24))
    assert [r["value"] for r in rows] == [1, 2, 1, 2, 16, 24, 12, 24]
    tasks = smoke["meta"]["tasks"]
    for r in rows:
        assert r["seconds"] > 0
    # per-unit cost = seconds / units of work on that axis
    k_row, len_row = rows[1], rows[-1]
    assert k_row["per_unit"] == pytest.approx(1e3 * k_row["seconds"] / (2 * 2 * tasks))
    assert len_row["per_unit"] == pytest.approx(1e3 * len_row["seconds"] / 24)


def test_at_changes_only_the_named_knobs(smoke):
    cfg = scaling.at(smoke, size=40, tasks=3, steps=2, first_order=False, tasks_per_pass=1)
    assert (cfg["frames"]["height"], cfg["frames"]["width"], cfg["meta"]["tasks"],
            cfg["inner"]["steps"], cfg["meta"]["first_order"], cfg["meta"]["tasks_per_pass"]) \
        == (40, 40, 3, 2, False, 1)
    assert smoke["frames"]["height"] == 32 and smoke["inner"]["steps"] == 1  # a copy
    assert scaling.at(smoke)["meta"]["tasks_per_pass"] == smoke["meta"]["tasks_per_pass"]


def test_peak_memory_is_measured_in_a_child_and_a_cap_reports_no_fit(smoke):
    cfg = scaling.at(smoke, size=24, tasks=1, steps=1, tasks_per_pass=1)
    ok = scaling.peak_memory(cfg, shots=2, threads=1)
    assert ok["fits"], ok
    assert ok["peak_rss_gb"] >= ok["setup_rss_gb"] > 0
    capped = scaling.peak_memory(cfg, shots=2, threads=1, limit_gb=0.5)
    assert capped["fits"] is False and capped["error"]


def test_forward_gflop_counts_the_model(smoke):
    small = scaling.forward_gflop(smoke, size=32)
    assert small > 0
    # convolutions dominate: four times the pixels, about four times the work
    assert scaling.forward_gflop(smoke, size=64) == pytest.approx(4 * small, rel=0.1)


@pytest.mark.slow  # an end-to-end benchmark run
def test_bench_cli_memory_suite_json():
    result = subprocess.run(
        [sys.executable, "-m", "fsad.cli", "bench", "--config", str(REPO / "config/smoke.yaml"),
         "--suite", "memory", "--size", "24", "--shots", "1", "--threads", "1", "--json"],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert [(r["what"], r["first_order"], r["recompute_inner"], r["inner_steps"])
            for r in rows[1:]] == \
        [("meta-iteration", True, False, 1), ("meta-iteration", True, False, 2),
         ("meta-iteration", False, False, 1), ("meta-iteration", False, False, 2),
         ("meta-iteration", False, True, 1), ("meta-iteration", False, True, 2)]
    assert rows[0]["what"] == "plain step"
    assert all(r["fits"] and r["size"] == 24 for r in rows)


@pytest.mark.slow  # an end-to-end benchmark run
def test_peer_runs_the_authors_settings(smoke):
    result = scaling.peer(smoke, repeats=1)
    assert [(r["shots"], r["inner_steps"], r["windows_per_step"]) for r in result["rows"]] == \
        [(1, 1, 1), (5, 5, 1), (5, 5, "all")]
    for r in result["rows"]:
        assert r["speedup"] == pytest.approx(r["peer_seconds"] / r["seconds"])
    assert result["gflop_per_window_256"] > result["gflop_per_window_64"] > 0
