"""Losses of the paper: Eq. 2 (L1 + multi-scale SSIM + gradient difference), Eq. 3 (least
squares adversarial), PSNR for Liu et al.'s score, and the generator's prediction objective
built from them (``objective``: what training, meta-training and adaptation minimise). All
frame losses return one value per sample (shape (B,)), so the same code trains (mean over
the batch) and scores (per frame). Images are float in [0, 1], shape (B, C, H, W).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from fsad.models import split_output

# Wang, Simoncelli & Bovik (2003): per-scale exponents for 5 scales.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
C1, C2 = 0.01**2, 0.03**2  # data range 1


def _gaussian(size: int, sigma: float, device, dtype) -> torch.Tensor:
    x = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _blur(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter, 'valid' (no padding), per channel."""
    c = x.shape[1]
    x = F.conv2d(x, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _ssim_cs(x: torch.Tensor, y: torch.Tensor, g: torch.Tensor):
    # One grouped filter pass over the five moment maps instead of five passes.
    mx, my, exx, eyy, exy = _blur(torch.cat([x, y, x * x, y * y, x * y], 1), g).chunk(5, 1)
    sxx = exx - mx * mx
    syy = eyy - my * my
    sxy = exy - mx * my
    cs = (2 * sxy + C2) / (sxx + syy + C2)
    ssim = ((2 * mx * my + C1) / (mx * mx + my * my + C1)) * cs
    return ssim.flatten(1).mean(1), cs.flatten(1).mean(1)


def ms_ssim_levels(height: int, width: int, window: int = 11) -> int:
    """Scales that fit: the coarsest must still hold one window (5 at 256x256, 3 at 64x64)."""
    side = min(height, width)
    if side < window:
        return 1
    return max(1, min(len(MS_SSIM_WEIGHTS), int(math.floor(math.log2(side / window))) + 1))


def ms_ssim(x: torch.Tensor, y: torch.Tensor, window: int = 11, sigma: float = 1.5) -> torch.Tensor:
    """Multi-scale SSIM per sample. At sizes too small for 5 scales the first L scales are
    used with their exponents renormalised to sum to one (documented in docs/method.md)."""
    h, w = x.shape[-2:]
    side = min(h, w)
    if side < window:  # tiny images: the largest odd window that fits
        window = side if side % 2 else side - 1
    levels = ms_ssim_levels(h, w, window)
    weights = torch.tensor(MS_SSIM_WEIGHTS[:levels], device=x.device, dtype=x.dtype)
    weights = weights / weights.sum()
    g = _gaussian(window, sigma, x.device, x.dtype)
    values = []
    for level in range(levels):
        ssim, cs = _ssim_cs(x, y, g)
        values.append(ssim if level == levels - 1 else cs)
        if level < levels - 1:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    # relu as in the reference implementations, plus a floor: a zero base under a
    # fractional power has an infinite gradient.
    stack = torch.stack(values, 1).clamp_min(1e-6)
    return torch.prod(stack ** weights, dim=1)


def l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return (pred - target).abs().flatten(1).mean(1)


def gradient_difference(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mathieu et al.'s gradient difference loss (alpha = 1), per sample."""
    def grads(z):
        return (z[..., :, 1:] - z[..., :, :-1]).abs(), (z[..., 1:, :] - z[..., :-1, :]).abs()

    pdx, pdy = grads(pred)
    tdx, tdy = grads(target)
    return (pdx - tdx).abs().flatten(1).mean(1) + (pdy - tdy).abs().flatten(1).mean(1)


def frame_loss(pred: torch.Tensor, target: torch.Tensor, weights: dict) -> torch.Tensor:
    """Eq. 2 per sample: w1 L1 + w2 (1 - MS-SSIM) + w3 GDL. Also the anomaly score (Eq. 4).

    Always in fp32, also inside bf16 autocast (CUDA, ``cpu_bf16``): SSIM's variances are
    differences of nearly equal moments, which bf16's 8-bit mantissa cancels to zero or below,
    and the loss came out negative, above 1, or infinite."""
    with torch.autocast(pred.device.type, enabled=False):
        pred, target = pred.float(), target.float()
        loss = weights["l1"] * l1(pred, target)
        if weights["msssim"]:
            loss = loss + weights["msssim"] * (1 - ms_ssim(pred, target))
        if weights["gdl"]:
            loss = loss + weights["gdl"] * gradient_difference(pred, target)
    return loss


def patch_error(pred: torch.Tensor, target: torch.Tensor, size: int) -> torch.Tensor:
    """The largest mean absolute error over the frame's size x size patches (stride
    size // 2; a frame smaller than a patch is one patch), per sample: a frame score that
    one wrongly moving object raises as much in a crowded frame as in an empty one, where
    the frame mean (Eq. 2) dilutes it by the frame's area (``evaluate.patch``)."""
    with torch.autocast(pred.device.type, enabled=False):
        error = (pred.float() - target.float()).abs().mean(1, keepdim=True)
        size = min(size, *error.shape[-2:])
        return F.avg_pool2d(error, size, max(1, size // 2)).flatten(1).amax(1)


def psnr(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """10 log10(1 / MSE) per sample on [0, 1] images (Liu et al.'s regularity score)."""
    mse = (pred - target).pow(2).flatten(1).mean(1).clamp_min(1e-10)
    return -10 * torch.log10(mse)


def lsgan_discriminator(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """Eq. 3: 1/2 MSE(D(real), 1) + 1/2 MSE(D(fake), 0)."""
    return 0.5 * (d_real - 1).pow(2).mean() + 0.5 * d_fake.pow(2).mean()


def lsgan_generator(d_fake: torch.Tensor) -> torch.Tensor:
    """The generator's least-squares adversarial term, 1/2 MSE(D(fake), 1)."""
    return 0.5 * (d_fake - 1).pow(2).mean()


def objective(weights: dict):
    """The generator's prediction objective: mean Eq. 2 loss (+ the backbone's regulariser,
    e.g. r-VAE's KL term), as a ``loss_fn(model output, target)``."""
    def loss_fn(out, target: torch.Tensor) -> torch.Tensor:
        pred, reg = split_output(out)
        loss = frame_loss(pred, target, weights).mean()
        return loss if reg is None else loss + reg.mean()
    return loss_fn
