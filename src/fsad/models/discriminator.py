"""A patch discriminator in the style of Liu et al. (pix2pix): 4x4 convolutions, leaky
ReLU, no normalisation, one real/fake score per patch. Trained with Eq. 3 (least squares).
"""

from __future__ import annotations

import torch
from torch import nn


class PatchDiscriminator(nn.Module):
    def __init__(self, channels: int, width: int):
        super().__init__()
        layers, cin = [], channels
        for mult in (1, 2, 4):
            layers += [nn.Conv2d(cin, width * mult, 4, stride=2, padding=1),
                       nn.LeakyReLU(0.2, inplace=True)]
            cin = width * mult
        layers.append(nn.Conv2d(cin, 1, 3, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
