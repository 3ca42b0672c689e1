"""`fsad bench --suite throughput` at a tiny size on the CPU: the work it counts and the grid
projection, checked against what the config and the pipeline's own job graph say (no
timing thresholds)."""

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from fsad import config
from fsad.perf import reference, throughput
from tests.conftest import REPO
from tests.helpers.cli import run_fsad
from tests.helpers.workflow import run_snakemake


@pytest.fixture(scope="module")
def smoke():
    return config.load(REPO / "config/smoke.yaml")


def fake_rows(pretrain_s: float, meta_s: dict, adapt_s: dict, frame_s: float) -> list[dict]:
    rows = [{"what": "pre-training step", "path": "fp32", "pipeline": False, "seconds": 99.0},
            {"what": "pre-training step", "path": "fast", "pipeline": True,
             "seconds": pretrain_s}]
    rows += [{"what": "meta-iteration", "shots": k, "seconds": s} for k, s in meta_s.items()]
    rows += [{"what": "adaptation", "shots": k, "seconds": s} for k, s in adapt_s.items()]
    return rows + [{"what": "scoring", "samples": 100, "seconds": 100 * frame_s}]


def pipeline_jobs(cfg: dict, tmp_path) -> list[tuple[str, list[str]]]:
    """(rule, outputs) of every job Snakemake would run for results/auc.csv with ``cfg``."""
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    result = run_snakemake(
        "results/auc.csv", "--snakefile", str(REPO / "Snakefile"), "--directory",
        str(tmp_path / "run"), "-n", "--forceall", "--configfile", str(path), cwd=tmp_path,
        env=dict(os.environ))
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return [(rule, outputs.split(", ")) for rule, outputs in
            re.findall(r"^rule (\w+):\n(?:\s+\w+: .*\n)*?\s+output: (.+)$", result.stdout,
                       re.MULTILINE)]


@pytest.mark.parametrize("over", [
    {},  # smoke: one meta-trained model per evaluated K
    {"meta": {"shots": 2}, "evaluate": {"seeds": 3},  # one K = 2 model, a second target
     "targets": {"scene02": {"dataset": "synthetic", "scenes": ["s02"]}}},
])
def test_the_projection_is_each_pipeline_job_times_its_measured_row(smoke, tmp_path, over):
    cfg = config.merge(smoke, over)
    meta_s, adapt_s, pretrain_s, frame_s = {1: 1.0, 2: 3.0}, {1: 0.1, 2: 0.25}, 0.2, 0.01
    p = throughput.project(cfg, fake_rows(pretrain_s, meta_s, adapt_s, frame_s))
    # the same sums, job by job over the graph Snakemake builds for this config
    want = {"pretrain": 0.0, "meta_train": 0.0, "score": 0.0}
    scored = 0
    s = cfg["synth"]
    for rule, outputs in pipeline_jobs(cfg, tmp_path):
        output = outputs[0]
        if rule == "pretrain":
            want["pretrain"] += cfg["pretrain"]["steps"] * pretrain_s
        elif rule == "meta_train":
            k = int(re.search(r"/meta/k(\d+)/", output).group(1))
            want["meta_train"] += cfg["meta"]["iterations"] * meta_s[k]
        elif rule == "score":  # one job scores several (K, seed) cells
            for output in outputs:
                target, k = re.search(r"results/scores/[^/]+/([^/]+)/.*/k(\d+)/",
                                      output).groups()
                test_frames = (len(cfg["targets"][target]["scenes"]) * s["test_videos"]
                               * s["frames"])
                want["score"] += (adapt_s[int(k)] if int(k) else 0.0) + test_frames * frame_s
                scored += 1
    assert p["pretrain_s"] == pytest.approx(want["pretrain"])
    assert p["meta_s"] == pytest.approx(want["meta_train"])
    assert p["score_s"] == pytest.approx(want["score"])
    assert p["score_cells"] == scored
    assert p["total_s"] == pytest.approx(sum(want.values()))
    assert p["unscored"] == [] and p["estimated_frames"] == []


