"""`fsad bench --suite throughput`: the fp32/fast-path switch, FLOP accounting and the grid
projection's arithmetic, at a tiny size on the CPU (no timing thresholds)."""

import json
import os
import subprocess
import sys

import pytest
import torch

from fsad import config, device, throughput
from tests.conftest import REPO


@pytest.fixture(scope="module")
def smoke():
    return config.load(REPO / "config/smoke.yaml")


def test_fast_path_can_be_forced_either_way_and_is_restored():
    cpu = torch.device("cpu")
    assert not device.fast(cpu)
    with device.fast_path(True):
        assert device.fast(cpu)
        layer = device.prepare(torch.nn.Conv2d(3, 4, 3), cpu)
        assert layer.weight.is_contiguous(memory_format=torch.channels_last)
        with device.autocast(cpu):
            assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
        with device.fast_path(False):
            assert not device.fast(cpu)
        assert device.fast(cpu)
    assert not device.fast(cpu)


def fake_rows(pretrain_s, meta_s: dict, adapt_s: dict, frame_s):
    rows = [{"what": "pre-training step", "path": "fp32", "pipeline": False, "seconds": 99.0},
            {"what": "pre-training step", "path": "fast", "pipeline": True,
             "seconds": pretrain_s}]
    rows += [{"what": "meta-iteration", "shots": k, "seconds": s} for k, s in meta_s.items()]
    rows += [{"what": "adaptation", "shots": k, "seconds": s} for k, s in adapt_s.items()]
    return rows + [{"what": "scoring", "samples": 100, "seconds": 100 * frame_s}]


def test_projection_of_the_paper_grid_adds_up_every_job():
    cfg = config.load(REPO / "config/paper.yaml")
    meta_s, adapt_s = {1: 1.0, 5: 4.0, 10: 8.0}, {1: 0.1, 5: 0.5, 10: 1.0}
    p = throughput.project(cfg, fake_rows(0.2, meta_s, adapt_s, 0.01))
    models = 2  # ShanghaiTech and UCF-Crime sources, r-GAN only
    assert p["pretrain_s"] == pytest.approx(models * 20000 * 0.2)
    assert p["meta_s"] == pytest.approx(models * 2000 * (1.0 + 4.0 + 8.0))
    # per target: K = 0 once; K = 1, 5, 10 for 2 methods x 3 seeds, each adapting once
    frames = sum(throughput.TEST_FRAMES[t] for t in ("ped1", "ped2", "avenue", "urfall"))
    per_model = 4 * 6 * (0.1 + 0.5 + 1.0) + 19 * frames * 0.01
    assert p["score_s"] == pytest.approx(models * per_model)
    assert p["score_jobs"] == models * 4 * 19
    assert p["total_h"] == pytest.approx((p["pretrain_s"] + p["meta_s"] + p["score_s"]) / 3600)
    assert p["unscored"] == [] and p["estimated_frames"] == ["urfall"]


def test_projection_counts_synthetic_test_frames_and_names_unknown_targets(smoke):
    assert throughput.test_frames(smoke, "scene03", {}) == 1 * 1 * 40  # scenes x videos x frames
    cfg = config.merge(smoke, {"datasets": {"other": {"adapter": "ucsd", "root": "x"}},
                               "targets": {"elsewhere": {"dataset": "other"}}})
    p = throughput.project(cfg, fake_rows(0.1, {1: 1.0, 2: 2.0}, {1: 0.1, 2: 0.2}, 0.01), {})
    assert p["unscored"] == ["elsewhere"]
    assert p["score_jobs"] == 1 + 2 * 2 * 2  # scene03 only: K = 0, then 2 K x 2 methods x 2 seeds


def test_one_shared_meta_model_is_projected_once(smoke):
    cfg = config.merge(smoke, {"meta": {"shots": 2}})
    assert throughput.meta_shots(cfg) == [2] and throughput.adapted_shots(cfg) == [1, 2]
    p = throughput.project(cfg, fake_rows(0.1, {2: 2.0}, {1: 0.1, 2: 0.2}, 0.01), {})
    assert p["meta_s"] == pytest.approx(3 * 2.0)  # 3 iterations of the one K = 2 model


def test_throughput_suite_json_at_a_tiny_size():
    result = subprocess.run(
        [sys.executable, "-m", "fsad.cli", "bench", "--config", str(REPO / "config/smoke.yaml"),
         "--suite", "throughput", "--size", "24", "--repeats", "1", "--threads", "1",
         "--peak-tflops", "2", "--json"],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["size"] == [24, 24, 1] and out["peak_tflops"] == 2
    rows = out["rows"]
    assert [(r["what"], r.get("shots")) for r in rows] == [
        ("pre-training step", None), ("pre-training step", None), ("meta-iteration", 1),
        ("meta-iteration", 2), ("adaptation", 1), ("adaptation", 2), ("scoring", None)]
    assert [r["pipeline"] for r in rows[:2]] == [True, False]  # fp32 on this CPU config
    for r in rows:
        assert r["seconds"] > 0 and r["tflop_per_call"] > 0
        assert r["tflops"] == pytest.approx(r["tflop_per_call"] / r["seconds"])
        assert r["peak_fraction"] == pytest.approx(r["tflops"] / 2)
    # both paths run the same arithmetic, so they count the same FLOPs
    assert rows[0]["tflop_per_call"] == rows[1]["tflop_per_call"]
    assert rows[1]["speedup_vs_fp32"] == pytest.approx(rows[0]["seconds"] / rows[1]["seconds"])
    p = out["projection"]
    assert p["pretrain_s"] == pytest.approx(6 * rows[0]["seconds"])  # smoke: 6 fp32 steps
    assert p["total_s"] > p["pretrain_s"] and p["unscored"] == []


def test_projection_is_left_out_when_an_evaluated_k_was_not_measured():
    result = subprocess.run(
        [sys.executable, "-m", "fsad.cli", "bench", "--config", str(REPO / "config/smoke.yaml"),
         "--suite", "throughput", "--size", "16", "--repeats", "1", "--threads", "1",
         "--shots", "1"],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "grid projection: needs every evaluated K" in result.stdout
    assert "TFLOP/s" in result.stdout and "% of" not in result.stdout  # no peak on the CPU
    # each row is reported as soon as it is measured, before the table
    progress = [line for line in result.stderr.splitlines() if line.startswith("measured ")]
    assert [line.split(":")[0] for line in progress] == [
        "measured pre-training step (fp32)", "measured pre-training step (bf16 + channels_last)",
        "measured meta-iteration K=1", "measured adaptation K=1", "measured scoring"]


@pytest.mark.slow  # an end-to-end benchmark run
def test_the_gpu_script_runs_through_on_the_cpu(tmp_path):
    """bench/gpu.sh, the one call a lent GPU gets, dry-run here at a tiny size: it must not
    waste that call on a typo."""
    env = {**os.environ, "CONFIG": "config/smoke.yaml", "SIZE": "16", "PYTHON": sys.executable,
           "OUT": str(tmp_path)}
    result = subprocess.run(["bash", "bench/gpu.sh"], cwd=REPO, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    throughput_rows = json.loads((tmp_path / "throughput.json").read_text())["rows"]
    assert "torch.compile" in throughput_rows[-1]["path"]  # last: the riskiest
    memory = json.loads((tmp_path / "memory.json").read_text())["rows"]
    assert all(r["fits"] for r in memory) and memory[0]["shots"] == 10
    assert "passed" in (tmp_path / "gpu_tests.log").read_text()
    assert "projection:" in result.stdout
