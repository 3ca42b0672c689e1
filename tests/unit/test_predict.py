"""The one batched prediction (fsad.predict): a frame's loss and PSNR do not depend on the
batch it was predicted in, and prediction leaves the generator in eval mode, untouched."""

import numpy as np
import pytest
import torch

from fsad.models import build
from fsad.predict import predict
from fsad.score import predict_video

WEIGHTS = {"l1": 1.0, "msssim": 1.0, "gdl": 1.0}


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
