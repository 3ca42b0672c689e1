"""The HDF5 frame store: one file per dataset, one group per video. Writing takes Video
records (``fsad.data.record``) and their frames converted by ``fsad.data.convert``; reading
is ``FrameStore`` (``StoreUnion`` reads several as one, for a source of several datasets).

Layout of ``results/frames/{dataset}.h5``::

    /            attrs: format, version, height, width, channels, adapter, root
    /videos/<id> group, attrs: scene, split, source, label_source
        frames   uint8 (N, H, W, C), chunked by whole frames, about 64 KiB a chunk (one
                 frame at 256x256 RGB, 28 at 48x48 gray), so reading any few frames
                 touches at most two chunks
        labels   uint8 (N,), test videos only

Written to a temporary name and renamed, so a crash never leaves a half file under the
final name. Readers open the file read-only.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
from tqdm import tqdm

from fsad import FsadError
from fsad.atomic import atomic_path
from fsad.config import match_scenes
from fsad.data.convert import convert_videos, opencv_threads
from fsad.data.record import Video
from fsad.ioerrors import describe

FORMAT = "fsad-frames"
VERSION = 1


def chunk_frames(shape: tuple[int, ...], chunk_kb: int = 64) -> int:
    """Frames per HDF5 chunk: about ``chunk_kb`` KiB, at least one frame. Readers load whole
    videos, so a chunk need not be one frame, and fewer, larger chunks make fewer writes;
    small, since a video's last chunk is stored whole however few frames it holds."""
    return max(1, (chunk_kb << 10) // int(np.prod(shape)))


def _write_frames(group: h5py.Group, blocks: Iterable[np.ndarray], shape: tuple[int, ...],
                  grow: int = 64) -> int:
    """Append the frames of ``blocks`` (arrays of n frames, ``convert_video``) to
    ``group/frames`` and return their number. Frames are gathered into chunks
    (``chunk_frames``) and each chunk is written as is (``write_direct_chunk``), with no
    trip through HDF5's selection machinery; a video is never held whole in memory. The
    dataset grows by at least ``grow`` frames at a time and is cut to the frame count at
    the end (the unused tail of the last chunk is zeros, so the bytes are reproducible)."""
    k = chunk_frames(shape)
    dset = group.create_dataset("frames", shape=(0, *shape), maxshape=(None, *shape),
                                chunks=(k, *shape), dtype=np.uint8)
    chunk = np.zeros((k, *shape), np.uint8)
    origin = (0,) * len(shape)
    grow = k * -(-grow // k)  # whole chunks
    n = room = 0  # room: the dataset's length (asking h5py for it costs more than a write)
    for block in blocks:
        if block.shape[1:] != shape or block.dtype != np.uint8:
            raise ValueError(f"frames from {n} on are {block.dtype} {block.shape[1:]}, "
                             f"expected uint8 {shape}")
        i = 0
        while i < len(block):
            if n % k == 0 and len(block) - i >= k:  # a whole chunk: written from the block
                room = _write_chunk(dset, np.ascontiguousarray(block[i:i + k]), n, room, grow,
                                    origin)
                took = k
            else:
                took = min(k - n % k, len(block) - i)
                chunk[n % k:n % k + took] = block[i:i + took]
                if (n + took) % k == 0:
                    room = _write_chunk(dset, chunk, n + took - k, room, grow, origin)
            n += took
            i += took
    if n % k:
        chunk[n % k:] = 0
        _write_chunk(dset, chunk, n - n % k, room, k, origin)
    dset.resize(n, axis=0)
    return n


def _write_chunk(dset: h5py.Dataset, block: np.ndarray, start: int, room: int, grow: int,
                 origin: tuple[int, ...]) -> int:
    """Write ``block`` as the chunk at frame ``start``, growing the dataset first if needed;
    returns its new length."""
    if start + len(block) > room:
        room += grow
        dset.resize(room, axis=0)
    dset.id.write_direct_chunk((start, *origin), block)
    return room


class _GuardedFile(io.RawIOBase):
    """The file HDF5 writes through (h5py's file-object driver), so that a failed write (disk
    full, file-size limit) never reaches the HDF5 library: once the library sees a failed
    write its state is inconsistent, its clean-up fails again and the process can crash.
    The first error is recorded and every later write is skipped; the caller checks
    ``error`` and abandons the file, which is only a temporary (``atomic_path``)."""

    def __init__(self, path: Path):
        super().__init__()
        self._f = open(path, "w+b", buffering=0)  # noqa: SIM115 (closed in close())
        self.error: OSError | None = None

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._f.readinto(buffer)

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        if self.error is None:
            try:
                done = 0
                while done < len(view):
                    done += self._f.write(view[done:])
                return done
            except OSError as exc:
                self.error = exc
        self._f.seek(len(view), io.SEEK_CUR)
        return len(view)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._f.seek(offset, whence)

    def tell(self) -> int:
        return self._f.tell()

    def truncate(self, size: int | None = None) -> int:
        if self.error is None:
            try:
                return self._f.truncate(size)
            except OSError as exc:
                self.error = exc
        return self.tell() if size is None else size

    def flush(self) -> None:
        pass  # unbuffered

    def close(self) -> None:
        if not self.closed:
            self._f.close()
        super().close()

    def check(self, out: Path) -> None:
        if self.error is not None:
            raise FsadError(describe(self.error, out, "--out")) from None


def write_store(videos: Iterable[Video], out: Path, height: int, width: int, channels: int,
                attrs: dict | None = None, threads: int = 2) -> Path:
    """Decode every video, convert its frames and write the store atomically, with
    ``threads`` decoding threads (see ``convert_videos``).

    A disk that fills up (or a file-size limit) ends in an FsadError naming ``out``, and
    nothing is left behind under its name or beside it."""
    out = Path(out)
    videos = list(videos)
    with atomic_path(out) as tmp, opencv_threads(1):
        try:
            fh = _GuardedFile(tmp)
        except OSError as exc:
            raise FsadError(describe(exc, out, "--out")) from None
        # closing(): the decoding threads stop on an error too
        with fh, h5py.File(fh, "w") as h5, closing(
                convert_videos(videos, height, width, channels, threads)) as converted:
            h5.attrs.update({"format": FORMAT, "version": VERSION, "height": height,
                             "width": width, "channels": channels, **(attrs or {})})
            root = h5.create_group("videos")
            for video, blocks in tqdm(zip(videos, converted, strict=True),
                                      total=len(videos), desc=f"extract {out.name}",
                                      disable=None):
                g = root.create_group(video.id)
                frames = _write_frames(g, blocks, (height, width, channels))
                if video.labels is not None and len(video.labels) != frames:
                    raise FsadError(
                        f"{video.label_source or video.source}: {len(video.labels)} labels for "
                        f"{frames} decoded frames of {video.source}; the label file must "
                        "have exactly one entry per frame")
                if video.labels is not None:
                    g.create_dataset("labels", data=video.labels.astype(np.uint8))
                g.attrs.update({"scene": video.scene, "split": video.split,
                                "source": str(video.source),
                                "label_source": str(video.label_source or "")})
                fh.check(out)
            h5.close()  # writes the remaining metadata through fh
            fh.check(out)
    return out


@dataclass
class StoredVideo:
    id: str
    scene: str
    split: str
    length: int


class _Videos:
    """Scene selection over ``videos`` (a list of StoredVideo), for messages named by
    ``path``."""

    path: Path
    videos: list[StoredVideo]

    def scenes(self, split: str | None = None) -> list[str]:
        return sorted({v.scene for v in self.videos if split in (None, v.split)})

    def select(self, scenes: list[str] | None, split: str) -> list[StoredVideo]:
        """The videos of ``split`` in ``scenes`` (None = all; names or shell-style patterns,
        see ``fsad.config.match_scenes``); a name or pattern that matches no scene is an
        error."""
        if scenes is not None:
            unknown = [s for s in scenes if not match_scenes([s], self.scenes())]
            if unknown:
                raise FsadError(f"{self.path}: no scene {', '.join(unknown)} (scenes here: "
                                f"{', '.join(self.scenes())})")
            scenes = match_scenes(scenes, self.scenes())
        return [v for v in self.videos if v.split == split
                and (scenes is None or v.scene in scenes)]


class FrameStore(_Videos):
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


class StoreUnion(_Videos):
    """Several frame stores read as one, for a source that pools the scenes of several
    datasets: a scene (and a video) of store ``name`` is called ``name/<scene>``, so that
    scenes of two datasets never share a name. The stores must hold frames of one size."""

    def __init__(self, stores: dict[str, FrameStore]):
        shapes = {(s.height, s.width, s.channels): s.path for s in stores.values()}
        if len(shapes) > 1:
            (a, pa), (b, pb) = list(shapes.items())[:2]
            raise FsadError(f"{pa} holds {a[0]}x{a[1]}x{a[2]} frames but {pb} holds "
                            f"{b[0]}x{b[1]}x{b[2]}: a source pools frames of one size; extract "
                            "both with the same frames settings")
        first = next(iter(stores.values()))
        self.height, self.width, self.channels = first.height, first.width, first.channels
        self.path = Path(" + ".join(str(s.path) for s in stores.values()))  # for messages
        self._stores = stores
        self.videos = [StoredVideo(f"{name}/{v.id}", f"{name}/{v.scene}", v.split, v.length)
                       for name, store in stores.items() for v in store.videos]

    def _split(self, video_id: str) -> tuple[FrameStore, str]:
        name, _, inner = video_id.partition("/")
        return self._stores[name], inner

    def frames(self, video_id: str) -> np.ndarray:
        store, inner = self._split(video_id)
        return store.frames(inner)

    def labels(self, video_id: str) -> np.ndarray:
        store, inner = self._split(video_id)
        return store.labels(inner)

    def close(self) -> None:
        for store in self._stores.values():
            store.close()
