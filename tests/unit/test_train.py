"""Training loops on the tiny benchmark: loss goes down, meta-training runs in both
orders (second order also with recomputed inner steps), and a run killed midway resumes
from its last checkpoint."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from fsad import FsadError, checkpoint
from fsad import config as cfgmod
from fsad.train import meta_train, pretrain
from tests.helpers.configs import SMALL, small_cfg


def test_pretrain_lowers_the_loss_on_a_fixed_batch(tiny_store, tmp_path):
    from fsad.data.store import FrameStore
    from fsad.data.windows import SceneTasks
    from fsad.losses import objective
    from fsad.models import build

    cfg = small_cfg()
    store = FrameStore(tiny_store)
    x, y = SceneTasks(store, None, 3).pooled.sample(8, torch.Generator().manual_seed(0))
    g, _ = build("rgan", cfg["model"], 1)
    loss_fn = objective(cfg["loss"])
    opt = torch.optim.Adam(g.parameters(), lr=1e-2)
    before = loss_fn(g(x), y).item()
    for _ in range(5):
        opt.zero_grad()
        loss_fn(g(x), y).backward()
        opt.step()
    assert loss_fn(g(x), y).item() < before


@pytest.mark.parametrize("meta", [{"first_order": True}, {"first_order": False},
                                  {"first_order": False, "tasks_per_pass": 1,
                                   "recompute_inner": True}])
def test_meta_training_runs_and_moves_the_weights(tiny_store, tiny_pretrained, tmp_path, meta):
    cfg = small_cfg(meta=meta)
    meta_train(cfg, tiny_store, "synthetic", "rgan", tiny_pretrained, 2, tmp_path / "m.pt")
    pre, met = checkpoint.load(tiny_pretrained), checkpoint.load(tmp_path / "m.pt")
    assert met["method"] == "meta" and met["step"] == 2
    assert any(not torch.equal(pre["generator"][k], met["generator"][k])
               for k in pre["generator"])
    assert not (tmp_path / "state.pt").exists()  # removed once the final model exists


def _train_cmd(store, out, steps):
    params = cfgmod.merge(SMALL, {"pretrain": {"steps": steps, "checkpoint_every": 5}})
    return [sys.executable, "-m", "fsad.cli", "train", "--method", "pretrain", "--source",
            "synthetic", "--frames", str(store), "--out", str(out), "--threads", "1",
            "--params", json.dumps(params)]


def test_killed_run_resumes_and_matches_an_uninterrupted_one(tiny_store, tmp_path):
    steps = 40
    ref = tmp_path / "ref" / "model.pt"
    subprocess.run(_train_cmd(tiny_store, ref, steps), check=True, capture_output=True)

    out = tmp_path / "run" / "model.pt"
    proc = subprocess.Popen(_train_cmd(tiny_store, out, steps), stderr=subprocess.PIPE)
    state = out.with_name("state.pt")
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if state.exists() and checkpoint.load(state)["step"] >= 10:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "training finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists()
    killed_at = checkpoint.load(state)["step"]
    assert 0 < killed_at < steps

    rerun = subprocess.run(_train_cmd(tiny_store, out, steps), capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"resumed from {state} at step {killed_at}" in rerun.stderr
    a, b = checkpoint.load(ref), checkpoint.load(out)
    assert a["step"] == b["step"] == steps
    for k in a["generator"]:
        assert torch.equal(a["generator"][k], b["generator"][k]), k
    # The snapshots of the validation curve survive the kill too: the same steps, weights.
    sa = checkpoint.load(ref.with_name("snapshots.pt"))["snapshots"]
    sb = checkpoint.load(out.with_name("snapshots.pt"))["snapshots"]
    assert sorted(sa) == sorted(sb) == [0, 4, 8, 12, 16, 20, 24, 28, 32, 36, 40]
    for step in sa:
        for k in sa[step]["generator"]:
            assert torch.equal(sa[step]["generator"][k], sb[step]["generator"][k]), (step, k)
    # Byte for byte, too (names restored from the state are interned like fresh ones).
    assert ref.with_name("snapshots.pt").read_bytes() == out.with_name("snapshots.pt").read_bytes()


def test_state_from_other_settings_is_not_resumed(tiny_store, tmp_path, caplog):
    cfg = small_cfg()
    out = tmp_path / "model.pt"
    pretrain(cfg, tiny_store, "synthetic", "rgan", out)
    # Plant a state file with another fingerprint: the run must start from scratch.
    payload = checkpoint.load(out)
    checkpoint.save(out.with_name("state.pt"), {**payload, "fingerprint": "other"})
    caplog.set_level("INFO", logger="fsad")
    pretrain(cfg, tiny_store, "synthetic", "rgan", out)
    assert "made with other settings" in caplog.text
    assert "resumed" not in caplog.text


def test_state_is_not_resumed_once_the_frames_are_rewritten(tiny_store, tmp_path):
    import shutil

    from tests.helpers.forked import run_forked

    frames = tmp_path / "frames.h5"
    shutil.copy(tiny_store, frames)
    cfg = small_cfg()
    out, log = tmp_path / "run" / "model.pt", tmp_path / "train.log"

    def train():
        pretrain(cfg, frames, "synthetic", "rgan", out)

    # Killed inside step 3: the step-2 state is on disk.
    assert run_forked(train, fault="kill_at_step:3", log=log) == -signal.SIGKILL
    state = out.with_name("state.pt").read_bytes()
    assert run_forked(train, log=log) == 0
    assert "resumed from" in log.read_text()  # same frames file: resumed
    log.write_text("")
    out.unlink()
    out.with_name("state.pt").write_bytes(state)
    st = frames.stat()
    os.utime(frames, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # frames re-extracted
    assert run_forked(train, log=log) == 0
    assert "its input files have changed" in log.read_text()
    assert "resumed from" not in log.read_text()


@pytest.mark.parametrize("adversarial, d, warnings", [
    (0.05, 0.2499, 0),   # a healthy run's discriminator loss
    (0.05, 0.0140, 1),   # a diverged run's, logged at every checkpoint: warned once
    (0.0, 0.0, 0),       # no adversarial term: the discriminator is not trained, d is 0
])
def test_a_discriminator_that_wins_outright_is_warned_about_once(
        tiny_store, tmp_path, caplog, adversarial, d, warnings):
    from fsad.data.store import FrameStore
    from fsad.train import Trainer, frame_shape

    cfg = small_cfg(loss={"adversarial": adversarial})
    tr = Trainer(cfg, "rgan", frame_shape(FrameStore(tiny_store)), tmp_path / "m.pt",
                 "pretrained", 1e-3, 1e-4, {})
    caplog.set_level("WARNING", logger="fsad")
    tr.loop(6, 2, lambda: {"g": 1.5041, "adv": 0.0233, "d": d}, "pretrain")
    assert caplog.text.count("generator has likely collapsed") == warnings
    if warnings:
        assert "pretrain step 2: the discriminator loss is 0.0140" in caplog.text
        assert "lower pretrain.lr_g (now 0.001" in caplog.text


def pooled_cfg(**over):
    """A source of the tiny store's scenes s00 and s01 pooled with scene s02 of a second
    dataset (a copy of the store under another name)."""
    return small_cfg(datasets={"other": {"adapter": "synthetic", "root": "unused"}},
                     sources={"pooled": {"dataset": "synthetic", "scenes": ["s00", "s01"],
                                         "also": [{"dataset": "other", "scenes": ["s02"]}]}},
                     **over)


def test_a_source_pools_the_scenes_of_several_datasets(tiny_store, tiny_pretrained, tmp_path):
    import shutil

    other = tmp_path / "other.h5"
    shutil.copy(tiny_store, other)
    cfg = pooled_cfg()
    pretrain(cfg, [tiny_store, other], "pooled", "rgan", tmp_path / "pre.pt")
    saved = checkpoint.load(tmp_path / "pre.pt")["settings"]
    # named by dataset, so that the copy's s02 is its own scene beside the first store's
    assert saved["scenes"] == ["other/s02", "synthetic/s00", "synthetic/s01"]
    assert saved["frames_file"] == f"{tiny_store.name} + other.h5"
    meta_train(cfg, [tiny_store, other], "pooled", "rgan", tiny_pretrained, 2, tmp_path / "m.pt")
    assert checkpoint.load(tmp_path / "m.pt")["settings"]["scenes"] == saved["scenes"]


def test_a_pooled_source_needs_one_frame_store_per_scene_set(tiny_store, tmp_path):
    with pytest.raises(FsadError, match="pools 2 scene set.*of datasets synthetic, other, but "
                                        "1 frame store"):
        pretrain(pooled_cfg(), [tiny_store], "pooled", "rgan", tmp_path / "pre.pt")
    assert not list(tmp_path.iterdir())


def test_pooled_frame_stores_must_hold_one_frame_size(tiny_synth, tiny_store, tmp_path):
    from fsad.data.adapters import load_videos
    from fsad.data.store import write_store

    other = write_store(load_videos("synthetic", tiny_synth), tmp_path / "other.h5", 24, 24, 1)
    with pytest.raises(FsadError, match="holds 32x32x1 frames but .*other.h5 holds 24x24x1"):
        pretrain(pooled_cfg(), [tiny_store, other], "pooled", "rgan", tmp_path / "pre.pt")


def test_a_source_cannot_pool_one_dataset_twice():
    with pytest.raises(FsadError, match="sources.s pools dataset 'synthetic' twice"):
        cfgmod.load(overrides={"sources": {"s": {
            "dataset": "synthetic", "scenes": ["s00"],
            "also": [{"dataset": "synthetic", "scenes": ["s01"]}]}}})
