"""r-GAN* (supplementary, Sec. 2): the r-GAN U-Net without skip connections, used as an
autoencoder. The encoder maps each frame to a latent phi(I_T) of H/16 x W/16 x F (16x16x32
at 256x256); a ConvLSTM runs over the latents of the t frames (Supp. Eq. 5), its state the
size of phi; the decoder up-samples the last hidden state into the predicted frame.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from fsad.models.convlstm import ConvLSTMCell
from fsad.models.unet import double_conv, upsample_through


class RGANStar(nn.Module):
    def __init__(self, channels: int, widths: list[int], latent_channels: int = 32,
                 latent_stride: int = 16):
        super().__init__()
        levels = int(math.log2(latent_stride)) + 1
        if 2 ** (levels - 1) != latent_stride:
            raise ValueError(f"latent_stride must be a power of two, got {latent_stride}")
        # As many levels as the stride needs; widths beyond the list repeat its last entry.
        w = [widths[min(i, len(widths) - 1)] for i in range(levels)]
        self.encoder = nn.ModuleList(
            double_conv(channels if i == 0 else w[i - 1], w[i]) for i in range(levels))
        self.to_latent = nn.Conv2d(w[-1], latent_channels, 1)
        self.lstm = ConvLSTMCell(latent_channels, latent_channels)
        self.from_latent = nn.Conv2d(latent_channels, w[-1], 1)
        self.decoder = nn.ModuleList(
            double_conv(w[i + 1], w[i]) for i in reversed(range(levels - 1)))
        self.out = nn.Conv2d(w[0], channels, 3, padding=1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.encoder):
            if i:
                x = F.max_pool2d(x, 2)
            x = block(x)
        return self.to_latent(x)

    def decode(self, h: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        x = upsample_through(self.decoder, self.from_latent(h), size)
        return torch.sigmoid(self.out(x))

    def per_frame(self, frames: torch.Tensor) -> torch.Tensor:
        """The stage that sees one frame at a time: the latent of each of ``frames``."""
        return self.encode(frames)

    def fuse(self, latents: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """The predicted frame (of ``size``) from the latents of a window, (B, t, F, h, w)."""
        return self.decode(self.lstm.last_hidden(latents), size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[:2]
        return self.fuse(self.encode(x.flatten(0, 1)).unflatten(0, (b, t)), x.shape[-2:])
