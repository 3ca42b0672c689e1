"""The "frames + .mat" adapter on a tiny tree, its malformed variants, and real Ped2."""


import numpy as np
import pytest

from fsad import FsadError
from fsad.data.adapters import load_videos
from fsad.data.store import FrameStore, write_store
from tests.helpers.layouts import frames_mat
from tests.helpers.real_data import PED2, needs


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


@pytest.mark.parametrize("channels", [1, 3])
def test_mixed_resolutions(tree, tmp_path, channels):
    import cv2

    cv2.imwrite(str(tree / "training/frames/02/003.jpg"), np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(FsadError, match="003.jpg: frame size 10x10 differs"):
        write_store(load_videos("frames", tree), tmp_path / "o.h5", 16, 16, channels)


@pytest.mark.parametrize("size", [(12, 20), (40, 48)])  # smaller and larger than the frames
@pytest.mark.parametrize("channels", [1, 3])
def test_the_store_holds_the_reference_conversion(tmp_path, size, channels):
    # Image folders take the fast path (converted in the decoding threads, RGB decoded
    # directly, resize before the colour swap): the stored pixels must be exactly those of
    # the plain recipe, BGR decode, colour conversion, then area resize.
    import cv2

    from fsad.data.adapters.frames import frame_files

    rng = np.random.default_rng(1)
    root = frames_mat(tmp_path / "t")
    for f in frame_files(root / "training/frames/01"):  # colour content, PNG so lossless
        f.unlink()
        cv2.imwrite(str(f.with_suffix(".png")), rng.integers(0, 256, (24, 32, 3), np.uint8))
    video = next(v for v in load_videos("frames", root) if v.id == "train/01")
    h, w = size
    store = FrameStore(write_store([video], tmp_path / "o.h5", h, w, channels))
    code = cv2.COLOR_BGR2GRAY if channels == 1 else cv2.COLOR_BGR2RGB
    expected = [cv2.resize(cv2.cvtColor(cv2.imread(str(f)), code), (w, h),
                           interpolation=cv2.INTER_AREA).reshape(h, w, channels)
                for f in frame_files(root / "training/frames/01")]
    assert np.array_equal(store.frames("train/01"), np.stack(expected))


@needs(PED2)
def test_real_ped2_counts():
    videos = load_videos("frames", PED2)
    train = [v for v in videos if v.split == "train"]
    test = [v for v in videos if v.split == "test"]
    assert len(train) == 16 and len(test) == 12
    assert sum(len(v.labels) for v in test) == 2010
    assert sum(int(v.labels.sum()) for v in test) == 1648
