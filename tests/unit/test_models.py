import pytest
import torch

from fsad import FsadError
from fsad.models import build
from fsad.models.convlstm import ConvLSTMCell

CFG = {"t": 3, "widths": [4, 8, 16], "lstm_hidden": 4, "disc_width": 4}


@pytest.mark.parametrize("size,channels", [(32, 1), (48, 3), (40, 1)])
def test_rgan_shapes(size, channels):
    g, d = build("rgan", CFG, channels)
    x = torch.rand(2, 3, channels, size, size)
    pred = g(x)
    assert pred.shape == (2, channels, size, size)
    assert pred.min() >= 0 and pred.max() <= 1
    assert d(pred).shape[:2] == (2, 1)


def test_convlstm_carries_state_across_frames():
    """The output must depend on the first frame, not only the last (the authors' code
    re-initialised the state in the loop, which made it depend on the last frame only)."""
    torch.manual_seed(0)
    g, _ = build("rgan", CFG, 1)
    x = torch.rand(1, 3, 1, 32, 32)
    y = x.clone()
    y[:, 0] = torch.rand(1, 1, 32, 32)
    assert not torch.allclose(g(x), g(y))


def test_convlstm_cell_shapes():
    cell = ConvLSTMCell(3, 5)
    h, c = cell(torch.rand(2, 3, 8, 8))
    assert h.shape == c.shape == (2, 5, 8, 8)


def test_unknown_backbone():
    with pytest.raises(FsadError, match="unknown backbone"):
        build("nope", CFG, 1)


def test_every_parameter_gets_a_gradient():
    g, d = build("rgan", CFG, 1)
    pred = g(torch.rand(2, 3, 1, 32, 32))
    (pred.mean() + d(pred).mean()).backward()
    for name, p in [*g.named_parameters(), *d.named_parameters()]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name
