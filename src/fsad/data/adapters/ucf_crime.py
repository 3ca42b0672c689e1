"""UCF-Crime (Sultani, Chen, Shah, CVPR 2018), as released::

    ROOT/**/<Class>/<Video>.mp4     13 anomaly classes (Abuse .. Vandalism) and the normal
                                    folders Training_Normal_Videos_Anomaly,
                                    Testing_Normal_Videos_Anomaly, Normal_Videos_event; at any
                                    depth (the release ships them in parts, e.g.
                                    Anomaly-Videos-Part-1/Abuse/Abuse001_x264.mp4)
    ROOT/**/Anomaly_Train.txt       one Class/Video.mp4 per line: 810 anomalous + 800 normal
    ROOT/**/Temporal_Anomaly_Annotation_for_Testing_Videos.txt
                                    (or Temporal_Anomaly_Annotation.txt) one line per test
                                    video: `Video.mp4 Class start1 end1 start2 end2`,
                                    whitespace-separated, 1-based inclusive, -1 = no interval
    ROOT/**/Anomaly_Test.txt        optional; if present, every video it names must be in the
                                    annotation file (catches the truncated copies in circulation)

Videos are found by file name, not by the folder a list names: the 1,900 names are unique (a
duplicate is an error) and the folders on disk differ between copies. A list file that occurs
more than once must be chosen with ``train_list`` / ``annotation_file`` (paths under ROOT).

Splits. ``train`` = the 800 normal videos of Anomaly_Train.txt; its 810 anomalous videos carry
only a video-level label, so they are neither normal training data nor frame-labelled test
data, and are not read. ``test`` = the 290 videos of the annotation file, labelled as the
official Evaluate_Anomaly_Detector.m does: ones on [start, end], normal videos all zero,
intervals clipped to the video. The label length is the video's header frame count; the
extraction step checks it against the decoded frames. Videos in no list are an error, except
under a Normal_Videos_event folder (extra normal videos that no split uses).

Scenes. UCF-Crime has no scene ids, so ``scene_rule`` defines them (recorded in the config):

- ``per_video`` (default): every video is its own scene, named by its file stem (as MPN uses
  one normal video per task).
- ``per_class``: the training normals form scene ``Normal``; a test video's scene is its
  annotation class (``Normal`` or the anomaly class).
- ``groups``: ``scene_groups`` = G pseudo-scenes ``g00``..: the i-th training normal and the
  i-th test video, each in file-name order, go to group i mod G, so every group has training
  normals and test videos.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from fsad import FsadError
from fsad.data.adapters.base import is_junk
from fsad.data.record import Video
from fsad.data.video import header_frame_count, read_frames

TRAIN_LIST = "Anomaly_Train.txt"
TEST_LIST = "Anomaly_Test.txt"
ANNOTATION_NAMES = ("Temporal_Anomaly_Annotation_for_Testing_Videos.txt",
                    "Temporal_Anomaly_Annotation.txt")
UNLISTED_OK = "Normal_Videos_event"
SCENE_RULES = ("per_video", "per_class", "groups")


@dataclass
class TestEntry:
    name: str
    cls: str
    intervals: list[tuple[int, int]]  # 1-based inclusive


def is_normal(name: str) -> bool:
    """Train normals are Normal_Videos001_x264.mp4, test normals Normal_Videos_003_x264.mp4."""
    return name.startswith("Normal_Videos")


def _index(root: Path) -> tuple[dict[str, Path], list[Path]]:
    """Every .mp4 by file name, and every .txt; anything else is an error."""
    videos: dict[str, Path] = {}
    texts: list[Path] = []
    for p in sorted(root.rglob("*")):
        if p.is_dir() or is_junk(p) or "__MACOSX" in p.parts:
            continue
        suffix = p.suffix.lower()
        if suffix == ".txt":
            texts.append(p)
        elif suffix != ".mp4":
            raise FsadError(f"{p}: unexpected file in a UCF-Crime tree (expected only .mp4 "
                            "videos and the .txt split and annotation files)")
        elif p.name in videos:
            raise FsadError(f"{p}: duplicate video name (also {videos[p.name]}); video names "
                            "must be unique")
        else:
            videos[p.name] = p
    return videos, texts


def _find(root: Path, texts: list[Path], names: tuple[str, ...], option: str,
          given: str | None) -> Path:
    if given:
        path = root / given
        if not path.is_file():
            raise FsadError(f"{path}: missing (set by the '{option}' option)")
        return path
    found = [p for p in texts if p.name in names]
    if len(found) != 1:
        where = ", ".join(str(p) for p in found) or "none"
        raise FsadError(f"{root}: expected exactly one {' or '.join(names)} (found: {where}); "
                        f"choose one with the '{option}' option")
    return found[0]


def _lines(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(errors="replace")
    return [(i, line.strip()) for i, line in enumerate(text.splitlines(), 1) if line.strip()]


def read_train_list(path: Path) -> list[str]:
    """Anomaly_Train.txt (or Anomaly_Test.txt) -> the listed video file names, in order."""
    names: list[str] = []
    for lineno, line in _lines(path):
        name = line.replace("\\", "/").rsplit("/", 1)[-1]
        if not name.lower().endswith(".mp4") or len(line.split()) != 1:
            raise FsadError(f"{path}:{lineno}: '{line}' is not a Class/Video.mp4 entry")
        if name in names:
            raise FsadError(f"{path}:{lineno}: {name} listed twice")
        names.append(name)
    if not names:
        raise FsadError(f"{path}: no videos listed")
    return names


def _pair(path: Path, lineno: int, start: str, end: str) -> tuple[int, int] | None:
    try:
        s, e = int(start), int(end)
    except ValueError:
        raise FsadError(f"{path}:{lineno}: '{start} {end}' is not a pair of integers") from None
    if s == e == -1:
        return None
    if not 1 <= s <= e:
        raise FsadError(f"{path}:{lineno}: interval [{s}, {e}] is neither -1 -1 nor a 1-based "
                        "inclusive start <= end")
    return s, e


def read_annotation(path: Path) -> list[TestEntry]:
    """The temporal annotation file; split on any whitespace (copies mix spaces and tabs)."""
    entries: list[TestEntry] = []
    for lineno, line in _lines(path):
        parts = line.split()
        if len(parts) != 6 or not parts[0].lower().endswith(".mp4"):
            raise FsadError(f"{path}:{lineno}: '{line}' is not 'Video.mp4 Class start1 end1 "
                            "start2 end2'")
        name, cls = parts[0], parts[1]
        pairs = [_pair(path, lineno, *parts[2:4]), _pair(path, lineno, *parts[4:6])]
        intervals = [p for p in pairs if p is not None]
        if (cls == "Normal") != bool(not intervals) or (cls == "Normal") != is_normal(name):
            raise FsadError(f"{path}:{lineno}: {name} of class {cls} with {len(intervals)} "
                            "intervals; Normal videos (Normal_Videos*) must have none, "
                            "anomalous ones at least one")
        entries.append(TestEntry(name, cls, intervals))
    if not entries:
        raise FsadError(f"{path}: no annotation lines")
    return entries


def interval_labels(entry: TestEntry, length: int, where: str) -> np.ndarray:
    """Ones on each 1-based inclusive interval, clipped to the video as the official code."""
    labels = np.zeros(length, np.uint8)
    for start, end in entry.intervals:
        if start > length:
            raise FsadError(f"{where}: interval [{start}, {end}] starts after the last frame "
                            f"({length}) of {entry.name}")
        labels[start - 1:min(end, length)] = 1
    return labels


def _check_lists(train: list[str], tests: list[TestEntry], test_lists: list[Path],
                 annotation: Path) -> None:
    test_names = {e.name for e in tests}
    if len(test_names) != len(tests):
        raise FsadError(f"{annotation}: a video is annotated twice")
    both = sorted(test_names & set(train))
    if both:
        raise FsadError(f"{annotation}: {both[0]} is also in {TRAIN_LIST}")
    for path in test_lists:
        missing = [n for n in read_train_list(path) if n not in test_names]
        if missing:
            raise FsadError(f"{annotation}: no annotation for {missing[0]} (listed in {path}); "
                            "the annotation file may be a truncated copy")


def _resolve(index: dict[str, Path], names: list[str], listed_in: Path) -> list[Path]:
    for name in names:
        if name not in index:
            raise FsadError(f"{listed_in}: {name} is listed but no such .mp4 exists under the "
                            "dataset root; re-download it, or use list files that match your "
                            "copy")
    return [index[n] for n in names]


def _check_unlisted(index: dict[str, Path], listed: set[str]) -> None:
    for name, path in index.items():
        if name not in listed and UNLISTED_OK not in path.parts:
            raise FsadError(f"{path}: in neither {TRAIN_LIST} nor the annotation file; remove "
                            "it or use complete list files")


def _scenes(rule: str, groups: int | None, train: list[Path],
            tests: list[TestEntry]) -> tuple[list[str], list[str]]:
    """Scene per training video and per test entry (both in the given, name-sorted order)."""
    if rule == "per_video":
        return [p.stem for p in train], [Path(e.name).stem for e in tests]
    if rule == "per_class":
        return ["Normal"] * len(train), [e.cls for e in tests]
    return ([f"g{i % groups:02d}" for i in range(len(train))],
            [f"g{i % groups:02d}" for i in range(len(tests))])


def _check_options(scene_rule: str, scene_groups: int | None) -> None:
    if scene_rule not in SCENE_RULES:
        raise FsadError(f"ucf_crime adapter: scene_rule must be one of {', '.join(SCENE_RULES)}"
                        f", not '{scene_rule}'")
    if (scene_rule == "groups") != (scene_groups is not None):
        raise FsadError("ucf_crime adapter: scene_groups is required with scene_rule: groups "
                        "and meaningless otherwise")
    if scene_groups is not None and scene_groups < 1:
        raise FsadError(f"ucf_crime adapter: scene_groups must be >= 1, not {scene_groups}")


def videos(root: Path, scene_rule: str = "per_video", scene_groups: int | None = None,
           train_list: str | None = None, annotation_file: str | None = None) -> list[Video]:
    _check_options(scene_rule, scene_groups)
    index, texts = _index(root)
    train_path = _find(root, texts, (TRAIN_LIST,), "train_list", train_list)
    annotation = _find(root, texts, ANNOTATION_NAMES, "annotation_file", annotation_file)
    listed = read_train_list(train_path)
    tests = sorted(read_annotation(annotation), key=lambda e: e.name)
    _check_lists(listed, tests, [p for p in texts if p.name == TEST_LIST], annotation)
    _check_unlisted(index, set(listed) | {e.name for e in tests})
    train = _resolve(index, sorted(n for n in listed if is_normal(n)), train_path)
    test_paths = _resolve(index, [e.name for e in tests], annotation)
    train_scenes, test_scenes = _scenes(scene_rule, scene_groups, train, tests)
    out = [Video(f"train/{p.stem}", s, "train", p, partial(read_frames, p))
           for p, s in zip(train, train_scenes, strict=True)]
    for entry, path, scene in zip(tests, test_paths, test_scenes, strict=True):
        labels = interval_labels(entry, header_frame_count(path), f"{annotation} ({entry.name})")
        out.append(Video(f"test/{path.stem}", scene, "test", path, partial(read_frames, path),
                         labels, annotation))
    return out
