"""Adapter for the layout `fsad synth` writes (documented in fsad.data.synth)."""

from __future__ import annotations

import csv
import json
from functools import partial
from pathlib import Path

import numpy as np

from fsad import FsadError
from fsad.data.adapters.base import is_junk
from fsad.data.record import Video
from fsad.data.video import read_frames

SPLITS = {"training": "train", "testing": "test"}


def _labels(path: Path) -> np.ndarray:
    if not path.is_file():
        raise FsadError(f"{path}: label file missing (every testing/<NN>.avi needs <NN>.csv "
                        "with columns frame,label,kind); regenerate with `fsad synth`")
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        frames = [int(r["frame"]) for r in rows]
        values = [int(r["label"]) for r in rows]
    except (KeyError, ValueError, TypeError) as exc:
        raise FsadError(f"{path}: malformed label file ({exc}); expected a header "
                        "frame,label,kind and one integer row per frame") from None
    for row, value in enumerate(values, 2):  # checked before uint8 could wrap -1 or 256
        if value not in (0, 1):
            raise FsadError(f"{path}:{row}: label {value}, but labels are 0 or 1; regenerate "
                            "with `fsad synth`")
    if frames != list(range(len(frames))):
        raise FsadError(f"{path}: labels must list frames 0..N-1 in order with 0/1 labels; "
                        "regenerate with `fsad synth`")
    return np.array(values, dtype=np.uint8)


def scene_names(root: Path, **_) -> list[str] | None:
    """The scenes listed in meta.json (None when it cannot be read: ``videos`` says why)."""
    try:
        return sorted(json.loads((root / "meta.json").read_text())["scenes"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def videos(root: Path) -> list[Video]:
    meta_path = root / "meta.json"
    if not meta_path.is_file():
        raise FsadError(f"{meta_path}: missing; {root} is not a synthetic benchmark folder "
                        "(create one with `fsad synth --out {root}`)")
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise FsadError(f"{meta_path}: not valid JSON ({exc})") from None
    if meta.get("format") != "fsad-synthetic":
        raise FsadError(f"{meta_path}: not written by `fsad synth` (format field missing)")
    out: list[Video] = []
    for scene in sorted(meta.get("scenes", {})):
        for folder, split in SPLITS.items():
            split_dir = root / scene / folder
            if not split_dir.is_dir():
                raise FsadError(f"{split_dir}: missing (listed in {meta_path})")
            for entry in sorted(split_dir.iterdir()):
                if is_junk(entry) or (split == "test" and entry.suffix == ".csv"):
                    continue
                if entry.suffix != ".avi":
                    raise FsadError(f"{entry}: unexpected file in a synthetic benchmark "
                                    "(expected only .avi videos and, under testing/, .csv "
                                    "labels); remove it or regenerate with `fsad synth`")
                labels = _labels(entry.with_suffix(".csv")) if split == "test" else None
                out.append(Video(id=f"{scene}/{split}/{entry.stem}", scene=scene, split=split,
                                 source=entry, frames=partial(read_frames, entry),
                                 labels=labels,
                                 label_source=entry.with_suffix(".csv") if labels is not None
                                 else None))
    if not out:
        raise FsadError(f"{root}: no videos found")
    return out
