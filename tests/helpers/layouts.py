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


def _video(path: Path, n: int, size: tuple[int, int], seed: int, fourcc: str = "MJPG") -> Path:
    """A tiny colour video of ``n`` random frames; OpenCV's header count equals ``n``."""
    h, w = size
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25, (w, h), True)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path} with fourcc {fourcc}")
    rng = np.random.default_rng(seed)
    for _ in range(n):
        writer.write(rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
    writer.release()
    return path


def _mp4(path: Path, n: int, size: tuple[int, int], seed: int) -> Path:
    """An .mp4 written with the first fourcc this OpenCV can open: 'mp4v' (MPEG-4 Part 2,
    in every opencv-python wheel's FFmpeg, and what this project's tests use), else 'avc1'
    (H.264, as released, but its encoder is usually absent)."""
    h, w = size
    path.parent.mkdir(parents=True, exist_ok=True)
    for fourcc in ("mp4v", "avc1"):
        probe = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25, (w, h), True)
        ok = probe.isOpened()
        probe.release()
        path.unlink(missing_ok=True)
        if ok:
            return _video(path, n, size, seed, fourcc)
    raise RuntimeError(f"this OpenCV build can write no .mp4 codec (tried mp4v, avc1): {path}")


def _ranges(n: int, ranges, base: int = 1) -> np.ndarray:
    """0/1 per frame from inclusive (start, end) ranges counted from ``base``."""
    labels = np.zeros(n, np.uint8)
    for start, end in ranges:
        labels[start - base:end - base + 1] = 1
    return labels


def avenue(root: Path, train=(8, 9), test=((10, [(3, 6)], [(3, 7)]), (9, [(1, 9)], [(2, 4)])),
           size=(24, 32)) -> Path:
    """CUHK Avenue: 'Avenue Dataset/{training,testing}_videos/NN.avi' (MJPG; the release is
    XviD), ground_truth_demo/testing_label_mask/N_label.mat (not zero-padded; `volLabel` a 1xT
    cell of {0, 1} masks, one pixel set on the frames of the mask ranges) and, at ROOT, the
    ano_pred-style avenue.mat whose `gt` holds the (different) interval ranges. Test entries
    are (frames, mask ranges, interval ranges), 1-based inclusive. Demo files and junk too."""
    from scipy.io import savemat

    base = root / "Avenue Dataset"
    for v, n in enumerate(train):
        _video(base / "training_videos" / f"{v + 1:02d}.avi", n, size, seed=v)
    gt_dir = root / "ground_truth_demo" / "testing_label_mask"
    gt_dir.mkdir(parents=True)
    gt = np.empty((1, len(test)), dtype=object)
    for v, (n, mask_ranges, intervals) in enumerate(test):
        _video(base / "testing_videos" / f"{v + 1:02d}.avi", n, size, seed=100 + v)
        cells = np.empty((1, n), dtype=object)
        for t, on in enumerate(_ranges(n, mask_ranges)):
            mask = np.zeros(size, np.uint8)
            mask[t % size[0], 5] = on  # value 1, as released: never scale by 255
            cells[0, t] = mask
        savemat(gt_dir / f"{v + 1}_label.mat", {"volLabel": cells})
        gt[0, v] = np.array(intervals, dtype=np.uint16).T
    savemat(root / "avenue.mat", {"gt": gt})
    (base / "training_vol").mkdir()
    (root / "ground_truth_demo" / "Readme.txt").write_text("demo\n")
    (root / "ground_truth_demo" / "testing_videos").mkdir()
    (base / ".DS_Store").write_bytes(b"junk")
    (gt_dir / "._1_label.mat").write_bytes(b"junk")
    (base / "testing_videos" / "._01.avi").write_bytes(b"junk")
    return root


def shanghaitech(root: Path, train=(("01_001", 8), ("01_002", 9), ("13_001", 8)),
                 test=(("01_0014", 10, [(3, 6)]), ("02_0128", 9, [(0, 1), (7, 8)])),
                 size=(24, 32)) -> Path:
    """ShanghaiTech: training/videos/SS_NNN.avi, testing/frames/SS_NNNN/000.jpg.. (0-based),
    testing/test_frame_mask/SS_NNNN.npy (uint8, index = frame position; test ranges here are
    0-based inclusive), one test_pixel_mask file, and junk. Scene 13 has no test video."""
    rng = np.random.default_rng(2)
    h, w = size
    for v, (name, n) in enumerate(train):
        _video(root / "training" / "videos" / f"{name}.avi", n, size, seed=200 + v)
    masks = root / "testing" / "test_frame_mask"
    masks.mkdir(parents=True)
    for name, n, ranges in test:
        folder = root / "testing" / "frames" / name
        folder.mkdir(parents=True)
        for i in range(n):
            cv2.imwrite(str(folder / f"{i:03d}.jpg"), rng.integers(0, 255, (h, w, 3), np.uint8))
        np.save(masks / f"{name}.npy", _ranges(n, ranges, base=0))
        (folder / ".DS_Store").write_bytes(b"junk")
    pixel = root / "testing" / "test_pixel_mask"
    pixel.mkdir()
    np.save(pixel / f"{test[0][0]}.npy", np.zeros((test[0][1], 2, 2), np.uint8))
    (masks / f"._{test[0][0]}.npy").write_bytes(b"junk")
    (root / "training" / "videos" / ".DS_Store").write_bytes(b"junk")
    return root


