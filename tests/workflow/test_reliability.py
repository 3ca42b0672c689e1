"""Workflow reliability through real Snakemake runs of the smoke config: faults, retries,
--keep-going, determinism, shell quoting.

Folder 1, three runs in one folder:
  A. a plain run: a copy of the shared smoke run (tests/workflow/conftest.py);
  B. results/ removed (.snakemake kept), a run killed with SIGKILL (Snakemake and every job
     under it, as a lost node or a killed terminal would) in the middle of pre-training,
     then ``--unlock`` and ``--rerun-incomplete``, which resumes pre-training;
  C. ``--forcerun pretrain``, in which the first pre-training attempt is SIGKILLed after its
     first checkpoint (a transient fault, injected by a ``sitecustomize`` module on the
     jobs' PYTHONPATH); the profile's ``retries`` resubmits it and it resumes.
B and C run up to the pre-trained model, the jobs the faults hit (the jobs after it read
only that model, and the same inputs give the same outputs: folder 2 shows it). Every
output of B and C equals A's byte for byte, and no temporary, resume state or lock is left.

Folder 2: the dataset root is a path with spaces and shell metacharacters, the config turns
``deterministic`` on, and a second target reads a broken dataset. With ``--keep-going`` the
good target's cells all finish although the broken one fails early; without the broken
target the tables then equal folder 1's byte for byte, and no injected command ran.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
import yaml

from fsad.outdir import MARKER
from tests.helpers.workflow import (
    BIN,
    REPO,
    SET_THREADS,
    SMOKE,
    TIMEOUT,
    copy_run,
    env,
    ok,
    scratch,
    snakemake,
)

PRETRAIN = Path("results/models/synthetic/rgan/pretrained")
# Resume state a killed training run may leave (removed when the run completes).
RESUME_STATE = {"state.pt", "state.prev.pt"}
# A directory name that runs three commands if it ever reaches a shell unquoted.
NASTY = "data dir;touch PWNED1/$(touch PWNED2) `touch PWNED3` &x'y\"z|<*>é"


def outputs(root: Path, skip: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every file under results/ but logs and benchmarks (timings), by relative path."""
    files = {}
    for path in sorted((root / "results").rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and not rel.startswith(("results/logs/", "results/benchmarks/",
                                                  *skip)):
            files[rel] = path.read_bytes()
    return files


def differing(a: dict[str, bytes], b: dict[str, bytes]) -> dict[str, list[str]]:
    return {"only_first": sorted(a.keys() - b.keys()), "only_second": sorted(b.keys() - a.keys()),
            "different": sorted(k for k in a.keys() & b.keys() if a[k] != b[k])}


def is_temporary(rel: str) -> bool:
    return ".tmp-" in Path(rel).name or any(".tmp-" in part for part in Path(rel).parts)


def kill_tree(pid: int) -> None:
    """SIGKILL a process and all its descendants, stopping them first so none can start
    another or be orphaned half-way."""
    root = psutil.Process(pid)
    root.suspend()
    procs, seen = [root], {pid}
    while True:
        new = [p for p in root.children(recursive=True) if p.pid not in seen]
        if not new:
            break
        for p in new:
            seen.add(p.pid)
            procs.append(p)
            with contextlib.suppress(psutil.NoSuchProcess):
                p.suspend()
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.send_signal(signal.SIGKILL)
    psutil.wait_procs(procs, timeout=60)


# --------------------------------------------------------------------------------------
# Folder 1: the soak


@pytest.fixture(scope="module")
def folder1(smoke_run, tmp_path_factory) -> Path:
    return copy_run(smoke_run, tmp_path_factory.mktemp("soak") / "wf")


@pytest.fixture(scope="module")
def run_a(folder1) -> dict[str, bytes]:
    return outputs(folder1)


@pytest.fixture(scope="module")
def killed(folder1, run_a) -> dict:
    """Run B: from scratch in the same folder, SIGKILLed once pre-training has written its
    first checkpoint. (Not --forceall: a run killed after regenerating small files with
    unchanged checksums leaves A's later outputs up to date, and Snakemake then rightly
    has nothing to redo.)"""
    shutil.rmtree(folder1 / "results")
    log = folder1 / "killed.out"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(BIN / "snakemake"), *SMOKE], cwd=folder1,
                                env=env(HOME=str(folder1)), stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    state = folder1 / PRETRAIN / "state.pt"
    deadline = time.monotonic() + TIMEOUT
    try:
        while not state.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert state.exists(), "pre-training never checkpointed:\n" + log.read_text()[-4000:]
    finally:
        running = proc.poll() is None
        if running:
            kill_tree(proc.pid)  # reaps it too: proc.returncode says nothing any more
        proc.wait()
    return {"killed_while_running": running, "files": outputs(folder1),
            "pretrain_dir": sorted(p.name for p in (folder1 / PRETRAIN).iterdir())}


