"""Backbones by name. Each builder returns (generator, discriminator) for frames with
``channels`` channels; a generator maps x (B, t, C, H, W) in [0, 1] to the predicted next
frame (B, C, H, W) in [0, 1], or to (prediction, per-sample regulariser) for backbones with
an extra term such as a KL divergence. Train, adapt and score code never branches on the
backbone's name.

Every generator is a per-frame stage followed by a temporal fusion, and exposes both:
``per_frame(frames)`` maps N frames (N, C, H, W) one at a time, ``fuse(per_frame, size)``
maps the per-frame outputs of B windows (B, t, ...) to their predicted frames of ``size``
(H, W); ``forward(x)`` is ``fuse`` of ``per_frame`` of the windows' frames. Scoring a
video computes each frame's per-frame stage once, not once for each of the t windows that
hold it (``fsad.predict.predict_clip``).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from fsad import FsadError


def _rgan(cfg: dict, channels: int):
    from fsad.models.discriminator import PatchDiscriminator
    from fsad.models.rgan import RGAN

    return (RGAN(channels, cfg["widths"], cfg["lstm_hidden"]),
            PatchDiscriminator(channels, cfg["disc_width"]))


def _rgan_star(cfg: dict, channels: int):
    from fsad.models.discriminator import PatchDiscriminator
    from fsad.models.rgan_star import RGANStar

    return (RGANStar(channels, cfg["widths"], cfg["latent_channels"], cfg["latent_stride"]),
            PatchDiscriminator(channels, cfg["disc_width"]))


def _rvae(cfg: dict, channels: int):
    from fsad.models.discriminator import PatchDiscriminator
    from fsad.models.rvae import RVAE

    return (RVAE(channels, cfg["widths"], cfg["lstm_hidden"], cfg["latent_channels"],
                 cfg["kl_weight"], cfg["vgg_width_divisor"], cfg["vgg_weights"]),
            PatchDiscriminator(channels, cfg["disc_width"]))


BACKBONES: dict[str, Callable[[dict, int], tuple[nn.Module, nn.Module]]] = {
    "rgan": _rgan,
    "rgan_star": _rgan_star,
    "rvae": _rvae,
}


def build(name: str, cfg: dict, channels: int) -> tuple[nn.Module, nn.Module]:
    if name not in BACKBONES:
        raise FsadError(f"unknown backbone '{name}' (known: {', '.join(BACKBONES)})")
    return BACKBONES[name](cfg, channels)


def split_output(out):
    """(prediction, regulariser or None) from a generator's output."""
    return out if isinstance(out, tuple) else (out, None)
