"""One-line messages for operating-system errors (disk full, permissions, a file where a
folder should be): the CLI prints them instead of a traceback.

Writers produce temporary siblings named ``.<stem>.tmp-<pid><suffix>`` (``fsad.atomic``);
a message names the final path the user asked for, not the temporary one.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

TMP_NAME = re.compile(r"^\.(?P<stem>.+)\.tmp-\d+(?P<suffix>(\.[^.]*)?)$")
# HDF5 reports the operating system's error inside its own text.
HDF5_ERRNO = re.compile(r"errno = (\d+)")

FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}
DENIED = {errno.EACCES, errno.EPERM, errno.EROFS}
NOT_A_FOLDER = {errno.ENOTDIR, errno.EEXIST}


def final_path(path: str | Path) -> Path:
    """``dir/.name.tmp-123.h5`` -> ``dir/name.h5``; other paths unchanged."""
    path = Path(path)
    match = TMP_NAME.match(path.name)
    return path.with_name(match["stem"] + match["suffix"]) if match else path


def error_number(exc: OSError) -> int | None:
    if exc.errno:
        number = exc.errno
        # h5py puts its own guess in errno; the real one is in the text when present.
        found = HDF5_ERRNO.search(str(exc))
        return int(found.group(1)) if found else number
    found = HDF5_ERRNO.search(str(exc))
    return int(found.group(1)) if found else None


def describe(exc: OSError, path: str | Path | None = None, option: str = "path") -> str:
    """A one-line message naming the path, the cause and the fix. ``path`` overrides the
    file named by the exception; ``option`` is how the user chose it (e.g. ``--out``)."""
    where = final_path(path if path is not None else exc.filename or "?")
    number = error_number(exc)
    if number:
        reason = os.strerror(number)
    else:
        text = str(exc).strip()
        reason = exc.strerror or (text.splitlines()[0] if text else "input/output error")
    if number in FULL:
        fix = (f"free disk space (or raise the file-size limit, `ulimit -f`) or choose another "
               f"{option} on a disk with room")
    elif number in DENIED:
        fix = f"check its permissions (is the folder writable?) or choose another {option}"
    elif number in NOT_A_FOLDER:
        fix = f"a file stands where a folder is needed; move it or choose another {option}"
    elif number == errno.ENOENT:
        fix = f"check that the {option} exists"
    else:
        fix = f"check the disk and the {option}"
    return f"{where}: {reason}; {fix}"
