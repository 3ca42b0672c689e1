"""Frame conversion (fsad.data.convert): exact, whichever path a frame takes."""

import numpy as np
import pytest

from fsad.data.adapters.frames import ImageFrames
from fsad.data.convert import DecodesInThreads, convert, convert_block


@pytest.mark.parametrize("source", [(64, 64), (158, 238), (240, 360), (100, 75)])
@pytest.mark.parametrize("target", [(48, 48), (32, 56), (64, 64)])
@pytest.mark.parametrize("channels", [1, 3])
def test_a_block_converts_exactly_as_its_frames_one_by_one(source, target, channels):
    # Shrinking frames are converted as one tall image; not one pixel may differ from the
    # frame-by-frame result (enlarging ones take the frame-by-frame path).
    frames = list(np.random.default_rng(1).integers(0, 256, size=(8, *source, 3),
                                                     dtype=np.uint8))
    block = convert_block(frames, *target, channels)
    assert block.shape == (8, *target, channels)
    assert np.array_equal(block, np.stack([convert(f, *target, channels) for f in frames]))


def test_an_image_folder_converts_in_its_decoding_threads_other_sources_do_not():
    # The fast path for image folders is chosen by what the source can do, not by its type
    # (the store imports no adapter); this keeps image folders on it.
    assert isinstance(ImageFrames([]), DecodesInThreads)
    assert not isinstance(iter([np.zeros((4, 4), np.uint8)]), DecodesInThreads)
