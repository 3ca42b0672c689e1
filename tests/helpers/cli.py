"""Running the real `fsad` command in a child process and checking its one-line error."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

FSAD = Path(sys.executable).with_name("fsad")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|DEBUG) ")


def run_fsad(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    return subprocess.run([str(FSAD), *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


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
