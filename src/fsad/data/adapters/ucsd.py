"""UCSD Anomaly Detection Dataset v1p2, Ped1 and Ped2, as released::

    ROOT = UCSDped1 or UCSDped2
    ROOT/Train/TrainNNN/001.tif ..          normal clips
    ROOT/Test/TestNNN/001.tif ..            test clips
    ROOT/Test/TestNNN_gt/001.bmp ..         pixel masks (optional, not read)
    ROOT/Test/UCSDpedN.m                    one line per test clip, in order:
                                            TestVideoFile{end+1}.gt_frame = [a:b, c:d];
                                            1-based inclusive frame ranges

Traps handled: macOS junk (.DS_Store, ._*) is skipped; `UCSDped2.m~` is a stale backup
(Test006 = 1:162 instead of 1:159) and is never read: the label file is found by its
exact name. The whole dataset is one scene (one camera).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from fsad import FsadError
from fsad.data.adapters.base import is_junk
from fsad.data.adapters.frames import decode_images, frame_files, intervals_to_labels
from fsad.data.record import Video

LINE = re.compile(r"gt_frame\s*=\s*\[([^\]]*)\]")
RANGE = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")


def parse_m_file(path: Path) -> list[np.ndarray]:
    """The `.m` label file -> one (2, K) [starts; ends] array per test clip."""
    out = []
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if "gt_frame" not in line:
            continue
        match = LINE.search(line)
        if not match:
            raise FsadError(f"{path}:{lineno}: cannot parse '{line.strip()}' (expected "
                            "TestVideoFile{{end+1}}.gt_frame = [a:b, c:d];)")
        ranges = []
        for part in match.group(1).split(","):
            r = RANGE.match(part)
            if not r:
                raise FsadError(f"{path}:{lineno}: '{part.strip()}' is not a range a:b")
            ranges.append((int(r.group(1)), int(r.group(2))))
        out.append(np.array(ranges, dtype=np.int64).T)
    if not out:
        raise FsadError(f"{path}: no gt_frame lines found")
    return out


def _clips(folder: Path, prefix: str) -> list[Path]:
    clips = []
    for d in sorted(folder.iterdir()):
        if is_junk(d) or d.name.endswith("_gt") or d.suffix in (".m", ".m~"):
            continue
        if d.is_dir() and re.fullmatch(rf"{prefix}\d+", d.name):
            clips.append(d)
        elif d.is_dir() or d.suffix.lower() not in (".txt",):
            raise FsadError(f"{d}: unexpected entry (expected {prefix}NNN clip folders); "
                            "remove it or move it out of the dataset")
    if not clips:
        raise FsadError(f"{folder}: no {prefix}NNN clip folders")
    return clips


def scene_names(root: Path, scene: str | None = None, **_) -> list[str]:
    """The scenes ``videos`` gives, from the options alone (one camera, one scene)."""
    return [scene or root.name]


def videos(root: Path, scene: str | None = None) -> list[Video]:
    scene = scene or root.name
    train_dir, test_dir = root / "Train", root / "Test"
    for d in (train_dir, test_dir):
        if not d.is_dir():
            raise FsadError(f"{d}: missing; ROOT must be the UCSDped1 or UCSDped2 folder of "
                            "UCSD_Anomaly_Dataset.v1p2 (holding Train/ and Test/)")
    label_file = test_dir / f"{root.name}.m"
    if not label_file.is_file():
        candidates = [p.name for p in test_dir.glob("*.m*") if not is_junk(p)]
        raise FsadError(f"{label_file}: label file missing (found: "
                        f"{', '.join(candidates) or 'none'}; a .m~ backup is stale and never "
                        "used); re-download UCSD_Anomaly_Dataset.v1p2, which ships it")
    intervals = parse_m_file(label_file)
    test_clips = _clips(test_dir, "Test")
    if len(intervals) != len(test_clips):
        raise FsadError(f"{label_file}: labels for {len(intervals)} test clips but "
                        f"{test_dir} holds {len(test_clips)}; use the label file of this "
                        "release (re-download it)")
    out = []
    for d in _clips(train_dir, "Train"):
        files = frame_files(d, first=(1,))
        out.append(Video(f"train/{d.name}", scene, "train", d, lambda f=files: decode_images(f)))
    for d, iv in zip(test_clips, intervals, strict=True):
        files = frame_files(d, first=(1,))
        labels = intervals_to_labels(iv, len(files), f"{label_file} ({d.name})")
        out.append(Video(f"test/{d.name}", scene, "test", d, lambda f=files: decode_images(f),
                         labels, label_file))
    return out
