"""bench/meta_gradient_check.py: the noise scale of per-task meta-gradients and the line
search along their mean (its figures are in docs/benchmarks.md)."""

import sys

import torch

from fsad.adapt import InnerRule
from fsad.data.store import FrameStore
from fsad.train import Trainer, frame_shape, meta_gradient, source_tasks
from tests.conftest import REPO
from tests.helpers.cli import assert_bench_script_names_its_run_folder
from tests.helpers.configs import small_cfg

sys.path.insert(0, str(REPO / "bench"))
from meta_gradient_check import EPSILONS, line_search, noise_scale, per_task_gradients  # noqa: E402


def test_noise_scale_recovers_a_known_signal_and_noise():
    gen = torch.Generator().manual_seed(0)
    signal = torch.full((50,), 0.1, dtype=torch.float64)  # |G|^2 = 0.5
    grads = signal + 0.2 * torch.randn(4000, 50, generator=gen, dtype=torch.float64)
    s = noise_scale(grads)  # tr(S) = 50 * 0.04 = 2.0, so B = 4 tasks
    assert abs(s["noise"] - 2.0) < 0.1
    assert abs(s["signal"] - 0.5) < 0.05
    assert 3.5 < s["scale"] < 4.5
    # two means of 2000 tasks each: cosine 1/(1 + B/2000) with G, about 0.998 between them
    assert s["half_cosine"] > 0.99


def test_identical_gradients_are_all_signal_and_pure_noise_has_no_finite_scale():
    same = noise_scale(torch.ones(8, 5, dtype=torch.float64))
    assert same["noise"] == 0 and same["scale"] == 0 and abs(same["half_cosine"] - 1) < 1e-12
    gen = torch.Generator().manual_seed(1)
    pure = noise_scale(torch.randn(8, 1000, generator=gen, dtype=torch.float64))
    assert pure["scale"] == float("inf") or pure["scale"] > 100
    assert abs(pure["half_cosine"]) < 0.2


def test_per_task_gradients_average_to_the_meta_batch_gradient(tiny_store, tiny_pretrained,
                                                              tmp_path):
    from fsad import checkpoint

    cfg = small_cfg()
    _, tasks = source_tasks(cfg, tiny_store, "synthetic")
    tr = Trainer(cfg, "rgan", frame_shape(FrameStore(tiny_store)), tmp_path / "m.pt", "meta",
                 2e-4, 1e-4, {})
    tr.load_weights(checkpoint.load(tiny_pretrained))
    rule = InnerRule(steps=2, lr=1e-3, optimizer="adam", windows_per_step=None)
    batch = tasks.sample_tasks(3, 2, torch.Generator().manual_seed(0))
    grads, loss = per_task_gradients(tr, batch, rule, first_order=True)
    tr.G.zero_grad(set_to_none=True)
    q, *_ = meta_gradient(tr, batch, rule, first_order=True)
    whole = torch.cat([p.grad.flatten() for p in tr.G.parameters() if p.grad is not None])
    assert grads.shape == (3, whole.numel())
    torch.testing.assert_close(grads.mean(0), whole.double(), rtol=1e-4, atol=1e-7)
    assert abs(loss - float(q)) < 1e-5
    # The line search starts at the weights, both directions, and puts the weights back.
    start = {n: p.detach().clone() for n, p in tr.G.named_parameters()}
    rows = line_search(tr, batch, rule, True, grads.mean(0))
    assert [(d, e) for d, e, _, _ in rows] == [(d, e) for d in ("adam", "gradient")
                                               for e in EPSILONS]
    at_start = [r[2:] for r in rows if r[1] == 0]
    assert at_start[0] == at_start[1] and abs(at_start[0][0] - float(q)) < 1e-5
    assert rows[-1][2] != at_start[0][0]  # the largest step changes the objective
    for n, p in tr.G.named_parameters():
        assert torch.equal(p, start[n])


def test_outside_a_run_folder_the_script_says_where_to_run_it(tmp_path):
    assert_bench_script_names_its_run_folder("meta_gradient_check.py", tmp_path)
