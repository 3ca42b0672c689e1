"""UR Fall Detection Dataset (Kwolek & Kepski, CMPB 2014), RGB of camera 0, as released::

    ROOT/fall-01-cam0-rgb.zip .. fall-30-cam0-rgb.zip   fall-01-cam0-rgb-001.png.. (1-based)
    ROOT/adl-01-cam0-rgb.zip .. adl-40-cam0-rgb.zip     (each may instead be unpacked into a
                                                        folder of the same name, not both)
    ROOT/urfall-cam0-falls.csv, urfall-cam0-adls.csv    no header, 11 columns: sequence,
                                                        frame number (1-based), label, 8 depth
                                                        features; label -1 = not lying,
                                                        0 = falling, 1 = lying on the ground
    ignored: the other streams (-cam0-d, -cam1-rgb, -cam1-d; zip or folder), the -acc.csv and
    -data.csv of each sequence and the -cam0.mp4 / -cam1.mp4 previews. Anything else at ROOT
    is an error.

Labels are joined on (sequence, frame number), never on row order: ADL rows start late
(adl-02 at 31) and have gaps. Label mapping, recorded in the config: a frame of a fall
sequence is anomalous iff its CSV label is in ``fall_labels`` (default [0, 1]: falling and
lying), a frame of an ADL sequence iff its label is in ``adl_labels`` (default []: lying down
is an activity of daily living, so every ADL frame is normal). Frames with no CSV row follow
``unlabelled``: ``drop`` (default: the frame is left out of the video, since an unlabelled
fall frame may show the person lying or not, so no label is safe), ``normal`` or
``error``; when no label value of a sequence's kind counts as anomalous, its labels do not
depend on the CSV and nothing is dropped. A CSV row for a frame or sequence that does not
exist is an error.

Split (not stated in public sources, so chosen here): every fall sequence is a test video, as
training videos must be normal; ADL sequences adl-01..adl-NN with NN = ``train_adls`` (default
30) are the training videos, and the remaining ADLs (adl-31..40) are test videos too, so that
the test set holds normal lying-down activities as hard negatives. One camera set-up, so one
scene, named by ``scene`` (default ``urfall``).
"""

from __future__ import annotations

import csv
import re
import zipfile
import zlib
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from fsad import FsadError
from fsad.data.adapters.base import is_junk
from fsad.data.adapters.frames import check_numbering, decode_images
from fsad.data.record import Video

SEQUENCE = re.compile(r"(fall|adl)-(\d{2})-cam0-rgb(\.zip)?")
IGNORED = re.compile(r"(fall|adl)-\d{2}-((cam0-d|cam1-rgb|cam1-d)(\.zip)?|(acc|data)\.csv"
                     r"|cam[01]\.mp4)")
CSV_FILES = {"fall": "urfall-cam0-falls.csv", "adl": "urfall-cam0-adls.csv"}
CSV_COLUMNS = 11
LABEL_VALUES = {-1, 0, 1}
UNLABELLED = ("drop", "normal", "error")


@dataclass
class FrameSequence:
    name: str  # fall-01
    kind: str  # fall | adl
    number: int
    source: Path  # the zip or the unpacked folder
    frames: dict[int, str]  # 1-based frame number -> member or file name


def _frame_numbers(names: list[str], stem: str, where: Path) -> dict[int, str]:
    """Frame number -> name, for names `<stem>-NNN.png`; numbers must run 1..N, without a
    gap or a duplicate (`-01.png` beside `-001.png`)."""
    pattern = re.compile(rf"{re.escape(stem)}-(\d+)\.png")
    numbered = []
    for name in names:
        match = pattern.fullmatch(name.rsplit("/", 1)[-1])
        if not match:
            raise FsadError(f"{where}: unexpected entry '{name}' (expected only "
                            f"{stem}-NNN.png frames)")
        numbered.append((int(match.group(1)), name))
    if not numbered:
        raise FsadError(f"{where}: no {stem}-NNN.png frames")
    numbered.sort()
    check_numbering(numbered, where, first=(1,))
    return dict(numbered)


