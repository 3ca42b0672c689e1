"""Running the real `fsad` command in a child process and checking its one-line error.

:func:`run_fsad` forks this test process, where torch and scikit-learn are imported once,
and runs the command's entry point in the child (tests.helpers.forked.run_command): about
10 s less per call on a 2-core machine, and the suite runs the command a hundred times.
Tests whose claim is about the interpreter or the installed script run :data:`FSAD`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.helpers.forked import run_command

FSAD = Path(sys.executable).with_name("fsad")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|DEBUG) ")
ENV = {"PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}


def run_fsad(*args, cwd: Path | None = None, preexec: Callable[[], None] | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess:
    """`fsad ARGS` in a forked child; ``preexec`` runs in the child first."""
    import sklearn.metrics  # noqa: F401  (what nearly every command loads, loaded once)
    import torch._dynamo  # noqa: F401  (Adam's first step loads it: seconds)

    from fsad.cli import main

    return run_command(main, [str(FSAD), *map(str, args)], cwd=cwd,
                       env={**os.environ, **ENV}, preexec=preexec, timeout=timeout)


def one_line_error(result: subprocess.CompletedProcess, *parts: str) -> str:
    """The `fsad: error:` line of a failed run, checked: non-zero exit (not a signal), no
    traceback, nothing on stderr but timestamped log lines before it, and every one of
    ``parts`` in it."""
    assert 0 < result.returncode < 128, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    *before, line = result.stderr.strip().splitlines()
    assert all(LOG_LINE.match(b) for b in before), result.stderr
    assert line.startswith("fsad: error: "), result.stderr
    for part in parts:
        assert part in line, (part, line)
    return line


def files(folder: Path) -> list[str]:
    """Every path under ``folder``, relative, sorted (empty when it does not exist)."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() \
        else []


def assert_bench_script_names_its_run_folder(script: str, tmp_path: Path) -> None:
    """A bench script that runs in a finished run's folder, started elsewhere, exits 2 with
    the frame store it missed and where to run it, and writes nothing."""
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(repo / "bench" / script),
                           "--config", str(repo / "config/config.yaml")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "results/frames/synthetic.h5 not found: run this in a finished run's folder" \
        in done.stderr
    assert not (tmp_path / "results").exists()
