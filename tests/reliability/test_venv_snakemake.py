"""`.venv/bin/snakemake ...` without an activated venv (from a script or cron): every rule
reaches fsad through the interpreter that runs Snakemake, so no job needs `fsad` on PATH.
A tiny target of the smoke config (generate the benchmark, extract its frames) is built with
PATH holding only the system folders, then rebuilt over the folder the first run made."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fsad.outdir import MARKER
from tests.conftest import REPO

BIN = Path(sys.executable).parent
SYSTEM_PATH = "/usr/bin:/bin"


def snakemake(cwd: Path, *args) -> subprocess.CompletedProcess:
    env = {"PATH": SYSTEM_PATH, "HOME": str(cwd), "LC_ALL": "C.UTF-8"}
    if os.environ.get("PYTHONPATH"):  # a worktree's sources first, as in every test run
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run([str(BIN / "snakemake"), "-s", str(REPO / "Snakefile"), "--cores",
                           "1", "--workflow-profile", "none", "--configfile",
                           str(REPO / "config/smoke.yaml"), "-p", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_python_dash_m_fsad():
    result = subprocess.run([sys.executable, "-m", "fsad", "--version"], capture_output=True,
                            text=True, env={"PATH": SYSTEM_PATH, **{
                                k: v for k, v in os.environ.items() if k == "PYTHONPATH"}})
    assert result.returncode == 0 and "fsad" in result.stdout, result.stderr


def test_venv_snakemake_without_the_venv_on_path(tmp_path):
    if shutil.which("fsad", path=SYSTEM_PATH):
        pytest.skip("an fsad is installed in the system folders: the test needs none there")
    target = "results/frames/synthetic.h5"
    first = snakemake(tmp_path, target)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    # The job ran `fsad synth` although no fsad is on PATH: the shell function in front of
    # every command ran it through Snakemake's own interpreter.
    assert re.search(r"^Shell command: fsad synth ", first.stderr, re.M), first.stderr[-4000:]
    synthetic = tmp_path / "results/raw/synthetic"
    assert (synthetic / MARKER).is_file() and (tmp_path / target).is_file()
    before = {p.relative_to(synthetic): p.read_bytes() for p in synthetic.rglob("*")
              if p.is_file()}
    # The pipeline made the folder, so a forced rerun replaces it, byte for byte.
    again = snakemake(tmp_path, target, "--forcerun", "synth")
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-4000:]
    assert {p.relative_to(synthetic): p.read_bytes() for p in synthetic.rglob("*")
            if p.is_file()} == before