def _zip_members(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise FsadError(f"{path}: not a readable zip archive ({exc}); re-download it") from None
    return [n for n in names if not n.endswith("/") and "__MACOSX/" not in n
            and not n.rsplit("/", 1)[-1].startswith("._")]


def _folder_files(path: Path) -> list[str]:
    return [p.name for p in sorted(path.iterdir()) if not is_junk(p)]


def _sequence_paths(root: Path) -> dict[str, Path]:
    """Sequence name -> its zip or folder; every other entry must be a known, ignored one."""
    found: dict[str, Path] = {}
    for p in sorted(root.iterdir()):
        if is_junk(p) or p.name in CSV_FILES.values() or IGNORED.fullmatch(p.name):
            continue
        match = SEQUENCE.fullmatch(p.name)
        if not match or (p.is_dir() == bool(match.group(3))):
            raise FsadError(f"{p}: unexpected entry (expected fall-NN-cam0-rgb / "
                            "adl-NN-cam0-rgb zips or folders and the two urfall-cam0-*.csv)")
        name = f"{match.group(1)}-{match.group(2)}"
        if name in found:
            raise FsadError(f"{p}: {name} is present both zipped and unpacked; keep one")
        found[name] = p
    if not found:
        raise FsadError(f"{root}: no fall-NN-cam0-rgb or adl-NN-cam0-rgb sequences")
    return found


def _sequences(root: Path) -> list[FrameSequence]:
    out = []
    for name, p in sorted(_sequence_paths(root).items()):
        kind, number = name.split("-")
        names = _folder_files(p) if p.is_dir() else _zip_members(p)
        frames = _frame_numbers(names, f"{name}-cam0-rgb", p)
        out.append(FrameSequence(name, kind, int(number), p, frames))
    return out


def read_csv(path: Path, kind: str) -> dict[str, dict[int, int]]:
    """A headerless urfall-cam0-*.csv -> sequence -> frame number -> label."""
    if not path.is_file():
        raise FsadError(f"{path}: label file missing (download it from the UR Fall page)")
    out: dict[str, dict[int, int]] = {}
    with path.open(newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), 1):
            if not row:
                continue
            try:
                name, frame, label = row[0].strip(), int(row[1]), int(float(row[2]))
            except (ValueError, IndexError):
                raise FsadError(f"{path}:{lineno}: expected 'sequence,frame,label,...' with "
                                "integer frame and label (the file has no header)") from None
            if len(row) != CSV_COLUMNS or not re.fullmatch(rf"{kind}-\d{{2}}", name):
                raise FsadError(f"{path}:{lineno}: expected {CSV_COLUMNS} columns starting "
                                f"with a {kind}-NN sequence name; re-download the file")
            if label not in LABEL_VALUES or frame < 1:
                raise FsadError(f"{path}:{lineno}: label {label} / frame {frame} invalid "
                                "(labels are -1, 0, 1; frames 1-based); re-download the file "
                                "or correct that row")
            if frame in out.setdefault(name, {}):
                raise FsadError(f"{path}:{lineno}: second row for {name} frame {frame}")
            out[name][frame] = label
    return out


def _check_rows(rows: dict[str, dict[int, int]], seqs: dict[str, FrameSequence],
                path: Path) -> None:
    for name, frames in rows.items():
        if name not in seqs:
            raise FsadError(f"{path}: rows for {name}, but no {name}-cam0-rgb zip or folder")
        extra = sorted(set(frames) - set(seqs[name].frames))
        if extra:
            raise FsadError(f"{path}: {name} has a row for frame {extra[0]} but its video has "
                            f"{len(seqs[name].frames)} frames")


