"""The extraction's thread pipelines keep order, bound their look-ahead and report errors
at the item where they happened."""

import threading
import time

import numpy as np
import pytest

from fsad.data.store import FrameStore, convert, write_store
from fsad.data.threads import ordered_map, prefetch


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


def test_the_store_holds_exactly_the_converted_frames(tmp_path):
    # More frames than one write block (64), and a last block that is not full.
    from fsad.data.adapters.base import Video

    rng = np.random.default_rng(0)
    raw = rng.integers(0, 256, size=(150, 30, 40, 3), dtype=np.uint8)
    video = Video("v", "s", "train", tmp_path, lambda: iter(raw))
    write_store([video], tmp_path / "x.h5", 24, 24, 1)
    stored = FrameStore(tmp_path / "x.h5").frames("v")
    assert stored.shape == (150, 24, 24, 1)
    assert np.array_equal(stored, np.stack([convert(f, 24, 24, 1) for f in raw]))


def test_a_frame_of_the_wrong_shape_is_refused_not_written(tmp_path):
    # Frames are written as raw chunks, so a wrong shape must be caught before the write.
    import h5py

    from fsad.data.store import _write_frames

    frames = [np.zeros((8, 8, 1), np.uint8), np.zeros((8, 9, 1), np.uint8)]
    with h5py.File(tmp_path / "x.h5", "w") as h5, pytest.raises(ValueError, match="frame 1"):
        _write_frames(h5.create_group("v"), frames, (8, 8, 1))
