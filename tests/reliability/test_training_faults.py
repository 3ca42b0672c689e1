"""Faults during training: a run SIGKILLed inside a step, inside a checkpoint write (of the
training state or of the final model) or left with a corrupt or truncated state resumes
from the last complete checkpoint, loses at most one checkpoint interval, and ends with the
same weights, bit for bit, and the same AUC as an uninterrupted run (CPU).

The kills come from the ``FSAD_FAULT`` hook (fsad.faults): the training process SIGKILLs
itself at the named point, so each test hits exactly the point it names. Runs are forked
children (tests.helpers.forked): the same code path as ``fsad train`` minus the interpreter
start-up. tests/unit/test_train.py also kills a fresh ``fsad train`` process from outside.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from fsad import checkpoint
from fsad import config as cfgmod
from fsad.metrics import evaluate
from fsad.score import score
from fsad.train import meta_train, pretrain
from tests.helpers.forked import run_forked

KILLED = -9
BASE = {
    "device": "cpu",
    "sources": {"synthetic": {"dataset": "synthetic", "scenes": ["s00", "s01", "s02"]}},
    "targets": {"tiny": {"dataset": "synthetic", "scenes": None}},
    "model": {"widths": [4, 8], "lstm_hidden": 4, "disc_width": 4, "latent_channels": 4,
              "vgg_width_divisor": 16},
    "pretrain": {"steps": 12, "batch_size": 4, "checkpoint_every": 4},
    "meta": {"iterations": 6, "tasks": 2, "checkpoint_every": 2},
    "inner": {"steps": 1, "lr": 0.05},
}
EVERY = {"pretrain": 4, "meta": 2}


def cfg_for():
    return cfgmod.load(overrides=BASE)


def train_fn(method: str, store: Path, out: Path, backbone: str = "rgan",
             init: Path | None = None):
    cfg = cfg_for()
    if method == "pretrain":
        return lambda: pretrain(cfg, store, "synthetic", backbone, out)
    return lambda: meta_train(cfg, store, "synthetic", backbone, init, 2, out)


def frame_auc(model: Path, store: Path, work: Path) -> float:
    """The frame AUC of ``model`` on the tiny benchmark's test videos (K = 0)."""
    out = score(cfg_for(), model, store, "tiny", 0, 0, work / f"{model.parent.name}.csv",
                {"source": "synthetic", "method": "x"})
    return evaluate([out], work / f"{model.parent.name}-auc.csv")[0]["frame_auc"]


def assert_same_model(ref: Path, out: Path, store: Path, work: Path) -> None:
    a, b = checkpoint.load(ref), checkpoint.load(out)
    assert a["step"] == b["step"]
    for part in ("generator", "discriminator"):
        assert a[part].keys() == b[part].keys()
        for k in a[part]:
            assert torch.equal(a[part][k], b[part][k]), f"{part}.{k} differs"
    assert frame_auc(ref, store, work) == frame_auc(out, store, work)


def step_of(path: Path) -> int:
    return int(checkpoint.load(path)["step"])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def refs(tiny_store, tmp_path_factory):
    """Uninterrupted runs, made once: {name: model path}, built on first use."""
    root, made = tmp_path_factory.mktemp("ref"), {}

    def get(name: str) -> Path:
        if name not in made:
            out = root / name / "model.pt"
            if name == "meta":
                fn = train_fn("meta", tiny_store, out, init=get("pretrain"))
            else:  # "pretrain" (r-GAN) or "rvae" (pretrained r-VAE)
                fn = train_fn("pretrain", tiny_store, out,
                              backbone="rvae" if name == "rvae" else "rgan")
            assert run_forked(fn, log=root / f"{name}.log") == 0, \
                (root / f"{name}.log").read_text()
            made[name] = out
        return made[name]

    return get


def test_pretrain_killed_in_a_step_then_in_a_state_write_resumes_bit_identically(
        tiny_store, refs, tmp_path):
    out, log = tmp_path / "run" / "model.pt", tmp_path / "log"
    run = train_fn("pretrain", tiny_store, out)
    state = out.with_name("state.pt")

    # 1. Killed inside step 6: the step-4 state is the last complete checkpoint.
    assert run_forked(run, "kill_at_step:6", log) == KILLED
    assert step_of(state) == 4 and 6 - 1 - step_of(state) < EVERY["pretrain"]
    assert leftovers(out.parent) == ["state.pt"]

    # 2. Resumed, then killed half-way through writing the step-12 state: the step-8
    #    state is intact under its name (checksum verified), the half file only under a
    #    temporary name, and unloadable.
    assert run_forked(run, "kill_in_checkpoint_write:state.pt:12", log) == KILLED
    assert f"resumed from {state} at step 4" in log.read_text()
    assert step_of(state) == 8 and step_of(out.with_name("state.prev.pt")) == 4
    temps = list(out.parent.glob(".state.tmp-*.pt"))
    assert len(temps) == 1 and not out.exists()
    with pytest.raises(Exception, match="not a loadable"):
        checkpoint.load(temps[0])

    # 3. Rerun: resumes at step 8, finishes, cleans up, matches the uninterrupted run.
    assert run_forked(run, None, log) == 0, log.read_text()
    assert f"resumed from {state} at step 8" in log.read_text()
    assert leftovers(out.parent) == ["model.pt", "snapshots.pt"]
    assert_same_model(refs("pretrain"), out, tiny_store, tmp_path)


