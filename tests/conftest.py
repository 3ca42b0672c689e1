"""Shared fixtures: a tiny synthetic benchmark and its frame store, built once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsad.data.adapters import load_videos
from fsad.data.store import write_store
from fsad.data.synth import generate

REPO = Path(__file__).resolve().parents[1]
TINY = {"scenes": 3, "train_videos": 1, "test_videos": 1, "frames": 40, "height": 32,
        "width": 32, "seed": 0}


@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("synth") / "synthetic", **TINY)


@pytest.fixture(scope="session")
def tiny_store(tiny_synth, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("frames") / "synthetic.h5"
    return write_store(load_videos("synthetic", tiny_synth), out, 32, 32, 1)


@pytest.fixture(scope="session")
def tiny_pretrained(tiny_store, tmp_path_factory) -> Path:
    """The r-GAN of tests.helpers.configs.SMALL pre-trained on the tiny store, made once for
    the tests that meta-train from a pre-trained model (meta-training reads only its weights).
    Read it; never write beside it."""
    from fsad.train import pretrain
    from tests.helpers.configs import small_cfg

    out = tmp_path_factory.mktemp("pretrained") / "model.pt"
    pretrain(small_cfg(), tiny_store, "synthetic", "rgan", out)
    return out
