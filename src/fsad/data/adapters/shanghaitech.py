"""ShanghaiTech Campus (SVIP lab, shanghaitech.tar.gz), as released::

    ROOT = shanghaitech
    ROOT/training/videos/01_001.avi..13_007.avi      normal videos, no frames provided
    ROOT/testing/frames/01_0014/000.jpg..            test frames (0-based; name width varies)
    ROOT/testing/test_frame_mask/01_0014.npy         1-D 0/1 per frame, index = frame position
    ROOT/testing/test_pixel_mask/01_0014.npy         pixel masks (not read)

The scene is the two-digit prefix of a video's name (13 cameras). Training covers scenes
01-13 but the test set only 01-12: scene 13 has training videos and no test videos, which is
how the release is, not an error. Frame masks are read with ``allow_pickle=False`` (a label
file must never run code) and must have exactly one entry per frame file.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np

from fsad import FsadError
from fsad.data.adapters.base import is_junk
from fsad.data.adapters.frames import decode_images, frame_files
from fsad.data.record import Video
from fsad.data.video import read_frames

TRAIN_NAME = re.compile(r"(\d{2})_\d+\.avi", re.IGNORECASE)
TEST_NAME = re.compile(r"(\d{2})_\d+")


def _entries(folder: Path, expected: str) -> list[Path]:
    if not folder.is_dir():
        raise FsadError(f"{folder}: missing; ROOT must be the unpacked shanghaitech/ folder "
                        f"(expected {expected} here)")
    entries = sorted(p for p in folder.iterdir() if not is_junk(p))
    if not entries:
        raise FsadError(f"{folder}: empty; expected {expected}")
    return entries


def _train_videos(folder: Path) -> list[Video]:
    out = []
    for p in _entries(folder, "SS_NNN.avi training videos"):
        match = TRAIN_NAME.fullmatch(p.name)
        if not match or not p.is_file():
            raise FsadError(f"{p}: unexpected entry (expected only SS_NNN.avi videos, SS = "
                            "two-digit scene)")
        out.append(Video(f"train/{p.stem}", match.group(1), "train", p,
                         partial(read_frames, p)))
    return out


def read_frame_mask(path: Path, length: int) -> np.ndarray:
    """A `test_frame_mask/<video>.npy` -> uint8 0/1 labels, checked against ``length``."""
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise FsadError(f"{path}: not a readable numeric .npy array ({exc}); re-download "
                        "test_frame_mask") from None
    if arr.ndim != 1 or arr.dtype.kind not in "biuf":
        raise FsadError(f"{path}: expected a 1-D numeric 0/1 array, got shape {arr.shape} "
                        f"dtype {arr.dtype}; re-download test_frame_mask")
    bad = arr[~np.isin(arr, (0, 1))]
    if bad.size:
        raise FsadError(f"{path}: values other than 0 and 1 ({bad.size} of them, e.g. "
                        f"{bad[0]}); re-download test_frame_mask")
    if len(arr) != length:
        raise FsadError(f"{path}: {len(arr)} labels for {length} frame files of its video; "
                        "the mask must have exactly one entry per frame (re-download it)")
    return arr.astype(np.uint8)


def _test_folders(root: Path) -> list[tuple[Path, Path]]:
    """(frame folder, mask file) pairs, every one checked to exist, before anything is read."""
    frames_dir = root / "testing" / "frames"
    mask_dir = root / "testing" / "test_frame_mask"
    folders = _entries(frames_dir, "SS_NNNN/ frame folders")
    for d in folders:
        if not d.is_dir() or not TEST_NAME.fullmatch(d.name):
            raise FsadError(f"{d}: unexpected entry (expected only SS_NNNN frame folders)")
    masks = _entries(mask_dir, "SS_NNNN.npy frame masks")
    for m in masks:
        if m.suffix != ".npy" or not (frames_dir / m.stem).is_dir():
            raise FsadError(f"{m}: unexpected entry (expected one SS_NNNN.npy per folder of "
                            f"{frames_dir})")
    pairs = [(d, mask_dir / f"{d.name}.npy") for d in folders]
    for d, m in pairs:
        if not m.is_file():
            raise FsadError(f"{m}: label file missing for test video {d}")
    return pairs


def scene_names(root: Path, **_) -> list[str] | None:
    """The scenes ``videos`` gives (two-digit name prefixes), from the folder listings."""
    names = set()
    for folder in (root / "training" / "videos", root / "testing" / "frames"):
        if folder.is_dir():
            names |= {m.group(1) for p in folder.iterdir()
                      if (m := re.match(r"(\d{2})_\d+", p.name))}
    return sorted(names) or None  # nothing there yet: `videos` says what is missing


def videos(root: Path) -> list[Video]:
    out = _train_videos(root / "training" / "videos")
    for d, mask in _test_folders(root):
        files = frame_files(d, first=(0,))
        labels = read_frame_mask(mask, len(files))
        out.append(Video(f"test/{d.name}", TEST_NAME.fullmatch(d.name).group(1), "test", d,
                         partial(decode_images, files), labels, mask))
    return out
