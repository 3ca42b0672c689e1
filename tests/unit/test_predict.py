"""The one batched prediction (fsad.predict): a frame's loss and PSNR do not depend on the
batch it was predicted in, a clip's per-frame stage runs once per frame and predicts what
the windows do, and prediction leaves the generator in eval mode, untouched."""

import numpy as np
import pytest
import torch

from fsad.models import build
from fsad.predict import predict, predict_clip
from fsad.score import predict_video

WEIGHTS = {"l1": 1.0, "msssim": 1.0, "gdl": 1.0}
MODEL = {"t": 3, "widths": [4, 8, 8], "lstm_hidden": 4, "disc_width": 4, "latent_channels": 8,
         "latent_stride": 16, "kl_weight": 0.01, "vgg_width_divisor": 16, "vgg_weights": None}


@pytest.fixture(scope="module")
def generator():
    torch.manual_seed(0)
    return build("rgan", {"t": 3, "widths": [4, 8], "lstm_hidden": 4, "disc_width": 4}, 1)[0]


def test_a_frame_s_scores_do_not_depend_on_its_batch(generator):
    video = np.random.default_rng(0).integers(0, 256, (17, 32, 32, 1), dtype=np.uint8)
    by_2 = list(predict_video(generator, video, 3, WEIGHTS, batch_size=2))
    by_9 = list(predict_video(generator, video, 3, WEIGHTS, batch_size=9))
    assert [f for f, _, _ in by_2] == [f for f, _, _ in by_9] == list(range(3, 17))
    np.testing.assert_allclose([v[1:] for v in by_2], [v[1:] for v in by_9], rtol=1e-5)


def test_prediction_is_in_eval_mode_without_gradients(generator):
    generator.train()
    before = [p.detach().clone() for p in generator.parameters()]
    x, y = torch.rand(2, 3, 1, 32, 32), torch.rand(2, 1, 32, 32)
    losses, psnrs = predict(generator, x, y, WEIGHTS)
    assert len(losses) == len(psnrs) == 2 and all(isinstance(v, float) for v in losses)
    assert not generator.training
    assert all(p.grad is None for p in generator.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before, generator.parameters(), strict=True))


@pytest.mark.parametrize("name", ["rgan", "rgan_star", "rvae"])
@pytest.mark.parametrize("patch", [None, 8])
def test_a_clip_predicts_what_its_windows_do_with_each_frame_through_once(name, patch):
    torch.manual_seed(0)
    g = build(name, MODEL, 1)[0]
    clip = torch.rand(11, 1, 32, 32)
    windows = torch.stack([clip[i:i + 3] for i in range(8)])
    expected = predict(g, windows, clip[3:], WEIGHTS, patch)
    seen = []
    per_frame = g.per_frame
    g.per_frame = lambda frames: seen.append(len(frames)) or per_frame(frames)
    losses, psnrs = predict_clip(g, clip, 3, WEIGHTS, patch)
    assert seen == [11]  # each frame once, not once for each of the 3 windows that hold it
    np.testing.assert_allclose(losses, expected[0], rtol=1e-5)
    np.testing.assert_allclose(psnrs, expected[1], rtol=1e-5)


def test_a_clip_without_a_window_is_an_error(generator):
    with pytest.raises(ValueError, match="a clip of 3 frames has no window of t \\+ 1 = 4"):
        predict_clip(generator, torch.rand(3, 1, 32, 32), 3, WEIGHTS)
