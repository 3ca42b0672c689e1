"""Frame AUC of trained models after K-shot adaptation with several update rules.

Run from a finished default run's folder (it reads results/frames/synthetic.h5 and the
pre-trained and meta-trained r-GAN checkpoints):

    python bench/adaptation_sweep.py [META_CHECKPOINT]

Prints, per target scene, K and model, the unadapted AUC and the mean AUC over two window
draws for each rule. Used to choose the default inner/adaptation rule (docs/benchmarks.md).
"""

import copy
import sys

import numpy as np
import torch

from fsad import checkpoint
from fsad.adapt import InnerRule, adapt
from fsad.data.store import FrameStore
from fsad.data.windows import WindowSet, sequential_windows
from fsad.metrics import aucs
from fsad.models import build
from fsad.predict import predict

RULES = [("sgd", 0.003, 3), ("sgd", 0.01, 10), ("sgd", 0.003, 30), ("adam", 1e-3, 10),
         ("adam", 1e-3, 30), ("adam", 3e-4, 30)]
store = FrameStore("results/frames/synthetic.h5")


def load(path):
    ck = checkpoint.load(path)
    g, _ = build(ck["backbone"], ck["model"], store.channels)
    g.load_state_dict(ck["generator"])
    return g, ck


def frame_auc(g, scene, weights):
    videos = {}
    for v in store.select([scene], "test"):
        losses = []
        for _, x, y in sequential_windows(store.frames(v.id), 3, 128):
            losses += predict(g, x, y, weights)[0]
        videos[v.id] = {"label": store.labels(v.id)[3:], "loss": np.array(losses)}
    return aucs(videos)[0]


def main():
    default = "results/models/synthetic/rgan/meta/k5/model.pt"
    meta_path = sys.argv[1] if len(sys.argv) > 1 else default
    models = {"pre": load("results/models/synthetic/rgan/pretrained/model.pt"),
              "meta": load(meta_path)}
    for scene in ["s08", "s09"]:
        windows = WindowSet(store, store.select([scene], "train"), 3)
        for k in (1, 10):
            for name, (g0, ck) in models.items():
                w = ck["settings"]["loss"]
                row = [f"{scene} K={k} {name}: base {frame_auc(g0, scene, w):.3f}"]
                for opt, lr, steps in RULES:
                    res = []
                    for seed in range(2):
                        x, y = windows.sample(k, torch.Generator().manual_seed(seed))
                        g = copy.deepcopy(g0)
                        adapt(g, x, y, InnerRule(steps=steps, lr=lr, optimizer=opt), w)
                        res.append(frame_auc(g, scene, w))
                    row.append(f"{opt}{lr}x{steps}={np.mean(res):.3f}")
                print(" ".join(row), flush=True)


if __name__ == "__main__":
    main()
