"""Decoding and encoding real video files with OpenCV, with errors that name the file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from fsad import FsadError
from fsad.ioerrors import final_path

# Still-image signatures: FFmpeg opens an image under any name as a one-frame video.
IMAGE_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF87a": "GIF",
               b"GIF89a": "GIF", b"BM": "BMP", b"II*\x00": "TIFF", b"MM\x00*": "TIFF",
               b"RIFF": "WebP"}


def refuse_image(path: Path) -> None:
    """Refuse a still image named like a video (a PNG saved as `.avi`), which FFmpeg would
    decode as a video of one frame."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return  # missing or unreadable: OpenCV's open reports it
    for magic, kind in IMAGE_MAGIC.items():
        if head.startswith(magic) and (kind != "WebP" or head[8:12] == b"WEBP"):
            raise FsadError(f"{path}: a {kind} image, not a video; give the video file, or "
                            "put still frames in a folder of images")


def read_frames(path: Path) -> Iterator[np.ndarray]:
    """Yield the frames of a video file as BGR uint8 arrays (H, W, 3), in order.

    A file that ends before the frame count its container header announces is truncated
    (an interrupted download or copy): decoding stops early without any error from OpenCV,
    so the counts are compared and the file refused rather than silently shortened. One
    frame of slack: some containers round the count their header announces."""
    refuse_image(path)
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FsadError(f"{path}: OpenCV cannot open this video (missing, unreadable or an "
                        "unsupported codec); re-download or re-encode it")
    announced = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    count = 0
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            count += 1
            yield frame
    finally:
        cap.release()
    if count == 0:
        raise FsadError(f"{path}: the video has no decodable frames (empty or truncated file); "
                        "re-download or re-encode it")
    if count < announced - 1:
        raise FsadError(f"{path}: truncated video: {count} frames decode but its header "
                        f"announces {announced}; re-download or re-encode it")


def header_frame_count(path: Path) -> int:
    """The frame count in a video's container header, without decoding any frame.

    Needed where labels are intervals and the frames are still inside a video file; the
    extraction step compares the labels with the decoded frames afterwards.
    """
    refuse_image(path)
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise FsadError(f"{path}: OpenCV cannot open this video (missing, truncated or an "
                            "unsupported codec); re-download or re-encode it")
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()
    if count <= 0:
        raise FsadError(f"{path}: the video header gives no frame count (truncated file?); "
                        "re-download it")
    return count


def read_image(path: Path, rgb: bool = False) -> np.ndarray:
    """Read one image file as BGR uint8 (H, W, 3), or RGB: the decoder writes either order in
    the same time, so asking for RGB saves a colour-swap pass over every frame."""
    frame = cv2.imread(str(path), cv2.IMREAD_COLOR_RGB if rgb else cv2.IMREAD_COLOR)
    if frame is None:
        raise FsadError(f"{path}: OpenCV cannot read this image (corrupt or not an image); "
                        "re-download the dataset or replace this file")
    return frame


class VideoWriter:
    """An MJPG .avi writer (the codec every OpenCV build has) that refuses to fail silently.

    OpenCV's writer ignores failed writes (a full disk, a file-size limit): ``write`` still
    returns success and the file is left short and unplayable. So ``close`` reads the file
    back and raises when fewer frames decode than were written."""

    def __init__(self, path: Path, width: int, height: int, fps: float = 25.0):
        self.path = path
        self._writer = cv2.VideoWriter(
            str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height), True
        )
        if not self._writer.isOpened():
            raise FsadError(f"{final_path(path)}: OpenCV cannot open a video writer here (check "
                            "the folder exists and is writable)")
        self.size = (height, width)
        self.count = 0

    def write(self, frame: np.ndarray) -> None:
        if frame.ndim == 2:
            frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
        if frame.shape[:2] != self.size:
            raise ValueError(f"frame of shape {frame.shape[:2]} written to a {self.size} video")
        self._writer.write(frame)
        self.count += 1

    def close(self, verify: bool = True) -> None:
        """Finish the file; with ``verify``, check that every frame written reads back."""
        self._writer.release()
        if not verify or not self.count:
            return
        readable = decodable_frames(self.path)
        if readable < self.count:
            raise FsadError(f"{final_path(self.path)}: only {readable} of the {self.count} "
                            "frames written can be read back (the disk is full, a file-size "
                            "limit was reached, or the disk failed); free disk space or write "
                            "to another disk")

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self.close(verify=exc_type is None)


def decodable_frames(path: Path) -> int:
    """How many frames of a video file decode (0 when it cannot be opened)."""
    cap = cv2.VideoCapture(str(path))
    count = 0
    try:
        while cap.isOpened() and cap.grab():
            count += 1
    finally:
        cap.release()
    return count
