"""The U-Net of Liu et al. (2018) as used by r-GAN: double 3x3 convolutions, max-pooling
down, bilinear up-sampling with skip concatenation. No normalisation layers, as in Liu's
generator; this also keeps functional MAML free of running statistics. ``skips=False``
gives the plain autoencoder r-GAN* builds on.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from fsad.device import resize


def double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU(inplace=True),
    )


def upsample_through(blocks: nn.ModuleList, x: torch.Tensor, size) -> torch.Tensor:
    """Skip-less decoding: before each block, bilinear up-sampling to the frame ``size``
    divided by the remaining power of two, so odd sizes come out exact."""
    for i, block in enumerate(blocks):
        left = len(blocks) - i - 1
        target = (math.ceil(size[0] / 2**left), math.ceil(size[1] / 2**left))
        x = block(resize(x, target))
    return x


class UNet(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, widths: list[int]):
        super().__init__()
        self.down = nn.ModuleList()
        cin = in_channels
        for w in widths:
            self.down.append(double_conv(cin, w))
            cin = w
        self.up = nn.ModuleList(
            double_conv(widths[i + 1] + widths[i], widths[i])
            for i in reversed(range(len(widths) - 1))
        )
        self.out = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, block in enumerate(self.down):
            if i:
                x = F.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        skips.pop()
        for block in self.up:
            skip = skips.pop()
            x = resize(x, skip.shape[-2:])
            x = block(torch.cat([x, skip], 1))
        return self.out(x)