@pytest.fixture(scope="module")
def recovered(folder1, killed) -> dict:
    """After a hard kill the lock is stale: --unlock, then --rerun-incomplete (up to the
    job that was killed)."""
    ok(snakemake("--unlock", *SMOKE, cwd=folder1))
    out = ok(snakemake(f"{PRETRAIN.as_posix()}/model.pt", "--rerun-incomplete", *SMOKE,
                       cwd=folder1))
    return {"out": out, "files": outputs(folder1),
            "pretrain_log": (folder1 / "results/logs/pretrain/synthetic_rgan.log").read_text()}


# Fault injection, as a `sitecustomize` module on the jobs' PYTHONPATH (the rules run fsad
# through Snakemake's own interpreter, so a wrapper on PATH would never be called): the first
# `fsad train --method pretrain` is SIGKILLed as soon as its first training checkpoint is on
# disk (the OOM killer, a lost node); every other process runs as is.
FAULT_INJECTION = """
import os, signal, sys, threading, time

def _kill_after_first_checkpoint(wait_for):
    while not os.path.exists(wait_for):
        time.sleep(0.01)
    os.kill(os.getpid(), signal.SIGKILL)

argv = " ".join(sys.argv[1:])
if "train" in sys.argv and "--method pretrain" in argv:
    try:
        os.mkdir(os.environ["FAULT_FIRED"])  # only the first attempt
    except FileExistsError:
        pass
    else:
        threading.Thread(target=_kill_after_first_checkpoint,
                         args=(os.environ["FAULT_WAIT_FOR"],), daemon=True).start()
"""


@pytest.fixture(scope="module")
def retried(folder1, recovered, tmp_path_factory) -> dict:
    """Run C: --forcerun pretrain with the first pre-training attempt killed."""
    model = folder1 / PRETRAIN / "model.pt"
    before = model.stat().st_mtime_ns
    faultdir = tmp_path_factory.mktemp("fault")
    (faultdir / "sitecustomize.py").write_text(FAULT_INJECTION)
    fired = faultdir / "fired"
    result = snakemake(f"{PRETRAIN.as_posix()}/model.pt", "--forcerun", "pretrain", *SMOKE,
                       cwd=folder1, PYTHONPATH=str(faultdir), FAULT_FIRED=str(fired),
                       FAULT_WAIT_FOR=str(folder1 / PRETRAIN / "state.pt"))
    return {"out": ok(result), "fired": fired.is_dir(), "files": outputs(folder1),
            "rewritten": model.stat().st_mtime_ns != before,
            "pretrain_log": (folder1 / "results/logs/pretrain/synthetic_rgan.log").read_text()}


@pytest.mark.slow
def test_run_a_is_complete(run_a):
    assert {"results/auc.csv", "results/tables/auc.md", "results/metrics.json",
            f"{PRETRAIN.as_posix()}/model.pt"} <= run_a.keys()
    assert not [f for f in run_a if is_temporary(f)]


@pytest.mark.slow
def test_a_killed_run_leaves_nothing_partial_under_a_final_name(killed, run_a):
    assert killed["killed_while_running"]
    # Killed inside pre-training: its model is not there, only the resume state is.
    assert "model.pt" not in killed["pretrain_dir"]
    assert "state.pt" in killed["pretrain_dir"]
    # Everything under a final name is complete: it equals run A's copy.
    final = {k: v for k, v in killed["files"].items()
             if not is_temporary(k) and Path(k).name not in RESUME_STATE}
    assert final.keys() <= run_a.keys(), sorted(final.keys() - run_a.keys())
    assert [k for k in final if final[k] != run_a[k]] == []


