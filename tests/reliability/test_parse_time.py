"""Configs that cannot work fail when Snakemake parses them, before any job runs: no sources
or no targets, a scene a dataset does not have (a misspelling was found only after
training), frames smaller than the generator can draw, seeds torch cannot take. Each is a
dry run (`snakemake -n`) of the smoke config with one change; nothing may be written."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.helpers import layouts
from tests.helpers.cli import one_line_error, run_fsad
from tests.helpers.workflow import run_snakemake

SMOKE = yaml.safe_load((REPO / "config/smoke.yaml").read_text())


def dry_run(tmp_path: Path, **changes) -> subprocess.CompletedProcess:
    cfg = {**SMOKE, **changes}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(cfg))
    return run_snakemake("-s", str(REPO / "Snakefile"), "-n", "--cores", "1",
                         "--workflow-profile", "none", "--configfile", "config.yaml",
                         cwd=tmp_path, env={**os.environ, "COLUMNS": "200"}, timeout=300)


def refused(result: subprocess.CompletedProcess, *parts: str) -> None:
    out = result.stdout + result.stderr
    assert result.returncode != 0, out
    assert "Traceback" not in out and "Job stats" not in out, out
    for part in parts:
        assert part in out, (part, out)


@pytest.mark.parametrize("group", ["sources", "targets"])
def test_no_sources_or_no_targets(tmp_path, group):
    refused(dry_run(tmp_path, **{group: {}}), f"'{group}' is empty",
            "name at least one entry there")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]
    one_line_error(run_fsad("config", "--params", json.dumps({group: {}})), f"'{group}' is empty")


def test_misspelled_scene_of_the_generated_benchmark(tmp_path):
    targets = {"scene03": {"dataset": "synthetic", "scenes": ["s3"]}}
    refused(dry_run(tmp_path, targets=targets), "targets.scene03 names scene 's3'",
            "its scenes: s00, s01, s02, s03", "correct the name")
    assert not (tmp_path / "results").exists()


def test_misspelled_scene_of_a_real_dataset(tmp_path):
    root = layouts.shanghaitech(tmp_path / "shanghaitech")
    datasets = {**SMOKE["datasets"], "st": {"adapter": "shanghaitech", "root": str(root)}}
    targets = {"cam": {"dataset": "st", "scenes": ["02", "2"]}}
    refused(dry_run(tmp_path, datasets=datasets, targets=targets),
            "targets.cam names scene '2'", "its scenes: 01, 02, 13")
    sources = {"ped": {"dataset": "frames", "scenes": ["tinyy"]}}
    datasets["frames"] = {"adapter": "frames", "root": str(layouts.frames_mat(tmp_path / "tiny"))}
    refused(dry_run(tmp_path, datasets=datasets, sources=sources),
            "sources.ped names scene 'tinyy'", "its scenes: tiny")


def test_correct_scenes_of_a_real_dataset_pass(tmp_path):
    root = layouts.shanghaitech(tmp_path / "shanghaitech")
    datasets = {**SMOKE["datasets"], "st": {"adapter": "shanghaitech", "root": str(root)}}
    result = dry_run(tmp_path, datasets=datasets,
                     targets={"cam": {"dataset": "st", "scenes": ["01", "02"]}})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("changes, where", [
    ({"synth": {**SMOKE["synth"], "height": 16}}, "synth/height"),
    ({"seed": 1000000000000000}, "'seed'"),
])
def test_sizes_and_seeds_that_cannot_work(tmp_path, changes, where):
    refused(dry_run(tmp_path, **changes), where)
