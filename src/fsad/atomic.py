"""Writing outputs atomically: a crash never leaves half a file under its final name."""

from __future__ import annotations

import csv
import glob
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; it is renamed onto ``path`` when the
    block succeeds and removed when it fails. The suffix is kept, so writers that choose a
    format by extension (matplotlib, OpenCV) still do. Temporaries of ``path`` left by
    killed earlier writers are removed first, so a rerun leaves no strays. An operating-system
    error without a file name (a write that found the disk full) gets ``path`` as its name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        # A failed write() or fsync() carries no file name; without one the message could
        # not say which output the full disk stopped.
        if exc.filename is None:
            exc.filename = str(path)
        raise
    finally:
        tmp.unlink(missing_ok=True)


def write_csv(path: str | Path, header: list[str], rows: list[list]) -> None:
    """Write a CSV atomically (temporary name, then rename)."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def remove_stale(path: str | Path) -> list[Path]:
    """Remove the temporaries of ``path`` left by writers that were killed (SIGKILL skips
    the cleanup above); a temporary whose process still runs is left alone. Returns the
    paths removed."""
    path = Path(path)
    head, removed = f".{path.stem}.tmp-", []
    for tmp in path.parent.glob(f"{glob.escape(head)}*{glob.escape(path.suffix)}"):
        pid = tmp.name[len(head):len(tmp.name) - len(path.suffix)]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