def test_released_targets_take_their_test_frames_from_the_reference_figures():
    paper = config.load(REPO / "config/paper.yaml")
    rows = fake_rows(0.2, {1: 1.0, 5: 4.0, 10: 8.0}, {1: 0.1, 5: 0.5, 10: 1.0}, 0.01)
    p = throughput.project(paper, rows, reference.load())
    assert p["unscored"] == [] and p["estimated_frames"] == ["urfall"]
    without = throughput.project(paper, rows, None)
    assert without["unscored"] == list(paper["targets"]) and without["score_s"] == 0


def test_synthetic_test_frames_are_counted_from_the_synth_settings(smoke):
    assert throughput.test_frames(smoke, "scene03", {}) == 1 * 1 * 40  # scenes x videos x frames


def test_throughput_suite_json_at_a_tiny_size(smoke):
    result = run_fsad("bench", "--config", str(REPO / "config/smoke.yaml"),
                      "--suite", "throughput", "--size", "24", "--repeats", "1", "--threads", "1",
                      "--peak-tflops", "2", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["size"] == [24, 24, 1] and out["peak_tflops"] == 2
    rows = out["rows"]
    assert [(r["what"], r.get("shots")) for r in rows] == [
        ("pre-training step", None), ("pre-training step", None), ("meta-iteration", 1),
        ("meta-iteration", 2), ("adaptation", 1), ("adaptation", 2), ("scoring", None)]
    assert [r["pipeline"] for r in rows[:2]] == [True, False]  # fp32 on this CPU config
    assert all(r["seconds"] > 0 and r["tflop_per_call"] > 0 for r in rows)
    # both paths run the same arithmetic, so they count the same FLOPs
    assert rows[0]["tflop_per_call"] == rows[1]["tflop_per_call"]
    # smoke's rule passes all K windows per inner step: the work is linear in K
    meta1, meta2, adapt1, adapt2 = (r["tflop_per_call"] for r in rows[2:6])
    assert meta2 == pytest.approx(2 * meta1, rel=1e-9)
    assert adapt2 == pytest.approx(2 * adapt1, rel=1e-9)
    steps = smoke["inner"]["steps"]
    assert [r["samples"] for r in rows[4:6]] == [steps * 1, steps * 2]
    p = out["projection"]
    models = len(smoke["sources"]) * len(smoke["backbones"])
    assert p["pretrain_s"] == pytest.approx(models * smoke["pretrain"]["steps"]
                                            * rows[0]["seconds"])
    assert p["unscored"] == []


def test_projection_is_left_out_when_an_evaluated_k_was_not_measured():
    result = run_fsad("bench", "--config", str(REPO / "config/smoke.yaml"),
                      "--suite", "throughput", "--size", "16", "--repeats", "1", "--threads", "1",
                      "--shots", "1")
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
    """bench/gpu.sh, the one call a lent GPU gets, dry-run here at a tiny size (one timed call
    per throughput row, K = 2 in the memory suite): it must not waste that call on a typo."""
    env = {**os.environ, "CONFIG": "config/smoke.yaml", "SIZE": "16", "REPEATS": "1",
           "SHOTS": "2", "PYTHON": sys.executable, "OUT": str(tmp_path),
           "GPU_TESTS": "tests/unit/test_gpu.py",
           "LIMIT_SCALE": "20"}  # the step limits are the GPU's: a busy CPU may need far more
    result = subprocess.run(["bash", "bench/gpu.sh"], cwd=REPO, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    throughput_rows = json.loads((tmp_path / "throughput.json").read_text())["rows"]
    assert "torch.compile" in throughput_rows[-1]["path"]  # last: the riskiest
    # the memory suite: a plain step, then each meta-iteration variant, every row fitting
    memory = json.loads((tmp_path / "memory.json").read_text())["rows"]
    assert memory[0]["what"] == "plain step"
    assert [(r["what"], r["first_order"], r["recompute_inner"], r["inner_steps"])
            for r in memory[1:]] == \
        [("meta-iteration", True, False, 1), ("meta-iteration", True, False, 2),
         ("meta-iteration", False, False, 1), ("meta-iteration", False, False, 2),
         ("meta-iteration", False, True, 1), ("meta-iteration", False, True, 2)]
    assert all(r["fits"] and r["size"] == 16 for r in memory)
    assert {r["shots"] for r in memory} == {2}
    # the GPU-marked tests ran (and skip without CUDA): the script reached pytest's summary
    assert re.search(r"\d+ (passed|skipped)", (tmp_path / "gpu_tests.log").read_text())
    assert "projection:" in result.stdout
