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


class _CountingFrames:
    """A store whose frame i of every video is filled with the value i."""

    path = "counting.h5"

    def __init__(self, lengths: dict[str, int]):
        self.lengths = lengths

    def frames(self, video_id):
        n = self.lengths[video_id]
        return np.broadcast_to(np.arange(n, dtype=np.uint8)[:, None, None, None], (n, 2, 2, 1))


def _frame_numbers(x, y):
    """The frame index each window's inputs and target were cut from."""
    return ((x[:, :, 0, 0, 0] * 255).round().long().tolist(),
            (y[:, 0, 0, 0] * 255).round().long().tolist())


def test_pseudo_anomalies_are_the_scene_s_frames_backwards_or_faster():
    from fsad.data.store import StoredVideo
    from fsad.data.windows import PSEUDO_SPEEDUPS

    store = _CountingFrames({"a": 40, "b": 12})
    videos = [StoredVideo("a", "s", "train", 40), StoredVideo("b", "s", "train", 12)]
    ws = WindowSet(store, videos, t=3)
    x, y = ws.sample_pseudo_anomalies(300, torch.Generator().manual_seed(0))
    assert x.shape == (300, 3, 1, 2, 2) and y.shape == (300, 1, 2, 2)
    rates = set()
    for i, (inputs, target) in enumerate(zip(*_frame_numbers(x, y), strict=True)):
        clip = [*inputs, target]
        steps = {b - a for a, b in zip(clip, clip[1:], strict=False)}
        assert len(steps) == 1  # evenly spaced frames of one video
        step = steps.pop()
        if i % 2 == 0:
            assert step == -1  # backwards: x = frames s+3, s+2, s+1, y = frame s
        else:
            assert step in PSEUDO_SPEEDUPS
            rates.add(step)
        assert min(clip) >= 0 and max(clip) < 40
    assert rates == set(PSEUDO_SPEEDUPS)
    # A draw is reproducible from its generator.
    again = ws.sample_pseudo_anomalies(300, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], x) and torch.equal(again[1], y)


def test_pseudo_anomalies_of_videos_too_short_to_speed_up_are_all_backwards():
    from fsad.data.store import StoredVideo

    ws = WindowSet(_CountingFrames({"a": 6}), [StoredVideo("a", "s", "train", 6)], t=3)
    x, y = ws.sample_pseudo_anomalies(20, torch.Generator().manual_seed(1))
    for inputs, target in zip(*_frame_numbers(x, y), strict=True):
        assert inputs == [target + 3, target + 2, target + 1]


def test_tasks_with_pseudo_anomalies_append_them_to_the_query(tiny_store):
    store = FrameStore(tiny_store)
    tasks = SceneTasks(store, ["s00", "s01"], t=3)
    plain = tasks.sample_tasks(2, 3, torch.Generator().manual_seed(0))
    with_pseudo = tasks.sample_tasks(2, 3, torch.Generator().manual_seed(0),
                                     pseudo_anomalies=True)
    for _, _, xq, yq in with_pseudo:
        assert xq.shape[0] == yq.shape[0] == 6
    # The first task's support and normal query are those drawn without (the pseudo-
    # anomalies are drawn after them), then K windows of its scene follow.
    xs, ys, xq, yq = plain[0]
    xs2, ys2, xq2, yq2 = with_pseudo[0]
    for a, b in ((xs, xs2), (ys, ys2), (xq, xq2[:3]), (yq, yq2[:3])):
        assert torch.equal(a, b)
    assert not any(torch.equal(a, b) for a in yq2[3:] for b in yq)
