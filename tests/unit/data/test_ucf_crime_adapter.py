"""UCF-Crime (class folders of mp4, split list, temporal annotation): round trip, scene rules,
the -1 convention, clipping, and malformed variants."""

import shutil

import pytest

from fsad import FsadError
from fsad.data.adapters import load_videos
from fsad.data.store import FrameStore, write_store
from tests.helpers.layouts import UCF_ANNOTATION, ucf_crime

ANNOTATION = "Temporal_Anomaly_Annotation_for_Testing_Videos.txt"


@pytest.fixture
def tree(tmp_path):
    return ucf_crime(tmp_path / "ucf")


def _fails(tree, tmp_path, match, **opts):
    """The error must be a clear FsadError and no store (final or temporary) may remain."""
    out = tmp_path / "out" / "ucf.h5"
    with pytest.raises(FsadError, match=match):
        write_store(load_videos("ucf_crime", tree, **opts), out, 16, 16, 1)
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_round_trip(tree, tmp_path):
    videos = load_videos("ucf_crime", tree)
    # Anomalous training videos (Abuse001) have video-level labels only: not read.
    assert [v.id for v in videos] == [
        "train/Normal_Videos001_x264", "train/Normal_Videos002_x264", "test/Abuse028_x264",
        "test/Arrest001_x264", "test/Normal_Videos_003_x264"]
    labels = {v.id: v.labels.tolist() for v in videos if v.split == "test"}
    assert labels["test/Abuse028_x264"] == [0, 0, 1, 1, 1, 1, 0, 0, 0, 0]  # 3..6, 1-based
    assert labels["test/Arrest001_x264"] == [1, 1, 0, 0, 0, 0, 0, 1, 1]  # 8..12 clipped to 9
    assert labels["test/Normal_Videos_003_x264"] == [0] * 8  # -1 -1 -1 -1
    assert [v.scene for v in videos] == [v.source.stem for v in videos]  # per_video
    store = FrameStore(write_store(videos, tmp_path / "u.h5", 16, 16, 1))
    assert store.frames("train/Normal_Videos002_x264").shape == (9, 16, 16, 1)
    assert store.labels("test/Arrest001_x264").sum() == 4


def test_scene_rules(tree):
    by_class = load_videos("ucf_crime", tree, scene_rule="per_class")
    assert [v.scene for v in by_class] == ["Normal", "Normal", "Abuse", "Arrest", "Normal"]
    grouped = load_videos("ucf_crime", tree, scene_rule="groups", scene_groups=2)
    assert [v.scene for v in grouped] == ["g00", "g01", "g00", "g01", "g00"]
    with pytest.raises(FsadError, match="scene_groups is required"):
        load_videos("ucf_crime", tree, scene_rule="groups")
    with pytest.raises(FsadError, match="scene_rule must be one of"):
        load_videos("ucf_crime", tree, scene_rule="per_camera")


def test_missing_annotation_file(tree, tmp_path):
    (tree / ANNOTATION).unlink()
    _fails(tree, tmp_path, f"expected exactly one {ANNOTATION} or "
           r"Temporal_Anomaly_Annotation.txt \(found: none\)")


def test_missing_train_list(tree, tmp_path):
    next(tree.rglob("Anomaly_Train.txt")).unlink()
    _fails(tree, tmp_path, r"expected exactly one Anomaly_Train.txt \(found: none\)")


def test_two_annotation_copies_need_a_choice(tree):
    shutil.copy(tree / ANNOTATION, tree / "Temporal_Anomaly_Annotation.txt")
    with pytest.raises(FsadError, match="choose one with the 'annotation_file' option"):
        load_videos("ucf_crime", tree)
    assert len(load_videos("ucf_crime", tree, annotation_file=ANNOTATION)) == 5


def test_truncated_annotation_file(tree, tmp_path):
    (tree / ANNOTATION).write_text("".join(UCF_ANNOTATION.splitlines(True)[:2]))
    _fails(tree, tmp_path, f"{ANNOTATION}: no annotation for Normal_Videos_003_x264.mp4 "
           r"\(listed in .*Anomaly_Test.txt\)")


def test_interval_starts_after_the_video(tree, tmp_path):
    (tree / ANNOTATION).write_text(UCF_ANNOTATION.replace("Abuse  3  6", "Abuse  11  14"))
    _fails(tree, tmp_path, r"Abuse028_x264.mp4\): interval \[11, 14\] starts after the last "
           r"frame \(10\)")


def test_half_absent_interval(tree, tmp_path):
    (tree / ANNOTATION).write_text(UCF_ANNOTATION.replace("Abuse  3  6", "Abuse  3  -1"))
    _fails(tree, tmp_path, rf"{ANNOTATION}:1: interval \[3, -1\] is neither -1 -1")


def test_malformed_annotation_line(tree, tmp_path):
    (tree / ANNOTATION).write_text(UCF_ANNOTATION.replace("  -1  -1 \n", "\n", 1))
    _fails(tree, tmp_path, f"{ANNOTATION}:1: 'Abuse028_x264.mp4  Abuse  3  6' is not")


def test_normal_video_with_an_interval(tree, tmp_path):
    (tree / ANNOTATION).write_text(UCF_ANNOTATION.replace("Normal  -1  -1", "Normal  2  3"))
    _fails(tree, tmp_path, f"{ANNOTATION}:3: Normal_Videos_003_x264.mp4 of class Normal")


def test_truncated_test_video(tree, tmp_path):
    video = tree / "Anomaly-Videos-Part-1/Abuse/Abuse028_x264.mp4"
    video.write_bytes(video.read_bytes()[:300])  # the moov atom is at the end: unopenable
    _fails(tree, tmp_path, "Abuse028_x264.mp4: OpenCV cannot open")


def test_unreadable_training_video(tree, tmp_path):
    (tree / "Training-Normal-Videos-Part-1/Normal_Videos002_x264.mp4").write_bytes(b"\0" * 64)
    _fails(tree, tmp_path, "Normal_Videos002_x264.mp4: OpenCV cannot open")


def test_listed_video_missing(tree, tmp_path):
    (tree / "Testing_Normal_Videos_Anomaly/Normal_Videos_003_x264.mp4").unlink()
    _fails(tree, tmp_path, f"{ANNOTATION}: Normal_Videos_003_x264.mp4 is listed but no such")


def test_unlisted_and_duplicate_videos(tree, tmp_path):
    extra = tree / "Anomaly-Videos-Part-1/Abuse/Abuse002_x264.mp4"
    shutil.copy(tree / "Anomaly-Videos-Part-1/Abuse/Abuse001_x264.mp4", extra)
    _fails(tree, tmp_path, "Abuse002_x264.mp4: in neither Anomaly_Train.txt nor")
    (tree / "Normal_Videos_event").mkdir()
    extra.rename(tree / "Normal_Videos_event" / extra.name)
    assert len(load_videos("ucf_crime", tree)) == 5  # extra normals that no split uses
    shutil.copy(tree / "Anomaly-Videos-Part-1/Abuse/Abuse028_x264.mp4", tree)
    _fails(tree, tmp_path, "Abuse028_x264.mp4: duplicate video name")


def test_unexpected_file(tree, tmp_path):
    (tree / "Anomaly-Videos-Part-1/Abuse/Abuse028_x264.avi").write_bytes(b"x")
    _fails(tree, tmp_path, "Abuse028_x264.avi: unexpected file")
