"""Clip windows (t input frames + the next one as target) and scene tasks.

A window starting at frame s of a video is x = frames[s : s+t], y = frames[s+t]. Tasks for
meta-learning are scenes: K support and K query windows, all distinct, from one scene.
Pseudo-anomalies (``WindowSet.sample_pseudo_anomalies``) are windows cut from the same
normal frames with motion the scene's clips do not show: played backwards, or faster.
"""

from __future__ import annotations

import numpy as np
import torch

from fsad import FsadError
from fsad.data.store import FrameStore, StoredVideo, StoreUnion


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (..., H, W, C) -> float32 (..., C, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).movedim(-1, -3).float().div_(255.0)


# Speed-ups of the sped-up pseudo-anomalies: 2 to 4 times the scene's own motion.
PSEUDO_SPEEDUPS = (2, 3, 4)


class WindowSet:
    """All windows of some videos, sampled reproducibly through a torch.Generator."""

    def __init__(self, store: FrameStore | StoreUnion, videos: list[StoredVideo], t: int):
        self.store, self.videos, self.t = store, videos, t
        starts = [np.arange(v.length - t) for v in videos]
        self.video_index = np.concatenate(
            [np.full(len(s), i) for i, s in enumerate(starts)]) if starts else np.zeros(0, int)
        self.start = np.concatenate(starts) if starts else np.zeros(0, int)

    def __len__(self) -> int:
        return len(self.start)

    def gather(self, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        clips = np.stack([
            self.store.frames(self.videos[self.video_index[i]].id)[
                self.start[i]:self.start[i] + self.t + 1]
            for i in idx])
        clips = to_tensor(clips)
        return clips[:, :-1], clips[:, -1]

    def sample_pseudo_anomalies(self, n: int, generator: torch.Generator
                                ) -> tuple[torch.Tensor, torch.Tensor]:
        """n windows of motion the scene's normal clips do not show, made from those clips
        (pseudo-anomalies, as in Astrid et al., "Learning Not to Reconstruct Anomalies",
        BMVC 2021): windows 0, 2, 4, ... are played backwards (x = frames s+t .. s+1,
        y = frame s: the objects move against their direction), windows 1, 3, ... faster
        (every r-th frame, r drawn from PSEUDO_SPEEDUPS per window). Where no video is long
        enough for a sped-up window, every window is played backwards."""
        def draw(high: int) -> int:
            return int(torch.randint(high, (1,), generator=generator))

        clips = []
        for i in range(n):
            rate = PSEUDO_SPEEDUPS[draw(len(PSEUDO_SPEEDUPS))] if i % 2 else 1
            span = self.t * rate + 1
            fits = [j for j, v in enumerate(self.videos) if v.length >= span]
            if rate == 1 or not fits:
                w = draw(len(self))
                video, start = self.videos[self.video_index[w]], self.start[w]
                clips.append(self.store.frames(video.id)[start:start + self.t + 1][::-1])
                continue
            # a start drawn uniformly over every video's room for one span
            room = np.cumsum([self.videos[j].length - span + 1 for j in fits])
            w = draw(int(room[-1]))
            j = int(np.searchsorted(room, w, side="right"))
            start = w - (int(room[j - 1]) if j else 0)
            clips.append(self.store.frames(self.videos[fits[j]].id)[start:start + span:rate])
        clips = to_tensor(np.stack(clips))
        return clips[:, :-1], clips[:, -1]

    def sample(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """n distinct windows (fewer only if the set is smaller: that is an error)."""
        if n > len(self):
            short = [v for v in self.videos if v.length <= self.t]
            why = (f" ({len(short)} of them have {max(v.length for v in short)} frames or "
                   f"fewer, too short for one window of t + 1 = {self.t + 1} frames)"
                   if short else "")
            fix = "use longer videos" if not len(self) else "lower K"
            raise FsadError(f"asked for {n} windows but only {len(self)} exist in "
                            f"{len(self.videos)} video(s) of {self.store.path}{why}; {fix}")
        idx = torch.randperm(len(self), generator=generator)[:n].numpy()
        return self.gather(np.sort(idx))

    def sample_disjoint(self, k: int, generator: torch.Generator):
        """K support and K query windows that share no frame: a random cut splits the
        windows (in store order) into two runs, one side gives the support, the other the
        query (which side, at random), and the t windows after the cut are skipped, since
        each of them shares a frame with one before it."""
        n = len(self)
        if n - self.t < 2 * k:
            raise FsadError(
                f"disjoint support and query windows need 2K + t = {2 * k + self.t} windows "
                f"per scene, but a scene of {self.store.path} has {n} (videos "
                f"{', '.join(v.id for v in self.videos)}); lower K or set "
                "meta.query_windows: shuffled")
        cut = int(torch.randint(k, n - self.t - k + 1, (1,), generator=generator))
        before = torch.randperm(cut, generator=generator)[:k].numpy()
        after = cut + self.t + torch.randperm(n - self.t - cut, generator=generator)[:k].numpy()
        support, query = (before, after) if torch.rand(1, generator=generator) < 0.5 \
            else (after, before)
        return (*self.gather(np.sort(support)), *self.gather(np.sort(query)))


class SceneTasks:
    """One WindowSet per scene of a source, for MAML task sampling."""

    def __init__(self, store: FrameStore | StoreUnion, scenes: list[str] | None, t: int):
        self.store = store
        videos = store.select(scenes, "train")
        by_scene: dict[str, list[StoredVideo]] = {}
        for v in videos:
            by_scene.setdefault(v.scene, []).append(v)
        if not by_scene:
            raise FsadError(f"{store.path}: no training videos in scenes {scenes}")
        self.scenes = sorted(by_scene)
        self.sets = {s: WindowSet(store, by_scene[s], t) for s in self.scenes}
        self.pooled = WindowSet(store, videos, t)

    def sample_tasks(self, n_tasks: int, shots: int, generator: torch.Generator,
                     disjoint: bool = False, pseudo_anomalies: bool = False):
        """``n_tasks`` scenes (without replacement while possible), each with K support and
        K query windows: returns lists of (xs, ys, xq, yq). ``disjoint``: support and query
        share no frame (WindowSet.sample_disjoint); otherwise 2K distinct windows split at
        random. ``pseudo_anomalies``: K pseudo-anomalous windows of the scene follow the K
        query windows (xq, yq then hold 2K)."""
        order = torch.randperm(len(self.scenes), generator=generator).tolist()
        while len(order) < n_tasks:
            order += torch.randperm(len(self.scenes), generator=generator).tolist()
        tasks = []
        for i in order[:n_tasks]:
            windows = self.sets[self.scenes[i]]
            task = (windows.sample_disjoint(shots, generator) if disjoint else
                    split_task(*windows.sample(2 * shots, generator), shots, generator))
            if pseudo_anomalies:
                xs, ys, xq, yq = task
                xp, yp = windows.sample_pseudo_anomalies(shots, generator)
                task = (xs, ys, torch.cat([xq, xp]), torch.cat([yq, yp]))
            tasks.append(task)
        return tasks


def split_task(x: torch.Tensor, y: torch.Tensor, shots: int, generator: torch.Generator):
    """2K windows of one scene -> (support x, support y, query x, query y), K each.
    Shuffled before splitting so that support and query are both spread over time."""
    perm = torch.randperm(2 * shots, generator=generator)
    x, y = x[perm], y[perm]
    return x[:shots], y[:shots], x[shots:], y[shots:]


def sequential_windows(frames: np.ndarray, t: int, batch_size: int):
    """Every window of one video in order, batched: yields (first target index, x, y)."""
    n = len(frames)
    for s in range(0, n - t, batch_size):
        e = min(n - t, s + batch_size)
        clips = np.stack([frames[i:i + t + 1] for i in range(s, e)])
        clips = to_tensor(clips)
        yield s + t, clips[:, :-1], clips[:, -1]
