"""Meta-training options compared on the validation scenes: a random start (meta.init),
Meta-SGD (meta.learn_inner_lr), and the snapshots and validation curve every run keeps."""

import pytest
import torch

from fsad import FsadError, checkpoint
from fsad.adapt import InnerRule, adapt
from fsad.data.store import FrameStore
from fsad.score import load_generator
from fsad.train import meta_train, pretrain, snapshot_steps
from fsad.validation import ValidationSettings, ValidationTasks, curve
from tests.helpers.configs import small_cfg


def test_snapshot_steps_are_evenly_spaced_and_include_both_ends():
    assert snapshot_steps(100, 4) == {0, 25, 50, 75, 100}
    assert snapshot_steps(3, 10) == {0, 1, 2, 3}


def test_meta_training_from_a_random_start_needs_no_pretrained_model(tiny_store, tmp_path):
    cfg = small_cfg(meta={"init": "random"})
    meta_train(cfg, tiny_store, "synthetic", "rgan", None, 2, tmp_path / "m.pt")
    model = checkpoint.load(tmp_path / "m.pt")
    assert model["settings"]["init"] == "random"
    snaps = checkpoint.load(tmp_path / "snapshots.pt")
    assert sorted(snaps["snapshots"]) == [0, 1, 2]
    assert snaps["fingerprint"] == model["fingerprint"]
    with pytest.raises(FsadError, match="--init must not be given"):
        meta_train(cfg, tiny_store, "synthetic", "rgan", tmp_path / "m.pt", 2,
                   tmp_path / "again.pt")


def test_meta_sgd_learns_a_rate_per_weight_and_adaptation_uses_them(
        tiny_store, tiny_pretrained, tmp_path):
    cfg = small_cfg(meta={"learn_inner_lr": True, "lr_g": 0.01})
    meta_train(cfg, tiny_store, "synthetic", "rgan", tiny_pretrained, 2, tmp_path / "m.pt")
    model = checkpoint.load(tmp_path / "m.pt")
    rates = model["inner_lr"]
    assert set(rates) == set(model["generator"])
    assert all(r.shape == model["generator"][n].shape for n, r in rates.items())
    assert all(bool((r >= 0).all()) for r in rates.values())
    assert any(not torch.allclose(r, torch.full_like(r, 0.05)) for r in rates.values())
    # Adaptation with the learned rates differs from adaptation with the scalar rate.
    store = FrameStore(tiny_store)
    x, y = (torch.rand(2, 3, 1, 32, 32), torch.rand(2, 1, 32, 32))
    g1, ckpt = load_generator(tmp_path / "m.pt", store)
    g2, _ = load_generator(tmp_path / "m.pt", store)
    rule = InnerRule(steps=1, lr=0.05)
    adapt(g1, x, y, rule, ckpt["settings"]["loss"], ckpt["inner_lr"])
    adapt(g2, x, y, rule, ckpt["settings"]["loss"])
    assert any(not torch.equal(a, b) for a, b in zip(g1.parameters(), g2.parameters(), strict=True))
    with pytest.raises(FsadError, match="inner.optimizer: sgd"):
        meta_train(small_cfg(meta={"learn_inner_lr": True}, inner={"optimizer": "adam"}),
                   tiny_store, "synthetic", "rgan", tiny_pretrained, 2, tmp_path / "x.pt")


def test_the_validation_curve_measures_each_snapshot_and_changes_nothing(
        tiny_store, tiny_pretrained):
    store = FrameStore(tiny_store)
    settings = ValidationSettings(dataset="synthetic", scenes=["s02"], shots=2,
                                  tasks_per_scene=2)
    tasks = ValidationTasks(store, settings, 3, seed=0)
    again = ValidationTasks(store, settings, 3, seed=0)
    assert len(tasks.tasks) == 2
    for a, b in zip(tasks.tasks, again.tasks, strict=True):  # fixed tasks
        assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    generator, ckpt = load_generator(tiny_pretrained, store)
    weights = ckpt["settings"]["loss"]
    snaps = checkpoint.load(tiny_pretrained.with_name("snapshots.pt"))["snapshots"]
    rng = torch.get_rng_state()
    rows = curve(generator, snaps, tasks, InnerRule(steps=2, lr=0.05), weights)
    assert [r[0] for r in rows] == sorted(snaps)
    assert torch.equal(rng, torch.get_rng_state())
    last = snaps[max(snaps)]["generator"]
    assert all(torch.equal(p, last[n]) for n, p in generator.state_dict().items())
    assert rows[-1][1] > 0 and rows[-1][2] > 0
    assert rows[0][3] == pytest.approx(tasks.copy_last_loss(weights))
    # A rule of more steps at a sensible rate lowers the loss of the query windows.
    more = curve(generator, {0: snaps[max(snaps)]}, tasks, InnerRule(steps=20, lr=0.01,
                                                                      optimizer="adam"),
                 weights)
    assert more[0][2] < more[0][1]