def _labels(seq: FrameSequence, rows: dict[int, int] | None, anomalous: set[int],
            unlabelled: str, path: Path) -> tuple[list[int], np.ndarray]:
    """The frame numbers kept and their 0/1 labels, by the mapping described above."""
    numbers = sorted(seq.frames)
    if not anomalous:
        return numbers, np.zeros(len(numbers), np.uint8)
    if not rows:
        raise FsadError(f"{path}: no rows for {seq.name} (needed: labels {sorted(anomalous)} "
                        "of this kind count as anomalous)")
    missing = [n for n in numbers if n not in rows]
    if missing and unlabelled == "error":
        raise FsadError(f"{path}: no row for {seq.name} frame {missing[0]} "
                        f"({len(missing)} frames unlabelled; or set unlabelled: drop|normal)")
    if unlabelled == "drop":
        numbers = [n for n in numbers if n in rows]
    return numbers, np.array([rows.get(n) in anomalous for n in numbers], np.uint8)


def _decode_zip(path: Path, members: list[str]) -> Iterator[np.ndarray]:
    shape = None
    with zipfile.ZipFile(path) as zf:
        for m in members:
            try:
                data = zf.read(m)
            except (zipfile.BadZipFile, zlib.error, OSError) as exc:
                raise FsadError(f"{path}: cannot extract {m} ({exc}); re-download it") from None
            frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if frame is None:
                raise FsadError(f"{path}: {m} is not a readable image")
            if shape is not None and frame.shape != shape:
                raise FsadError(f"{path}: {m} differs in size from the first frame")
            shape = frame.shape
            yield frame


def _loader(seq: FrameSequence, numbers: list[int]) -> Callable[[], Iterable[np.ndarray]]:
    names = [seq.frames[n] for n in numbers]
    if seq.source.is_dir():
        return partial(decode_images, [seq.source / n for n in names])
    return partial(_decode_zip, seq.source, names)


def _check_options(fall_labels: Collection[int], adl_labels: Collection[int], unlabelled: str,
                   train_adls: int) -> None:
    for option, values in (("fall_labels", fall_labels), ("adl_labels", adl_labels)):
        if not set(values) <= LABEL_VALUES:
            raise FsadError(f"urfall adapter: {option} may hold only -1, 0, 1 (got {values})")
    if unlabelled not in UNLABELLED:
        raise FsadError(f"urfall adapter: unlabelled must be one of {', '.join(UNLABELLED)}")
    if train_adls < 0:
        raise FsadError(f"urfall adapter: train_adls must be >= 0, not {train_adls}")


def scene_names(root: Path, scene: str = "urfall", **_) -> list[str]:
    """The scenes ``videos`` gives, from the options alone (one camera, one scene)."""
    return [scene]


def videos(root: Path, fall_labels: Collection[int] = (0, 1), adl_labels: Collection[int] = (),
           unlabelled: str = "drop", train_adls: int = 30, scene: str = "urfall") -> list[Video]:
    _check_options(fall_labels, adl_labels, unlabelled, train_adls)
    seqs = _sequences(root)
    rows = {kind: read_csv(root / name, kind) for kind, name in CSV_FILES.items()}
    by_name = {s.name: s for s in seqs}
    for kind, name in CSV_FILES.items():
        _check_rows(rows[kind], by_name, root / name)
    mapping = {"fall": set(fall_labels), "adl": set(adl_labels)}
    out = []
    for seq in seqs:
        if seq.kind == "adl" and seq.number <= train_adls:
            out.append(Video(f"train/{seq.name}", scene, "train", seq.source,
                             _loader(seq, sorted(seq.frames))))
            continue
        path = root / CSV_FILES[seq.kind]
        numbers, labels = _labels(seq, rows[seq.kind].get(seq.name), mapping[seq.kind],
                                  unlabelled, path)
        if not numbers:
            raise FsadError(f"{path}: every frame of {seq.name} is unlabelled and dropped")
        out.append(Video(f"test/{seq.name}", scene, "test", seq.source, _loader(seq, numbers),
                         labels, path))
    return out
