"""Extraction vs decode-only on a real image-folder dataset, at the default and the paper's
frame size:
    python bench/extract_real.py frames PED2_ROOT [VIDEOS]
(PED2_ROOT: UCSD Ped2 in the frames + .mat re-packaging). Two decode-only baselines on the
same files: plain OpenCV (one cv2.imread after another, one thread) and fsad's own decoding
(`Video.frames()`, two threads).
(docs/benchmarks.md: the `extract_vs_decode` rows on UCSD Ped2)."""

import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import cv2

from fsad.data.adapters import load_videos
from fsad.data.adapters.frames import frame_files
from fsad.data.store import write_store

adapter, root = sys.argv[1], Path(sys.argv[2])
count = int(sys.argv[3]) if len(sys.argv) > 3 else 4
videos = [v for v in load_videos(adapter, root) if v.split == "train"][:count]
files = [str(f) for v in videos for f in frame_files(v.source)]


def seconds(fn, cpu: list | None = None) -> float:
    t0, c0 = time.perf_counter(), time.process_time()
    fn()
    if cpu is not None:
        cpu.append(time.process_time() - c0)
    return time.perf_counter() - t0


with tempfile.TemporaryDirectory() as tmp:
    for size, channels in ((48, 1), (256, 3)):
        opencv, own, extract, cpu = [], [], [], []
        for _ in range(5):  # interleaved, so drift in machine load hits all three alike
            opencv.append(seconds(lambda: sum(cv2.imread(f, cv2.IMREAD_COLOR) is not None
                                              for f in files)))
            own.append(seconds(lambda: [sum(1 for _ in v.frames()) for v in videos]))
            extract.append(seconds(partial(write_store, videos, Path(tmp) / "x.h5", size, size,
                                           channels), cpu))
        n = len(files)
        d, o, e = (statistics.median(x) for x in (opencv, own, extract))
        print(f"{size}x{size}x{channels}: {n} frames; OpenCV decode-only {n / d:.0f} frames/s, "
              f"fsad decode-only {n / o:.0f}, extraction {n / e:.0f} -> extract_vs_decode "
              f"{d / e:.2f} (against fsad's own decoding {o / e:.2f}); extraction CPU time "
              f"{statistics.median(cpu) / d:.2f}x the one-thread decoding's")
