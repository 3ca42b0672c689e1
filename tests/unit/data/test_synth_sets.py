"""Named scene sets: disjoint scenes from independent streams, the one-set form unchanged."""

import json

import pytest

from fsad import FsadError
from fsad import config as cfgmod
from fsad.data.adapters import load_videos
from fsad.data.synth import generate, plan, scene_names
from tests.conftest import TINY

SETS = {"src": {"scenes": 3, "train_videos": 1, "test_videos": 0, "frames": 12},
        "tgt": {"scenes": 2, "train_videos": 1, "test_videos": 2, "frames": 40}}


@pytest.fixture(scope="module")
def sets_root(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("sets") / "synthetic", height=32, width=32,
                    seed=0, sets=SETS)


def test_sets_name_their_scenes_and_hold_their_own_videos(sets_root):
    videos = load_videos("synthetic", sets_root)
    assert sorted({v.scene for v in videos}) == ["src00", "src01", "src02", "tgt00", "tgt01"]
    src = [v for v in videos if v.scene.startswith("src")]
    assert [v.split for v in src] == ["train"] * 3  # no test videos in source scenes
    tgt_test = [v for v in videos if v.scene.startswith("tgt") and v.split == "test"]
    assert len(tgt_test) == 4 and all(len(v.labels) == 40 for v in tgt_test)
    assert all(0 < v.labels.sum() < 40 for v in tgt_test)


def test_a_set_draws_the_same_scenes_whatever_other_sets_exist(sets_root, tmp_path):
    alone = generate(tmp_path / "alone", height=32, width=32, seed=0,
                     sets={"tgt": SETS["tgt"]})
    for f in sorted((sets_root / "tgt00").rglob("*.*")):
        assert f.read_bytes() == (alone / f.relative_to(sets_root)).read_bytes(), f
    params = json.loads((sets_root / "meta.json").read_text())["scenes"]
    assert params["src00"]["params"] != params["tgt00"]["params"]  # another stream


def test_one_set_keeps_its_names_and_streams():
    plans = plan({**TINY, "sets": None})
    assert [p.name for p in plans] == ["s00", "s01", "s02"]
    assert [p.stream for p in plans] == [(0, 0), (0, 1), (0, 2)]
    assert scene_names({"seed": 0, "sets": {"val": {"scenes": 120, "train_videos": 1,
                                                    "test_videos": 1, "frames": 40}}})[-1] \
        == "val119"


def test_sets_and_one_set_keys_together_are_refused():
    with pytest.raises(FsadError, match=r"synth.sets replaces synth.scenes"):
        cfgmod.load(overrides={"synth": {"scenes": 4, "sets": SETS}})


def test_scene_patterns_select_a_set(sets_root, tmp_path):
    from fsad.data.store import FrameStore, write_store

    store = FrameStore(write_store(load_videos("synthetic", sets_root), tmp_path / "f.h5",
                                   32, 32, 1))
    assert {v.scene for v in store.select(["src*"], "train")} == {"src00", "src01", "src02"}
    with pytest.raises(FsadError, match="no scene val"):
        store.select(["val*"], "train")


def test_a_pattern_matching_no_scene_is_refused_at_parse_time():
    cfg = cfgmod.load(overrides={
        "synth": {"sets": SETS},
        "sources": {"synthetic": {"dataset": "synthetic", "scenes": ["src*"]}},
        "validation": {"dataset": "synthetic", "scenes": ["val*"]},
        "targets": {"t": {"dataset": "synthetic", "scenes": ["tgt00"]}}})
    with pytest.raises(FsadError, match=r"validation.scenes names scene 'val\*'"):
        cfgmod.check_scenes(cfg, generated=["synthetic"])
    cfg["validation"]["scenes"] = ["tgt01"]
    cfgmod.check_scenes(cfg, generated=["synthetic"])
