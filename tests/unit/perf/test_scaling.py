"""`fsad bench --suite scaling` at a tiny size: the work (FLOPs, deterministic) grows along
every axis, linearly where it must; no timing thresholds."""

import pytest

from fsad import config
from fsad.perf import scaling
from fsad.perf.workload import at
from tests.conftest import REPO


@pytest.fixture(scope="module")
def smoke():
    return config.load(REPO / "config/smoke.yaml")


def test_scaling_rows_cover_every_axis_and_the_work_grows_along_each(smoke):
    # One task per pass: FlopCounterMode counts each task's convolutions as they run (in one
    # vmap pass over tasks it counts the batched convolutions, which do not add up per task).
    cfg = at(smoke, tasks_per_pass=1)
    rows = scaling.scaling(cfg, repeats=1, shots=(1, 2, 3), tasks=(2, 4), sizes=(16, 24),
                           lengths=(13, 23))
    assert [r["value"] for r in rows] == [1, 2, 3, 2, 4, 16, 24, 13, 23]
    assert all(r["seconds"] > 0 for r in rows)
    k, tasks, size, length = rows[:3], rows[3:5], rows[5:7], rows[7:]
    for axis in (k, tasks, size, length):
        assert [r["gflop"] for r in axis] == sorted(r["gflop"] for r in axis)
        assert axis[0]["gflop"] < axis[-1]["gflop"]
    # K support and K query windows per task, the same work per window at every K
    assert [r["gflop"] / r["value"] for r in k] == pytest.approx([k[0]["gflop"]] * 3, rel=1e-9)
    assert tasks[1]["gflop"] == pytest.approx(2 * tasks[0]["gflop"], rel=1e-9)  # 2 -> 4 tasks
    # scoring predicts frames t .. n - 1: 10 and 20 of them
    t = smoke["model"]["t"]
    assert (length[0]["value"] - t, length[1]["value"] - t) == (10, 20)
    assert length[1]["gflop"] == pytest.approx(2 * length[0]["gflop"], rel=1e-9)
    # the convolutions dominate: about (24 / 16)^2 the work
    assert size[1]["gflop"] / size[0]["gflop"] == pytest.approx((24 / 16) ** 2, rel=0.05)


def test_forward_flops_are_linear_in_the_pixel_count(smoke):
    small = scaling.forward_gflop(smoke, size=32)
    assert small > 0
    assert scaling.forward_gflop(smoke, size=64) == pytest.approx(4 * small, rel=1e-9)
