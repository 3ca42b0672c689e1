"""Functional MAML against hand computations on a one-weight model y = w x."""

import pytest
import torch
from torch import nn

from fsad import meta
from tests.helpers.models import Scale


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


def test_one_window_per_step_cycles_through_the_support_windows():
    # The authors' inner loop: step s trains on support window s (mod K) alone.
    def grad_on(i, w):
        return float(2 * XS[i] * (w * XS[i] - YS[i]))

    w = W0
    for step in range(3):  # windows 0, 1, 0
        w -= LR * grad_on(step % 2, w)
    model = Scale(W0)
    fast = meta.inner_loop(model, meta.parameters(model), XS, YS, mse, steps=3, lr=LR,
                           windows_per_step=1)
    assert fast["w"].item() == pytest.approx(w)
    # At least K windows per step is Eq. 1 on the whole support set.
    every = meta.inner_loop(model, meta.parameters(model), XS, YS, mse, steps=1, lr=LR,
                            windows_per_step=5)
    assert every["w"].item() == pytest.approx(W0 - LR * support_grad(W0))


# --- several tasks in one batched (vmap) pass, on the real r-GAN and Eq. 2 ---

def _rgan_tasks(tasks=3, shots=2, size=16):
    from fsad.losses import objective
    from fsad.models import build

    torch.manual_seed(0)
    g, _ = build("rgan", {"widths": [4, 8], "lstm_hidden": 4, "disc_width": 4}, 1)
    # float64: float32 sums differ between batch sizes, and second-order Adam (a division
    # by sqrt(v)) amplifies that noise to ~1 %; in float64 the paths agree to ~1e-15.
    g = g.double()
    gen = torch.Generator().manual_seed(1)
    xs, xq = (torch.rand(tasks, shots, 3, 1, size, size, generator=gen, dtype=torch.float64)
              for _ in range(2))
    ys, yq = (torch.rand(tasks, shots, 1, size, size, generator=gen, dtype=torch.float64)
              for _ in range(2))
    return g, objective({"l1": 1.0, "msssim": 1.0, "gdl": 1.0}), (xs, ys, xq, yq)


def _inner_by_hand(model, params, x, y, loss_fn, steps, optimizer, first_order):
    """The inner loop written out with torch.autograd.grad (lr 0.01): the reference the
    functional implementation is checked against."""
    names, state = list(params), {"m": [], "v": []}
    for step in range(1, steps + 1):
        loss = meta.task_loss(model, params, x, y, loss_fn)
        grads = torch.autograd.grad(loss, [params[n] for n in names],
                                    create_graph=not first_order)
        ups = ([0.01 * g for g in grads] if optimizer == "sgd"
               else meta._adam_updates(grads, state, step, 0.01))
        params = {n: params[n] - u for n, u in zip(names, ups, strict=True)}
    return params


def _meta_gradient(model, loss_fn, data, optimizer, first_order, per_pass, recompute=False):
    """Meta-gradient of the mean query loss, tasks ``per_pass`` at a time (0: by hand,
    with torch.autograd.grad in a Python loop over tasks, the pre-vmap implementation)."""
    xs, ys, xq, yq = data
    theta = meta.parameters(model)
    for p in theta.values():
        p.grad = None
    tasks = len(xs)
    for first in range(0, tasks, per_pass or 1):
        sl = slice(first, first + (per_pass or 1))
        if per_pass:
            q, _ = meta.query_losses(model, theta, xs[sl], ys[sl], xq[sl], yq[sl], loss_fn,
                                     lambda out, y: (loss_fn(out, y), out), 2, 0.01,
                                     optimizer, first_order, recompute=recompute)
        else:
            params = _inner_by_hand(model, dict(theta), xs[first], ys[first], loss_fn, 2,
                                    optimizer, first_order)
            q = loss_fn(torch.func.functional_call(model, params, (xq[first],)), yq[first])
        (q.sum() / tasks).backward()
    return torch.cat([p.grad.flatten() for p in theta.values()])


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("first_order", [True, False])
def test_batched_tasks_give_the_meta_gradient_of_a_loop_over_tasks(optimizer, first_order):
    model, loss_fn, data = _rgan_tasks()
    by_hand = _meta_gradient(model, loss_fn, data, optimizer, first_order, per_pass=0)
    assert torch.isfinite(by_hand).all() and by_hand.abs().max() > 0
    for per_pass in (1, 3):
        got = _meta_gradient(model, loss_fn, data, optimizer, first_order, per_pass)
        assert (got - by_hand).abs().max() <= 1e-9 * by_hand.abs().max(), per_pass


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_recomputed_inner_steps_give_the_same_second_order_meta_gradient(optimizer):
    model, loss_fn, data = _rgan_tasks()
    by_hand = _meta_gradient(model, loss_fn, data, optimizer, False, per_pass=0)
    got = _meta_gradient(model, loss_fn, data, optimizer, False, per_pass=1, recompute=True)
    assert (got - by_hand).abs().max() <= 1e-9 * by_hand.abs().max()


