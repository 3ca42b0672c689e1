"""The common "frames + .mat" re-packaging (ano_pred / MNAD / MPN family), e.g. Ped2::

    ROOT/training/frames/<video>/<idx>.jpg     normal videos
    ROOT/testing/frames/<video>/<idx>.jpg      test videos
    ROOT/<name>.mat                            variable `gt`: 1xN cell, cell i = 2xK array
                                               [starts; ends], 1-based inclusive, for the
                                               i-th test video in sorted order

Frame files are sorted numerically (Ped2 uses 000.jpg, Avenue often 0000.jpg); re-packaged
frame i (0-based) is official frame i + 1, which the 1-based intervals already account for.
The whole dataset is one scene (one camera), named by ``scene`` (default: the root's name).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from fsad import FsadError
from fsad.data.adapters.base import is_junk
from fsad.data.record import Video
from fsad.data.threads import ordered_map
from fsad.data.video import read_image

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp"}


def frame_files(folder: Path, first: tuple[int, ...] = (0, 1)) -> list[Path]:
    """The image files of one video folder in frame order, numbered without a gap or a
    duplicate from one of ``first``: labels are matched to frames by position, so a missing
    frame would shift every later label by one, and ``10.jpg`` beside ``010.jpg`` would put
    two frames where the labels expect one."""
    files = []
    for f in folder.iterdir():
        if is_junk(f):
            continue
        if f.suffix.lower() not in IMAGE_SUFFIXES or not f.is_file():
            raise FsadError(f"{f}: unexpected entry in a frame folder (expected only images "
                            f"{', '.join(sorted(IMAGE_SUFFIXES))}); remove it or move it out "
                            "of the dataset")
        files.append(f)
    if not files:
        raise FsadError(f"{folder}: no frames in this video folder")
    numbers = [re.findall(r"\d+", f.stem) for f in files]
    if not all(numbers):
        raise FsadError(f"{folder}: frame names must contain a frame number")
    numbered = sorted(zip([int(n[-1]) for n in numbers], files, strict=True))
    check_numbering([(n, f.name) for n, f in numbered], folder, first)
    return [f for _, f in numbered]


def check_numbering(numbered: list[tuple[int, str]], folder: Path,
                    first: tuple[int, ...]) -> None:
    """Refuse frames (number, file name), sorted by number, whose numbers do not run
    first, first + 1, ... without a gap or a duplicate; the message names ``folder`` and
    the number at fault."""
    start = numbered[0][0]
    if start not in first:
        raise FsadError(f"{folder}: frame numbering starts at {start}, not at "
                        f"{' or '.join(map(str, first))}: the frames before it are missing, "
                        "which would shift every label; re-download this video's frames")
    for (previous, name), (number, other) in zip(numbered, numbered[1:], strict=False):
        if number == previous:
            raise FsadError(f"{folder}: frame number {number} appears twice ({name} and "
                            f"{other}); keep one of them (a frame counted twice shifts every "
                            "later label)")
        if number != previous + 1:
            missing = (f"frame {previous + 1} is missing" if number == previous + 2 else
                       f"frames {previous + 1}..{number - 1} are missing")
            raise FsadError(f"{folder}: {missing} (a gap shifts every later label by one); "
                            "re-download this video's frames")


class ImageFrames:
    """The frames of an image folder, in order, decoded by two threads unless asked
    otherwise: unlike a video file, images can be decoded in any order. Iterating yields
    the decoded frames; ``map(fn)`` yields ``fn(frame)`` with ``fn`` run in the decoding
    threads too, so that extraction converts each frame where it was decoded instead of
    handing it to a second pool (one hand-off less per frame, and both cores busy)."""

    def __init__(self, files: list[Path]):
        self.files = files

    def __iter__(self) -> Iterator[np.ndarray]:
        return self.map(None)

    def map(self, fn: Callable[[np.ndarray], np.ndarray] | None, rgb: bool = False,
            workers: int = 2) -> Iterator[np.ndarray]:
        """``fn`` of each frame, decoded in BGR order, or in RGB with ``rgb``, by ``workers``
        threads (1: in the calling thread, when videos are already decoded in parallel)."""
        def decode(path: Path) -> tuple[tuple[int, ...], np.ndarray]:
            frame = read_image(path, rgb)
            return frame.shape, frame if fn is None else fn(frame)

        decoded = (map(decode, self.files) if workers == 1
                   else ordered_map(decode, self.files, workers))
        first = None
        for f, (shape, frame) in zip(self.files, decoded, strict=True):
            if first is None:
                first = shape
            elif shape != first:
                raise FsadError(f"{f}: frame size {shape[1]}x{shape[0]} differs from the first "
                                f"frame of its video ({first[1]}x{first[0]}); resize it to "
                                "match, or re-download the dataset")
            yield frame


def decode_images(files: list[Path]) -> ImageFrames:
    return ImageFrames(files)


def load_mat(path: Path, fix: str, **options) -> dict:
    """``scipy.io.loadmat`` with one-line errors. A label file that is not a .mat at all (a
    pickle, a text file) or is truncated makes scipy fail deep inside its parser with any
    exception type (IndexError, KeyError, struct or zlib errors), so every exception is
    turned into the message; none of them can be a bug of fsad's."""
    from scipy.io import loadmat

    try:
        return loadmat(path, **options)
    except Exception as exc:  # noqa: BLE001 - see the docstring
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FsadError(f"{path}: cannot read as a MATLAB v5 .mat file ({reason}; not a .mat "
                        f"file, or truncated); {fix}") from None


