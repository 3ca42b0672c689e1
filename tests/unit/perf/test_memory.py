"""`fsad bench --suite memory`: peak memory measured in a child, a cap reported as no fit."""

import json
import subprocess
import sys

import pytest

from fsad import config
from fsad.perf.memory import peak_memory
from fsad.perf.workload import at
from tests.conftest import REPO


@pytest.fixture(scope="module")
def smoke():
    return config.load(REPO / "config/smoke.yaml")


def test_peak_memory_is_measured_in_a_child_and_a_cap_reports_no_fit(smoke):
    cfg = at(smoke, size=24, tasks=1, steps=1, tasks_per_pass=1)
    ok = peak_memory(cfg, shots=2, threads=1)
    assert ok["fits"], ok
    assert ok["peak_rss_gb"] >= ok["setup_rss_gb"] > 0
    capped = peak_memory(cfg, shots=2, threads=1, limit_gb=0.5)
    assert capped["fits"] is False and capped["error"]


@pytest.mark.slow  # an end-to-end benchmark run
def test_bench_cli_memory_suite_json():
    result = subprocess.run(
        [sys.executable, "-m", "fsad.cli", "bench", "--config", str(REPO / "config/smoke.yaml"),
         "--suite", "memory", "--size", "16", "--shots", "1", "--threads", "1", "--json"],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["rows"]
    assert [(r["what"], r["first_order"], r["recompute_inner"], r["inner_steps"])
            for r in rows[1:]] == \
        [("meta-iteration", True, False, 1), ("meta-iteration", True, False, 2),
         ("meta-iteration", False, False, 1), ("meta-iteration", False, False, 2),
         ("meta-iteration", False, True, 1), ("meta-iteration", False, True, 2)]
    assert rows[0]["what"] == "plain step"
    assert all(r["fits"] and r["size"] == 16 for r in rows)
