"""Checkpoints: state_dicts plus the settings that made them, loaded without pickle.

Every file is written to a temporary name, flushed and renamed, so a crash leaves either
the old file or the new one, never half of one. Loading uses ``weights_only=True``: a file
that would need arbitrary unpickling is refused.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from fsad import FsadError
from fsad.atomic import atomic_path

FORMAT = "fsad-checkpoint"
VERSION = 1


def save(path: str | Path, payload: dict) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        torch.save({"format": FORMAT, "version": VERSION, **payload}, fh)
        fh.flush()
        os.fsync(fh.fileno())


def load(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FsadError(f"checkpoint not found: {path}")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FsadError(f"{path}: not a loadable fsad checkpoint ({first}); it may be "
                        "truncated, corrupt, or not a safe weights-only file") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise FsadError(f"{path}: not an fsad checkpoint (no '{FORMAT}' marker)")
    if payload.get("version") != VERSION:
        raise FsadError(f"{path}: checkpoint format version {payload.get('version')} is not "
                        f"supported by this fsad (expects {VERSION}); retrain or convert it")
    return payload
