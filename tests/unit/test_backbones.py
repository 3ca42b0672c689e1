"""All three backbones through the same code: shapes, the r-GAN* latent, the r-VAE KL term,
a training step that lowers the loss, gradients everywhere, and meta-training."""

import pytest
import torch

from fsad import config as cfgmod
from fsad.losses import objective
from fsad.models import build, split_output
from fsad.models.rvae import kl_standard_normal
from fsad.train import meta_train, pretrain

MODEL = {"t": 3, "widths": [4, 8, 8], "lstm_hidden": 4, "disc_width": 4, "latent_channels": 8,
         "latent_stride": 16, "kl_weight": 0.01, "vgg_width_divisor": 16, "vgg_weights": None}
BACKBONES = ["rgan", "rgan_star", "rvae"]


@pytest.mark.parametrize("name", BACKBONES)
@pytest.mark.parametrize("size,channels", [(32, 1), (48, 3)])
def test_shapes(name, size, channels):
    g, d = build(name, MODEL, channels)
    pred, reg = split_output(g(torch.rand(2, 3, channels, size, size)))
    assert pred.shape == (2, channels, size, size)
    assert reg is None or reg.shape == (2,)
    assert d(pred).shape[:2] == (2, 1)


def test_rgan_star_latent_is_16x16x32_at_256():
    g, _ = build("rgan_star", {**MODEL, "latent_channels": 32}, 3)
    assert g.encode(torch.rand(1, 3, 256, 256)).shape == (1, 32, 16, 16)


def test_kl_against_hand_computation():
    mu = torch.tensor([[0.0, 1.0]])
    logvar = torch.tensor([[0.0, 2.0]])
    # 0.5 * (mu^2 + e^logvar - 1 - logvar): element 1: 0; element 2: 0.5 * (1 + e^2 - 3)
    expected = (0.0 + 0.5 * (1 + torch.e**2 - 1 - 2)) / 2
    assert kl_standard_normal(mu, logvar).item() == pytest.approx(expected)


def test_rvae_scores_with_the_mean():
    # A fixed initialisation: with an unlucky one (it depended on which tests ran first)
    # the decoder's ReLUs were dead at init and the sampled latent did not reach the output.
    torch.manual_seed(0)
    g, _ = build("rvae", MODEL, 1)
    x = torch.rand(2, 3, 1, 32, 32)
    g.eval()
    assert torch.equal(split_output(g(x))[0], split_output(g(x))[0])
    g.train()
    torch.manual_seed(0)
    a = split_output(g(x))[0]
    torch.manual_seed(1)
    assert not torch.equal(a, split_output(g(x))[0])  # sampled z while training


@pytest.mark.parametrize("name", BACKBONES)
def test_one_step_lowers_the_loss_and_reaches_every_parameter(name):
    torch.manual_seed(0)
    g, _ = build(name, MODEL, 1)
    g.eval()  # deterministic forward for the before/after comparison (r-VAE: z = mu)
    loss_fn = objective({"l1": 1.0, "msssim": 1.0, "gdl": 1.0})
    x, y = torch.rand(4, 3, 1, 32, 32), torch.rand(4, 1, 32, 32)
    opt = torch.optim.Adam(g.parameters(), lr=1e-3)
    before = loss_fn(g(x), y)
    before.backward()
    for pname, p in g.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, pname
    opt.step()
    assert loss_fn(g(x), y).item() < before.item()


@pytest.mark.parametrize("name", BACKBONES)
def test_meta_training_on_the_tiny_benchmark(name, tiny_store, tmp_path):
    cfg = cfgmod.load(overrides={
        "device": "cpu", "model": MODEL,
        "sources": {"synthetic": {"dataset": "synthetic", "scenes": None}},
        "pretrain": {"steps": 2, "batch_size": 2, "checkpoint_every": 1},
        "meta": {"iterations": 2, "tasks": 2, "checkpoint_every": 1},
        "inner": {"steps": 1, "lr": 0.01}})
    pretrain(cfg, tiny_store, "synthetic", name, tmp_path / "pre.pt")
    meta_train(cfg, tiny_store, "synthetic", name, tmp_path / "pre.pt", 2, tmp_path / "m.pt")
    assert (tmp_path / "m.pt").is_file()


@pytest.mark.parametrize("name", BACKBONES)
def test_recomputed_inner_steps_give_every_backbone_the_same_meta_gradient(name, monkeypatch):
    """Second order with ``recompute`` rebuilds each inner step during the backward; the
    r-VAE's sampled latents must be drawn again identically (checkpoint restores the RNG)."""
    from fsad import meta

    torch.manual_seed(0)
    g, _ = build(name, MODEL, 1)
    g = g.double()
    loss_fn = objective({"l1": 1.0, "msssim": 1.0, "gdl": 1.0})
    data = [torch.rand(1, 2, *shape, dtype=torch.float64)
            for shape in ((3, 1, 32, 32), (1, 32, 32), (3, 1, 32, 32), (1, 32, 32))]

    def meta_gradient(recompute: bool) -> list[torch.Tensor]:
        theta = meta.parameters(g)
        torch.manual_seed(1)
        q, _ = meta.query_losses(g, theta, *data, loss_fn,
                                 lambda out, y: (loss_fn(out, y), split_output(out)[0]),
                                 2, 0.01, "adam", first_order=False, recompute=recompute)
        return list(torch.autograd.grad(q.sum(), list(theta.values())))

    plain, recomputed = meta_gradient(False), meta_gradient(True)
    assert any(p.abs().max() > 0 for p in plain)
    # Against the graph kept whole (the same step function, checkpoint() a direct call):
    # recomputation changes nothing, to the bit.
    monkeypatch.setattr(meta, "checkpoint", lambda fn, *args, **kw: fn(*args))
    assert all(torch.equal(a, b) for a, b in zip(meta_gradient(True), recomputed, strict=True))
    # Against torch.func.grad's path: the same up to summation order, which Adam's
    # division by sqrt(v) amplifies from 1e-16 to about 3e-8 here.
    for a, b in zip(plain, recomputed, strict=True):
        assert (a - b).abs().max() <= 1e-6 * a.abs().max()