def test_meta_killed_in_a_step_then_in_the_model_write_resumes_bit_identically(
        tiny_store, refs, tmp_path):
    out, log = tmp_path / "run" / "model.pt", tmp_path / "log"
    run = train_fn("meta", tiny_store, out, init=refs("pretrain"))
    state = out.with_name("state.pt")

    assert run_forked(run, "kill_at_step:3", log) == KILLED
    assert step_of(state) == 2 and 3 - 1 - step_of(state) < EVERY["meta"]

    # Killed while writing the final model: the step-6 state survives, no model.pt.
    assert run_forked(run, "kill_in_checkpoint_write:model.pt:6", log) == KILLED
    assert f"resumed from {state} at step 2" in log.read_text()
    assert not out.exists() and step_of(state) == 6
    assert len(list(out.parent.glob(".model.tmp-*.pt"))) == 1

    assert run_forked(run, None, log) == 0, log.read_text()
    assert f"resumed from {state} at step 6" in log.read_text()
    assert leftovers(out.parent) == ["model.pt", "snapshots.pt"]
    assert_same_model(refs("meta"), out, tiny_store, tmp_path)


def test_rvae_killed_in_a_step_resumes_bit_identically(tiny_store, refs, tmp_path):
    """r-VAE samples its latent from torch's global generator while training: the state
    carries that generator, or the resumed run would draw other samples."""
    out, log = tmp_path / "run" / "model.pt", tmp_path / "log"
    run = train_fn("pretrain", tiny_store, out, backbone="rvae")
    assert run_forked(run, "kill_at_step:7", log) == KILLED
    assert step_of(out.with_name("state.pt")) == 4
    assert run_forked(run, None, log) == 0, log.read_text()
    assert "at step 4" in log.read_text()
    assert_same_model(refs("rvae"), out, tiny_store, tmp_path)


def test_corrupt_then_truncated_state_falls_back_to_the_previous_one(tiny_store, refs,
                                                                     tmp_path):
    out, log = tmp_path / "run" / "model.pt", tmp_path / "log"
    run = train_fn("pretrain", tiny_store, out)
    state, prev = out.with_name("state.pt"), out.with_name("state.prev.pt")
    assert run_forked(run, "kill_at_step:10", log) == KILLED
    assert step_of(state) == 8 and step_of(prev) == 4

    # Flip bytes inside a weight tensor of state.pt: torch still reads the file, the
    # checksum does not match, and the run falls back to state.prev.pt.
    data = bytearray(state.read_bytes())
    weight = checkpoint.load(state)["generator"]
    name = max(weight, key=lambda k: weight[k].numel())
    at = bytes(data).find(weight[name].numpy().tobytes()[:64])
    assert at > 0
    data[at + 8:at + 12] = bytes(b ^ 0xFF for b in data[at + 8:at + 12])
    state.write_bytes(bytes(data))
    with pytest.raises(Exception, match="checksum mismatch, the file is corrupt"):
        checkpoint.load(state)
    log.write_text("")
    assert run_forked(run, "kill_at_step:6", log) == KILLED
    text = log.read_text()
    assert "checksum mismatch" in text
    assert f"training state {state} is unreadable; falling back to the previous state " \
           f"{prev} (step 4)" in text
    assert f"resumed from {prev} at step 4" in text

    # Now truncate it (a full disk, a copy cut short): same fallback, and the finished run
    # still equals the uninterrupted one.
    state.write_bytes(state.read_bytes()[: len(data) // 3])
    log.write_text("")
    assert run_forked(run, None, log) == 0, log.read_text()
    text = log.read_text()
    assert f"{state}: not a loadable fsad checkpoint" in text and "truncated" in text
    assert f"falling back to the previous state {prev} (step 4)" in text
    assert leftovers(out.parent) == ["model.pt", "snapshots.pt"]
    assert_same_model(refs("pretrain"), out, tiny_store, tmp_path)
