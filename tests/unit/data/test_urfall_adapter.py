"""UR Fall (cam0 RGB zips or folders of png + headerless CSVs): round trip, the join on frame
numbers, the label mapping, unlabelled frames, and malformed variants."""

import shutil
import zipfile

import pytest

from fsad import FsadError
from fsad.data.adapters import load_videos
from fsad.data.store import FrameStore, write_store
from tests.helpers.layouts import urfall

FALLS = "urfall-cam0-falls.csv"
ADLS = "urfall-cam0-adls.csv"


@pytest.fixture
def tree(tmp_path):
    return urfall(tmp_path / "urfall")


def _fails(tree, tmp_path, match, **opts):
    """The error must be a clear FsadError and no store (final or temporary) may remain."""
    out = tmp_path / "out" / "urfall.h5"
    with pytest.raises(FsadError, match=match):
        write_store(load_videos("urfall", tree, **opts), out, 16, 16, 1)
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_round_trip_defaults(tree, tmp_path):
    videos = load_videos("urfall", tree)
    assert [v.id for v in videos] == ["train/adl-01", "train/adl-02", "test/fall-01",
                                      "test/fall-02"]
    assert {v.scene for v in videos} == {"urfall"}
    fall1, fall2 = videos[2], videos[3]
    # Rows are shuffled in the CSV: only a join on frame numbers gives this order.
    assert fall1.labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]  # labels 0 and 1 count
    assert fall2.labels.tolist() == [0, 0, 0, 0, 0, 1, 1, 1]  # frame 9 has no row: dropped
    assert fall1.label_source.name == FALLS
    store = FrameStore(write_store(videos, tmp_path / "f.h5", 16, 16, 1))
    assert store.frames("test/fall-02").shape == (8, 16, 16, 1)
    assert store.frames("train/adl-01").shape == (8, 16, 16, 1)  # zip with a folder member
    assert store.frames("train/adl-02").shape == (8, 16, 16, 1)  # training keeps all frames


def test_unlabelled_frames_choice(tree, tmp_path):
    kept = load_videos("urfall", tree, unlabelled="normal")
    assert kept[3].labels.tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 0]
    _fails(tree, tmp_path, f"{FALLS}: no row for fall-02 frame 9", unlabelled="error")


def test_label_mapping_and_split_options(tree, tmp_path):
    videos = load_videos("urfall", tree, train_adls=1)
    adl2 = next(v for v in videos if v.id == "test/adl-02")
    assert adl2.labels.tolist() == [0] * 8  # ADLs all normal by default, with or without rows
    videos = load_videos("urfall", tree, train_adls=1, adl_labels=[1], fall_labels=[1])
    adl2 = next(v for v in videos if v.id == "test/adl-02")
    assert adl2.labels.tolist() == [0, 1, 1, 0, 0]  # frames 3, 4, 6, 7, 8 have rows
    assert adl2.label_source.name == ADLS
    fall1 = next(v for v in videos if v.id == "test/fall-01")
    assert fall1.labels.tolist() == [0] * 7 + [1] * 3  # falling (0) no longer counts
    store = FrameStore(write_store(videos, tmp_path / "f.h5", 16, 16, 1))
    assert store.frames("test/adl-02").shape == (5, 16, 16, 1)
    with pytest.raises(FsadError, match="fall_labels may hold only -1, 0, 1"):
        load_videos("urfall", tree, fall_labels=[2])


def test_missing_label_file(tree, tmp_path):
    (tree / FALLS).unlink()
    _fails(tree, tmp_path, f"{FALLS}: label file missing")


def test_row_past_the_last_frame(tree, tmp_path):
    with (tree / FALLS).open("a") as fh:
        fh.write("fall-01,11,1," + ",".join(["0.5"] * 8) + "\n")
    _fails(tree, tmp_path, f"{FALLS}: fall-01 has a row for frame 11 but its video has 10 "
           "frames")


def test_rows_for_an_absent_sequence(tree, tmp_path):
    shutil.rmtree(tree / "adl-02-cam0-rgb")
    _fails(tree, tmp_path, f"{ADLS}: rows for adl-02, but no adl-02-cam0-rgb")


def test_csv_with_a_header(tree, tmp_path):
    text = (tree / ADLS).read_text()
    (tree / ADLS).write_text("sequence,frame,label," + ",".join("f" * 8) + "\n" + text)
    _fails(tree, tmp_path, f"{ADLS}:1: expected 'sequence,frame,label,...'.*no header")


def test_corrupt_png_in_folder(tree, tmp_path):
    (tree / "fall-02-cam0-rgb/fall-02-cam0-rgb-004.png").write_bytes(b"not a png")
    _fails(tree, tmp_path, "fall-02-cam0-rgb-004.png: OpenCV cannot read")


def test_corrupt_png_in_zip(tree, tmp_path):
    zpath = tree / "fall-01-cam0-rgb.zip"
    with zipfile.ZipFile(zpath) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["fall-01-cam0-rgb-005.png"] = b"not a png"
    with zipfile.ZipFile(zpath, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    _fails(tree, tmp_path, "fall-01-cam0-rgb.zip: fall-01-cam0-rgb-005.png is not a readable")


def test_truncated_zip(tree, tmp_path):
    zpath = tree / "adl-01-cam0-rgb.zip"
    zpath.write_bytes(zpath.read_bytes()[:200])
    _fails(tree, tmp_path, "adl-01-cam0-rgb.zip: not a readable zip archive")


def test_gap_in_frame_files(tree, tmp_path):
    (tree / "fall-02-cam0-rgb/fall-02-cam0-rgb-003.png").unlink()
    _fails(tree, tmp_path, r"fall-02-cam0-rgb: frame 3 is missing")


def test_zip_and_folder_both_present(tree, tmp_path):
    shutil.copytree(tree / "fall-02-cam0-rgb", tree / "fall-01-cam0-rgb")
    _fails(tree, tmp_path, "fall-01 is present both zipped and unpacked")


def test_unexpected_file_at_root(tree, tmp_path):
    (tree / "fall-01-cam0-rgb.tar").write_bytes(b"x")
    _fails(tree, tmp_path, "fall-01-cam0-rgb.tar: unexpected entry")
