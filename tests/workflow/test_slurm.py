"""The smoke pipeline through a real SLURM cluster (`--workflow-profile profiles/slurm`).

`.ci/slurm-up` (run by `.ci/run`) starts a single-node cluster on this machine: munged,
slurmctld and slurmd, no accounting, one fake GPU (gres.conf File=/dev/null) so that the
profile's `gpu: 1` requests are accepted; the jobs still run on the CPU (`device: cpu`).
The test skips only where no such cluster answers.

The profile is used as it is, except for test-only overrides on the command line: a short
first status check, --jobs, --latency-wait, keeping the SLURM logs, and resources capped to
what the one node has (the profile asks for 8 CPUs and 32 GB per GPU job). A command-line
--set-resources/--default-resources replaces the profile's whole block, so the caps are
derived from the profile's own values here, keeping everything else (gpu: 1, runtime, ...).
Thread counts are pinned to the same values as in the shared local smoke run
(tests/workflow/conftest.py) that the SLURM run's AUCs are compared with: torch's results
depend on them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.helpers.workflow import BIN, REPO, SET_THREADS, copy_run, scratch

pytestmark = pytest.mark.slow

SLURM_ROOT = Path(os.environ.get("FSAD_SLURM_ROOT", "/tmp/fsad-slurm"))
PROFILE = yaml.safe_load((REPO / "profiles/slurm/profile.yaml").read_text())
TARGET = "results/auc.csv"
MEM_MB = 1000  # per job; the smoke jobs need far less, and nothing enforces it here
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.")


def run(cmd: list[str], cwd: Path, timeout: float = 1500) -> subprocess.CompletedProcess:
    env = {"PATH": f"{BIN}:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(cwd),
           "LC_ALL": "C.UTF-8"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


BUSY_WAIT = 900


def idle_node() -> tuple[int, int]:
    """(CPUs, memory in MB) of an idle node of the default partition, or skip saying why."""
    why = ""
    if (SLURM_ROOT / "up-error").is_file():
        why = f"; .ci/slurm-up said: {(SLURM_ROOT / 'up-error').read_text().strip()}"
    for tool in ("sbatch", "sinfo", "squeue"):
        if shutil.which(tool) is None:
            pytest.skip(f"SLURM is not installed ({tool} not found; .ci/slurm-up installs and "
                        f"starts a single-node cluster as root){why}")
    # A node busy with another run of this test (pytest-xdist may start the fixture on
    # both workers) is waited for, up to BUSY_WAIT seconds, instead of skipping.
    deadline = time.monotonic() + BUSY_WAIT
    while True:
        try:
            result = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%t %c %m"],
                                    capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired:
            pytest.skip(f"the SLURM controller does not answer (sinfo timed out){why}")
        nodes = [line.split() for line in result.stdout.splitlines()]
        idle = [(int(n[1]), int(n[2])) for n in nodes if len(n) == 3 and n[0] == "idle"]
        busy = [n for n in nodes if n and n[0].rstrip("*") in ("alloc", "mix", "comp")]
        if idle or not busy or result.returncode != 0 or time.monotonic() > deadline:
            break
        time.sleep(5)
    if result.returncode != 0 or not idle:
        answer = (result.stdout + result.stderr).strip() or "no nodes"
        pytest.skip(f"no idle SLURM node (sinfo: {answer}; start one with .ci/slurm-up){why}")
    return max(idle)


def fit(key: str, value, cpus: int):
    """One profile resource, capped to the test node."""
    if key == "mem_mb" and isinstance(value, int):
        return min(value, MEM_MB)
    if key in ("cpus_per_task", "cpus_per_gpu") and isinstance(value, int):
        return min(value, cpus)
    return value


def resource_overrides(cpus: int) -> list[str]:
    default = [f"{k}={fit(k, v, cpus)}" for k, v in PROFILE["default-resources"].items()]
    per_rule = [f"{rule}:{k}={fit(k, v, cpus)}"
                for rule, res in PROFILE["set-resources"].items() for k, v in res.items()]
    return ["--default-resources", *default, "--set-resources", *per_rule]


def job_stats(log: str) -> Counter:
    """The 'Job stats' table of a Snakemake log: jobs per rule."""
    counts: Counter = Counter()
    lines = log.split("Job stats:", 1)[1].splitlines()[1:]
    for line in lines[2:]:
        parts = line.split()
        if len(parts) != 2 or not parts[1].isdigit():
            break
        if parts[0] != "total":
            counts[parts[0]] = int(parts[1])
    return counts


@pytest.fixture(scope="module")
def cluster() -> tuple[int, int]:
    return idle_node()


@pytest.fixture(scope="module")
def slurm_run(cluster, smoke_run, tmp_path_factory):
    """The smoke pipeline from the training on, through SLURM: the generated dataset and its
    frame store (CPU-only jobs, no GPU request to check) are the shared local run's, so
    every job of the run that asks for a GPU, and the evaluation, goes through sbatch."""
    cpus, _ = cluster
    root = scratch(tmp_path_factory.mktemp("slurm"))
    copy_run(smoke_run, root, parts=("results/raw", "results/frames", ".snakemake/metadata"))
    cmd = [str(BIN / "snakemake"), TARGET, "--workflow-profile", "profiles/slurm",
           "--configfile", "config/smoke.yaml",
           # test-only: first status check after 1 s (not 40), 4 jobs at once, keep logs
           "--slurm-init-seconds-before-status-checks", "1", "--jobs", "4",
           "--latency-wait", "5", "--slurm-keep-successful-logs",
           *resource_overrides(cpus), *SET_THREADS]
    result = run(cmd, cwd=root)
    # Right away: finished jobs stay visible to squeue for MinJobAge (300 s) only.
    queue = run(["squeue", "--states=all", "--noheader", "--format=%i|%T|%j"], cwd=root)
    logs = sorted((root / ".snakemake/log").glob("*.snakemake.log"))
    main_log = logs[-1].read_text() if logs else ""
    return root, result, main_log, queue.stdout


def test_slurm_run_succeeds(slurm_run):
    _, result, main_log, _ = slurm_run
    assert result.returncode == 0, (main_log or result.stdout + result.stderr)[-6000:]


def test_slurm_auc_equals_local_run(slurm_run, smoke_run):
    root, result, _, _ = slurm_run
    assert result.returncode == 0
    slurm_auc = (root / TARGET).read_bytes()
    assert slurm_auc.count(b"\n") > 1
    assert slurm_auc == (smoke_run / TARGET).read_bytes()


def test_every_job_went_through_sbatch(slurm_run):
    root, result, main_log, queue = slurm_run
    assert result.returncode == 0
    stats = job_stats(main_log)
    assert {"pretrain", "meta_train", "score", "evaluate"} <= set(stats), stats

    # The plugin logs every submission with its SLURM job id and per-job log file.
    submitted = SUBMITTED.findall(main_log)
    ids_by_rule: dict[str, set[str]] = {}
    for _, slurm_id, log in submitted:
        rule = Path(log).relative_to(root / ".snakemake/slurm_logs").parts[0]
        ids_by_rule.setdefault(rule.removeprefix("rule_"), set()).add(slurm_id)
    assert {r: len(ids) for r, ids in ids_by_rule.items()} == dict(stats), main_log[-4000:]

    # The per-job SLURM logs (kept by --slurm-keep-successful-logs) are that job's output.
    for _, slurm_id, log in submitted:
        assert Path(log).name == f"{slurm_id}.log"
        text = Path(log).read_text()
        rule = Path(log).relative_to(root / ".snakemake/slurm_logs").parts[0]
        assert f"rule {rule.removeprefix('rule_')}:" in text, (log, text[-2000:])

    # SLURM itself knows every job, all completed, all named after this run's id.
    run_id = re.search(r"SLURM run ID: (\S+)", main_log).group(1)
    states = {line.split("|")[0]: line.split("|")[1:] for line in queue.splitlines()}
    for _, slurm_id, _ in submitted:
        assert states.get(slurm_id) == ["COMPLETED", run_id], (slurm_id, queue)


def test_gpu_rules_asked_slurm_for_a_gpu(slurm_run):
    """The profile's gpu: 1 reached sbatch (the fake GRES accepted it)."""
    root, result, main_log, _ = slurm_run
    assert result.returncode == 0
    for _, slurm_id, log in SUBMITTED.findall(main_log):
        rule = Path(log).relative_to(root / ".snakemake/slurm_logs").parts[0]
        if rule.removeprefix("rule_") in PROFILE["set-resources"]:
            job = run(["scontrol", "show", "job", slurm_id], cwd=root).stdout
            assert "gres/gpu=1" in job or "gpu:1" in job, job