@pytest.mark.slow
def test_rerun_incomplete_recovers_the_same_results(recovered, run_a):
    assert "resumed from" in recovered["pretrain_log"], (recovered["pretrain_log"]
                                                         + recovered["out"][-5000:])
    files = recovered["files"]
    assert {f"{PRETRAIN.as_posix()}/model.pt", "results/frames/synthetic.h5"} <= files.keys()
    assert differing({k: v for k, v in run_a.items() if k in files}, files) == {
        "only_first": [], "only_second": [], "different": []}


@pytest.mark.slow
def test_a_transient_fault_is_retried_and_resumes(retried):
    assert retried["fired"], "the injected fault did not fire"
    assert retried["rewritten"], "the pre-trained model was not made again"
    assert "Trying to restart job" in retried["out"]
    assert "resumed from" in retried["pretrain_log"], retried["pretrain_log"]


@pytest.mark.slow
def test_three_runs_end_identical_with_no_stray_files(run_a, recovered, retried, folder1):
    # The same files (no temporaries, resume states or locks left), byte for byte: C made
    # again what B had made.
    assert retried["files"].keys() == recovered["files"].keys()
    assert differing({k: v for k, v in run_a.items() if k in retried["files"]},
                     retried["files"]) == {"only_first": [], "only_second": [],
                                           "different": []}
    strays = [p for p in (folder1 / "results").rglob("*")
              if p.name.startswith(".") and p.name not in (".snakemake_timestamp", MARKER)
              or p.name in RESUME_STATE or p.suffix in (".tmp", ".lock")]
    assert strays == []
    assert not list((folder1 / ".snakemake/locks").glob("*"))
    assert not list((folder1 / ".snakemake/incomplete").rglob("*"))


# --------------------------------------------------------------------------------------
# Folder 2: shell metacharacters in the dataset root, deterministic mode, --keep-going


def smoke_config() -> dict:
    return yaml.safe_load((REPO / "config/smoke.yaml").read_text())


@pytest.fixture(scope="module")
def folder2(tmp_path_factory) -> Path:
    root = scratch(tmp_path_factory.mktemp("quoting") / "wf")
    from fsad.data.synth import generate

    cfg = smoke_config()
    data = root / NASTY / "synthetic"
    generate(data, **cfg["synth"])
    (root / "broken data").mkdir()  # exists, so the run starts; holds no dataset
    good = {**cfg, "deterministic": True,
            "datasets": {"synthetic": {"adapter": "synthetic",
                                       "root": f"{NASTY}/synthetic"}}}
    (root / "config/good.yaml").write_text(yaml.safe_dump(good, allow_unicode=True))
    broken = {**good,
              "datasets": {**good["datasets"],
                           "broken": {"adapter": "synthetic", "root": "broken data"}},
              "targets": {**good["targets"], "broken": {"dataset": "broken",
                                                        "scenes": ["s03"]}}}
    (root / "config/broken.yaml").write_text(yaml.safe_dump(broken, allow_unicode=True))
    return root


@pytest.fixture(scope="module")
def keep_going(folder2) -> dict:
    result = snakemake("--keep-going", "--cores", "2", "--configfile", "config/broken.yaml",
                       *SET_THREADS, cwd=folder2)
    return {"returncode": result.returncode, "out": result.stdout + result.stderr}


@pytest.fixture(scope="module")
def run_b(folder2, keep_going) -> dict:
    out = ok(snakemake("--cores", "2", "--configfile", "config/good.yaml", *SET_THREADS,
                       cwd=folder2))
    return {"out": out, "files": outputs(folder2)}