def test_fsad_validate_writes_the_curve_and_refuses_what_it_cannot_measure(
        tiny_store, tiny_pretrained, tmp_path):
    import json
    import shutil

    from tests.helpers.cli import one_line_error, run_fsad
    from tests.helpers.configs import SMALL

    params = json.dumps({**SMALL, "validation": {"dataset": "synthetic", "scenes": ["s02"],
                                                 "shots": 2, "tasks_per_scene": 1}})
    out = tmp_path / "curve.csv"
    result = run_fsad("validate", "--model", tiny_pretrained, "--frames", tiny_store,
                      "--out", out, "--params", params)
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "model,shots,step,before,after,copy_last"
    assert [line.split(",")[:3] for line in lines[1:]][0] == ["pretrained", "2", "0"]
    # No validation section: nothing to measure on.
    result = run_fsad("validate", "--model", tiny_pretrained, "--frames", tiny_store,
                      "--out", tmp_path / "x.csv", "--params", json.dumps(SMALL))
    one_line_error(result, "names no validation scenes")
    # Snapshots of another run beside the model: refused, not mixed into its curve.
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(tiny_pretrained, other / "model.pt")
    snaps = checkpoint.load(tiny_pretrained.with_name("snapshots.pt"))
    checkpoint.save(other / "snapshots.pt", {**snaps, "fingerprint": "another run"})
    result = run_fsad("validate", "--model", other / "model.pt", "--frames", tiny_store,
                      "--out", tmp_path / "y.csv", "--params", params)
    one_line_error(result, "belongs to another training run")
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "y.csv").exists()


def test_an_sgd_outer_step_moves_the_weights_by_the_rate_times_the_meta_gradient(
        tiny_store, tiny_pretrained, tmp_path):
    from fsad.adapt import MetaSettings
    from fsad.train import Trainer, frame_shape, meta_gradient, meta_iteration, source_tasks

    cfg = small_cfg(meta={"optimizer": "sgd", "lr_g": 0.5})
    m, rule = MetaSettings.from_config(cfg["meta"]), InnerRule.from_config(cfg["inner"])
    assert m.optimizer == "sgd"
    _, tasks = source_tasks(cfg, tiny_store, "synthetic")
    batch = tasks.sample_tasks(2, 2, torch.Generator().manual_seed(0))
    tr = Trainer(cfg, "rgan", frame_shape(FrameStore(tiny_store)), tmp_path / "m.pt", "meta",
                 m.lr_g, m.lr_d, {}, optimizer=m.optimizer)
    tr.load_weights(checkpoint.load(tiny_pretrained))
    before = {n: p.detach().clone() for n, p in tr.G.named_parameters()}
    meta_gradient(tr, batch, rule, first_order=True)
    grads = {n: p.grad.clone() for n, p in tr.G.named_parameters() if p.grad is not None}
    meta_iteration(tr, batch, rule, first_order=True)
    for name, p in tr.G.named_parameters():
        if name in grads:
            torch.testing.assert_close(p.detach(), before[name] - 0.5 * grads[name])
    # Adam stays the default (the authors' outer optimizer).
    assert MetaSettings.from_config(small_cfg()["meta"]).optimizer == "adam"


def test_the_unadapted_term_adds_lambda_times_the_unadapted_query_loss_gradient(
        tiny_store, tiny_pretrained, tmp_path):
    from fsad.adapt import MetaSettings
    from fsad.train import Trainer, frame_shape, meta_gradient, meta_iteration, source_tasks

    cfg = small_cfg(meta={"unadapted_weight": 0.5})
    m, rule = MetaSettings.from_config(cfg["meta"]), InnerRule.from_config(cfg["inner"])
    assert m.unadapted_weight == 0.5
    assert MetaSettings.from_config(small_cfg()["meta"]).unadapted_weight == 0  # MAML's
    _, tasks = source_tasks(cfg, tiny_store, "synthetic")
    batch = tasks.sample_tasks(3, 2, torch.Generator().manual_seed(0))
    tr = Trainer(cfg, "rgan", frame_shape(FrameStore(tiny_store)), tmp_path / "m.pt", "meta",
                 m.lr_g, m.lr_d, {})
    tr.load_weights(checkpoint.load(tiny_pretrained))

    def gradient(**kwargs):
        tr.G.zero_grad(set_to_none=True)
        out = meta_gradient(tr, batch, rule, first_order=True, **kwargs)
        return out, {n: p.grad.clone() for n, p in tr.G.named_parameters()}

    (q0, _, _, plain0), maml = gradient()
    assert plain0 is None  # not computed at lambda 0
    tr.G.zero_grad(set_to_none=True)
    xq, yq = (torch.stack([task[i] for task in batch]).flatten(0, 1) for i in (2, 3))
    by_hand = tr.loss_fn(tr.G(xq), yq)
    by_hand.backward()
    unadapted = {n: p.grad.clone() for n, p in tr.G.named_parameters()}
    for per_pass in (None, 1):  # one pass, or a pass per task: the same mean
        (q1, _, _, plain1), both = gradient(unadapted_weight=0.5, tasks_per_pass=per_pass)
        torch.testing.assert_close(q1, q0)
        torch.testing.assert_close(plain1, by_hand.detach())
        for name in both:
            torch.testing.assert_close(both[name], maml[name] + 0.5 * unadapted[name])
    # The training log shows the unadapted loss beside the adapted one.
    stats = meta_iteration(tr, batch, rule, first_order=True, unadapted_weight=0.5)
    assert set(stats) == {"query", "d", "unadapted"}
    assert "unadapted" not in meta_iteration(tr, batch, rule, first_order=True)


