"""CUDA paths (bf16 autocast, channels_last) through the same code as on the CPU.
Skipped without a CUDA device."""

import pytest
import torch

from fsad import config as cfgmod
from fsad.adapt import InnerRule
from fsad.perf.workload import bench_trainer, random_windows
from fsad.train import meta_iteration, pretrain_step

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")]


@pytest.mark.parametrize("backbone", ["rgan", "rgan_star", "rvae"])
def test_training_and_meta_steps_on_cuda(backbone):
    cfg = cfgmod.load(overrides={"device": "cuda", "frames": {"height": 64, "width": 64},
                                 "model": {"vgg_width_divisor": 8}})
    tr = bench_trainer(cfg, backbone)
    assert next(tr.G.parameters()).is_cuda
    gen = torch.Generator().manual_seed(0)
    stats = pretrain_step(tr, *random_windows(cfg, 4, gen))
    assert all(v == v for v in stats.values())  # finite, not NaN
    batch = [(*random_windows(cfg, 2, gen), *random_windows(cfg, 2, gen)) for _ in range(2)]
    stats = meta_iteration(tr, batch, InnerRule.from_config(cfg["inner"]), first_order=True)
    assert stats["query"] == stats["query"]


def test_throughput_suite_on_cuda_reports_memory_and_the_share_of_the_peak():
    from fsad.perf import reference, throughput

    cfg = cfgmod.load(overrides={"device": "cuda", "frames": {"height": 32, "width": 32}})
    figures = reference.load()
    result = throughput.throughput(cfg, shots=[1], repeats=1, figures=figures)
    assert result["peak_tflops"] == figures["peak_tflops"]["cuda"]
    rows = result["rows"]
    assert [r["pipeline"] for r in rows[:2]] == [False, True]  # CUDA runs the fast path
    for r in rows[:-1]:  # scoring is timed through fsad.perf.scaling, without the allocator's peak
        assert r["peak_gb"] > 0 and 0 < r["peak_fraction"] < 1
