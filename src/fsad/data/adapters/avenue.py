"""CUHK Avenue (Lu, Shi, Jia, ICCV 2013), as released in two zips unpacked side by side::

    ROOT/Avenue Dataset/training_videos/01.avi..16.avi    normal videos (note the space)
    ROOT/Avenue Dataset/testing_videos/01.avi..21.avi     test videos
    ROOT/Avenue Dataset/training_vol/, testing_vol/       .mat copies of the frames (not read)
    ROOT/ground_truth_demo/testing_label_mask/1_label.mat..21_label.mat
                                                          variable `volLabel`: 1xT cell of
                                                          per-frame pixel masks
    ROOT/ground_truth_demo/Readme.txt, *.m, testing_videos/   demo material (not read)
    ROOT/avenue.mat                                       optional interval file (see below)

Videos are zero-padded (`01.avi`), label files are not (`1_label.mat`); they are paired by
number. Two label sets exist and disagree on 441 frames, so the choice is an option and is
recorded in every video's ``label_source`` (and so in the frame store):

- ``labels="masks"`` (default): frame t is anomalous iff any pixel of mask t is > 0 (masks
  hold {0, 1}, so a reader that scales by 255 would lose them). 3,712 anomalous frames.
- ``labels="intervals"``: ``label_file`` (default ``avenue.mat`` under ROOT), the ano_pred /
  MNAD interval file: variable `gt`, 1xN cell of 2xK [starts; ends], 1-based inclusive, one
  cell per test video in order. 3,867 anomalous frames. The label vector's length is the
  video's header frame count (OpenCV decodes exactly that many for the XviD release); the
  extraction step still checks it against the decoded frames.

The whole dataset is one camera, so one scene, named by ``scene`` (default ``avenue``).
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path

import numpy as np

from fsad import FsadError
from fsad.data.adapters.base import is_junk
from fsad.data.adapters.frames import intervals_to_labels, load_mat, read_mat_intervals
from fsad.data.record import Video
from fsad.data.video import header_frame_count, read_frames

DATASET_DIR = "Avenue Dataset"
MASK_DIR = Path("ground_truth_demo") / "testing_label_mask"
LABEL_CHOICES = ("masks", "intervals")
VIDEO_NAME = re.compile(r"(\d+)\.avi", re.IGNORECASE)
MASK_NAME = re.compile(r"(\d+)_label\.mat")


def _numbered(folder: Path, pattern: re.Pattern, expected: str) -> dict[int, Path]:
    """Map number -> file for a folder that must hold only files named like ``pattern``."""
    if not folder.is_dir():
        raise FsadError(f"{folder}: missing; expected {expected}")
    out: dict[int, Path] = {}
    for f in sorted(folder.iterdir()):
        if is_junk(f):
            continue
        match = pattern.fullmatch(f.name)
        if not match or not f.is_file():
            raise FsadError(f"{f}: unexpected entry (expected only {expected}); remove it "
                            "or move it out of the dataset")
        number = int(match.group(1))
        if number in out:
            raise FsadError(f"{f}: same number as {out[number].name}")
        out[number] = f
    if not out:
        raise FsadError(f"{folder}: empty; expected {expected}")
    return out


def read_mask_labels(path: Path) -> np.ndarray:
    """`volLabel` of an `N_label.mat` -> uint8 0/1 per frame (1 = any mask pixel > 0)."""
    mat = load_mat(path, "re-download ground_truth_demo.zip", variable_names=["volLabel"])
    if "volLabel" not in mat:
        raise FsadError(f"{path}: no variable 'volLabel' (expected a 1xT cell of frame masks)")
    cells = np.asarray(mat["volLabel"])
    if cells.dtype != object or cells.size == 0:
        raise FsadError(f"{path}: 'volLabel' is not a non-empty cell array of masks")
    labels = np.zeros(cells.size, np.uint8)
    for t, cell in enumerate(cells.reshape(-1)):
        mask = np.asarray(cell)
        if mask.ndim != 2 or mask.dtype.kind not in "biuf":
            raise FsadError(f"{path}: volLabel cell {t + 1} is not a 2-D numeric mask "
                            f"(shape {mask.shape}, dtype {mask.dtype})")
        labels[t] = bool((mask > 0).any())
    return labels


def _interval_labels(label_file: Path, tests: dict[int, Path]) -> dict[int, np.ndarray]:
    if not label_file.is_file():
        raise FsadError(f"{label_file}: interval label file missing (labels: intervals needs "
                        "the ano_pred/MNAD avenue.mat; set label_file, or use labels: masks)")
    intervals = read_mat_intervals(label_file)
    if len(intervals) != len(tests):
        raise FsadError(f"{label_file}: labels for {len(intervals)} test videos but "
                        f"testing_videos holds {len(tests)}")
    return {n: intervals_to_labels(iv, header_frame_count(tests[n]),
                                   f"{label_file} (video {tests[n].name})")
            for n, iv in zip(sorted(tests), intervals, strict=True)}


def _mask_files(root: Path, tests: dict[int, Path]) -> dict[int, Path]:
    masks = _numbered(root / MASK_DIR, MASK_NAME, "N_label.mat files (N not zero-padded)")
    for n, video in tests.items():
        if n not in masks:
            raise FsadError(f"{root / MASK_DIR / f'{n}_label.mat'}: label file missing for "
                            f"{video}; re-download ground_truth_demo.zip (it holds one per "
                            "test video)")
    extra = sorted(set(masks) - set(tests))
    if extra:
        raise FsadError(f"{masks[extra[0]]}: label file without a test video "
                        f"(no {extra[0]:02d}.avi in testing_videos)")
    return masks


def scene_names(root: Path, scene: str = "avenue", **_) -> list[str]:
    """The scenes ``videos`` gives, from the options alone (one camera, one scene)."""
    return [scene]


def videos(root: Path, labels: str = "masks", label_file: str = "avenue.mat",
           scene: str = "avenue") -> list[Video]:
    if labels not in LABEL_CHOICES:
        raise FsadError(f"avenue adapter: labels must be one of {', '.join(LABEL_CHOICES)}, "
                        f"not '{labels}'")
    base = root / DATASET_DIR
    if not base.is_dir():
        raise FsadError(f"{base}: missing; ROOT must hold 'Avenue Dataset/' (with a space, from "
                        "Avenue_Dataset.zip) and 'ground_truth_demo/'")
    trains = _numbered(base / "training_videos", VIDEO_NAME, "NN.avi videos")
    tests = _numbered(base / "testing_videos", VIDEO_NAME, "NN.avi videos")
    if labels == "masks":
        sources = _mask_files(root, tests)
        per_video = {n: read_mask_labels(sources[n]) for n in sorted(tests)}
    else:
        sources = dict.fromkeys(tests, root / label_file)
        per_video = _interval_labels(root / label_file, tests)
    out = [Video(f"train/{p.stem}", scene, "train", p, partial(read_frames, p))
           for _, p in sorted(trains.items())]
    out += [Video(f"test/{p.stem}", scene, "test", p, partial(read_frames, p), per_video[n],
                  sources[n]) for n, p in sorted(tests.items())]
    return out
