"""Functional MAML (Finn et al. 2017) as in the paper's Eq. 1, built on torch.func: the
inner loop produces new parameter tensors from the old ones and never touches the module's
own weights (the authors' code reloaded them from disk).

* ``inner_loop`` is Eq. 1, repeated ``steps`` times with SGD (or Adam), on a task's K
  support windows batched into one forward pass. The same function is the K-shot
  adaptation of a trained model to a new scene (``fsad.adapt.adapt``), so both use one
  update rule; callers pass the fields of one ``fsad.adapt.InnerRule``.
  ``windows_per_step=1`` is the authors' code instead: step s sees support window s
  (cyclically), so K steps see each window once at 1/K of the cost per step.
* ``first_order=True`` drops the second-order terms (FOMAML, what the authors' code did):
  inner gradients are taken on detached weights, and the query gradient at the adapted
  weights is applied to the initial weights. ``False`` keeps the graph through the inner
  steps (full MAML; torch.func.grad composes with the outer autograd).
* ``lr`` as a dict of per-parameter rate tensors is Meta-SGD (Li et al. 2017; MPN's inner
  rule): the rates are meta-learned with the weights (``meta.learn_inner_lr``).
* ``recompute=True`` (second order only) is activation checkpointing of the inner steps:
  each step keeps only its input weights (and Adam moments), and its graph is rebuilt
  during the outer backward, one step at a time. Peak memory then holds one step's graph
  instead of all of them, at the price of a second forward/backward per inner step. The
  meta-gradient is the same. torch.func.grad does not run under checkpointing, so this
  path takes its inner gradients with torch.autograd.grad, one task at a time.
* ``query_losses`` runs several tasks at once: ``torch.func.vmap`` over the task axis turns
  T tasks of K windows into one pass of T x K windows per inner step, each task with its
  own adapted weights. The arithmetic is per task, exactly as in a loop over tasks. A
  single task skips vmap: for wide models, vmap's grouped convolutions were slower.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call, grad, vmap
from torch.utils.checkpoint import checkpoint

Params = dict[str, torch.Tensor]
LossFn = Callable[[object, torch.Tensor], torch.Tensor]  # (model output, target) -> scalar
# (model output, target) -> (scalar outer loss, prediction)
QueryFn = Callable[[object, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def parameters(model: nn.Module) -> Params:
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def task_loss(model: nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor,
              loss_fn: LossFn) -> torch.Tensor:
    return loss_fn(functional_call(model, params, (x,)), y)


def inner_loop(model: nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor,
               loss_fn: LossFn, steps: int, lr: float | Params, optimizer: str = "sgd",
               first_order: bool = True, windows_per_step: int | None = None,
               recompute: bool = False) -> Params:
    """Adapted parameters after ``steps`` updates on (x, y): each step on all K windows
    (``windows_per_step=None``) or on the next ``windows_per_step`` of them, cyclically.

    ``lr`` is one rate, or (Meta-SGD, SGD only) one rate tensor per parameter, shaped like
    it: the update is then lr * gradient elementwise, and the rates get a meta-gradient."""
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"unknown inner optimizer {optimizer!r}")
    per_parameter = isinstance(lr, dict)
    if per_parameter and optimizer != "sgd":
        raise ValueError("learned per-parameter rates (Meta-SGD) scale SGD steps; set "
                         "inner.optimizer: sgd")
    if recompute and first_order:
        raise ValueError("recompute applies to second order only (first order keeps no "
                         "inner graph)")

    def loss_at(p: Params, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return task_loss(model, p, xb, yb, loss_fn)

    support_grad = _graph_grad(loss_at) if recompute else grad(loss_at)
    names = list(params)

    def update(params: Params, state: dict, step: int, xb: torch.Tensor, yb: torch.Tensor):
        # First order: the gradient is a constant of the outer graph, so take it on
        # detached weights and keep the outer autograd out of the inner passes.
        at = {n: p.detach() for n, p in params.items()} if first_order else params
        by_name = support_grad(at, xb, yb)
        grads = [by_name[n] for n in names]
        if per_parameter:
            updates = [lr[n] * g for n, g in zip(names, grads, strict=True)]
        elif optimizer == "sgd":
            updates = [lr * g for g in grads]
        else:
            updates = _adam_updates(grads, state, step, lr)
        return {n: params[n] - u for n, u in zip(names, updates, strict=True)}, state

    state: dict[str, list[torch.Tensor]] = {"m": [], "v": []}
    for step in range(1, steps + 1):
        args = (step, *support_batch(x, y, step, windows_per_step))
        params, state = _recomputed(update, params, state, *args) if recompute else \
            update(params, state, *args)
    return params


def _graph_grad(loss_at: Callable[..., torch.Tensor]):
    """torch.func.grad's contract with torch.autograd.grad, keeping the graph (second
    order); a weight the loss does not use gets a zero gradient, as with func.grad."""
    def support_grad(p: Params, xb: torch.Tensor, yb: torch.Tensor) -> Params:
        grads = torch.autograd.grad(loss_at(p, xb, yb), list(p.values()), create_graph=True,
                                    allow_unused=True, materialize_grads=True)
        return dict(zip(p, grads, strict=True))
    return support_grad


def _recomputed(update, params: Params, state: dict, *args):
    """``update(params, state, *args)`` under activation checkpointing: autograd keeps the
    inputs (weights, Adam moments) and recomputes the step's graph when the outer backward
    reaches it. checkpoint() passes tensors, so the dicts travel flattened."""
    names, n_moments = list(params), len(state["m"])

    def flat_update(*flat: torch.Tensor) -> tuple[torch.Tensor, ...]:
        p = dict(zip(names, flat[:len(names)], strict=True))
        moments = flat[len(names):]
        new_p, new_state = update(p, {"m": list(moments[:n_moments]),
                                      "v": list(moments[n_moments:])}, *args)
        return (*new_p.values(), *new_state["m"], *new_state["v"])

    out = checkpoint(flat_update, *params.values(), *state["m"], *state["v"],
                     use_reentrant=False)
    new_params, moments = out[:len(names)], out[len(names):]
    half = len(moments) // 2
    return (dict(zip(names, new_params, strict=True)),
            {"m": list(moments[:half]), "v": list(moments[half:])})


def support_batch(x: torch.Tensor, y: torch.Tensor, step: int, n: int | None):
    """The windows that inner step ``step`` (from 1) trains on."""
    k = x.shape[0]
    if n is None or n >= k:
        return x, y
    index = [((step - 1) * n + j) % k for j in range(n)]
    return x[index], y[index]


def query_losses(model: nn.Module, params: Params, xs: torch.Tensor, ys: torch.Tensor,
                 xq: torch.Tensor, yq: torch.Tensor, loss_fn: LossFn, query_fn: QueryFn,
                 steps: int, lr: float | Params, optimizer: str = "sgd",
                 first_order: bool = True, windows_per_step: int | None = None,
                 recompute: bool = False):
    """Adapt to T tasks at once and return their query losses (T,) and predictions.

    xs, ys, xq, yq carry a leading task axis: (T, K, ...). ``query_fn(output, target)``
    gives the outer objective of one task and its prediction, e.g. Eq. 2 plus the
    adversarial term. The random draws of stochastic backbones differ per task.
    """
    def one_task(xs_, ys_, xq_, yq_):
        fast = inner_loop(model, params, xs_, ys_, loss_fn, steps, lr, optimizer, first_order,
                          windows_per_step, recompute)
        return query_fn(functional_call(model, fast, (xq_,)), yq_)

    if recompute and xs.shape[0] > 1:
        raise ValueError("recompute adapts one task per pass (meta.tasks_per_pass: 1)")
    if xs.shape[0] == 1:  # one task: plain autograd, which keeps the fast conv kernels
        loss, pred = one_task(xs[0], ys[0], xq[0], yq[0])
        return loss[None], pred[None]
    return vmap(one_task, randomness="different")(xs, ys, xq, yq)


def _adam_updates(grads, state, step: int, lr: float, betas=(0.9, 0.999), eps=1e-8,
                  eps_root=1e-16):
    """Adam (Kingma & Ba) written out functionally so it can sit inside the meta-graph.

    ``eps_root`` (as in optax) sits inside the square root: sqrt has an infinite derivative
    at 0, so a parameter with a zero gradient would turn second-order MAML's meta-gradient
    into NaN; 1e-16 changes nothing else measurably."""
    b1, b2 = betas
    if not state["m"]:
        state["m"] = [torch.zeros_like(g) for g in grads]
        state["v"] = [torch.zeros_like(g) for g in grads]
    updates = []
    for i, g in enumerate(grads):
        state["m"][i] = b1 * state["m"][i] + (1 - b1) * g
        state["v"][i] = b2 * state["v"][i] + (1 - b2) * g * g
        m_hat = state["m"][i] / (1 - b1**step)
        v_hat = state["v"][i] / (1 - b2**step)
        updates.append(lr * m_hat / ((v_hat + eps_root).sqrt() + eps))
    return updates
