"""`fsad bench --suite memory`: peak memory measured in a child, a cap reported as no fit.
(The command line's JSON and progress are checked on bench/gpu.sh's CPU dry run,
tests/unit/perf/test_throughput.py, which runs the same suite.)"""

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
