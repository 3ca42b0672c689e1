"""r-GAN's generator (supplementary, Sec. 1): every input frame I_T goes through the U-Net,
which predicts the next frame; a ConvLSTM consumes those predictions in order, carrying its
hidden state across the t frames (the authors' code re-initialised it inside the loop, so
its output depended on the last frame only; see docs/method.md); the prediction of I_{t+1}
is read from the final hidden state.

Departure from the authors' code, for speed: their ConvLSTM has 8 layers at full
resolution (93 % of the FLOPs); here one cell of ``lstm_hidden`` channels does the temporal
fusion and a 3x3 head maps its state, together with the U-Net's own last prediction, to the
output frame.
"""

from __future__ import annotations

import torch
from torch import nn

from fsad.models.convlstm import ConvLSTMCell
from fsad.models.unet import UNet


class RGAN(nn.Module):
    def __init__(self, channels: int, widths: list[int], lstm_hidden: int):
        super().__init__()
        self.unet = UNet(channels, channels, widths)
        self.lstm = ConvLSTMCell(channels, lstm_hidden)
        self.head = nn.Conv2d(lstm_hidden + channels, channels, 3, padding=1)

    def per_frame(self, frames: torch.Tensor) -> torch.Tensor:
        """The stage that sees one frame at a time: the U-Net's prediction from each of
        ``frames`` (N, C, H, W)."""
        return self.unet(frames)

    def fuse(self, per_frame: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """The predicted frame from the per-frame outputs of a window, (B, t, C, H, W)."""
        hidden = self.lstm.last_hidden(per_frame)
        return torch.sigmoid(self.head(torch.cat([hidden, per_frame[:, -1]], 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[:2]
        # One batched U-Net pass over all t frames of all windows.
        return self.fuse(self.per_frame(x.flatten(0, 1)).unflatten(0, (b, t)), x.shape[-2:])
