"""The HDF5 frame store: one file per dataset, one group per video.

Layout of ``results/frames/{dataset}.h5``::

    /            attrs: format, version, height, width, channels, adapter, root
    /videos/<id> group, attrs: scene, split, source, label_source
        frames   uint8 (N, H, W, C), chunked one frame per chunk
        labels   uint8 (N,), test videos only

Written to a temporary name and renamed, so a crash never leaves a half file under the
final name. Readers open the file read-only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import h5py
import numpy as np
from tqdm import tqdm

from fsad import FsadError
from fsad.atomic import atomic_path
from fsad.data.adapters.base import Video

FORMAT = "fsad-frames"
VERSION = 1


def convert(frame: np.ndarray, height: int, width: int, channels: int) -> np.ndarray:
    """Resize (area interpolation, as for downscaling) and convert to gray or RGB."""
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.shape[:2] != (height, width):
        frame = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    if channels == 1:
        return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)[..., None]
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


def write_store(videos: Iterable[Video], out: Path, height: int, width: int, channels: int,
                attrs: dict | None = None) -> Path:
    """Decode every video, convert its frames and write the store atomically."""
    out = Path(out)
    videos = list(videos)
    with atomic_path(out) as tmp, h5py.File(tmp, "w") as h5:
        h5.attrs.update({"format": FORMAT, "version": VERSION, "height": height,
                         "width": width, "channels": channels, **(attrs or {})})
        root = h5.create_group("videos")
        for video in tqdm(videos, desc=f"extract {out.name}", disable=None):
            frames = np.stack([convert(f, height, width, channels) for f in video.frames()])
            if video.labels is not None and len(video.labels) != len(frames):
                raise FsadError(
                    f"{video.label_source or video.source}: {len(video.labels)} labels for "
                    f"{len(frames)} decoded frames of {video.source}; the label file must "
                    "have exactly one entry per frame")
            g = root.create_group(video.id)
            g.create_dataset("frames", data=frames, chunks=(1, height, width, channels))
            if video.labels is not None:
                g.create_dataset("labels", data=video.labels.astype(np.uint8))
            g.attrs.update({"scene": video.scene, "split": video.split,
                            "source": str(video.source),
                            "label_source": str(video.label_source or "")})
    return out


@dataclass
class StoredVideo:
    id: str
    scene: str
    split: str
    length: int


class FrameStore:
    """Read access to a frame store. Frames of each video are loaded once and cached."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FsadError(f"frame store not found: {self.path} (build it with `fsad extract`)")
        try:
            self._h5 = h5py.File(self.path, "r")
        except OSError as exc:
            raise FsadError(f"{self.path}: not a readable HDF5 file ({exc}); delete it and "
                            "rerun the extraction") from None
        if self._h5.attrs.get("format") != FORMAT:
            raise FsadError(f"{self.path}: not an fsad frame store")
        self.height = int(self._h5.attrs["height"])
        self.width = int(self._h5.attrs["width"])
        self.channels = int(self._h5.attrs["channels"])
        self.videos: list[StoredVideo] = []
        self._h5["videos"].visititems(self._collect)
        self._cache: dict[str, np.ndarray] = {}

    def _collect(self, name: str, obj) -> None:
        if isinstance(obj, h5py.Group) and "frames" in obj:
            self.videos.append(StoredVideo(name, str(obj.attrs["scene"]), str(obj.attrs["split"]),
                                           int(obj["frames"].shape[0])))

    def scenes(self, split: str | None = None) -> list[str]:
        return sorted({v.scene for v in self.videos if split in (None, v.split)})

    def select(self, scenes: list[str] | None, split: str) -> list[StoredVideo]:
        """The videos of ``split`` in ``scenes`` (None = all); an unknown scene is an error."""
        if scenes is not None:
            unknown = sorted(set(scenes) - set(self.scenes()))
            if unknown:
                raise FsadError(f"{self.path}: no scene {', '.join(unknown)} (scenes here: "
                                f"{', '.join(self.scenes())})")
        return [v for v in self.videos if v.split == split
                and (scenes is None or v.scene in scenes)]

    def frames(self, video_id: str) -> np.ndarray:
        if video_id not in self._cache:
            self._cache[video_id] = self._h5["videos"][video_id]["frames"][()]
        return self._cache[video_id]

    def labels(self, video_id: str) -> np.ndarray:
        g = self._h5["videos"][video_id]
        if "labels" not in g:
            raise FsadError(f"{self.path}: video {video_id} has no labels (not a test video)")
        return g["labels"][()]

    def close(self) -> None:
        self._h5.close()
