"""The workflow end to end: lint and dry runs of every config (fast), and the shared smoke
run's outputs, up-to-dateness and rerun scope (slow; tests/workflow/conftest.py runs it
once per pytest run). `dvc repro` of the same pipeline is tested in test_dvc.py."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.helpers.workflow import copy_run, scratch, snakemake


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A copy of the workflow in a scratch folder, for lint and dry runs."""
    return scratch(tmp_path_factory.mktemp("wf"))


@pytest.fixture
def smoke_copy(smoke_run, tmp_path) -> Path:
    """A private copy of the shared smoke run, for tests that write config files into it."""
    return copy_run(smoke_run, tmp_path / "wf")


def test_lint_is_clean(workdir):
    result = snakemake("--lint", cwd=workdir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_default_config_dry_run_lists_the_grid(workdir):
    result = snakemake("-n", "--quiet", "rules", cwd=workdir)
    assert result.returncode == 0, result.stderr
    out = result.stdout + result.stderr
    # one scoring job per target and method (8 x 2), each writing 1 unadapted + 3 K x 3
    # seeds files; the validation curves of the pre-trained and the one meta-trained model
    counts = {line.split()[0]: line.split()[1] for line in out.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert counts["score"] == "16" and counts["validate"] == "2", out
    assert counts["validation_figure"] == "1", out


@pytest.mark.slow
def test_auc_csv(smoke_run):
    with open(smoke_run / "results/auc.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
    assert reader.fieldnames == ["source", "target", "backbone", "method", "shots", "seed",
                                 "frame_auc", "video_auc"]
    # 2 methods x (K = 0 once, K = 1, 2 x 2 seeds)
    assert len(rows) == 2 * (1 + 2 * 2)
    assert {r["method"] for r in rows} == {"pretrained", "meta"}
    for r in rows:
        assert 0.0 <= float(r["frame_auc"]) <= 1.0
        assert r["video_auc"] == "" or 0.0 <= float(r["video_auc"]) <= 1.0


@pytest.mark.slow
def test_tables_figures_and_logs(smoke_run):
    md = (smoke_run / "results/tables/auc.md").read_text()
    assert "| synthetic | scene03 | rgan |" in md and "meta K=1" in md
    # The paired difference per K (an interval needs two targets: tests/unit/test_paired.py)
    assert "| synthetic | rgan | 1 |" in md and "95 % interval" in md
    curve = (smoke_run / "results/validation/synthetic/rgan/pretrained.csv").read_text()
    assert curve.splitlines()[0] == "model,shots,step,before,after,copy_last"
    assert [line.split(",")[2] for line in curve.splitlines()[1:]] == ["0", "3", "6"]
    assert (smoke_run / "results/validation/synthetic/rgan/meta_k1.csv").is_file()
    assert (smoke_run / "results/figures/validation/synthetic_rgan.png").stat().st_size > 1000
    figures = smoke_run / "results/figures/synthetic/scene03/rgan"
    assert (figures / "roc.png").stat().st_size > 1000
    assert list(figures.glob("scores_*.png"))
    assert "resumed" not in (smoke_run / "results/logs/pretrain/synthetic_rgan.log").read_text()
    assert (smoke_run / "results/metrics.json").is_file()


@pytest.mark.slow
def test_second_run_has_nothing_to_do(smoke_copy):
    # On a copy: also shows that copies of the shared run are as up to date as the run.
    result = snakemake("-n", "--configfile", "config/smoke.yaml", cwd=smoke_copy)
    assert result.returncode == 0
    assert "Nothing to be done" in result.stdout + result.stderr


@pytest.mark.slow
def test_changing_evaluation_params_does_not_retrain(smoke_copy):
    text = (smoke_copy / "config/smoke.yaml").read_text()
    assert "batch_size: 16}" in text
    (smoke_copy / "config/smoke_b8.yaml").write_text(text.replace("batch_size: 16}",
                                                                 "batch_size: 8}"))
    result = snakemake("-n", "--configfile", "config/smoke_b8.yaml", cwd=smoke_copy)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "rule score" in out
    assert "rule pretrain" not in out and "rule meta_train" not in out


def test_paper_config_stops_on_a_missing_dataset_and_lists_the_grid(workdir):
    result = snakemake("-n", "--configfile", "config/paper.yaml", cwd=workdir)
    assert result.returncode != 0
    assert "download it and unpack it there" in result.stdout + result.stderr
    import yaml

    cfg = yaml.safe_load((workdir / "config/paper.yaml").read_text())
    for spec in cfg["datasets"].values():
        (workdir / spec["root"]).mkdir(parents=True, exist_ok=True)
    # The target goes first: --configfile and --quiet take several values.
    result = snakemake("results/auc.csv", "-n", "--configfile", "config/paper.yaml",
                       "--quiet", "rules", cwd=workdir)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    # one scoring job per source, target and method; one meta model per (source, K); one
    # frame store per dataset.
    assert counts["score"] == 2 * 4 * 2
    assert counts["meta_train"] == 2 * 3 and counts["pretrain"] == 2
    assert counts["extract"] == 6


@pytest.mark.parametrize("name, roots, grid", [
    # the default run's synthetic models adapted to Ped2 (2 methods), and r-GAN trained on
    # Ped2's own training videos
    ("ped2", ["data/raw/ped2"],
     {"score": 2, "score_full_data": 1, "pretrain": 2, "meta_train": 1}),
    # models trained on views of real campus footage, alone and pooled with the synthetic
    # source scenes, adapted to Ped2
    ("ped2_from_campus", ["data/raw/ped2", "data/raw/campus"],
     {"score": 4, "score_full_data": 0, "pretrain": 2, "meta_train": 2, "extract": 3}),
])
def test_real_video_configs_read_data_raw(workdir, name, roots, grid):
    """The real-video configs point inside the repository, where a user unpacks the data."""
    config = f"config/{name}.yaml"
    result = snakemake("-n", "--configfile", config, cwd=workdir)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "not found at data/raw/" in out and "download it and unpack it there" in out
    for root in roots:
        (workdir / root).mkdir(parents=True)
    try:
        result = snakemake("-n", "--configfile", config, "--quiet", "rules", cwd=workdir)
    finally:
        for root in roots:
            (workdir / root).rmdir()
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    counts = {line.split()[0]: int(line.split()[1]) for line in out.splitlines()
              if len(line.split()) == 2 and line.split()[1].isdigit()}
    assert {job: counts.get(job, 0) for job in grid} == grid

def test_full_data_table_is_in_the_dag(workdir):
    text = (workdir / "config/smoke.yaml").read_text()
    (workdir / "config/smoke_full.yaml").write_text(text + "full_data: [scene03]\n")
    result = snakemake("-n", "--configfile", "config/smoke_full.yaml", cwd=workdir)
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    assert "results/models/full-scene03/rgan/pretrained/model.pt" in out
    assert "results/scores/full-scene03/scene03/rgan/pretrained/k0/seed0.csv" in out
    # scored unadapted only: no adapted cells of the full-data model
    assert "results/scores/full-scene03/scene03/rgan/pretrained/k1" not in out
    assert "rule score_full_data" in out
    assert "results/tables/full_data.csv" in out


def test_a_pooled_source_trains_on_the_frame_stores_of_its_datasets(workdir):
    roots = [workdir / "data/raw/ped2", workdir / "data/raw/campus"]
    for root in roots:
        root.mkdir(parents=True)
    try:
        result = snakemake("results/models/campus_synthetic/rgan/meta/k5/model.pt", "-n", "-p",
                           "--configfile", "config/ped2_from_campus.yaml", cwd=workdir)
    finally:
        for root in roots:
            root.rmdir()
    out = result.stdout + result.stderr
    assert result.returncode == 0, out
    commands = [line for line in out.splitlines() if "fsad train --method" in line]
    assert len(commands) == 2, out  # pre-training, then meta-training from it
    assert all("--source campus_synthetic --frames results/frames/campus.h5 --frames "
               "results/frames/synthetic.h5 " in c for c in commands), commands
