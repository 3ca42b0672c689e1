"""Batched prediction, written once: windows in, the per-frame Eq. 2 loss and PSNR of the
predicted frames out. Scoring (``fsad.score``) and ``fsad detect`` both call
:func:`predict_clip`, so a frame's score cannot differ between them."""

from __future__ import annotations

import math

import torch
from torch import nn

from fsad import FsadError
from fsad.device import autocast
from fsad.losses import frame_loss, patch_error, psnr
from fsad.models import split_output


@torch.no_grad()
def predict(generator: nn.Module, x: torch.Tensor, y: torch.Tensor,
            loss_weights: dict, patch: int | None = None) -> tuple[list[float], list[float]]:
    """Eq. 2 loss (weights ``loss_weights``) and PSNR of the generator's prediction of each
    window's frame ``y`` (B, C, H, W) from its ``x`` (B, t, C, H, W), in eval mode, where the
    generator's weights are and on that device's path (bf16 autocast on CUDA); the losses
    are taken in fp32. ``patch`` (``evaluate.patch``): the patch score
    (``fsad.losses.patch_error``) in place of the Eq. 2 loss."""
    device = next(generator.parameters()).device
    generator.eval()
    x, y = x.to(device), y.to(device)
    with autocast(device):
        pred = split_output(generator(x))[0]
    pred = pred.float()
    score = patch_error(pred, y, patch) if patch else frame_loss(pred, y, loss_weights)
    return score.tolist(), psnr(pred, y).tolist()


@torch.no_grad()
def predict_clip(generator: nn.Module, clip: torch.Tensor, t: int, loss_weights: dict,
                 patch: int | None = None) -> tuple[list[float], list[float]]:
    """:func:`predict` for every window of one clip (n, C, H, W), n > t: the scores of its
    frames t .. n-1, each predicted from the t frames before it. The generator's per-frame
    stage (``per_frame``, fsad.models) runs once per frame of the clip instead of once per
    window that holds it, t times fewer; the windows' predictions are the same up to float
    rounding."""
    device = next(generator.parameters()).device
    generator.eval()
    clip = clip.to(device)
    with autocast(device):
        pred = clip_predictions(generator, clip, t)
    pred, y = pred.float(), clip[t:]
    score = patch_error(pred, y, patch) if patch else frame_loss(pred, y, loss_weights)
    return score.tolist(), psnr(pred, y).tolist()


def clip_predictions(generator: nn.Module, clip: torch.Tensor, t: int) -> torch.Tensor:
    """The generator's predictions of frames t .. n-1 of ``clip`` (n, C, H, W), n > t, each
    from the t frames before it, with the per-frame stage run once per frame."""
    n = len(clip)
    if n <= t:
        raise ValueError(f"a clip of {n} frames has no window of t + 1 = {t + 1}")
    per_frame = generator.per_frame(clip)
    windows = torch.stack([per_frame[i:i + t] for i in range(n - t)])
    return generator.fuse(windows, clip.shape[-2:])


def finite_loss(loss: float, where: str, adapted: bool) -> float:
    """``loss``, if it is a number: a NaN or infinite loss is no score and must never reach a
    results file as if it were one. ``where`` names the frame; ``adapted`` says whether the
    model was adapted just before (then the adaptation rate is what to lower)."""
    if not math.isfinite(loss):
        fix = ("the adapted model is not finite; lower the adaptation rate (inner.lr, or --lr "
               "of fsad detect)" if adapted else
               "the model does not give finite predictions; retrain it (a lower learning "
               "rate, or grad_clip)")
        raise FsadError(f"{where}: the prediction's loss is {loss}: {fix}")
    return loss
