"""Checkpoints: state_dicts plus the settings that made them, loaded without pickle.

A checkpoint is an ordinary ``torch.save`` file (so ``torch.load(path, weights_only=True)``
still reads it) holding one dict: the payload plus three envelope keys, ``format``,
``version`` and ``sha256``. ``sha256`` is the SHA-256 of a canonical walk of the payload
(every key, every scalar, and each tensor's dtype, shape and raw bytes; see ``digest``), so
it checks exactly what a reader gets back, independent of how torch lays out the zip.
``load`` recomputes it and refuses a file whose bytes were changed after writing (torch's own
reader does not notice a flipped byte inside a tensor). A truncated file fails earlier: the
zip has lost its central directory, and ``load`` says the file is truncated or corrupt.

Every file is serialised in memory, written to a temporary sibling, flushed, fsynced and
renamed (``fsad.atomic.atomic_path``), so a crash leaves either the old file or the new one,
never half of one. ``save(..., previous=P)`` also keeps the file it replaces as ``P`` (the
training state keeps one older state to fall back on). Loading uses ``weights_only=True``: a
file that would need arbitrary unpickling is refused.

Test hook: ``FSAD_FAULT=kill_in_checkpoint_write:<file name>:<step>`` SIGKILLs the process
half-way through writing the temporary file of that checkpoint (see ``fsad.faults``).
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import re
import warnings
from pathlib import Path

import torch

from fsad import FsadError, faults
from fsad.atomic import atomic_path

FORMAT = "fsad-checkpoint"
VERSION = 2  # 2: adds the sha256 of the payload
ENVELOPE = ("format", "version", "sha256")


def digest(payload: dict) -> str:
    """SHA-256 of a canonical walk of ``payload`` (the envelope keys left out)."""
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in payload.items() if k not in ENVELOPE})
    return h.hexdigest()


def _feed(h, value) -> None:
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}:".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, dict):
        h.update(f"D{len(value)}:".encode())
        for key in sorted(value, key=lambda k: (type(k).__name__, repr(k))):
            _feed(h, key)
            _feed(h, value[key])
    elif isinstance(value, list | tuple):
        h.update(f"{type(value).__name__[0].upper()}{len(value)}:".encode())
        for item in value:
            _feed(h, item)
    elif value is None or isinstance(value, bool | int | float | str):
        text = repr(value)
        h.update(f"{type(value).__name__}{len(text)}:{text}".encode())
    else:  # weights_only files hold nothing else; refuse rather than hash an address
        raise TypeError(f"cannot checksum a {type(value).__name__} in a checkpoint")


def save(path: str | Path, payload: dict, previous: str | Path | None = None) -> None:
    """Write ``payload`` atomically; with ``previous``, the replaced file is kept there."""
    path = Path(path)
    body = {k: v for k, v in payload.items() if k not in ENVELOPE}
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, "sha256": digest(body), **body}, buf)
    data = buf.getbuffer()
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            half = len(data) // 2
            fh.write(data[:half])
            fh.flush()
            faults.kill_if("kill_in_checkpoint_write", path.name, payload.get("step"))
            fh.write(data[half:])
            fh.flush()
            os.fsync(fh.fileno())
        if previous is not None and path.exists():
            os.replace(path, previous)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the renames durable too (a power cut after a rename must not undo it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FsadError(f"checkpoint not found: {path}")
    try:
        with warnings.catch_warnings():
            # torch warns about the pickle protocol of a foreign file before refusing it;
            # the refusal below is the one line the user needs.
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        # torch's own text suggests weights_only=False, which would run the file's code.
        found = re.search(r"GLOBAL (\S+) was not an allowed global", str(exc))
        what = (f"it would call {found.group(1)}: pickled code, not weights" if found else
                "pickled Python objects that could run code when loaded, or corrupt bytes")
        raise FsadError(f"{path}: not a loadable fsad checkpoint, refused ({what}); use a "
                        "checkpoint written by fsad, or rerun the step that wrote it") from None
    except Exception as exc:  # unpickling errors come in many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FsadError(f"{path}: not a loadable fsad checkpoint ({first}); it may be "
                        "truncated, corrupt, or not a safe weights-only file; restore it "
                        "from a backup or rerun the step that wrote it") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise FsadError(f"{path}: not an fsad checkpoint (no '{FORMAT}' marker)")
    if payload.get("version") != VERSION:
        raise FsadError(f"{path}: checkpoint format version {payload.get('version')} is not "
                        f"supported by this fsad (expects {VERSION}); retrain or convert it")
    try:
        actual = digest(payload)
    except TypeError as exc:
        raise FsadError(f"{path}: unexpected content in the checkpoint ({exc})") from None
    if payload.get("sha256") != actual:
        raise FsadError(f"{path}: checksum mismatch, the file is corrupt (stored sha256 "
                        f"{str(payload.get('sha256'))[:12]}..., content {actual[:12]}...); "
                        "restore it from a backup or rerun the step that wrote it")
    return payload