def read_mat_intervals(path: Path) -> list[np.ndarray]:
    """The `gt` cell of a frames+.mat label file: one (2, K) [starts; ends] array per video."""
    mat = load_mat(path, "re-download the label file")
    if "gt" not in mat:
        raise FsadError(f"{path}: no variable 'gt' (expected a 1xN cell of [starts; ends]); "
                        "re-download the label file")
    cells = np.asarray(mat["gt"]).reshape(-1)
    out = []
    for i, cell in enumerate(cells):
        arr = np.asarray(cell, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[0] != 2:
            raise FsadError(f"{path}: gt cell {i + 1} has shape {arr.shape}; expected 2xK "
                            "[starts; ends]; re-download the label file")
        if not np.isfinite(arr).all():
            raise FsadError(f"{path}: gt cell {i + 1} holds NaN or infinite frame numbers; "
                            "re-download the label file or correct that cell")
        out.append(arr.astype(np.int64))
    return out


def intervals_to_labels(intervals: np.ndarray, length: int, where: str) -> np.ndarray:
    labels = np.zeros(length, np.uint8)
    for start, end in intervals.T:
        if not 1 <= start <= end <= length:
            raise FsadError(f"{where}: interval [{start}, {end}] outside the video's frames "
                            f"1..{length} (1-based, inclusive); fix the interval, or use the "
                            "label file that belongs to these videos")
        labels[start - 1:end] = 1
    return labels


def scene_names(root: Path, scene: str | None = None, **_) -> list[str]:
    """The scenes ``videos`` gives, from the options alone (one camera, one scene)."""
    return [scene or root.name]


def videos(root: Path, label_file: str | None = None, scene: str | None = None) -> list[Video]:
    scene = scene or root.name
    split_dirs = {"train": root / "training" / "frames", "test": root / "testing" / "frames"}
    for split_dir in split_dirs.values():
        if not split_dir.is_dir():
            raise FsadError(f"{split_dir}: missing; expected ROOT/training/frames/<video>/ and "
                            "ROOT/testing/frames/<video>/ folders of frame images")
    if label_file:
        mat = root / label_file
    else:
        mats = sorted(p for p in root.glob("*.mat") if not is_junk(p))
        if len(mats) != 1:
            raise FsadError(f"{root}: expected exactly one <name>.mat label file at the top "
                            f"level, found {len(mats)}; name it with datasets.<name>.label_file")
        mat = mats[0]
    if not mat.is_file():
        raise FsadError(f"{mat}: label file missing; put it there or set "
                        "datasets.<name>.label_file")
    out: list[Video] = []
    starts: dict[int, Path] = {}  # first frame number -> the first folder starting there
    for split, split_dir in split_dirs.items():
        folders = sorted(d for d in split_dir.iterdir() if not is_junk(d))
        for d in folders:
            if not d.is_dir():
                raise FsadError(f"{d}: unexpected file; {split_dir} must hold one folder per "
                                "video; remove it or move it out of the dataset")
        if split == "test":
            intervals = read_mat_intervals(mat)
            if len(intervals) != len(folders):
                raise FsadError(f"{mat}: labels for {len(intervals)} test videos but "
                                f"{split_dir} holds {len(folders)}; use the label file that "
                                "belongs to this release (datasets.<name>.label_file)")
        for i, d in enumerate(folders):
            files = frame_files(d)
            starts.setdefault(int(re.findall(r"\d+", files[0].stem)[-1]), d)
            if len(starts) > 1:  # 0-based here, 1-based there: one lost its first frame
                (a, first_a), (b, first_b) = sorted(starts.items())
                raise FsadError(f"{first_b}: frame numbering starts at {b} but {first_a} "
                                f"starts at {a}; a video whose first frame is missing would "
                                "have every label shifted; re-download this video's frames")
            labels = (intervals_to_labels(intervals[i], len(files), f"{mat} (video {d.name})")
                      if split == "test" else None)
            out.append(Video(id=f"{split}/{d.name}", scene=scene, split=split, source=d,
                             frames=lambda files=files: decode_images(files), labels=labels,
                             label_source=mat if split == "test" else None))
    return out
