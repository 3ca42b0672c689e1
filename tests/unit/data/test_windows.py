import numpy as np
import pytest
import torch

from fsad import FsadError
from fsad.data.store import FrameStore
from fsad.data.windows import SceneTasks, WindowSet, sequential_windows


def test_window_counts_and_shapes(tiny_store):
    store = FrameStore(tiny_store)
    videos = store.select(["s00"], "train")
    ws = WindowSet(store, videos, t=3)
    assert len(ws) == 40 - 3
    x, y = ws.sample(5, torch.Generator().manual_seed(0))
    assert x.shape == (5, 3, 1, 32, 32) and y.shape == (5, 1, 32, 32)
    assert x.min() >= 0 and x.max() <= 1


def test_window_target_is_the_next_frame(tiny_store):
    store = FrameStore(tiny_store)
    v = store.select(["s01"], "train")[0]
    frames = store.frames(v.id)
    first, x, y = next(sequential_windows(frames, 3, 4))
    assert first == 3
    assert np.allclose(y[0, 0].numpy() * 255, frames[3, :, :, 0])
    assert np.allclose(x[0, 2, 0].numpy() * 255, frames[2, :, :, 0])


def test_tasks_are_one_scene_with_distinct_support_and_query(tiny_store):
    store = FrameStore(tiny_store)
    tasks = SceneTasks(store, ["s00", "s01"], t=3)
    batch = tasks.sample_tasks(3, 4, torch.Generator().manual_seed(0))
    assert len(batch) == 3
    for xs, ys, xq, yq in batch:
        assert xs.shape[0] == xq.shape[0] == 4
        for a in ys:
            assert not any(torch.equal(a, b) for b in yq)


def test_sampling_is_reproducible(tiny_store):
    store = FrameStore(tiny_store)
    ws = WindowSet(store, store.select(None, "train"), 3)
    a = ws.sample(4, torch.Generator().manual_seed(7))[1]
    b = ws.sample(4, torch.Generator().manual_seed(7))[1]
    assert torch.equal(a, b)


def test_the_frame_store_is_opened_read_only(tiny_store, tmp_path):
    import os
    import shutil

    copy = tmp_path / "frames.h5"
    shutil.copy(tiny_store, copy)
    os.chmod(copy, 0o444)
    store = FrameStore(copy)
    assert store._h5.mode == "r"
    video = store.select(["s00"], "train")[0]
    before = copy.read_bytes()
    store.frames(video.id)
    store.close()
    assert copy.read_bytes() == before


class _Indices(WindowSet):
    """A WindowSet whose windows are their own indices, to check which ones are drawn."""

    def gather(self, idx):
        t = torch.as_tensor(idx)
        return t, t


def test_disjoint_support_and_query_share_no_frame_and_take_either_side(tiny_store):
    store = FrameStore(tiny_store)
    ws = _Indices(store, store.select(["s00"], "train"), t=3)  # 37 windows
    gen = torch.Generator().manual_seed(0)
    support_first = 0
    for _ in range(200):
        xs, _, xq, _ = ws.sample_disjoint(5, gen)
        assert len(set(xs.tolist())) == len(set(xq.tolist())) == 5
        # windows s and q cover frames s..s+3 and q..q+3: disjoint when |s - q| > t
        assert all(abs(s - q) > 3 for s in xs.tolist() for q in xq.tolist())
        assert max(xs) < min(xq) or max(xq) < min(xs)  # one run on each side of the cut
        support_first += int(max(xs) < min(xq))
    assert 60 < support_first < 140


def test_disjoint_tasks_from_a_short_scene_name_the_fix(tiny_store):
    store = FrameStore(tiny_store)
    tasks = SceneTasks(store, ["s00"], t=3)
    xs, ys, xq, yq = tasks.sample_tasks(1, 4, torch.Generator().manual_seed(0),
                                        disjoint=True)[0]
    assert xs.shape == xq.shape == (4, 3, 1, 32, 32) and ys.shape == yq.shape == (4, 1, 32, 32)
    with pytest.raises(FsadError, match="need 2K . t = 43 windows.*has 37.*lower K or set "
                                         "meta.query_windows: shuffled"):
        tasks.sample_tasks(1, 20, torch.Generator().manual_seed(0), disjoint=True)
