"""The tiny training config of the unit and reliability tests (r-GAN 4-8 on the tiny
synthetic store), with overrides merged section by section."""

from fsad import config as cfgmod

SMALL = {
    "device": "cpu",
    "sources": {"synthetic": {"dataset": "synthetic", "scenes": ["s00", "s01", "s02"]}},
    "model": {"widths": [4, 8], "lstm_hidden": 4, "disc_width": 4},
    "pretrain": {"steps": 4, "batch_size": 4, "checkpoint_every": 2},
    "meta": {"iterations": 2, "tasks": 2, "checkpoint_every": 1},
    "inner": {"steps": 1, "lr": 0.05},
}


def small_cfg(**over):
    return cfgmod.load(overrides=cfgmod.merge(SMALL, over))
