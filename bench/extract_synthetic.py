"""Extraction vs decode-only on synthetic videos (the `fsad bench` data path's input: 2
scenes x 3 MJPG videos of 120 64x64 frames, stored at 48x48 gray), for 1 to 4 decoding
threads side by side. Decode-only and the four extractions alternate
(`fsad.perf.timing.alternate`), 15 rounds, and each ratio is the median of the per-round
ratios (this machine's speed drifts within seconds):
    python bench/extract_synthetic.py
(docs/benchmarks.md: the synthetic row of the extraction table)."""

import statistics
import tempfile
from functools import partial
from pathlib import Path

from fsad.data.adapters import load_videos
from fsad.data.store import write_store
from fsad.data.synth import generate
from fsad.perf.timing import alternate, round_ratio

with tempfile.TemporaryDirectory() as tmp:
    root = generate(Path(tmp) / "synth", scenes=2, train_videos=2, test_videos=1, frames=120,
                    height=64, width=64)
    videos = load_videos("synthetic", root)
    threads = (1, 2, 3, 4)

    def decode():
        return [sum(1 for _ in v.frames()) for v in videos]

    def extract(t):
        return write_store(videos, Path(tmp) / "s.h5", 48, 48, 1, threads=t)

    rounds = alternate([decode, *(partial(extract, t) for t in threads)], 15)
    ratios = {t: round_ratio([[r[0], r[i]] for r in rounds]) for i, t in enumerate(threads, 1)}
    print(f"decode-only {statistics.median(r[0] for r in rounds) * 1e3:.1f} ms; "
          "extract_vs_decode by threads (median of 15 alternating rounds): "
          + "  ".join(f"{t}: {r:.2f}" for t, r in ratios.items()))
