"""The extraction's thread pipelines keep order, bound their look-ahead and report errors
at the item where they happened."""

import threading
import time

import numpy as np
import pytest

from fsad.data.convert import convert
from fsad.data.store import FrameStore, write_store
from fsad.data.threads import ordered_map, ordered_streams, prefetch


def slow_square(x: int) -> int:
    time.sleep(0.001 * (x % 3))  # finish out of order
    return x * x


def test_ordered_map_keeps_the_input_order():
    for chunk in (1, 4):
        assert list(ordered_map(slow_square, range(50), workers=3, chunk=chunk)) == \
            [x * x for x in range(50)]


def test_ordered_map_reads_at_most_depth_items_ahead():
    pulled = []

    def items():
        for i in range(100):
            pulled.append(i)
            yield i

    out = ordered_map(lambda x: x, items(), workers=2, chunk=3, depth=4)
    assert next(out) == 0
    assert len(pulled) <= 3 * (4 + 1)
    out.close()


@pytest.mark.parametrize("pipeline", [lambda it: ordered_map(lambda x: 1 // (x - 3), it, chunk=8),
                                      lambda it: prefetch(1 // (x - 3) for x in it)])
def test_an_error_reaches_the_consumer_at_its_item(pipeline):
    got = []
    with pytest.raises(ZeroDivisionError):
        for value in pipeline(iter(range(10))):
            got.append(value)
    assert got == [1 // (x - 3) for x in range(3)]


def test_prefetch_stops_its_thread_when_the_consumer_stops():
    before = threading.active_count()
    out = prefetch(iter(range(10_000)), depth=2)
    next(out)
    out.close()
    assert threading.active_count() == before


def counted(n: int, pulled: list, fail_at: int | None = None):
    """A stream of n items that records how many were pulled, optionally failing."""
    def items():
        for i in range(n):
            if i == fail_at:
                raise ZeroDivisionError(i)
            time.sleep(0.0005 * (i % 3))  # streams finish out of order
            pulled.append(i)
            yield i
    return items


def test_ordered_streams_yield_every_stream_whole_and_in_order():
    lengths = [5, 0, 17, 1, 40, 3, 9]
    pulled = [[] for _ in lengths]
    streams = [counted(n, p) for n, p in zip(lengths, pulled, strict=True)]
    for depth, chunk in ((1, 1), (2, 3), (32, 8)):
        got = [list(s) for s in ordered_streams(streams, workers=3, depth=depth, chunk=chunk)]
        assert got == [list(range(n)) for n in lengths]


def test_ordered_streams_buffer_at_most_depth_chunks_ahead():
    pulled = [[] for _ in range(4)]
    streams = ordered_streams([counted(1000, p) for p in pulled], workers=2, depth=2, chunk=3)
    first = next(streams)
    assert next(first) == 0
    time.sleep(0.3)  # time for the threads to fill what they may
    # The head: the chunk being read, depth chunks queued and one in its thread's hand;
    # the others (one thread): depth chunks all together and one in hand.
    assert len(pulled[0]) <= (1 + 2 + 1) * 3
    assert sum(len(p) for p in pulled[1:]) <= (2 + 1) * 3
    streams.close()


def test_ordered_streams_raise_an_error_at_its_item():
    streams = [counted(4, []), counted(9, [], fail_at=2), counted(5, [])]
    got = []
    with pytest.raises(ZeroDivisionError):
        for stream in ordered_streams(streams, workers=2, chunk=1):
            got.append([])
            for item in stream:
                got[-1].append(item)
    assert got == [[0, 1, 2, 3], [0, 1]]


def test_ordered_streams_stop_their_threads_when_the_consumer_stops():
    before = threading.active_count()
    streams = ordered_streams([counted(10_000, []) for _ in range(3)], workers=2)
    next(next(streams))
    streams.close()
    assert threading.active_count() == before


def test_ordered_streams_refuse_a_stream_left_before_its_end():
    streams = ordered_streams([counted(50, []), counted(5, [])], workers=2, chunk=4)
    next(next(streams))
    with pytest.raises(RuntimeError, match="stream 0 was left before its end"):
        next(streams)


def test_the_store_holds_exactly_the_converted_frames_whatever_the_threads(tmp_path):
    # Small frames (many per chunk): videos shorter than, equal to and longer than one
    # chunk, an empty one; large frames: one per chunk. Parallel decoding must give the
    # same bytes as decoding one frame after another.
    from fsad.data.record import Video
    from fsad.data.store import chunk_frames

    rng = np.random.default_rng(0)
    for size in (24, 150):
        k = chunk_frames((size, size, 1))
        lengths = [150, k, 1, 0, 2 * k + 3] if k > 1 else [7, 1]
        raws = [rng.integers(0, 256, size=(n, 30, 40, 3), dtype=np.uint8) for n in lengths]
        videos = [Video(f"v{i}", "s", "train", tmp_path, lambda raw=raw: iter(raw))
                  for i, raw in enumerate(raws)]
        files = [write_store(videos, tmp_path / f"x{threads}.h5", size, size, 1,
                             threads=threads) for threads in (1, 2, 3)]
        assert files[0].read_bytes() == files[1].read_bytes() == files[2].read_bytes()
        store = FrameStore(files[1])
        for i, raw in enumerate(raws):
            stored = store.frames(f"v{i}")
            assert stored.shape == (len(raw), size, size, 1)
            if len(raw):
                assert np.array_equal(stored, np.stack([convert(f, size, size, 1) for f in raw]))
        store.close()


def test_a_frame_of_the_wrong_shape_is_refused_not_written(tmp_path):
    # Frames are written as raw chunks, so a wrong shape must be caught before the write.
    import h5py

    from fsad.data.store import _write_frames

    blocks = [np.zeros((2, 8, 8, 1), np.uint8), np.zeros((1, 8, 9, 1), np.uint8)]
    with h5py.File(tmp_path / "x.h5", "w") as h5, pytest.raises(ValueError,
                                                                match="frames from 2 on"):
        _write_frames(h5.create_group("v"), blocks, (8, 8, 1))


@pytest.mark.parametrize("block", [1, 3, 28, 33])
def test_frames_written_in_blocks_of_any_size_give_the_same_file(tmp_path, block):
    # Blocks smaller than, equal to and larger than a chunk (28 frames at 24x24 gray),
    # starting inside and at the edge of chunks, must fill the chunks alike.
    import h5py

    from fsad.data.store import _write_frames

    frames = np.random.default_rng(0).integers(0, 256, size=(100, 24, 24, 1), dtype=np.uint8)
    for name, size in (("one", 1), ("blocks", block)):
        with h5py.File(tmp_path / f"{name}.h5", "w") as h5:
            blocks = (frames[i:i + size] for i in range(0, len(frames), size))
            assert _write_frames(h5.create_group("v"), blocks, (24, 24, 1)) == 100
    assert (tmp_path / "one.h5").read_bytes() == (tmp_path / "blocks.h5").read_bytes()
    with h5py.File(tmp_path / "blocks.h5") as h5:
        assert np.array_equal(h5["v/frames"][:], frames)
