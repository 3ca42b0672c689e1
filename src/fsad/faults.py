"""Fault injection, a test hook: ``FSAD_FAULT`` makes the process SIGKILL itself at one
chosen point, so tests can show that a run killed there resumes correctly.

Recognised values (nothing happens when the variable is unset or names another point):

* ``kill_at_step:N`` - inside training step N: after its forward, backward and optimiser
  updates, before the step is counted or checkpointed (``fsad.train.Trainer.loop``);
* ``kill_in_checkpoint_write:NAME:N`` - half-way through writing the temporary file of the
  checkpoint ``NAME`` (a file name such as ``state.pt`` or ``model.pt``) that holds step N,
  after part of it reached the disk and before the rename (``fsad.checkpoint.save``).

SIGKILL cannot be caught, so nothing in the process gets to clean up: exactly what a node
failure, the OOM killer or a SLURM preemption past its grace period does.
"""

from __future__ import annotations

import os
import signal

VARIABLE = "FSAD_FAULT"


def kill_if(point: str, *where: object) -> None:
    """SIGKILL this process when ``FSAD_FAULT`` is ``point:where[0]:where[1]...``."""
    wanted = os.environ.get(VARIABLE)
    if wanted and wanted == ":".join([point, *map(str, where)]):
        os.kill(os.getpid(), signal.SIGKILL)
