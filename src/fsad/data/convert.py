"""Frame conversion for the frame store and for `fsad detect`: colour (gray or RGB) and
size (area interpolation), a block of frames at a time, in threads, in order.

Sources are iterables of decoded frames (BGR or gray uint8); one that decodes in threads of
its own (``DecodesInThreads``, e.g. an image folder) also converts there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from fsad.data.record import Video
from fsad.data.threads import batches, ordered_map, ordered_streams, prefetch


@runtime_checkable
class DecodesInThreads(Protocol):
    """Frames that are decoded by threads of their own (an image folder decodes in any
    order): ``map(fn)`` yields ``fn(frame)`` in order, ``fn`` run in the decoding threads."""

    def map(self, fn: Callable[[np.ndarray], np.ndarray] | None, rgb: bool = False,
            workers: int = 2) -> Iterator[np.ndarray]: ...


def convert(frame: np.ndarray, height: int, width: int, channels: int) -> np.ndarray:
    """Convert to gray or RGB and resize (area interpolation, as for downscaling).

    To gray, the colour conversion comes first: a gray frame is resized on one channel, not
    three. To RGB, it runs at whichever size has fewer pixels: a channel swap or a gray
    copy commutes exactly with the per-channel resize, so the order never changes a pixel."""
    if channels == 1:
        if frame.ndim == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        return _resize(frame, height, width)[..., None]
    code = cv2.COLOR_GRAY2RGB if frame.ndim == 2 else cv2.COLOR_BGR2RGB
    if height * width < frame.shape[0] * frame.shape[1]:
        return cv2.cvtColor(_resize(frame, height, width), code)
    return _resize(cv2.cvtColor(frame, code), height, width)


def _resize(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    if frame.shape[:2] == (height, width):
        return frame
    return cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)


def convert_block(frames: Sequence[np.ndarray], height: int, width: int,
                  channels: int) -> np.ndarray:
    """``convert`` over several frames, as one (n, height, width, channels) array.

    Small frames of one size that shrink (or keep their size) are converted as one tall
    image, one OpenCV call per step for all of them: at 64x64 that saves a fifth of the
    conversion time, the calls' own overhead. Every pixel equals the frame-by-frame result
    (a test compares): area interpolation never mixes two frames' rows, since each boundary
    between frames maps onto a boundary between output frames. Enlarging interpolates
    across it, so those frames are converted one by one, as are large ones (no gain)."""
    first = frames[0].shape
    if (len(frames) > 1 and frames[0].nbytes <= 1 << 16 and first[0] >= height
            and first[1] >= width and all(f.shape == first for f in frames)):
        tall = convert(np.concatenate(frames), len(frames) * height, width, channels)
        return tall.reshape(len(frames), height, width, channels)
    return np.stack([convert(f, height, width, channels) for f in frames])


def frames_per_block(height: int, width: int, channels: int) -> int:
    """Frames per block of converted frames: up to 32, at most 128 KiB, at least one."""
    return max(1, min(32, (128 << 10) // (height * width * channels)))


def convert_video(frames: Iterable[np.ndarray], height: int, width: int, channels: int,
                  threads: int = 2) -> Iterator[np.ndarray]:
    """The converted frames of one video in blocks (n, height, width, channels) of
    ``frames_per_block`` frames, in order, using ``threads`` threads (1: all in the calling
    thread). Blocks keep the per-frame Python work (hand-offs between threads, copies into the
    store's chunks) off tiny frames. A source that decodes in threads of its own
    (``DecodesInThreads``: an image folder) converts each frame in the thread that decoded
    it, and for an RGB store is decoded straight to RGB (the same pixels, one pass less);
    other sources are decoded by one background thread (a video file decodes in order) and
    converted a block at a time by a small pool (OpenCV releases the GIL)."""
    block = frames_per_block(height, width, channels)
    if isinstance(frames, DecodesInThreads):
        fn = (partial(_resize, height=height, width=width) if channels == 3
              else partial(convert, height=height, width=width, channels=channels))
        converted = frames.map(fn, rgb=channels == 3, workers=threads)
        return (b[0][None] if len(b) == 1 else np.stack(b) for b in batches(converted, block))
    fn = partial(convert_block, height=height, width=width, channels=channels)
    if threads == 1:
        return map(fn, batches(frames, block))
    ahead = max(4, 32 // block)  # blocks; about 32 frames in flight, as many as 128 small ones
    return ordered_map(fn, prefetch(batches(frames, block), depth=ahead), workers=threads,
                       chunk=1, depth=ahead)


def convert_all(frames: Iterable[np.ndarray], height: int, width: int, channels: int,
                threads: int = 2) -> Iterator[np.ndarray]:
    """``convert`` over ``frames``, one frame at a time, in order (see ``convert_video``)."""
    return (f for b in convert_video(frames, height, width, channels, threads) for f in b)


def convert_videos(videos: list[Video], height: int, width: int, channels: int,
                   threads: int = 2, buffer_mb: int = 128) -> Iterator[Iterator[np.ndarray]]:
    """The converted frames of each video, in blocks (``convert_video``), one iterator per
    video, in order. ``threads`` videos are decoded at once, each by one thread that also
    converts its frames: a video file decodes only in order, so this is what puts more than
    one core on decoding. Videos ahead of the one being consumed buffer at most
    ``buffer_mb`` of converted frames; a single video is split across the threads instead."""
    if len(videos) == 1 or threads == 1:
        for video in videos:
            yield convert_video(video.frames(), height, width, channels, threads)
        return
    block_bytes = frames_per_block(height, width, channels) * height * width * channels
    yield from ordered_streams(
        [lambda v=v: convert_video(v.frames(), height, width, channels, 1) for v in videos],
        workers=threads, chunk=1, depth=max(2, (buffer_mb << 20) // block_bytes))


@contextmanager
def opencv_threads(n: int):
    """OpenCV's own thread pool, set to ``n`` for a while: extraction runs its own threads
    (decode, conversion pool), and OpenCV's nested ones only oversubscribe the cores."""
    before = cv2.getNumThreads()
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(before)
