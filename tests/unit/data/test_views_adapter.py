"""The views adapter: a folder of normal videos, each cut into fixed views (scenes) and
consecutive clips (training videos); its malformed variants; the real campus camera."""

from __future__ import annotations

import numpy as np
import pytest

from fsad import FsadError
from fsad.data.adapters import load_videos, scene_names
from fsad.data.store import FrameStore, write_store
from fsad.data.video import VideoWriter
from tests.helpers.real_data import VTEST, needs


def quadrant_video(path, frames=12, h=40, w=60):
    """Each quadrant a flat gray level of its own, rising by frame: views are tellable."""
    writer = VideoWriter(path, w, h)
    for t in range(frames):
        frame = np.zeros((h, w, 3), np.uint8)
        for i in range(2):
            for j in range(2):
                frame[i * h // 2:(i + 1) * h // 2, j * w // 2:(j + 1) * w // 2] = (
                    40 + 80 * i + 40 * j + 5 * t)
        writer.write(frame)
    writer.close()
    return path


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "cams"
    folder.mkdir()
    quadrant_video(folder / "campus.avi")
    quadrant_video(folder / "gate.avi", frames=9)
    (folder / ".DS_Store").write_text("junk")
    return folder


def test_views_are_scenes_and_clips_their_training_videos(root):
    videos = load_videos("views", root, clips=3)
    assert sorted({v.scene for v in videos}) == scene_names("views", root) == [
        "campus_r0c0", "campus_r0c1", "campus_r1c0", "campus_r1c1",
        "gate_r0c0", "gate_r0c1", "gate_r1c0", "gate_r1c1"]
    assert {v.split for v in videos} == {"train"} and all(v.labels is None for v in videos)
    clips = [v for v in videos if v.scene == "campus_r1c0"]
    assert [v.id for v in clips] == [f"train/campus_r1c0/{k:02d}" for k in range(3)]
    # 12 frames in 3 clips of 4; view (1, 0) is the bottom-left quadrant (level 120 + 5 t)
    second = np.stack(list(clips[1].frames()))
    assert second.shape == (4, 20, 30, 3)
    assert np.allclose(second.mean(axis=(1, 2, 3)), [120 + 5 * t for t in range(4, 8)], atol=3)
    # 9 frames in 3 clips of 3
    assert all(len(list(v.frames())) == 3 for v in videos if v.scene.startswith("gate"))


def test_a_grid_of_one_view_and_the_frame_store(root, tmp_path):
    videos = load_videos("views", root, grid=[1, 1], clips=1)
    assert [v.scene for v in videos] == ["campus_r0c0", "gate_r0c0"]
    store = FrameStore(write_store(videos, tmp_path / "v.h5", 16, 16, 1))
    assert store.scenes("train") == ["campus_r0c0", "gate_r0c0"]
    assert store.frames("train/campus_r0c0/00").shape == (12, 16, 16, 1)


@pytest.mark.parametrize("make, message", [
    (lambda r: (r / "notes.txt").write_text("x"), r"notes.txt: not a video file"),
    (lambda r: (r / "campus.avi").rename(r / "gate.mp4"), r"two videos named 'gate'"),
    (lambda r: [p.unlink() for p in r.glob("*.avi")], r"no video file"),
])
def test_malformed_folders_name_the_problem(root, make, message):
    make(root)
    with pytest.raises(FsadError, match=message):
        load_videos("views", root)


def test_options_are_checked(root):
    with pytest.raises(FsadError, match=r"grid must be \[rows, cols\]"):
        load_videos("views", root, grid=[2])
    with pytest.raises(FsadError, match=r"gate.avi: 9 frames cannot be cut into 5 clips"):
        load_videos("views", root, clips=5)


@needs(VTEST)
def test_the_real_campus_camera():
    videos = load_videos("views", VTEST.parent)
    assert len({v.scene for v in videos}) == 4 and len(videos) == 16
    first = next(iter(videos[-1].frames()))
    assert first.shape == (288, 384, 3)


def test_every_adapter_has_a_download_hint():
    from fsad.data.adapters import ADAPTERS, DOWNLOAD_HINTS

    assert set(DOWNLOAD_HINTS) == set(ADAPTERS)
