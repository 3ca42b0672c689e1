"""Extraction vs decode-only on synthetic videos (the `fsad bench` data path's input: 2
scenes x 3 MJPG videos of 120 64x64 frames, stored at 48x48 gray), for 1 to 4 decoding
threads side by side; three rounds, median of 7 runs each:
    python bench/extract_synthetic.py
(docs/benchmarks.md: the synthetic row of the extraction table)."""

import statistics
import tempfile
import time
from pathlib import Path

from fsad.data.adapters import load_videos
from fsad.data.store import write_store
from fsad.data.synth import generate


def median_seconds(fn, repeats: int = 7) -> float:
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


with tempfile.TemporaryDirectory() as tmp:
    root = generate(Path(tmp) / "synth", scenes=2, train_videos=2, test_videos=1, frames=120,
                    height=64, width=64)
    videos = load_videos("synthetic", root)
    for _ in range(3):
        decode = median_seconds(lambda: [sum(1 for _ in v.frames()) for v in videos])
        ratios = {t: decode / median_seconds(lambda t=t: write_store(
            videos, Path(tmp) / "s.h5", 48, 48, 1, threads=t)) for t in (1, 2, 3, 4)}
        print(f"decode-only {decode * 1e3:.1f} ms; extract_vs_decode by threads: "
              + "  ".join(f"{t}: {r:.2f}" for t, r in ratios.items()))
