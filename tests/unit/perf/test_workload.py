"""The benchmarks' workloads follow the config they are given."""

import pytest

from fsad import config
from fsad.perf.workload import at, task_batch
from tests.conftest import REPO


@pytest.fixture(scope="module")
def smoke():
    return config.load(REPO / "config/smoke.yaml")


def test_at_changes_only_the_named_knobs(smoke):
    cfg = at(smoke, size=40, tasks=3, steps=2, first_order=False, tasks_per_pass=1)
    assert (cfg["frames"]["height"], cfg["frames"]["width"], cfg["meta"]["tasks"],
            cfg["inner"]["steps"], cfg["meta"]["first_order"], cfg["meta"]["tasks_per_pass"]) \
        == (40, 40, 3, 2, False, 1)
    assert smoke["frames"]["height"] == 32 and smoke["inner"]["steps"] == 1  # a copy
    assert at(smoke)["meta"]["tasks_per_pass"] == smoke["meta"]["tasks_per_pass"]


def test_task_batches_have_the_config_s_tasks_and_sizes(smoke):
    batch = task_batch(at(smoke, size=24, tasks=3), shots=2)
    assert len(batch) == 3
    xs, ys, xq, yq = batch[0]
    assert xs.shape == xq.shape == (2, smoke["model"]["t"], 1, 24, 24)
    assert ys.shape == yq.shape == (2, 1, 24, 24)
