"""The one adaptation API (fsad.adapt): typed rules built from the config, adaptation
against a hand computation, and the draws of the K windows."""

import dataclasses

import numpy as np
import pytest
import torch

from fsad import config as cfgmod
from fsad import meta
from fsad.adapt import (
    InnerRule,
    MetaSettings,
    adapt,
    footage_windows,
    prefix_windows,
    training_windows,
)
from fsad.data.store import FrameStore
from tests.helpers.models import Scale

L1_ONLY = {"l1": 1.0, "msssim": 0.0, "gdl": 0.0}


def test_the_rules_carry_every_key_of_their_config_section():
    cfg = cfgmod.load(overrides={"inner": {"steps": 4, "lr": 0.01, "optimizer": "adam",
                                           "windows_per_step": 2},
                                 "meta": {"tasks": 3, "shots": 5}})
    rule = InnerRule.from_config(cfg["inner"])
    assert rule == InnerRule(steps=4, lr=0.01, optimizer="adam", windows_per_step=2)
    assert {f.name for f in dataclasses.fields(InnerRule)} == set(cfg["inner"])
    settings = MetaSettings.from_config(cfg["meta"])
    assert {f.name for f in dataclasses.fields(MetaSettings)} == set(cfg["meta"])
    assert (settings.tasks, settings.shots) == (3, 5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rule.lr = 1.0  # a rule is a value: changed with dataclasses.replace, never in place


def test_a_rule_saved_before_windows_per_step_existed_reads_as_all_windows():
    assert InnerRule.from_config({"steps": 1, "lr": 0.05, "optimizer": "sgd"}) == \
        InnerRule(steps=1, lr=0.05)


def test_adapt_takes_the_rule_s_steps_on_eq2_and_writes_them_into_the_module():
    # L1 only: d/dw mean|w x - y| = mean(sign(w x - y) x); at w = 0.5 every residual of
    # x = (1, 2), y = (2, 2) is negative, so the gradient is -1.5 and one SGD step at
    # lr 0.1 moves w to 0.65.
    x, y = torch.tensor([[1.0], [2.0]]), torch.tensor([[2.0], [2.0]])
    model = Scale(0.5)
    assert adapt(model, x, y, InnerRule(steps=1, lr=0.1), L1_ONLY) is model
    assert model.w.item() == pytest.approx(0.65)
    model = Scale(0.5)
    adapt(model, x, y, InnerRule(steps=2, lr=0.1), L1_ONLY)  # w x still below y at 0.65
    assert model.w.item() == pytest.approx(0.8)


def test_adapt_is_meta_trainings_inner_loop():
    from fsad.losses import objective
    from fsad.models import build

    torch.manual_seed(0)
    g, _ = build("rgan", {"widths": [4, 8], "lstm_hidden": 4, "disc_width": 4}, 1)
    gen = torch.Generator().manual_seed(1)
    x, y = torch.rand(3, 3, 1, 16, 16, generator=gen), torch.rand(3, 1, 16, 16, generator=gen)
    weights = {"l1": 1.0, "msssim": 1.0, "gdl": 1.0}
    rule = InnerRule(steps=2, lr=0.01, optimizer="adam", windows_per_step=1)
    expected = meta.inner_loop(g, meta.parameters(g), x, y, objective(weights), rule.steps,
                               rule.lr, rule.optimizer, windows_per_step=rule.windows_per_step)
    adapt(g, x, y, rule, weights)
    for name, p in g.named_parameters():
        assert torch.equal(p, expected[name]), name


def test_training_windows_are_drawn_by_the_root_seed_and_the_seed(tiny_store):
    store = FrameStore(tiny_store)
    a = training_windows(store, ["s01"], 3, 4, seed=1, root_seed=0)
    assert a[0].shape == (4, 3, 1, 32, 32) and a[1].shape == (4, 1, 32, 32)
    assert torch.equal(a[0], training_windows(store, ["s01"], 3, 4, 1, 0)[0])
    assert not torch.equal(a[0], training_windows(store, ["s01"], 3, 4, 2, 0)[0])
    assert not torch.equal(a[0], training_windows(store, ["s01"], 3, 4, 1, 1)[0])
    store.close()


def test_prefix_and_footage_windows_are_windows_of_the_frames():
    frames = np.arange(20, dtype=np.uint8).reshape(20, 1, 1, 1) * 10  # frame i holds 10 i
    x, y = prefix_windows(frames, 3, 2)
    assert (255 * y.flatten()).round().tolist() == [30, 40]  # targets t .. t + K - 1
    assert (255 * x[1].flatten()).round().tolist() == [10, 20, 30]
    x, y = footage_windows(frames, 3, 5, seed=7)
    targets = (255 * y.flatten()).round().long().tolist()
    assert targets == sorted(set(targets)) and len(targets) == 5  # distinct, in order
    for window, target in zip(x, targets, strict=True):
        assert (255 * window.flatten()).round().long().tolist() == \
            [target - 30, target - 20, target - 10]
    assert torch.equal(footage_windows(frames, 3, 5, seed=7)[1], y)
