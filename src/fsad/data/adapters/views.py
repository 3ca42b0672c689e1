"""Views of normal footage: a folder of videos from fixed cameras, nothing in them labelled
and nothing anomalous, each video cut into fixed views that act as scenes of their own::

    ROOT/<name>.avi | .mp4 | .mkv | .mov | .m4v    one fixed camera per file

Every video is cut into ``grid`` = [rows, cols] equal views (default [2, 2], the remainder
pixels of an uneven split dropped at the right and bottom); view (i, j) of ``campus.avi`` is
scene ``campus_r{i}c{j}``, with its own background, paths and walking directions. A view's
footage is split in time into ``clips`` consecutive training videos (default 4), named
``train/<scene>/<k>``, so that a K-shot task draws its windows from different moments.
There is no test split (nothing is labelled): the views are meta-training sources, or
validation scenes for the query loss. OpenCV's sample campus camera ``vtest.avi`` (795
frames, 768x576) is such footage: four views of 384x288, four clips of 198 frames each.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path

import numpy as np

from fsad import FsadError
from fsad.data.adapters.base import is_junk
from fsad.data.record import Video
from fsad.data.video import header_frame_count, read_frames

SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".m4v"}


def _videos(root: Path) -> list[Path]:
    found, other = [], []
    for p in sorted(root.iterdir()):
        if is_junk(p):
            continue
        (found if p.is_file() and p.suffix.lower() in SUFFIXES else other).append(p)
    if other:
        raise FsadError(f"{other[0]}: not a video file ({', '.join(sorted(SUFFIXES))}); the "
                        "views adapter reads a folder of videos only: move it out")
    if not found:
        raise FsadError(f"{root}: no video file ({', '.join(sorted(SUFFIXES))}); put the "
                        "normal footage there")
    stems = [p.stem for p in found]
    twice = sorted({s for s in stems if stems.count(s) > 1})
    if twice:
        raise FsadError(f"{root}: two videos named '{twice[0]}' (different suffixes); their "
                        "views would share scene names: rename one")
    return found


def _grid(grid) -> tuple[int, int]:
    if (not isinstance(grid, list | tuple) or len(grid) != 2
            or not all(isinstance(n, int) and n >= 1 for n in grid)):
        raise FsadError(f"views adapter: grid must be [rows, cols], two integers >= 1, not "
                        f"{grid!r}")
    return grid[0], grid[1]


def scene_names(root: Path, grid=(2, 2), **_) -> list[str]:
    """The scenes ``videos`` gives, from the folder listing and the grid alone."""
    rows, cols = _grid(list(grid))
    return [f"{p.stem}_r{i}c{j}" for p in _videos(root)
            for i in range(rows) for j in range(cols)]


def _view(path: Path, rows: int, cols: int, i: int, j: int, start: int,
          stop: int) -> Iterator[np.ndarray]:
    """Frames [start, stop) of ``path``, view (i, j) of its rows x cols grid."""
    decoded = read_frames(path)
    try:
        for n, frame in enumerate(decoded):
            if n >= stop:
                return  # the rest is not this clip's: stop decoding
            if n >= start:
                h, w = frame.shape[0] // rows, frame.shape[1] // cols
                yield np.ascontiguousarray(frame[i * h:(i + 1) * h, j * w:(j + 1) * w])
    finally:
        decoded.close()  # releases the capture now, not when garbage is collected


def videos(root: Path, grid=(2, 2), clips: int = 4) -> list[Video]:
    rows, cols = _grid(list(grid))
    if not isinstance(clips, int) or clips < 1:
        raise FsadError(f"views adapter: clips must be an integer >= 1, not {clips!r}")
    out = []
    for path in _videos(root):
        count = header_frame_count(path)
        length = count // clips
        if length < 2:
            raise FsadError(f"{path}: {count} frames cannot be cut into {clips} clips of at "
                            "least 2 frames; lower the dataset's clips option")
        for i in range(rows):
            for j in range(cols):
                scene = f"{path.stem}_r{i}c{j}"
                for k in range(clips):
                    frames = partial(_view, path, rows, cols, i, j, k * length,
                                     (k + 1) * length)
                    out.append(Video(f"train/{scene}/{k:02d}", scene, "train", path, frames))
    return out
