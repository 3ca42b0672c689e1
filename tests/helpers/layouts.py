"""Writers of tiny datasets in exact released layouts, for adapter tests."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def frames_mat(root: Path, train=(8, 8), test=((10, [(3, 6)]), (9, [(1, 2), (8, 9)])),
               size=(24, 32), name="tiny") -> Path:
    """The "frames + .mat" re-packaging: training/frames/NN/000.jpg.., testing/frames/..,
    and <name>.mat whose `gt` cell holds 1-based inclusive [starts; ends] per test video."""
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    h, w = size
    for split, videos in (("training", [(n, []) for n in train]), ("testing", test)):
        for v, (n, _) in enumerate(videos):
            folder = root / split / "frames" / f"{v + 1:02d}"
            folder.mkdir(parents=True)
            for i in range(n):
                img = rng.integers(0, 255, (h, w), dtype=np.uint8)
                cv2.imwrite(str(folder / f"{i:03d}.jpg"), cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
    gt = np.empty((1, len(test)), dtype=object)
    for v, (_, intervals) in enumerate(test):
        gt[0, v] = np.array(intervals, dtype=np.uint8).T
    savemat(root / f"{name}.mat", {"gt": gt})
    (root / ".DS_Store").write_bytes(b"junk")
    (root / "training" / "frames" / "01" / "._000.jpg").write_bytes(b"junk")
    return root


def ucsd(root: Path, name="UCSDped2", train=(8, 7), test=((10, "3:10"), (9, "1:2, 8:9")),
         size=(24, 36)) -> Path:
    """UCSD v1p2: Train/TrainNNN/001.tif.., Test/TestNNN/001.tif.., Test/TestNNN_gt/*.bmp,
    Test/<name>.m with 1-based inclusive ranges, the stale .m~ backup and macOS junk."""
    rng = np.random.default_rng(1)
    h, w = size
    base = root / name
    for split, prefix, clips in (("Train", "Train", list(train)), ("Test", "Test",
                                                                   [n for n, _ in test])):
        for c, n in enumerate(clips):
            folder = base / split / f"{prefix}{c + 1:03d}"
            folder.mkdir(parents=True)
            for i in range(n):
                cv2.imwrite(str(folder / f"{i + 1:03d}.tif"),
                            rng.integers(0, 255, (h, w), dtype=np.uint8))
            (folder / ".DS_Store").write_bytes(b"junk")
            (folder / "._001.tif").write_bytes(b"junk")
    gt = base / "Test" / "Test001_gt"
    gt.mkdir()
    cv2.imwrite(str(gt / "001.bmp"), np.zeros((h, w), np.uint8))
    lines = ["TestVideoFile = {};"] + [
        f"TestVideoFile{{end+1}}.gt_frame = [{r}];" for _, r in test]
    (base / "Test" / f"{name}.m").write_text("\n".join(lines) + "\n")
    # The stale backup disagrees (as UCSDped2.m~ does for Test006): it must never be read.
    (base / "Test" / f"{name}.m~").write_text(
        "\n".join(["TestVideoFile = {};"] + ["TestVideoFile{end+1}.gt_frame = [1:2];"] * 5))
    (base / "Test" / f"._{name}.m").write_bytes(b"junk")
    return base
