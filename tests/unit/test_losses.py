import math

import pytest
import torch

from fsad import losses

W = {"l1": 1.0, "msssim": 1.0, "gdl": 1.0}


def test_l1_by_hand():
    pred = torch.tensor([[[[0.0, 1.0], [0.5, 0.5]]]])
    target = torch.tensor([[[[1.0, 1.0], [0.0, 0.5]]]])
    assert losses.l1(pred, target).item() == pytest.approx((1 + 0 + 0.5 + 0) / 4)


def test_gradient_difference_by_hand():
    # pred is flat; target has a horizontal step of 1 between columns 0 and 1.
    pred = torch.zeros(1, 1, 2, 3)
    target = torch.tensor([[[[0.0, 1.0, 1.0], [0.0, 1.0, 1.0]]]])
    # |dx| differences: [1, 0] per row -> mean 0.5; dy all zero -> 0.
    assert losses.gradient_difference(pred, target).item() == pytest.approx(0.5)


def test_ms_ssim_of_identical_images_is_one():
    x = torch.rand(3, 1, 64, 64)
    assert torch.allclose(losses.ms_ssim(x, x), torch.ones(3), atol=1e-5)


def test_ms_ssim_drops_with_noise_and_is_per_sample():
    x = torch.rand(2, 1, 64, 64)
    y = x.clone()
    y[1] = (y[1] + 0.3 * torch.randn_like(y[1])).clamp(0, 1)
    value = losses.ms_ssim(x, y)
    assert value[0].item() == pytest.approx(1.0, abs=1e-5)
    assert value[1].item() < 0.9


def test_ms_ssim_levels_follow_image_size():
    assert losses.ms_ssim_levels(256, 256) == 5
    assert losses.ms_ssim_levels(64, 64) == 3
    assert losses.ms_ssim_levels(48, 48) == 3
    assert losses.ms_ssim_levels(8, 8) == 1
    # Tiny images still give a finite value with a finite gradient.
    x = torch.rand(1, 1, 8, 8, requires_grad=True)
    v = losses.ms_ssim(x, torch.rand(1, 1, 8, 8))
    v.sum().backward()
    assert torch.isfinite(x.grad).all()


def test_frame_loss_is_the_weighted_sum():
    x, y = torch.rand(4, 1, 32, 32), torch.rand(4, 1, 32, 32)
    expected = (losses.l1(x, y) + 2 * (1 - losses.ms_ssim(x, y))
                + 3 * losses.gradient_difference(x, y))
    got = losses.frame_loss(x, y, {"l1": 1.0, "msssim": 2.0, "gdl": 3.0})
    assert got.shape == (4,)
    assert torch.allclose(got, expected)
    assert torch.allclose(losses.frame_loss(y, y, W), torch.zeros(4), atol=1e-5)


def test_psnr_by_hand():
    pred = torch.zeros(1, 1, 4, 4)
    target = torch.full((1, 1, 4, 4), 0.1)
    assert losses.psnr(pred, target).item() == pytest.approx(10 * math.log10(1 / 0.01), rel=1e-5)


def test_least_squares_adversarial_by_hand():
    real, fake = torch.tensor([1.0, 0.5]), torch.tensor([0.0, 0.5])
    # D: 1/2 mean((real-1)^2) + 1/2 mean(fake^2) = 1/2*0.125 + 1/2*0.125
    assert losses.lsgan_discriminator(real, fake).item() == pytest.approx(0.125)
    # G: 1/2 mean((fake-1)^2) = 1/2 * (1 + 0.25)/2
    assert losses.lsgan_generator(fake).item() == pytest.approx(0.3125)


def test_frame_loss_is_fp32_inside_bf16_autocast():
    # Flat frames and a close prediction: SSIM's variances are tiny differences of moments,
    # which bf16 cancelled (the loss came out negative or above 1, and -inf in training).
    torch.manual_seed(0)
    y = torch.rand(8, 1, 48, 48) * 0.05 + 0.6
    p = (y + 0.01 * torch.randn_like(y)).clamp(0, 1).requires_grad_()
    exact = losses.frame_loss(p, y, W)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        fast = losses.frame_loss(p, y, W)
    assert fast.dtype == torch.float32
    assert torch.allclose(fast, exact, rtol=1e-5)
    fast.sum().backward()
    assert torch.isfinite(p.grad).all()


def test_patch_error_is_the_largest_patch_mean_absolute_error():
    pred = torch.zeros(2, 1, 32, 32)
    target = torch.zeros(2, 1, 32, 32)
    target[0, 0, 8:16, 8:16] = 1.0  # one 8 x 8 block, on the stride-4 grid of 8-patches
    target[1, 0, 0:4, 0:4] = 0.5  # a quarter of one patch
    got = losses.patch_error(pred, target, 8)
    assert got.tolist() == pytest.approx([1.0, 0.5 / 4])
    # the frame mean dilutes the same block by the frame's area
    assert losses.l1(pred, target)[0].item() == pytest.approx(64 / 1024)
    # channels are averaged; a patch larger than the frame is the whole frame
    rgb = torch.zeros(1, 3, 4, 4)
    rgb[0, 0] = 0.3
    assert losses.patch_error(rgb, torch.zeros_like(rgb), 16).item() == pytest.approx(0.1)
