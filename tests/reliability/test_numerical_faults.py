"""Numerical faults: a NaN or infinite loss (or weights, or optimiser moments) stops training
with one line naming the step, writes ``<out>.nonfinite.json``, and never leaves a
checkpoint holding NaN or infinity; ``grad_clip`` bounds the global gradient norm."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from fsad import FsadError, checkpoint
from fsad import config as cfgmod
from fsad.adapt import InnerRule
from fsad.data.store import FrameStore
from fsad.data.windows import SceneTasks
from fsad.train import Trainer, frame_shape, meta_iteration, meta_train, pretrain, pretrain_step
from tests.helpers.configs import small_cfg as tiny_cfg

# A state after every step, so the last finite checkpoint is the step before the fault.
EVERY_STEP = {"pretrain": {"checkpoint_every": 1}, "meta": {"iterations": 3, "checkpoint_every": 1}}


def small_cfg(**over):
    return tiny_cfg(**cfgmod.merge(EVERY_STEP, over))


def all_finite(path: Path) -> bool:
    from fsad.train import _tensors

    return all(bool(torch.isfinite(t).all()) for _, t in _tensors(checkpoint.load(path))
               if t.is_floating_point())


def test_nan_loss_stops_with_the_step_a_diagnostic_and_no_nan_checkpoint(tiny_store,
                                                                           tmp_path):
    # Adam at lr 1e30 throws the weights to +-1e30 at step 1; step 2's loss is NaN.
    cfg = small_cfg(pretrain={"lr_g": 1e30, "grad_clip": 0.5})
    out = tmp_path / "model.pt"
    with pytest.raises(FsadError) as err:
        pretrain(cfg, tiny_store, "synthetic", "rgan", out)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("pretrain: non-finite loss at step 2 (g=nan")
    state, diag = tmp_path / "state.pt", tmp_path / "model.pt.nonfinite.json"
    assert f"last finite checkpoint: {state} (step 1)" in msg and str(diag) in msg
    assert "pretrain.lr_g" in msg and "pretrain.grad_clip" in msg

    report = json.loads(diag.read_text())  # strict JSON: NaN written as a string
    assert report["step"] == 2 and report["losses"]["g"] == "nan"
    assert report["last_finite_checkpoint"] == {"path": str(state), "step": 1}
    assert report["settings"]["lr_g"] == 1e30 and report["settings"]["grad_clip"] == 0.5
    layer = report["generator"]["unet.down.0.0.weight"]
    assert layer["nonfinite_grads"] > 0 and layer["grad_norm"] == "nan"
    assert any("grad_clip" in fix for fix in report["suggested_fixes"])

    # Nothing on disk holds NaN: the step-1 state is finite, no model was written.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt.nonfinite.json",
                                                          "state.pt"]
    assert checkpoint.load(state)["step"] == 1 and all_finite(state)


def test_infinite_optimiser_moments_are_never_checkpointed(tiny_store, tmp_path):
    # A 1e30 loss weight keeps the loss finite (~1e29) but its squared gradients overflow:
    # Adam's second moments become inf. The step-1 state must not be written.
    cfg = small_cfg(loss={"l1": 1e30})
    out = tmp_path / "model.pt"
    with pytest.raises(FsadError, match=r"^pretrain: non-finite weights or optimiser state "
                                        r"at step 1 \(optim_g\.state\.\d+\.exp_avg_sq"):
        pretrain(cfg, tiny_store, "synthetic", "rgan", out)
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt.nonfinite.json"]
    report = json.loads((tmp_path / "model.pt.nonfinite.json").read_text())
    assert report["last_finite_checkpoint"] is None
    assert any(n.endswith("exp_avg_sq") for n in report["nonfinite_tensors"])


def test_nan_in_meta_training_names_the_iteration(tiny_store, tiny_pretrained, tmp_path):
    cfg = small_cfg(meta={"lr_g": 1e30, "grad_clip": 2.0})
    out = tmp_path / "meta" / "model.pt"
    with pytest.raises(FsadError, match=r"^meta K=2: non-finite loss at step 2 \(query=nan"):
        meta_train(cfg, tiny_store, "synthetic", "rgan", tiny_pretrained, 2, out)
    report = json.loads(out.with_name("model.pt.nonfinite.json").read_text())
    assert report["step"] == 2 and report["settings"]["grad_clip"] == 2.0
    assert all_finite(out.with_name("state.pt")) and not out.exists()


def test_a_successful_rerun_removes_the_stale_diagnostic(tiny_store, tmp_path):
    out = tmp_path / "model.pt"
    diag = tmp_path / "model.pt.nonfinite.json"
    diag.write_text("{}")
    pretrain(small_cfg(pretrain={"steps": 1}), tiny_store, "synthetic", "rgan", out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt", "snapshots.pt"]


def global_norm(module: torch.nn.Module) -> float:
    return math.sqrt(sum(float(p.grad.pow(2).sum()) for p in module.parameters()
                         if p.grad is not None))


def trainer(store: FrameStore, tmp_path: Path, clip: float | None) -> Trainer:
    cfg = small_cfg()
    return Trainer(cfg, "rgan", frame_shape(store), tmp_path / "m.pt", "pretrained", 1e-3,
                   1e-4, {}, clip)


def test_grad_clip_bounds_the_global_gradient_norm(tiny_store, tmp_path):
    store = FrameStore(tiny_store)
    tasks = SceneTasks(store, None, 3)
    norms = {}
    for clip in (None, 1e-3):
        tr = trainer(store, tmp_path, clip)
        pretrain_step(tr, *tasks.pooled.sample(4, torch.Generator().manual_seed(0)))
        g_pre, d_pre = global_norm(tr.G), global_norm(tr.D)  # the gradients just applied
        meta_iteration(tr, tasks.sample_tasks(2, 2, torch.Generator().manual_seed(0)),
                       InnerRule(steps=1, lr=0.05, optimizer="sgd"), True)
        norms[clip] = (g_pre, d_pre, global_norm(tr.G), global_norm(tr.D))
    assert min(norms[None]) > 1e-2  # unclipped, every norm is well above the bound
    assert max(norms[1e-3]) <= 1e-3 * (1 + 1e-4)


def test_grad_clip_config(tmp_path):
    cfg = cfgmod.load()
    assert cfg["pretrain"]["grad_clip"] is None and cfg["meta"]["grad_clip"] is None
    assert cfgmod.load(overrides={"meta": {"grad_clip": 1.5}})["meta"]["grad_clip"] == 1.5
    for bad in (0, -1, "big"):
        with pytest.raises(FsadError, match="pretrain/grad_clip"):
            cfgmod.load(overrides={"pretrain": {"grad_clip": bad}})