def test_disjoint_query_windows_reach_meta_training_and_change_its_tasks(
        tiny_store, tiny_pretrained, tmp_path, monkeypatch):
    from fsad.data.windows import WindowSet

    drawn = []
    original = WindowSet.sample_disjoint

    def counted(self, k, generator):
        drawn.append(k)
        return original(self, k, generator)

    monkeypatch.setattr(WindowSet, "sample_disjoint", counted)
    out = {}
    for mode in ("shuffled", "disjoint"):
        cfg = small_cfg(meta={"query_windows": mode})
        meta_train(cfg, tiny_store, "synthetic", "rgan", tiny_pretrained, 2,
                   tmp_path / f"{mode}.pt")
        out[mode] = checkpoint.load(tmp_path / f"{mode}.pt")["generator"]
        if mode == "shuffled":
            assert drawn == []
    assert drawn and set(drawn) == {2}  # every task of both iterations, at the model's K
    assert any(not torch.equal(out["shuffled"][n], out["disjoint"][n]) for n in out["shuffled"])


def test_the_pseudo_anomaly_term_is_mu_times_normal_over_pseudo_loss_of_the_adapted_weights(
        tiny_store, tiny_pretrained, tmp_path):
    """meta_gradient with loss.pseudo_anomaly_weight against the objective written out by
    hand: the query's first half is normal (Eq. 2, adversarial, the critic's input), its
    second half pseudo-anomalous (the denominator of the term)."""
    from fsad import meta
    from fsad.adapt import MetaSettings
    from fsad.losses import frame_loss
    from fsad.train import Trainer, frame_shape, meta_gradient, source_tasks

    mu = 0.3
    cfg = small_cfg(loss={"pseudo_anomaly_weight": mu})
    m, rule = MetaSettings.from_config(cfg["meta"]), InnerRule.from_config(cfg["inner"])
    _, tasks = source_tasks(cfg, tiny_store, "synthetic")
    batch = tasks.sample_tasks(2, 2, torch.Generator().manual_seed(0), pseudo_anomalies=True)
    tr = Trainer(cfg, "rgan", frame_shape(FrameStore(tiny_store)), tmp_path / "m.pt", "meta",
                 m.lr_g, m.lr_d, {})
    tr.load_weights(checkpoint.load(tiny_pretrained))
    q, preds, reals, _ = meta_gradient(tr, batch, rule, first_order=True)
    got = {n: p.grad.clone() for n, p in tr.G.named_parameters()}
    assert torch.cat(reals).shape[0] == torch.cat(preds).shape[0] == 2 * 2  # normal only

    tr.G.zero_grad(set_to_none=True)
    theta, total = meta.parameters(tr.G), 0.0
    for xs, ys, xq, yq in batch:
        fast = meta.inner_loop(tr.G, theta, xs, ys, tr.loss_fn, rule.steps, rule.lr,
                               rule.optimizer, first_order=True)
        pred = torch.func.functional_call(tr.G, fast, (xq,))
        normal = frame_loss(pred[:2], yq[:2], cfg["loss"]).mean()
        pseudo = frame_loss(pred[2:], yq[2:], cfg["loss"]).mean()
        task = normal + tr.adversarial(pred[:2]) + mu * normal / pseudo
        (task / len(batch)).backward()
        total += task.detach() / len(batch)
    torch.testing.assert_close(q, total)
    for name, p in tr.G.named_parameters():
        torch.testing.assert_close(got[name], p.grad)


def test_the_pseudo_anomaly_term_reaches_pre_and_meta_training_and_changes_their_models(
        tiny_store, tmp_path, caplog):
    import logging

    models = {}
    for mu in (0, 0.5):
        cfg = small_cfg(loss={"pseudo_anomaly_weight": mu})
        out = tmp_path / f"mu{mu}"
        with caplog.at_level(logging.INFO, logger="fsad"):
            caplog.clear()
            pretrain(cfg, tiny_store, "synthetic", "rgan", out / "pre.pt")
        assert ("pseudo=" in caplog.text) == bool(mu)  # its loss is in the training log
        meta_train(cfg, tiny_store, "synthetic", "rgan", out / "pre.pt", 2, out / "meta.pt")
        models[mu] = [checkpoint.load(out / f)["generator"] for f in ("pre.pt", "meta.pt")]
    for plain, contrasted in zip(models[0], models[0.5], strict=True):
        assert any(not torch.equal(plain[n], contrasted[n]) for n in plain)
