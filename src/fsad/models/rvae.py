"""r-VAE (supplementary, Sec. 3): an inference network q(z | I_T) with a VGG16 backbone gives
the mean and log-variance of a Gaussian latent; a decoder p(I_{T+1} | z) predicts the next
frame from a sample of z; as in r-GAN, the predictions pass through a ConvLSTM that carries
the temporal state. Objective (Supp. Eq. 7): the prediction term (the Eq. 2 loss, as the
negative log-likelihood surrogate) plus ``kl_weight`` x KL(q(z|I_T) || N(0, I)), averaged
over the t frames. Scoring uses the mean (z = mu), as in eval mode.

The backbone is torchvision's VGG16 layout (configuration "D") up to its fourth pooling
(512 x H/16 x W/16, as in the authors' VRNN), randomly initialised (no weights can be
downloaded here); ``vgg_weights`` loads a local torchvision VGG16 state_dict. For CPU-sized
runs ``vgg_width_divisor`` divides every VGG width (1 = the real VGG16, required for loading
weights). Gray frames are repeated to three channels for the VGG input.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models.vgg import cfgs, make_layers

from fsad import FsadError
from fsad.models.convlstm import ConvLSTMCell
from fsad.models.unet import double_conv, upsample_through

VGG16_TO_POOL4 = cfgs["D"][: cfgs["D"].index("M", 13) + 1]  # conv1_1 .. pool4


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(0, 1)) per sample, averaged over latent elements."""
    kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)
    return kl.flatten(1).mean(1)


class RVAE(nn.Module):
    def __init__(self, channels: int, widths: list[int], lstm_hidden: int, latent_channels: int,
                 kl_weight: float, vgg_width_divisor: int = 1, vgg_weights: str | None = None):
        super().__init__()
        self.channels, self.kl_weight = channels, kl_weight
        layout = [v if v == "M" else max(1, v // vgg_width_divisor) for v in VGG16_TO_POOL4]
        self.vgg = make_layers(layout)
        if vgg_weights:
            self._load_vgg(vgg_weights, vgg_width_divisor)
        feat = layout[-2]
        self.mu = nn.Conv2d(feat, latent_channels, 1)
        self.logvar = nn.Conv2d(feat, latent_channels, 1)
        # Decoder: 4 bilinear up-samplings back to the frame size, widths from the config.
        w = [widths[min(i, len(widths) - 1)] for i in range(5)]
        self.from_latent = nn.Conv2d(latent_channels, w[-1], 1)
        self.decoder = nn.ModuleList(double_conv(w[i + 1], w[i]) for i in reversed(range(4)))
        self.to_frame = nn.Conv2d(w[0], channels, 1)
        self.lstm = ConvLSTMCell(channels, lstm_hidden)
        self.head = nn.Conv2d(lstm_hidden + channels, channels, 3, padding=1)

    def _load_vgg(self, path: str, divisor: int) -> None:
        if divisor != 1:
            raise FsadError("model.vgg_weights needs model.vgg_width_divisor: 1 (the real VGG16)")
        state = torch.load(path, map_location="cpu", weights_only=True)
        features = {k.removeprefix("features."): v for k, v in state.items()
                    if k.startswith("features.")}
        own = self.vgg.state_dict()
        missing = set(own) - set(features)
        if missing:
            raise FsadError(f"{path}: not a torchvision VGG16 state_dict (missing "
                            f"{sorted(missing)[:3]})")
        self.vgg.load_state_dict({k: features[k] for k in own})

    def _encode_decode(self, frames: torch.Tensor):
        """Each of ``frames`` (N, C, H, W) through q(z | I_T) and the decoder: the per-frame
        prediction, and the latent's mean and log-variance."""
        size = frames.shape[-2:]
        if frames.shape[1] == 1:
            frames = frames.expand(-1, 3, -1, -1)
        feat = self.vgg(frames)
        mu, logvar = self.mu(feat), self.logvar(feat).clamp(-10, 10)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        y = upsample_through(self.decoder, self.from_latent(z), size)
        return self.to_frame(y), mu, logvar

    def per_frame(self, frames: torch.Tensor) -> torch.Tensor:
        """The stage that sees one frame at a time: the decoder's prediction from each of
        ``frames``."""
        return self._encode_decode(frames)[0]

    def fuse(self, per_frame: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """The predicted frame from the per-frame outputs of a window, (B, t, C, H, W)."""
        hidden = self.lstm.last_hidden(per_frame)
        return torch.sigmoid(self.head(torch.cat([hidden, per_frame[:, -1]], 1)))

    def forward(self, x: torch.Tensor):
        b, t = x.shape[:2]
        per_frame, mu, logvar = self._encode_decode(x.flatten(0, 1))
        pred = self.fuse(per_frame.unflatten(0, (b, t)), x.shape[-2:])
        kl = kl_standard_normal(mu, logvar).unflatten(0, (b, t)).mean(1)
        return pred, self.kl_weight * kl
