"""Forked children of the test process, so that a test does not pay a fresh interpreter's
imports (torch, scikit-learn, Snakemake: 5-12 s each on a 2-core machine) for every run.

* :func:`run_forked` runs a function, so that a test can SIGKILL "a training run".
* :func:`run_command` runs a command line's real entry point (``fsad.cli.main``,
  ``snakemake.cli.main``) in its own process, with its own exit status, stdout, stderr,
  working directory and environment, as the installed script would run it.

A child computes with one intra-op thread (GNU OpenMP cannot start threads again after a
fork; DataLoader workers run the same way), so every run started here computes the same
floating-point sums, and a run killed and resumed can be compared bit for bit with an
uninterrupted one. What the test process imported stays imported: tests whose claim is
about imports or the installed scripts start a fresh interpreter instead.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import traceback
import types
import warnings
from collections.abc import Callable, Mapping
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


def run_command(main: Callable[[], object], argv: list[str], *, cwd: Path | None = None,
                env: Mapping[str, str] | None = None, preexec: Callable[[], None] | None = None,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """``main()`` with ``sys.argv = argv`` in a forked child, as `ARGV` would run: ``env``
    replaces the environment (None keeps it), ``preexec`` runs in the child first (resource
    limits, as subprocess's ``preexec_fn``). Output is text, as with ``text=True``."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            _run_main(main, argv, cwd, env, preexec, timeout, out, err)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code == -signal.SIGALRM:
            raise subprocess.TimeoutExpired(argv, timeout)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(argv, code, out.read().decode("utf-8", "replace"),
                                           err.read().decode("utf-8", "replace"))


def _run_main(main, argv, cwd, env, preexec, timeout, out, err) -> None:
    code = 1
    try:
        signal.alarm(int(timeout))
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        # the child's own streams on fds 0-2 (pytest replaced sys.std* with its capture)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace",  # noqa: SIM115
                          buffering=1, closefd=False)
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        if preexec is not None:
            preexec()
        # As in a fresh interpreter: no pytest log or warning capture, and the script's own
        # name as the program's (click reads it from __main__ and argv).
        logging.root.handlers = []
        logging.root.setLevel(logging.WARNING)
        for name in ("fsad", "snakemake"):
            named = logging.getLogger(name)
            named.handlers, named.propagate = [], True
            named.setLevel(logging.NOTSET)
        warnings.resetwarnings()
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning,
                         ResourceWarning):
            warnings.simplefilter("ignore", category)
        warnings.showwarning = getattr(warnings, "_showwarning_orig", warnings.showwarning)
        sys.modules["__main__"] = types.ModuleType("__main__")
        sys.argv = list(argv)
        if "torch" in sys.modules:
            import torch

            torch.set_num_threads(1)
            torch.set_num_threads = lambda n: None  # --threads: more would hang after a fork
        try:
            main()
            code = 0
        except SystemExit as exc:
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
        except BaseException:  # a bug: the traceback a fresh interpreter would print
            traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
