"""The DVC round trip of README.md, "Versioning with DVC (fresh clone)", on the smoke config:
`dvc repro`, `dvc push` to a local remote, a fresh `git clone`, `dvc pull`, the touch step,
then nothing to do; a changed training parameter reruns only the jobs that depend on it.

The repository starts from a copy of the shared smoke run (tests/workflow/conftest.py), so
`dvc repro` runs the stage's Snakemake command, which finds that run up to date, and records
its outputs; the jobs Snakemake runs here are the ones the parameter change reruns.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.workflow import BIN, REPO, copy_run, run_snakemake

PROJECT_FILES = ["Snakefile", "workflow", "config", "profiles", "src", "dvc.yaml", ".gitignore"]
# After `dvc pull`, as documented: every output gets a consistent mtime, and every job gets
# Snakemake metadata (params, code), which a fresh clone lacks and without which a later
# parameter change would rerun nothing.
TOUCH = ["snakemake", "--touch", "--forceall"]

pytestmark = pytest.mark.slow


def job_counts(output: str) -> dict[str, int]:
    """The "Job stats" table of a Snakemake run or dry run, as {rule: count}."""
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", table, re.M)}


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_round_trip_through_a_remote_and_a_fresh_clone(tmp_path, smoke_run):
    origin, clone, remote = tmp_path / "origin", tmp_path / "clone", tmp_path / "remote"
    origin.mkdir()
    for name in PROJECT_FILES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, origin / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(src, origin / name)
    shutil.copy(REPO / "config/smoke.yaml", origin / "config/config.yaml")
    copy_run(smoke_run, origin, parts=("results", ".snakemake"))
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "LC_ALL": "C.UTF-8",
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "DVC_NO_ANALYTICS": "1",
           "DVC_SITE_CACHE_DIR": str(tmp_path / "dvc-site")}

    def run(*cmd: str, cwd: Path) -> str:
        result = (run_snakemake(*cmd[1:], cwd=cwd, env=env) if cmd[0] == "snakemake" else
                  subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True))
        out = result.stdout + result.stderr
        assert result.returncode == 0, f"{' '.join(cmd)}\n{out[-4000:]}"
        return out

    # The original working copy: run through DVC, commit, push.
    run("git", "init", "-q", cwd=origin)
    run("dvc", "init", "-q", cwd=origin)
    run("dvc", "remote", "add", "-d", "local", str(remote), cwd=origin)
    repro = run("dvc", "repro", cwd=origin)
    # The stage ran Snakemake on the default config (the smoke config here), which found the
    # copied run complete: `dvc repro` is the same pipeline as `snakemake`.
    assert "Running stage 'pipeline'" in repro and "Nothing to be done" in repro, repro
    lock = (origin / "dvc.lock").read_text()
    assert "results/models" in lock and "results/metrics.json" in lock
    assert md5(smoke_run / "results/auc.csv") in lock
    assert "didn't change" in run("dvc", "repro", cwd=origin)
    run("git", "add", "-A", cwd=origin)
    run("git", "commit", "-q", "-m", "smoke run", cwd=origin)
    run("dvc", "push", cwd=origin)

    # A fresh clone: the remote comes with .dvc/config, the data with `dvc pull`.
    run("git", "clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert not (clone / "results").exists() and not (clone / ".snakemake").exists()
    run("dvc", "pull", cwd=clone)
    for path in ["results/auc.csv", "results/metrics.json", "results/tables/auc.md",
                 "results/tables/auc_summary.csv", "results/frames/synthetic.h5",
                 "results/figures/synthetic/scene03/rgan/roc.png",
                 "results/models/synthetic/rgan/pretrained/model.pt"]:
        assert (clone / path).is_file(), path
    assert "up to date" in run("dvc", "status", cwd=clone)

    readme = (REPO / "README.md").read_text()
    assert " ".join(TOUCH) in readme  # the step documented is the step tested
    run(*TOUCH, cwd=clone)
    assert "Nothing to be done" in run("snakemake", "-n", cwd=clone)
    assert "up to date" in run("dvc", "status", cwd=clone)  # touching changes no content

    # One training parameter: meta-training, the meta scores and everything after them.
    # (Fewer iterations, not more: the rerun it causes is then the cheaper one.)
    cfg = clone / "config/config.yaml"
    text = cfg.read_text()
    assert "meta: {iterations: 3," in text
    cfg.write_text(text.replace("meta: {iterations: 3,", "meta: {iterations: 2,"))
    dry = run("snakemake", "-n", cwd=clone)
    # meta's scoring job (K = 0; K = 1, 2 x 2 seeds); the meta models' validation curves
    assert job_counts(dry) == {"meta_train": 2, "score": 1, "evaluate": 1, "tables": 1,
                               "figures": 1, "validate": 2, "validation_figure": 1,
                               "all": 1}, dry
    rescored = [f for line in re.findall(r"^\s+output: (.+)$", dry, re.M)
                for f in line.split(", ") if f.startswith("results/scores/")]
    assert len(rescored) == 5 and all("/meta/" in f for f in rescored), rescored
    assert "params have changed since last execution" in dry

    # Run it, record it in DVC, push: the pre-trained model is left alone.
    pretrained = clone / "results/models/synthetic/rgan/pretrained/model.pt"
    meta = clone / "results/models/synthetic/rgan/meta/k1/model.pt"
    before = md5(pretrained), md5(meta)
    ran = run("snakemake", "--cores", "2", cwd=clone)
    assert set(job_counts(ran)) == {"meta_train", "score", "evaluate", "tables", "figures",
                                    "validate", "validation_figure", "all"}
    assert md5(pretrained) == before[0] and md5(meta) != before[1]
    assert "Nothing to be done" in run("snakemake", "-n", cwd=clone)
    run("dvc", "commit", "-f", cwd=clone)
    assert "up to date" in run("dvc", "status", cwd=clone)
    run("dvc", "push", cwd=clone)
    assert "iterations" in run("dvc", "params", "diff", cwd=clone)
