"""UCSD v1p2 (tif + .m) adapter: round trip, the stale .m~ trap, malformed variants."""

import shutil

import pytest

from fsad import FsadError
from fsad.data.adapters import load_videos
from fsad.data.adapters.ucsd import parse_m_file
from fsad.data.store import write_store
from tests.helpers.layouts import ucsd
from tests.helpers.real_data import PED2, needs


@pytest.fixture
def tree(tmp_path):
    return ucsd(tmp_path)


def test_round_trip_ignores_junk_masks_and_backup(tree, tmp_path):
    videos = load_videos("ucsd", tree)
    assert [v.id for v in videos] == ["train/Train001", "train/Train002", "test/Test001",
                                      "test/Test002"]
    t1, t2 = videos[2], videos[3]
    assert t1.labels.tolist() == [0, 0] + [1] * 8
    assert t2.labels.tolist() == [1, 1, 0, 0, 0, 0, 0, 1, 1]
    assert t1.scene == "UCSDped2"
    out = write_store(videos, tmp_path / "u.h5", 16, 16, 1)
    assert out.is_file()


@needs(PED2 / "UCSDped2.m")
def test_real_ped2_label_file_matches_the_reference():
    m = PED2 / "UCSDped2.m"
    ranges = [tuple(iv[:, 0]) for iv in parse_m_file(m)]
    assert ranges[5] == (1, 159)  # not the stale backup's 1:162
    assert len(ranges) == 12


def test_missing_label_file(tree):
    (tree / "Test/UCSDped2.m").unlink()
    with pytest.raises(FsadError, match=r"UCSDped2.m: label file missing .*stale"):
        load_videos("ucsd", tree)


def test_label_count_mismatch(tree):
    shutil.rmtree(tree / "Test/Test002")
    with pytest.raises(FsadError, match="labels for 2 test clips but .* holds 1"):
        load_videos("ucsd", tree)


def test_range_past_the_clip(tree):
    (tree / "Test/UCSDped2.m").write_text(
        "TestVideoFile{end+1}.gt_frame = [3:10];\nTestVideoFile{end+1}.gt_frame = [5:20];\n")
    with pytest.raises(FsadError, match=r"Test002.*\[5, 20\] outside"):
        load_videos("ucsd", tree)


def test_unparseable_line(tree):
    (tree / "Test/UCSDped2.m").write_text("TestVideoFile{end+1}.gt_frame = [3 to 10];\n")
    with pytest.raises(FsadError, match="not a range"):
        load_videos("ucsd", tree)


def test_corrupt_tif(tree, tmp_path):
    (tree / "Train/Train002/003.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(FsadError, match="003.tif: OpenCV cannot read"):
        write_store(load_videos("ucsd", tree), tmp_path / "o.h5", 16, 16, 1)
    assert not (tmp_path / "o.h5").exists()
