"""The synthetic benchmark: determinism, layout, adapter round trip, malformed trees."""

import shutil

import h5py
import numpy as np
import pytest

from fsad import FsadError
from fsad.data.adapters import load_videos
from fsad.data.store import FrameStore, write_store
from fsad.data.synth import ANOMALY_KINDS, generate
from tests.conftest import TINY


def test_layout_and_labels(tiny_synth):
    assert (tiny_synth / "meta.json").is_file()
    videos = load_videos("synthetic", tiny_synth)
    assert {v.scene for v in videos} == {"s00", "s01", "s02"}
    train = [v for v in videos if v.split == "train"]
    test = [v for v in videos if v.split == "test"]
    assert len(train) == len(test) == 3
    assert all(v.labels is None for v in train)
    for v in test:
        assert len(v.labels) == TINY["frames"]
        assert 0 < v.labels.sum() < len(v.labels)  # both normal and anomalous frames


def test_deterministic(tmp_path, tiny_synth):
    again = generate(tmp_path / "again", **TINY)
    for f in sorted(tiny_synth.rglob("*.*")):
        assert f.read_bytes() == (again / f.relative_to(tiny_synth)).read_bytes(), f


def test_every_anomaly_kind_occurs(tmp_path):
    root = generate(tmp_path / "s", scenes=3, train_videos=1, test_videos=2, frames=60,
                    height=32, width=32, seed=1)
    kinds = set()
    for csv in root.glob("*/testing/*.csv"):
        kinds |= {line.split(",")[2] for line in csv.read_text().split()[1:]}
    assert set(ANOMALY_KINDS) <= kinds


def test_scene_specific_normal_motion(tiny_synth):
    import json

    scenes = json.loads((tiny_synth / "meta.json").read_text())["scenes"]
    directions = [s["params"]["direction_deg"] for s in scenes.values()]
    speeds = [s["params"]["speed"] for s in scenes.values()]
    assert len(set(np.round(directions))) == len(directions)
    assert len(set(np.round(speeds, 3))) == len(speeds)


def test_store_round_trip(tiny_synth, tiny_store):
    store = FrameStore(tiny_store)
    assert (store.height, store.width, store.channels) == (32, 32, 1)
    assert store.scenes() == ["s00", "s01", "s02"]
    for v in store.select(None, "test"):
        assert store.frames(v.id).shape == (TINY["frames"], 32, 32, 1)
        assert store.labels(v.id).shape == (TINY["frames"],)
    with h5py.File(tiny_store, "r") as h5:
        # Whole frames per chunk, about 64 KiB: 64 frames of 32x32 gray.
        assert h5["videos/s00/train/01/frames"].chunks == (64, 32, 32, 1)


def test_extraction_resizes_and_converts(tiny_synth, tmp_path):
    out = write_store(load_videos("synthetic", tiny_synth), tmp_path / "rgb.h5", 24, 20, 3)
    store = FrameStore(out)
    v = store.videos[0]
    assert store.frames(v.id).shape[1:] == (24, 20, 3)


@pytest.fixture
def broken(tiny_synth, tmp_path):
    root = tmp_path / "broken"
    shutil.copytree(tiny_synth, root)
    return root


def test_missing_label_file(broken):
    (broken / "s01/testing/01.csv").unlink()
    with pytest.raises(FsadError, match="s01/testing/01.csv: label file missing"):
        load_videos("synthetic", broken)


def test_label_length_mismatch_leaves_no_output(broken, tmp_path):
    csv = broken / "s00/testing/01.csv"
    csv.write_text("\n".join(csv.read_text().splitlines()[:-5]) + "\n")
    out = tmp_path / "out.h5"
    with pytest.raises(FsadError, match="35 labels for 40 decoded frames"):
        write_store(load_videos("synthetic", broken), out, 32, 32, 1)
    assert list(tmp_path.glob("*.h5")) == [] and list(tmp_path.glob(".out.h5*")) == []


def test_truncated_video(broken, tmp_path):
    video = broken / "s02/training/01.avi"
    video.write_bytes(video.read_bytes()[:200])
    with pytest.raises(FsadError, match="s02/training/01.avi"):
        write_store(load_videos("synthetic", broken), tmp_path / "out.h5", 32, 32, 1)
    assert not (tmp_path / "out.h5").exists()


def test_junk_ignored_unexpected_file_refused(broken):
    (broken / "s00/training/.DS_Store").write_bytes(b"junk")
    (broken / "s00/training/._01.avi").write_bytes(b"junk")
    assert len(load_videos("synthetic", broken)) == 6
    (broken / "s00/training/notes.txt").write_text("?")
    with pytest.raises(FsadError, match="notes.txt: unexpected file"):
        load_videos("synthetic", broken)


def test_missing_root_and_meta(tmp_path):
    with pytest.raises(FsadError, match="dataset root not found"):
        load_videos("synthetic", tmp_path / "nope")
    with pytest.raises(FsadError, match="meta.json: missing"):
        load_videos("synthetic", tmp_path)
