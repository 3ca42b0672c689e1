"""Running the real workflow in scratch folders: copies of the project, Snakemake calls, and
copies of a finished run (so that tests which only read or extend a smoke run share one).

Snakemake itself runs in a forked child of the test process (tests.helpers.forked): its
import costs about 11 s per call on a 2-core machine (it loads every executor plugin), the
jobs it starts are real processes either way. Tests about killing a real Snakemake process
tree, or about the installed script, start the script itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.helpers.forked import run_command

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROJECT_FILES = ["Snakefile", "workflow", "config", "profiles"]
TIMEOUT = 1800

# The rules' own thread counts, pinned in every smoke run that another run is compared
# with (torch's sums depend on them; never above the machine's CPUs, which is what a SLURM
# job's Snakemake caps them to inside its allocation).
THREADS = {rule: min(n, os.cpu_count() or 1)
           for rule, n in {"pretrain": 2, "meta_train": 2, "score": 1}.items()}
SET_THREADS = ["--set-threads", *(f"{rule}={n}" for rule, n in THREADS.items())]
# The smoke pipeline as every end-to-end test runs it locally. --set-threads takes several
# values, so a target given after SMOKE needs a flag in between (or goes first).
SMOKE = ["--cores", "2", "--configfile", "config/smoke.yaml", *SET_THREADS]


def env(path_prefix: str = "", **extra: str) -> dict:
    return {"PATH": f"{path_prefix}{BIN}:/usr/bin:/bin", "LC_ALL": "C.UTF-8", **extra}


def scratch(root: Path, files: list[str] = PROJECT_FILES) -> Path:
    """A copy of the workflow in ``root`` (src stays in place: code inputs are found through a
    symlink, the package through the venv)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in files:
        src = REPO / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, root / name)
    (root / "src").symlink_to(REPO / "src")
    return root


def snakemake(*args: str, cwd: Path, path_prefix: str = "",
              **extra_env: str) -> subprocess.CompletedProcess:
    return run_snakemake(*args, cwd=cwd, env=env(path_prefix, HOME=str(cwd), **extra_env))


def run_snakemake(*args: str, cwd: Path, env: dict, timeout: float = TIMEOUT
                  ) -> subprocess.CompletedProcess:
    """`snakemake ARGS` in ``cwd`` with exactly the environment ``env``, in a forked child."""
    import snakemake.cli  # noqa: F401  (loaded once, in the test process)

    return run_command(_snakemake_main, [str(BIN / "snakemake"), *args], cwd=cwd, env=env,
                       timeout=timeout)


def _snakemake_main() -> None:
    from snakemake.cli import main

    main()


def ok(result: subprocess.CompletedProcess) -> str:
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-6000:]
    return out


def copy_run(run: Path, dest: Path, parts: tuple[str, ...] | None = None) -> Path:
    """Copy a finished run (or only ``parts`` of it, e.g. results and .snakemake) to
    ``dest``: file times are kept and so is Snakemake's per-job metadata, so Snakemake
    sees the copy exactly as up to date as the original."""
    if parts is None:
        shutil.copytree(run, dest, symlinks=True)
        return dest
    for part in parts:
        shutil.copytree(run / part, dest / part, symlinks=True)
    return dest


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime) of every file of a run: what a test must not change in a shared run."""
    return {p.relative_to(root).as_posix(): (p.lstat().st_size, p.lstat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file() or p.is_symlink()}
