"""`fsad detect`: adapt a trained model to a camera with K normal windows, then score new
footage frame by frame.

* Adaptation is the evaluation's rule (``fsad.adapt.adapt``, the inner loop of
  meta-training) on K windows drawn from the normal footage; frames are predicted and scored
  as in the evaluation (``fsad.predict.predict_clip``).
* Scores are comparable across the videos of one run: every frame's raw Eq. 2 loss is
  expressed against the same reference, the adapted model's losses on the normal footage:
  ``score = (loss - median_normal) / (threshold - median_normal)``, so 0 is a typical
  normal frame and 1 is the threshold. The default threshold is the 99th percentile of
  the normal frames' losses (``--percentile``), or an absolute loss (``--threshold``).
  (Eq. 4's per-video min-max would make every video reach 1, whatever it holds.)
* Memory stays bounded: videos are decoded in chunks of ``batch`` windows; only the small
  converted frames of the normal footage are held, to draw windows and calibrate.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from fsad import FsadError
from fsad.adapt import InnerRule, adapt, footage_windows
from fsad.atomic import atomic_path, write_csv
from fsad.data.adapters.frames import decode_images, frame_files
from fsad.data.convert import convert_all
from fsad.data.video import VideoWriter, read_frames
from fsad.data.windows import to_tensor
from fsad.device import pick, prepare
from fsad.ioerrors import describe
from fsad.predict import finite_loss, predict_clip
from fsad.score import load_generator

log = logging.getLogger("fsad")


def raw_frames(path: Path) -> Iterable[np.ndarray]:
    """Frames of a video file or of a folder of images, decoded lazily."""
    path = Path(path)
    if path.is_dir():
        return decode_images(frame_files(path))
    if not path.is_file():
        raise FsadError(f"{path}: no such video file or frame folder")
    return read_frames(path)


def input_stem(path: Path) -> str:
    """The name an input's results are written under when no other input shares it: a
    video's file name without its extension, a frame folder's name."""
    path = Path(path)
    return path.stem if path.is_file() else Path(os.path.abspath(path)).name


def output_stems(videos: list[Path]) -> list[str]:
    """The name each input's results are written under, one per input and never the same
    twice (letter case aside, for case-insensitive disks), so no input's results overwrite
    another's. An input keeps its ``input_stem`` unless another input shares it; those that
    share one are told apart by the parent folders where their paths differ (``a/01.avi``
    and ``b/01.avi`` give ``a_01`` and ``b_01``), and what is left (``01.avi`` beside
    ``01.mp4``) by a suffix in input order (``01``, ``01-2``). The same inputs always give
    the same names. The same file given twice is refused."""
    paths = [Path(os.path.abspath(v)) for v in videos]
    seen: dict[Path, int] = {}
    for n, (given, path) in enumerate(zip(videos, paths, strict=True), 1):
        real = path.resolve()
        if real in seen:
            raise FsadError(f"{given}: the same video is given twice (inputs {seen[real]} and "
                            f"{n}); give each video once")
        seen[real] = n
    stems = [input_stem(p) for p in paths]

    def prefixed(path: Path, stem: str, depth: int) -> str:
        folders = [q.name for q in path.parents if q.name][:depth]
        return "_".join([*reversed(folders), stem])

    names = list(stems)
    for i, path in enumerate(paths):
        others = [j for j, s in enumerate(stems) if j != i and s.casefold() == stems[i].casefold()]
        if not others:
            continue
        # The fewest parent folders that set this path apart from every other with its stem;
        # none does for files of one folder, which get the suffix below.
        names[i] = prefixed(path, stems[i], 1)
        for depth in range(1, len(path.parents) + 1):
            name = prefixed(path, stems[i], depth)
            if all(prefixed(paths[j], stems[j], depth).casefold() != name.casefold()
                   for j in others):
                names[i] = name
                break
    taken: set[str] = set()
    for i, name in enumerate(names):
        unique, n = name, 1
        while unique.casefold() in taken:
            n += 1
            unique = f"{name}-{n}"
        names[i] = unique
        taken.add(unique.casefold())
    return names


class Detector:
    def __init__(self, model: Path, device: str = "auto"):
        self.generator, self.ckpt = load_generator(model)
        self.frames = self.ckpt["frames"]
        self.t = self.ckpt["t"]
        self.weights = self.ckpt["settings"]["loss"]
        self.device = pick(device)
        self.generator = prepare(self.generator, self.device)
        self.adapted = False

    def converted(self, path: Path) -> Iterator[np.ndarray]:
        """The frames of a video file or frame folder at the model's input size, decoded and
        converted by threads, as in extraction."""
        f = self.frames
        return convert_all(raw_frames(path), f["height"], f["width"], f["channels"])

    def adapt(self, normal: np.ndarray, shots: int, seed: int, rule: InnerRule) -> None:
        """Adapt to K windows of the (converted) normal footage, drawn by ``seed``."""
        windows = len(normal) - self.t
        if shots > windows:
            raise FsadError(f"--shots {shots} needs {shots} windows of {self.t + 1} frames, but "
                            f"the normal footage has {len(normal)} frames ({max(windows, 0)} "
                            "windows); give more normal footage or a smaller K")
        if shots == 0:
            return
        adapt(self.generator, *footage_windows(normal, self.t, shots, seed), rule, self.weights,
              self.ckpt.get("inner_lr"))
        self.adapted = True

    def score_frames(self, frames: Iterator[np.ndarray], batch: int, desc: str = "",
                     where: str | None = None) -> Iterator[tuple[int, float, float]]:
        """(frame index, raw loss, PSNR) for every frame from t on, in chunks of ``batch``.
        ``frames`` are already converted to the model's size (see ``converted``); ``where``
        names them in errors (default: ``desc``, the progress bar's label)."""
        where = where or desc or "video"
        buffer: list[np.ndarray] = []
        first = 0  # index of buffer[0] in the video
        n_seen = 0
        bar = tqdm(desc=desc, unit="frame", disable=None)
        for frame in frames:
            buffer.append(frame)
            n_seen += 1
            if len(buffer) >= batch + self.t:
                yield from self._score_buffer(buffer, first, where)
                bar.update(len(buffer) - self.t)
                first += len(buffer) - self.t
                buffer = buffer[-self.t:]
        if n_seen < self.t + 1:
            raise FsadError(f"{where}: {n_seen} frame(s); at least t + 1 = "
                            f"{self.t + 1} are needed to predict one")
        if len(buffer) > self.t:
            yield from self._score_buffer(buffer, first, where)
            bar.update(len(buffer) - self.t)
        bar.close()

    def _score_buffer(self, buffer: list[np.ndarray], first: int, where: str):
        losses, psnrs = predict_clip(self.generator, to_tensor(np.stack(buffer)), self.t,
                                     self.weights)
        for i, (lv, pv) in enumerate(zip(losses, psnrs, strict=True)):
            frame = first + i + self.t
            yield frame, finite_loss(lv, f"{where} frame {frame}", self.adapted), pv


def detect(model: Path, normal: Path, shots: int, videos: list[Path], out: Path,
           rule: InnerRule, seed: int = 0, percentile: float = 99.0,
           threshold: float | None = None, annotate: bool = False, batch: int = 32,
           device: str = "auto") -> list[Path]:
    if shots < 0:
        raise FsadError(f"--shots must be >= 0 (0 = no adaptation), got {shots}")
    # NaN passes every comparison below: every score would be NaN and nothing flagged.
    if threshold is not None and not (math.isfinite(threshold) and threshold > 0):
        raise FsadError(f"--threshold {threshold}: not a finite loss above 0; give a loss "
                        "threshold such as 0.05, or leave it out for --percentile")
    if not 50 <= percentile < 100:
        raise FsadError(f"--percentile {percentile}: must be a number from 50 up to 100")
    stems = output_stems(videos)
    det = Detector(model, device)
    normal_frames = np.stack(list(det.converted(normal)))
    if len(normal_frames) < det.t + 1:
        raise FsadError(f"{normal}: {len(normal_frames)} frame(s) of normal footage; at "
                        f"least t + 1 = {det.t + 1} are needed")
    det.adapt(normal_frames, shots, seed, rule)
    reference = np.array([lv for _, lv, _ in det.score_frames(
        iter(normal_frames), batch, "calibrate", f"{normal} (normal footage)")])
    median = float(np.median(reference))
    cut = float(threshold) if threshold is not None else float(
        np.percentile(reference, percentile))
    if cut <= median:
        raise FsadError(f"threshold {cut:.5g} is not above the normal footage's median loss "
                        f"{median:.5g}; choose a larger --threshold")
    log.info("adapted with K=%d; normal median loss %.5g, threshold %.5g (%s)", shots, median,
             cut, "--threshold" if threshold is not None else f"p{percentile:g} of normal")
    # Score every video before writing anything: a video that fails to decode leaves no
    # results of the others behind (the rows are small; the frames are not kept).
    scored = []
    for video, stem in zip(videos, stems, strict=True):
        rows = []
        for frame, lv, pv in det.score_frames(det.converted(video), batch, str(video)):
            s = (lv - median) / (cut - median)
            rows.append((frame, lv, pv, s, int(lv > cut)))
        flagged = sum(r[4] for r in rows)
        log.info("%s: %d frames scored, %d flagged -> %s", video, len(rows), flagged,
                 out / f"{stem}.scores.csv")
        scored.append((video, stem, rows))
    return _write_all(out, scored, annotate)


def _write_all(out: Path, scored: list[tuple], annotate: bool) -> list[Path]:
    """Write every result file; if one cannot be written (disk full, permissions), remove
    those already written (and ``out`` if this run created it) and say why on one line."""
    created = not out.exists()
    written: list[Path] = []
    current = out
    try:
        out.mkdir(parents=True, exist_ok=True)
        for video, stem, rows in scored:
            current = out / f"{stem}.scores.csv"
            if current in written:  # output_stems makes this impossible; never overwrite
                raise FsadError(f"{current}: already written by another input of this run")
            _write_rows(current, rows)
            written.append(current)
            current = out / f"{stem}.scores.png"
            _plot(current, rows, stem)
            written.append(current)
            if annotate:
                current = out / f"{stem}.annotated.avi"
                written.append(_annotate(video, rows, current))
    except BaseException as exc:
        for path in written:
            path.unlink(missing_ok=True)
        if created:
            with contextlib.suppress(OSError):  # not empty: someone else's files are there
                out.rmdir()
        if isinstance(exc, OSError):
            raise FsadError(describe(exc, current, "--out")) from None
        raise
    return written


def _write_rows(path: Path, rows: list[tuple]) -> None:
    write_csv(path, ["frame", "loss", "psnr", "score", "flag"],
              [[f, f"{lv:.8g}", f"{pv:.6g}", f"{s:.6g}", flag] for f, lv, pv, s, flag in rows])


def _plot(path: Path, rows: list[tuple], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = [r[0] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 2.6))
    ax.plot(frames, [r[3] for r in rows], lw=1)
    ax.axhline(1.0, color="tab:red", lw=0.8, ls="--", label="threshold")
    for f, *_, flag in rows:
        if flag:
            ax.axvspan(f - 0.5, f + 0.5, color="tab:red", alpha=0.15, lw=0)
    ax.set(xlabel="frame", ylabel="score", title=f"{title} (shaded: flagged)")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)


def _annotate(video: Path, rows: list[tuple], path: Path) -> Path:
    """The input video with a score bar at the bottom and a red frame around flagged frames."""
    by_frame = {r[0]: r for r in rows}
    with atomic_path(path) as tmp:
        writer = None  # opened at the first frame, whose size it needs
        try:
            for i, frame in enumerate(raw_frames(video)):
                if frame.ndim == 2:
                    frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
                h, w = frame.shape[:2]
                if writer is None:
                    writer = VideoWriter(tmp, w, h)
                row = by_frame.get(i)
                if row is not None:
                    bar = int(np.clip(row[3], 0, 2) / 2 * w)
                    color = (0, 0, 255) if row[4] else (0, 200, 0)
                    cv2.rectangle(frame, (0, h - 6), (bar, h - 1), color, -1)
                    cv2.line(frame, (w // 2, h - 8), (w // 2, h - 1), (255, 255, 255), 1)
                    if row[4]:
                        cv2.rectangle(frame, (0, 0), (w - 1, h - 1), (0, 0, 255), 3)
                writer.write(frame)
        finally:
            if writer is not None:
                writer.close()  # before the rename: the file is complete only then
    return path
