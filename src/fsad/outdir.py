"""Output folders that fsad replaces as a whole (`fsad synth --out`, `fsad report figures
--out`): never delete what fsad did not make.

A folder is built under a temporary sibling name and renamed into place when complete, so a
crash never leaves half of one under the final name. Before that rename the old folder is
deleted, so fsad first makes sure the old folder is its own: it holds the marker file
``.fsad-output`` (written into every folder made here), or it is empty. Anything else (a
thesis, a dataset, the working directory) stops the command with one line naming the folder.
An ``--out`` that is the working directory, a folder above it, or a folder holding one of the
command's inputs is refused even when fsad made it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fsad import FsadError
from fsad.atomic import _alive

MARKER = ".fsad-output"
MARKER_TEXT = ("Made by fsad, which replaces this whole folder when it writes it again; "
               "keep nothing of your own here.\n")


def _made_by_fsad(folder: Path) -> bool:
    return (folder / MARKER).is_file() or not any(folder.iterdir())


def check_out(out: str | Path, inputs: Iterable[str | Path] = (),
              option: str = "--out") -> None:
    """Refuse ``out`` unless fsad may replace it: not the working directory or a folder
    above it, not a folder holding an input, and either absent, empty or made by fsad."""
    out = Path(out)
    resolved = out.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise FsadError(f"{out}: {option} is the working directory or a folder above it, and "
                        f"fsad replaces the whole {option} folder; choose a new folder for "
                        "the output")
    for item in inputs:
        path = Path(item).resolve()
        if path == resolved or resolved in path.parents:
            raise FsadError(f"{out}: {option} holds the input {item}, and fsad replaces the "
                            f"whole {option} folder; choose another {option}")
    if out.is_symlink():
        raise FsadError(f"{out}: {option} is a symbolic link; fsad replaces only folders it "
                        f"made; choose another {option}")
    if not out.exists():
        return
    if not out.is_dir():
        raise FsadError(f"{out}: a file stands where the output folder goes; move it or "
                        f"choose another {option}")
    if not _made_by_fsad(out):
        raise FsadError(f"{out}: the folder exists, is not empty and was not made by fsad (no "
                        f"{MARKER} inside); fsad replaces only folders it made; move it away "
                        f"or choose another {option}")


@contextmanager
def atomic_dir(out: str | Path, inputs: Iterable[str | Path] = (),
               option: str = "--out") -> Iterator[Path]:
    """Yield a temporary sibling folder of ``out`` to fill; when the block succeeds it gets
    the marker and replaces ``out``; when it fails it is removed. ``out`` is checked (see
    ``check_out``) before the block runs and again just before it is replaced."""
    out, inputs = Path(out), list(inputs)
    check_out(out, inputs, option)
    out.parent.mkdir(parents=True, exist_ok=True)
    head = f".{out.name}.tmp-"
    for stale in out.parent.iterdir():  # left by a killed earlier run
        pid = stale.name[len(head):]
        if stale.name.startswith(head) and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = out.with_name(f"{head}{os.getpid()}")
    tmp.mkdir()
    try:
        yield tmp
        (tmp / MARKER).write_text(MARKER_TEXT)
        check_out(out, inputs, option)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    # Messages name the folder the user asked for, not its temporary sibling.
    except OSError as exc:
        if exc.filename and str(exc.filename).startswith(str(tmp)):
            exc.filename = str(out) + str(exc.filename)[len(str(tmp)):]
        raise
    except FsadError as exc:
        raise FsadError(str(exc).replace(str(tmp), str(out))) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