@pytest.mark.slow
def test_keep_going_finishes_the_independent_cells(keep_going, folder2):
    out = keep_going["out"]
    assert keep_going["returncode"] != 0
    assert "Error in rule extract" in out and "dataset=broken" in out
    # The broken dataset failed before the last score job started, so without
    # --keep-going that job would never have run. (Its first failure: the retries of the
    # profile may end before or after the last score job starts, as scheduling goes.)
    assert out.index("Error in rule extract") < out.rindex("rule score:")
    scores = folder2 / "results/scores/synthetic"
    good = sorted(p.relative_to(scores).as_posix() for p in (scores / "scene03").rglob("*.csv"))
    assert len(good) == 2 * (1 + 2 * 2), good  # 2 methods x (K = 0, K = 1, 2 x 2 seeds)
    assert (folder2 / "results/figures/synthetic/scene03/rgan/roc.png").is_file()
    assert not (scores / "broken").exists()
    assert not (folder2 / "results/auc.csv").exists()  # it needs every cell


@pytest.mark.slow
def test_metacharacters_in_the_dataset_root_never_reach_a_shell(run_b, folder2,
                                                                tmp_path_factory):
    # Jobs run in their folder (also their HOME): an injected `touch` would land there.
    assert list(tmp_path_factory.getbasetemp().rglob("PWNED*")) == []
    # The frames came from the oddly named folder: the only dataset configured, and
    # nothing was generated under results/raw.
    assert (folder2 / "results/frames/synthetic.h5").is_file()
    assert not (folder2 / "results/raw").exists()
    assert run_b["files"]["results/auc.csv"].count(b"\n") == 1 + 2 * (1 + 2 * 2)


@pytest.mark.slow
def test_same_config_and_seed_give_identical_results_in_another_folder(run_b, run_a):
    """Folder 2 read the same pixels from another path with deterministic mode on: models,
    scores, AUCs, tables and figures are bit-identical to folder 1's (the frame store
    differs only in the source path it records)."""
    skip = ("results/frames/", "results/raw/")
    a = {k: v for k, v in run_a.items() if not k.startswith(skip)}
    b = {k: v for k, v in run_b["files"].items() if not k.startswith(skip)}
    assert "results/auc.csv" in a and "results/models/synthetic/rgan/meta/k1/model.pt" in a
    assert differing(a, b) == {"only_first": [], "only_second": [], "different": []}


@pytest.mark.slow
def test_deterministic_mode_reaches_the_jobs(run_b, smoke_run, folder2):
    # Folder 1's run A is the shared smoke run: its logs are that run's.
    for root, state in ((smoke_run, "off"), (folder2, "on")):
        for log in ("pretrain/synthetic_rgan.log", "meta/synthetic_rgan_k1.log",
                    "score/synthetic/scene03/rgan/meta.log"):
            text = (root / "results/logs" / log).read_text()
            assert f"deterministic algorithms: {state}" in text, (log, text)


def test_a_name_with_shell_metacharacters_is_refused_before_any_job(folder2, tmp_path):
    cfg = smoke_config()
    cfg["targets"] = {"x;touch PWNED4": {"dataset": "synthetic", "scenes": ["s03"]}}
    (folder2 / "config/bad_name.yaml").write_text(yaml.safe_dump(cfg))
    result = snakemake("-n", "--configfile", "config/bad_name.yaml", cwd=folder2)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "invalid value at 'targets'" in out and "x;touch PWNED4" in out, out
    assert "Traceback" not in out
    assert not list(folder2.rglob("PWNED4"))


def test_every_value_in_a_shell_command_is_quoted():
    """Static guard for the rule files: every placeholder in a `shell:` string is quoted
    with :q (only {threads}, an integer Snakemake sets, is exempt)."""
    unquoted = []
    for path in sorted((REPO / "workflow/rules").glob("*.smk")):
        lines, in_shell = path.read_text().splitlines(), False
        for number, line in enumerate(lines, 1):
            text = line.strip()
            if text.startswith("shell:"):
                in_shell = True
                continue
            if in_shell and not text.startswith(('"', "'")):
                in_shell = False
            if in_shell:
                for name, spec in re.findall(r"(?<!\{)\{([^{}:]+)(:[^{}]*)?\}(?!\})", text):
                    if spec != ":q" and name != "threads":
                        unquoted.append(f"{path.name}:{number}: {{{name}{spec}}}")
    assert unquoted == []
    assert sum(p.read_text().count(":q}") for p in (REPO / "workflow/rules").glob("*.smk")) > 20