def _saved_bytes(recompute: bool, steps: int) -> int:
    """Bytes autograd keeps for the outer backward after ``steps`` second-order inner
    Adam steps on one task (what recomputation is there to cut). Without recomputation
    the steps run by hand with torch.autograd.grad: torch.func.grad refuses the counting
    hooks, and both keep the same graph."""
    model, loss_fn, (xs, ys, _, _) = _rgan_tasks(tasks=1, shots=2, size=32)
    theta, kept = meta.parameters(model), []

    def pack(t: torch.Tensor) -> torch.Tensor:
        kept.append(t.numel() * t.element_size())
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        if recompute:
            meta.inner_loop(model, theta, xs[0], ys[0], loss_fn, steps, 0.01, "adam",
                            first_order=False, recompute=True)
        else:
            _inner_by_hand(model, dict(theta), xs[0], ys[0], loss_fn, steps, "adam",
                           first_order=False)
    return sum(kept)


def test_recomputation_keeps_far_less_for_the_backward_and_grows_by_weights_only():
    n_weights = sum(p.numel() * p.element_size() for p in _rgan_tasks()[0].parameters())
    plain = [_saved_bytes(False, steps) for steps in (1, 2)]
    recomputed = [_saved_bytes(True, steps) for steps in (1, 2)]
    assert recomputed[1] < plain[1] / 5
    # a recomputed step keeps its inputs: weights and two Adam moments (none at step 1)
    assert recomputed[1] - recomputed[0] <= 3 * n_weights < plain[1] - plain[0]


def test_recompute_is_for_second_order_and_one_task_per_pass():
    model, loss_fn, (xs, ys, xq, yq) = _rgan_tasks(tasks=2, shots=1)
    with pytest.raises(ValueError, match="second order only"):
        meta.inner_loop(model, meta.parameters(model), xs[0], ys[0], loss_fn, 1, 0.01,
                        recompute=True)
    with pytest.raises(ValueError, match="one task per pass"):
        meta.query_losses(model, meta.parameters(model), xs, ys, xq, yq, loss_fn,
                          lambda out, y: (loss_fn(out, y), out), 1, 0.01, first_order=False,
                          recompute=True)


@pytest.mark.parametrize("recompute", [False, True])
def test_second_order_adam_survives_a_parameter_with_zero_gradient(recompute):
    class Unused(Scale):
        def __init__(self):
            super().__init__(W0)
            self.spare = nn.Parameter(torch.tensor(1.0))  # never used: gradient exactly 0

    model = Unused()
    params = meta.parameters(model)
    fast = meta.inner_loop(model, params, XS, YS, mse, steps=2, lr=LR, optimizer="adam",
                           first_order=False, recompute=recompute)
    grads = torch.autograd.grad(meta.task_loss(model, fast, XQ, YQ, mse),
                                list(params.values()), allow_unused=True)
    assert all(g is None or torch.isfinite(g).all() for g in grads)


def test_one_window_per_step_under_vmap_matches_each_task_alone():
    model, loss_fn, (xs, ys, xq, yq) = _rgan_tasks(tasks=2, shots=3)
    theta = meta.parameters(model)
    batched, _ = meta.query_losses(model, theta, xs, ys, xq, yq, loss_fn,
                                   lambda out, y: (loss_fn(out, y), out), 3, 0.01, "adam",
                                   windows_per_step=1)
    for i in range(2):
        fast = meta.inner_loop(model, theta, xs[i], ys[i], loss_fn, 3, 0.01, "adam",
                               windows_per_step=1)
        alone = meta.task_loss(model, fast, xq[i], yq[i], loss_fn)
        assert batched[i].item() == pytest.approx(alone.item(), rel=1e-9)
    every, _ = meta.query_losses(model, theta, xs, ys, xq, yq, loss_fn,
                                 lambda out, y: (loss_fn(out, y), out), 3, 0.01, "adam")
    assert not torch.allclose(every, batched)  # the rule does change the adaptation


def test_per_parameter_rates_scale_each_update_and_get_a_meta_gradient():
    """Meta-SGD: with a rate tensor per weight, the step is rate * gradient, and the query
    loss has a gradient with respect to the rate (even first order)."""
    model = Scale(W0)
    params = meta.parameters(model)
    rate = torch.tensor(LR, requires_grad=True)
    fast = meta.inner_loop(model, params, XS, YS, mse, steps=1, lr={"w": rate})
    assert fast["w"].item() == pytest.approx(W0 - LR * support_grad(W0))
    w1 = W0 - LR * support_grad(W0)
    loss = meta.task_loss(model, fast, XQ, YQ, mse)
    (g_rate,) = torch.autograd.grad(loss, [rate])
    # d query / d rate = d query / d w1 * d w1 / d rate = dq_dw1 * (-support_grad(W0))
    dq_dw1 = float((2 * XQ * (w1 * XQ - YQ)).mean())
    assert g_rate.item() == pytest.approx(-dq_dw1 * support_grad(W0))
    with pytest.raises(ValueError, match="Meta-SGD"):
        meta.inner_loop(model, params, XS, YS, mse, steps=1, lr={"w": rate},
                        optimizer="adam")
