"""The "frames + .mat" adapter on a tiny tree, its malformed variants, and real Ped2."""


import numpy as np
import pytest

from fsad import FsadError
from fsad.data.adapters import load_videos
from fsad.data.store import FrameStore, write_store
from tests.conftest import REPO
from tests.helpers.layouts import frames_mat

PED2 = REPO.parent / "shared" / "data" / "ped2"


@pytest.fixture
def tree(tmp_path):
    return frames_mat(tmp_path / "tiny")


def test_round_trip(tree, tmp_path):
    videos = load_videos("frames", tree)
    test = [v for v in videos if v.split == "test"]
    assert [v.id for v in test] == ["test/01", "test/02"]
    assert test[0].labels.tolist() == [0, 0, 1, 1, 1, 1, 0, 0, 0, 0]
    assert test[1].labels.tolist() == [1, 1, 0, 0, 0, 0, 0, 1, 1]
    store = FrameStore(write_store(videos, tmp_path / "t.h5", 16, 16, 1))
    assert store.scenes() == ["tiny"]
    assert store.frames("train/01").shape == (8, 16, 16, 1)


def test_wrong_number_of_label_cells(tree):
    import shutil

    shutil.rmtree(tree / "testing/frames/02")
    with pytest.raises(FsadError, match="labels for 2 test videos but .* holds 1"):
        load_videos("frames", tree)


def test_interval_past_the_end(tmp_path):
    root = frames_mat(tmp_path / "t", test=((5, [(3, 9)]),))
    with pytest.raises(FsadError, match=r"interval \[3, 9\] outside the video's frames 1..5"):
        load_videos("frames", root)


def test_missing_label_file(tree):
    (tree / "tiny.mat").unlink()
    with pytest.raises(FsadError, match="expected exactly one <name>.mat"):
        load_videos("frames", tree)


def test_unreadable_image_leaves_no_store(tree, tmp_path):
    (tree / "testing/frames/01/004.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(FsadError, match="004.jpg: OpenCV cannot read"):
        write_store(load_videos("frames", tree), tmp_path / "o.h5", 16, 16, 1)
    assert not (tmp_path / "o.h5").exists()


def test_mixed_resolutions(tree, tmp_path):
    import cv2

    cv2.imwrite(str(tree / "training/frames/02/003.jpg"), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(FsadError, match="003.jpg: frame size 10x10 differs"):
        write_store(load_videos("frames", tree), tmp_path / "o.h5", 16, 16, 1)


@pytest.mark.skipif(not PED2.is_dir(), reason="../shared/data/ped2 not present")
def test_real_ped2_counts():
    videos = load_videos("frames", PED2)
    train = [v for v in videos if v.split == "train"]
    test = [v for v in videos if v.split == "test"]
    assert len(train) == 16 and len(test) == 12
    assert sum(len(v.labels) for v in test) == 2010
    assert sum(int(v.labels.sum()) for v in test) == 1648
