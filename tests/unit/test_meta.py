"""Functional MAML against hand computations on a one-weight model y = w x."""

import pytest
import torch
from torch import nn

from fsad import meta


class Scale(nn.Module):
    def __init__(self, w: float):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return self.w * x


def mse(out, y):
    return ((out - y) ** 2).mean()


XS, YS = torch.tensor([1.0, 2.0]), torch.tensor([2.0, 2.0])  # support
XQ, YQ = torch.tensor([3.0]), torch.tensor([1.0])  # query
W0, LR = 0.5, 0.1


def support_grad(w):
    # d/dw mean((w x - y)^2) = mean(2 x (w x - y))
    return float(((2 * XS * (w * XS - YS))).mean())


def test_one_sgd_step_equals_hand_computation():
    model = Scale(W0)
    params = meta.parameters(model)
    fast = meta.inner_loop(model, params, XS, YS, mse, steps=1, lr=LR)
    assert fast["w"].item() == pytest.approx(W0 - LR * support_grad(W0))


def test_two_steps_and_adam():
    model = Scale(W0)
    fast = meta.inner_loop(model, meta.parameters(model), XS, YS, mse, steps=2, lr=LR)
    w1 = W0 - LR * support_grad(W0)
    assert fast["w"].item() == pytest.approx(w1 - LR * support_grad(w1))
    # Adam's first step moves by lr * sign(g) (bias-corrected m / sqrt(v)).
    fast = meta.inner_loop(model, meta.parameters(model), XS, YS, mse, steps=1, lr=LR,
                           optimizer="adam")
    assert fast["w"].item() == pytest.approx(W0 - LR * (1 if support_grad(W0) > 0 else -1),
                                             rel=1e-5)


def meta_grad(first_order: bool) -> float:
    model = Scale(W0)
    params = meta.parameters(model)
    fast = meta.inner_loop(model, params, XS, YS, mse, steps=1, lr=LR, first_order=first_order)
    loss = meta.task_loss(model, fast, XQ, YQ, mse)
    (grad,) = torch.autograd.grad(loss, [params["w"]])
    return grad.item()


def test_first_and_second_order_meta_gradients_by_hand():
    w1 = W0 - LR * support_grad(W0)
    dq_dw1 = float((2 * XQ * (w1 * XQ - YQ)).mean())
    # d w1 / d w0 = 1 - lr * d2L/dw2, with d2L/dw2 = mean(2 x^2)
    dw1_dw0 = 1 - LR * float((2 * XS**2).mean())
    assert meta_grad(first_order=True) == pytest.approx(dq_dw1)
    assert meta_grad(first_order=False) == pytest.approx(dq_dw1 * dw1_dw0)
    assert meta_grad(True) != pytest.approx(meta_grad(False))


def test_adapt_writes_the_inner_loop_result_into_the_module():
    model = Scale(W0)
    meta.adapt(model, XS, YS, mse, steps=1, lr=LR)
    assert model.w.item() == pytest.approx(W0 - LR * support_grad(W0))
