"""Extraction vs decode-only on a real dataset, at the default and the paper's frame size:
    python bench/extract_real.py frames ../shared/data/ped2 [VIDEOS]
(docs/benchmarks.md: the `extract_vs_decode` row on UCSD Ped2)."""

import sys
import tempfile
import time
from pathlib import Path

from fsad.data.adapters import load_videos
from fsad.data.store import write_store

adapter, root = sys.argv[1], Path(sys.argv[2])
count = int(sys.argv[3]) if len(sys.argv) > 3 else 4
videos = [v for v in load_videos(adapter, root) if v.split == "train"][:count]
with tempfile.TemporaryDirectory() as tmp:
    for size, channels in ((48, 1), (256, 3)):
        decode, extract = [], []
        for _ in range(3):  # interleaved; the median of three
            t0 = time.perf_counter()
            n = sum(sum(1 for _ in v.frames()) for v in videos)
            t1 = time.perf_counter()
            write_store(videos, Path(tmp) / "x.h5", size, size, channels)
            decode.append(t1 - t0)
            extract.append(time.perf_counter() - t1)
        d, e = sorted(decode)[1], sorted(extract)[1]
        print(f"{size}x{size}x{channels}: {n} frames, decode-only {n / d:.0f} frames/s, "
              f"extraction {n / e:.0f} frames/s -> extract_vs_decode {d / e:.2f}")
