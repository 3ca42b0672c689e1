"""Fixtures shared by the reliability tests."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_MODEL = {"device": "cpu", "sources": {"s": {"dataset": "synthetic", "scenes": ["s00"]}},
              "model": {"widths": [4, 8], "lstm_hidden": 4, "disc_width": 4},
              "pretrain": {"steps": 2, "batch_size": 2, "checkpoint_every": 2}}


@pytest.fixture(scope="session")
def tiny_model(tiny_store, tmp_path_factory) -> Path:
    """A barely trained r-GAN on the tiny store: error paths need a valid checkpoint, not a
    good one."""
    from fsad import config as cfgmod
    from fsad.train import pretrain

    out = tmp_path_factory.mktemp("model") / "model.pt"
    pretrain(cfgmod.load(overrides=TINY_MODEL), tiny_store, "s", "rgan", out)
    return out
