"""CUHK Avenue (avi + N_label.mat masks, or the avenue.mat intervals): round trip and traps."""

import h5py
import numpy as np
import pytest
from scipy.io import savemat

from fsad import FsadError
from fsad.data.adapters import load_videos
from fsad.data.adapters.avenue import read_mask_labels
from fsad.data.store import FrameStore, write_store
from tests.helpers.layouts import avenue


@pytest.fixture
def tree(tmp_path):
    return avenue(tmp_path / "avenue")


def _fails(tree, tmp_path, match, **opts):
    """Extraction must stop with a clear FsadError and leave no store (final or temporary)."""
    out = tmp_path / "out" / "avenue.h5"
    with pytest.raises(FsadError, match=match):
        write_store(load_videos("avenue", tree, **opts), out, 16, 16, 1)
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_round_trip_with_mask_labels(tree, tmp_path):
    videos = load_videos("avenue", tree)
    assert [v.id for v in videos] == ["train/01", "train/02", "test/01", "test/02"]
    assert {v.scene for v in videos} == {"avenue"}
    t1, t2 = videos[2], videos[3]
    assert t1.labels.tolist() == [0, 0, 1, 1, 1, 1, 0, 0, 0, 0]
    assert t2.labels.tolist() == [1] * 9  # all anomalous, as Avenue 08 and 18
    assert t1.label_source.name == "1_label.mat"  # the label variant is recorded
    store = FrameStore(write_store(videos, tmp_path / "a.h5", 16, 16, 1))
    assert store.frames("train/02").shape == (9, 16, 16, 1)
    assert store.labels("test/01").tolist() == t1.labels.tolist()
    with h5py.File(store.path) as h5:
        assert h5["videos/test/01"].attrs["label_source"].endswith("1_label.mat")


def test_interval_labels_option(tree, tmp_path):
    videos = load_videos("avenue", tree, labels="intervals")
    test = [v for v in videos if v.split == "test"]
    assert test[0].labels.tolist() == [0, 0, 1, 1, 1, 1, 1, 0, 0, 0]
    assert test[1].labels.tolist() == [0, 1, 1, 1, 0, 0, 0, 0, 0]
    assert {v.label_source.name for v in test} == {"avenue.mat"}
    write_store(videos, tmp_path / "a.h5", 16, 16, 1)


def test_mask_values_of_one_count(tmp_path):
    """Masks hold {0, 1}: a reader that divided by 255 would see no anomaly at all."""
    cells = np.empty((1, 2), dtype=object)
    cells[0, 0] = np.zeros((4, 4), np.uint8)
    cells[0, 1] = np.eye(4, dtype=np.uint8)
    savemat(tmp_path / "1_label.mat", {"volLabel": cells})
    assert read_mask_labels(tmp_path / "1_label.mat").tolist() == [0, 1]


def test_missing_mask_file(tree, tmp_path):
    (tree / "ground_truth_demo/testing_label_mask/2_label.mat").unlink()
    _fails(tree, tmp_path, "2_label.mat: label file missing")


def test_missing_interval_file(tree, tmp_path):
    (tree / "avenue.mat").unlink()
    _fails(tree, tmp_path, "avenue.mat: interval label file missing", labels="intervals")


def test_mask_count_differs_from_frame_count(tree, tmp_path):
    cells = np.empty((1, 7), dtype=object)
    for t in range(7):
        cells[0, t] = np.zeros((24, 32), np.uint8)
    savemat(tree / "ground_truth_demo/testing_label_mask/1_label.mat", {"volLabel": cells})
    _fails(tree, tmp_path, r"1_label.mat: 7 labels for 10 decoded frames of .*01\.avi")


def test_interval_past_the_video(tree, tmp_path):
    gt = np.empty((1, 2), dtype=object)
    gt[0, 0], gt[0, 1] = np.array([[3], [6]]), np.array([[5], [12]])
    savemat(tree / "avenue.mat", {"gt": gt})
    _fails(tree, tmp_path, r"avenue.mat \(video 02.avi\): interval \[5, 12\] outside",
           labels="intervals")


def test_truncated_test_video(tree, tmp_path):
    video = tree / "Avenue Dataset/testing_videos/02.avi"
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    # OpenCV stops decoding early without an error; the header's frame count gives it away.
    _fails(tree, tmp_path, r"02\.avi: truncated video: \d frames decode but its header "
                           "announces 9")


def test_unreadable_training_video(tree, tmp_path):
    (tree / "Avenue Dataset/training_videos/01.avi").write_bytes(b"RIFF garbage")
    _fails(tree, tmp_path, "01.avi: OpenCV cannot open")


def test_unreadable_mask_file(tree, tmp_path):
    (tree / "ground_truth_demo/testing_label_mask/1_label.mat").write_bytes(b"not a mat")
    _fails(tree, tmp_path, "1_label.mat: cannot read as a MATLAB v5")


def test_unexpected_file_and_missing_folder(tree, tmp_path):
    (tree / "Avenue Dataset/testing_videos/notes.txt").write_text("x")
    _fails(tree, tmp_path, "notes.txt: unexpected entry")
    (tree / "Avenue Dataset").rename(tree / "Avenue_Dataset")
    _fails(tree, tmp_path, "Avenue Dataset: missing.*with a space")


def test_mask_file_without_video(tree, tmp_path):
    savemat(tree / "ground_truth_demo/testing_label_mask/3_label.mat",
            {"volLabel": np.empty((1, 0), dtype=object)})
    _fails(tree, tmp_path, "3_label.mat: label file without a test video")


def test_unknown_label_variant(tree):
    with pytest.raises(FsadError, match="labels must be one of masks, intervals"):
        load_videos("avenue", tree, labels="both")


def test_truncated_interval_file(tree, tmp_path):
    (tree / "avenue.mat").write_bytes(b"MATLAB")
    _fails(tree, tmp_path, "avenue.mat: cannot read as a MATLAB v5", labels="intervals")
