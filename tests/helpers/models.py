"""Tiny models whose gradients can be computed by hand (the MAML and adaptation tests)."""

import torch
from torch import nn


class Scale(nn.Module):
    """y = w x on (B, 1) samples: one weight, so every update can be checked by hand."""

    def __init__(self, w: float):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return self.w * x
