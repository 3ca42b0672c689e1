"""Run a function in a forked child process, so that a test can SIGKILL "a training run"
without paying a fresh interpreter's torch import (seconds) for each run.

The child uses one intra-op thread (as DataLoader workers do after a fork), so every run
started here computes the same floating-point sums, and a run killed and resumed can be
compared bit for bit with an uninterrupted one. ``FSAD_FAULT`` is set in the child only.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable
from pathlib import Path


def _warm() -> None:
    """Import in the parent what every training child would otherwise import on its own
    (Adam pulls in torch._dynamo lazily: seconds per child)."""
    import torch._dynamo  # noqa: F401


def run_forked(fn: Callable[[], object], fault: str | None = None,
               log: Path | None = None) -> int:
    """Run ``fn()`` in a child; return its exit code (0 ok, 1 raised, -9 SIGKILLed).
    The child's ``fsad`` log (and any traceback) is appended to ``log``."""
    _warm()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            import torch

            torch.set_num_threads(1)
            os.environ.pop("FSAD_FAULT", None)
            if fault:
                os.environ["FSAD_FAULT"] = fault
            logger = logging.getLogger("fsad")
            logger.handlers, logger.propagate = [], False
            logger.setLevel(logging.INFO)
            if log is not None:
                logger.addHandler(logging.FileHandler(log))
            try:
                fn()
                code = 0
            except BaseException:
                if log is not None:
                    with open(log, "a") as fh:
                        traceback.print_exc(file=fh)
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
