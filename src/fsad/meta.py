"""Functional MAML (Finn et al. 2017) as in the paper's Eq. 1, built on
torch.func.functional_call: the inner loop produces new parameter tensors from the old ones
and never touches the module's own weights (the authors' code reloaded them from disk).

* ``inner_loop`` is Eq. 1, repeated ``steps`` times with SGD (or Adam), on a task's K
  support windows batched into one forward pass. The same function is the K-shot
  adaptation of a trained model to a new scene, so both use one update rule.
* ``first_order=True`` drops the second-order terms (FOMAML, what the authors' code did):
  inner gradients are detached, and the query gradient at the adapted weights is applied to
  the initial weights. ``False`` keeps the graph through the inner steps (full MAML).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.func import functional_call

Params = dict[str, torch.Tensor]
LossFn = Callable[[object, torch.Tensor], torch.Tensor]  # (model output, target) -> scalar


def parameters(model: nn.Module) -> Params:
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def task_loss(model: nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor,
              loss_fn: LossFn) -> torch.Tensor:
    return loss_fn(functional_call(model, params, (x,)), y)


def inner_loop(model: nn.Module, params: Params, x: torch.Tensor, y: torch.Tensor,
               loss_fn: LossFn, steps: int, lr: float, optimizer: str = "sgd",
               first_order: bool = True) -> Params:
    """Adapted parameters after ``steps`` updates on (x, y)."""
    create_graph = not first_order
    names = list(params)
    state: dict[str, list[torch.Tensor]] = {"m": [], "v": []}
    for step in range(1, steps + 1):
        loss = task_loss(model, params, x, y, loss_fn)
        grads = torch.autograd.grad(loss, [params[n] for n in names], create_graph=create_graph)
        if optimizer == "sgd":
            updates = [lr * g for g in grads]
        elif optimizer == "adam":
            updates = _adam_updates(grads, state, step, lr)
        else:
            raise ValueError(f"unknown inner optimizer {optimizer!r}")
        params = {n: params[n] - u for n, u in zip(names, updates, strict=True)}
    return params


def _adam_updates(grads, state, step: int, lr: float, betas=(0.9, 0.999), eps=1e-8):
    """Adam (Kingma & Ba) written out functionally so it can sit inside the meta-graph."""
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
        updates.append(lr * m_hat / (v_hat.sqrt() + eps))
    return updates


def adapt(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn: LossFn, steps: int,
          lr: float, optimizer: str = "sgd") -> nn.Module:
    """K-shot adaptation: run the inner loop on (x, y) and write the result into ``model``."""
    params = {n: p.detach().requires_grad_(True) for n, p in parameters(model).items()}
    adapted = inner_loop(model, params, x, y, loss_fn, steps, lr, optimizer, first_order=True)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name in adapted:
                p.copy_(adapted[name])
    return model