UCF_ANNOTATION = (  # released quirks: double spaces, trailing spaces, a tab
    "Abuse028_x264.mp4  Abuse  3  6  -1  -1 \n"
    "Arrest001_x264.mp4\tArrest 1 2 8 12\n"
    "Normal_Videos_003_x264.mp4  Normal  -1  -1  -1  -1  \n"
)


def ucf_crime(root: Path, size=(24, 32)) -> Path:
    """UCF-Crime as shipped in parts: Anomaly-Videos-Part-1/<Class>/*.mp4,
    Training-Normal-Videos-Part-1/Normal_VideosNNN_x264.mp4 (the train list calls that folder
    Training_Normal_Videos_Anomaly), Testing_Normal_Videos_Anomaly/, the split lists under
    UCF_Crimes-Train-Test-Split/Anomaly_Detection_splits/, the temporal annotation file and
    junk. Test videos: Abuse028 (10 frames, 3..6), Arrest001 (9 frames, 1..2 and 8..12, the
    second clipped to 8..9), Normal_Videos_003 (8 frames)."""
    part = root / "Anomaly-Videos-Part-1"
    normals = root / "Training-Normal-Videos-Part-1"
    files = {part / "Abuse" / "Abuse001_x264.mp4": 8, part / "Abuse" / "Abuse028_x264.mp4": 10,
             part / "Arrest" / "Arrest001_x264.mp4": 9,
             normals / "Normal_Videos001_x264.mp4": 8, normals / "Normal_Videos002_x264.mp4": 9,
             root / "Testing_Normal_Videos_Anomaly" / "Normal_Videos_003_x264.mp4": 8}
    for i, (path, n) in enumerate(files.items()):
        _mp4(path, n, size, seed=300 + i)
    splits = root / "UCF_Crimes-Train-Test-Split" / "Anomaly_Detection_splits"
    splits.mkdir(parents=True)
    (splits / "Anomaly_Train.txt").write_text(
        "Abuse/Abuse001_x264.mp4\nTraining_Normal_Videos_Anomaly/Normal_Videos001_x264.mp4\n"
        "Training_Normal_Videos_Anomaly/Normal_Videos002_x264.mp4\n")
    (splits / "Anomaly_Test.txt").write_text(
        "Abuse/Abuse028_x264.mp4\nArrest/Arrest001_x264.mp4\nNormal_Videos_003_x264.mp4\n")
    (root / "Temporal_Anomaly_Annotation_for_Testing_Videos.txt").write_text(UCF_ANNOTATION)
    (root / ".DS_Store").write_bytes(b"junk")
    (part / "Abuse" / "._Abuse028_x264.mp4").write_bytes(b"junk")
    return root


def _urfall_rows(name: str, labels: dict[int, int]) -> list[str]:
    feats = ",".join(["0.5"] * 8)
    return [f"{name},{f},{lab},{feats}" for f, lab in labels.items()]


def urfall(root: Path, size=(24, 32)) -> Path:
    """UR Fall, cam0 RGB: fall-01 zipped (10 frames; -1 x4, 0 x3, 1 x3), fall-02 unpacked (9
    frames, CSV rows for 1..8 only), adl-01 zipped inside a folder member (8 frames), adl-02
    unpacked (8 frames, rows from frame 3 with frame 5 missing); headerless 11-column CSVs in
    shuffled row order (the join must use frame numbers); ignored streams and junk."""
    import zipfile

    rng = np.random.default_rng(4)
    h, w = size
    root.mkdir(parents=True, exist_ok=True)

    def png(i: int) -> bytes:
        return cv2.imencode(".png", rng.integers(0, 255, (h, w, 3), np.uint8))[1].tobytes()

    for name, n, prefix in (("fall-01", 10, ""), ("adl-01", 8, "adl-01-cam0-rgb/")):
        with zipfile.ZipFile(root / f"{name}-cam0-rgb.zip", "w") as zf:
            for i in range(1, n + 1):
                zf.writestr(f"{prefix}{name}-cam0-rgb-{i:03d}.png", png(i))
    for name, n in (("fall-02", 9), ("adl-02", 8)):
        folder = root / f"{name}-cam0-rgb"
        folder.mkdir()
        for i in range(1, n + 1):
            (folder / f"{name}-cam0-rgb-{i:03d}.png").write_bytes(png(i))
        (folder / ".DS_Store").write_bytes(b"junk")
    falls = (_urfall_rows("fall-01", dict(enumerate([-1] * 4 + [0] * 3 + [1] * 3, 1)))
             + _urfall_rows("fall-02", dict(enumerate([-1] * 5 + [0] * 2 + [1], 1))))
    adls = (_urfall_rows("adl-01", dict(enumerate([-1] * 8, 1)))
            + _urfall_rows("adl-02", {3: -1, 4: 1, 6: 1, 7: -1, 8: -1}))
    for name, rows in (("falls", falls), ("adls", adls)):
        order = np.random.default_rng(5).permutation(len(rows))
        (root / f"urfall-cam0-{name}.csv").write_text("\n".join(rows[i] for i in order) + "\n")
    (root / "fall-01-cam0-d.zip").write_bytes(b"depth, not read")
    (root / "fall-01-acc.csv").write_text("1,2,3\n")
    (root / "._fall-01-cam0-rgb.zip").write_bytes(b"junk")
    return root
