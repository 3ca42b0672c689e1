"""ShanghaiTech (train avi, test jpg folders + frame-mask npy): round trip, scenes, traps."""

import numpy as np
import pytest

from fsad import FsadError
from fsad.data.adapters import load_videos
from fsad.data.store import FrameStore, write_store
from tests.helpers.layouts import shanghaitech


@pytest.fixture
def tree(tmp_path):
    return shanghaitech(tmp_path / "shanghaitech")


def _fails(tree, tmp_path, match):
    """The error must be a clear FsadError and no store (final or temporary) may remain."""
    out = tmp_path / "out" / "shanghaitech.h5"
    with pytest.raises(FsadError, match=match):
        write_store(load_videos("shanghaitech", tree), out, 16, 16, 1)
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_round_trip_scenes_from_the_prefix(tree, tmp_path):
    videos = load_videos("shanghaitech", tree)
    assert [(v.id, v.scene) for v in videos] == [
        ("train/01_001", "01"), ("train/01_002", "01"), ("train/13_001", "13"),
        ("test/01_0014", "01"), ("test/02_0128", "02")]
    assert videos[3].labels.tolist() == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0]
    assert videos[4].labels.tolist() == [1, 1, 0, 0, 0, 0, 0, 1, 1]
    assert videos[3].labels.dtype == np.uint8
    store = FrameStore(write_store(videos, tmp_path / "s.h5", 16, 16, 1))
    assert store.scenes("train") == ["01", "13"]
    assert store.scenes("test") == ["01", "02"]  # scene 13 has no test videos
    assert store.frames("train/01_002").shape == (9, 16, 16, 1)
    assert store.frames("test/02_0128").shape == (9, 16, 16, 1)


def test_frames_sort_numerically_whatever_the_width(tree):
    folder = tree / "testing/frames/01_0014"
    before = list(next(v for v in load_videos("shanghaitech", tree)
                       if v.id == "test/01_0014").frames())
    for f in sorted(folder.glob("*.jpg")):
        if int(f.stem) % 2 == 0:  # 0.jpg 001.jpg 2.jpg 003.jpg ..: "003" sorts before "2"
            f.rename(folder / f"{int(f.stem)}.jpg")
    after = list(next(v for v in load_videos("shanghaitech", tree)
                      if v.id == "test/01_0014").frames())
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))


def test_missing_frame_mask(tree, tmp_path):
    (tree / "testing/test_frame_mask/02_0128.npy").unlink()
    _fails(tree, tmp_path, "02_0128.npy: label file missing for test video")


def test_mask_length_differs_from_frame_count(tree, tmp_path):
    (tree / "testing/frames/01_0014/009.jpg").unlink()
    _fails(tree, tmp_path, "01_0014.npy: 10 labels for 9 frame files")


def test_pickled_mask_is_refused(tree, tmp_path):
    mask = tree / "testing/test_frame_mask/01_0014.npy"
    np.save(mask, np.array([{"a": 1}] * 10, dtype=object), allow_pickle=True)
    _fails(tree, tmp_path, "01_0014.npy: not a readable numeric .npy")


class _Payload:
    """Unpickling this runs code: it creates ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def test_malicious_pickled_mask_is_refused_without_running(tree, tmp_path):
    marker = tmp_path / "PWNED"
    mask = tree / "testing/test_frame_mask/01_0014.npy"
    np.save(mask, np.array([_Payload(marker)] * 10, dtype=object), allow_pickle=True)
    _fails(tree, tmp_path, "01_0014.npy: not a readable numeric .npy")
    assert not marker.exists()


def test_mask_with_other_values(tree, tmp_path):
    np.save(tree / "testing/test_frame_mask/01_0014.npy", np.full(10, 255, np.uint8))
    _fails(tree, tmp_path, "01_0014.npy: values other than 0 and 1")


def test_corrupt_test_frame(tree, tmp_path):
    (tree / "testing/frames/02_0128/004.jpg").write_bytes(b"not a jpeg")
    _fails(tree, tmp_path, "004.jpg: OpenCV cannot read")


def test_truncated_training_video(tree, tmp_path):
    (tree / "training/videos/01_002.avi").write_bytes(b"RIFF")
    _fails(tree, tmp_path, "01_002.avi: OpenCV cannot open")


def test_unexpected_entries(tree, tmp_path):
    (tree / "training/videos/01_003.mp4").write_bytes(b"x")
    _fails(tree, tmp_path, "01_003.mp4: unexpected entry")
    (tree / "training/videos/01_003.mp4").unlink()
    np.save(tree / "testing/test_frame_mask/05_0001.npy", np.zeros(3, np.uint8))
    _fails(tree, tmp_path, "05_0001.npy: unexpected entry")


def test_missing_training_videos(tree, tmp_path):
    (tree / "training/videos").rename(tree / "training/frames")
    _fails(tree, tmp_path, "training/videos: missing")
