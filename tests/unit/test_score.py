"""Scoring: both adaptation protocols, and what each leaves out of the scores."""

import csv
import json

import pytest

from fsad import config as cfgmod
from fsad.score import score
from fsad.train import pretrain

BASE = {"device": "cpu", "sources": {"s": {"dataset": "synthetic", "scenes": ["s00", "s01"]}},
        "targets": {"t": {"dataset": "synthetic", "scenes": ["s02"]}},
        "model": {"widths": [4, 8], "lstm_hidden": 4, "disc_width": 4},
        "pretrain": {"steps": 2, "batch_size": 4, "checkpoint_every": 2},
        "inner": {"steps": 1, "lr": 0.001, "optimizer": "adam"}}


@pytest.fixture(scope="module")
def model(tiny_store, tmp_path_factory):
    out = tmp_path_factory.mktemp("m") / "model.pt"
    pretrain(cfgmod.load(overrides=BASE), tiny_store, "s", "rgan", out)
    return out


def run(model, store, tmp_path, protocol, shots, seed=0):
    cfg = cfgmod.load(overrides={**BASE, "evaluate": {"protocol": protocol}})
    out = tmp_path / f"{protocol}_{shots}_{seed}.csv"
    score(cfg, model, store, "t", shots, seed, out, {"source": "s", "method": "pretrained"})
    with open(out, newline="") as fh:
        return list(csv.DictReader(fh))


def test_train_windows_scores_every_frame_from_t(model, tiny_store, tmp_path):
    rows = run(model, tiny_store, tmp_path, "train_windows", 2)
    assert [int(r["frame"]) for r in rows] == list(range(3, 40))
    # different draws adapt differently
    other = run(model, tiny_store, tmp_path, "train_windows", 2, seed=1)
    assert [r["loss"] for r in rows] != [r["loss"] for r in other]


def test_test_prefix_leaves_the_adaptation_frames_out(model, tiny_store, tmp_path):
    rows = run(model, tiny_store, tmp_path, "test_prefix", 2)
    assert [int(r["frame"]) for r in rows] == list(range(3 + 2, 40))
    assert run(model, tiny_store, tmp_path, "test_prefix", 0) == run(
        model, tiny_store, tmp_path, "train_windows", 0)


def test_same_seed_same_scores(model, tiny_store, tmp_path):
    a = run(model, tiny_store, tmp_path, "train_windows", 2, seed=3)
    b = run(model, tiny_store, tmp_path.parent, "train_windows", 2, seed=3)
    assert a == b


def test_fsad_adapt_saves_what_scoring_adapts_to(model, tiny_store, tmp_path):
    """`fsad adapt` + scoring at K = 0 gives the same scores as scoring with K = 2."""
    import json
    import subprocess
    import sys

    adapted = tmp_path / "adapted.pt"
    result = subprocess.run(
        [sys.executable, "-m", "fsad.cli", "adapt", "--model", str(model), "--frames",
         str(tiny_store), "--target", "t", "--shots", "2", "--seed", "1", "--out", str(adapted),
         "--params", json.dumps(BASE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    direct = run(model, tiny_store, tmp_path, "train_windows", 2, seed=1)
    via_file = run(adapted, tiny_store, tmp_path.parent, "train_windows", 0, seed=1)
    assert [r["loss"] for r in direct] == [r["loss"] for r in via_file]


@pytest.mark.parametrize("protocol", ["train_windows", "test_prefix"])
def test_cells_scored_in_one_process_equal_cells_scored_alone(model, tiny_store, tmp_path,
                                                              protocol):
    """A scoring job scores all (K, seed) cells of a target in one process; each cell must
    start from its checkpoint's weights, not from the previous cell's adapted ones, and
    the cells' models may differ (one meta-trained model per K)."""
    import shutil

    from fsad.score import Cell, score_cells

    other = tmp_path / "other.pt"  # a second checkpoint file: same weights, another path
    shutil.copy(model, other)
    cells = [Cell(2, 0, model, tmp_path / "a.csv"), Cell(0, 0, model, tmp_path / "b.csv"),
             Cell(2, 1, other, tmp_path / "c.csv"), Cell(2, 0, model, tmp_path / "d.csv")]
    cfg = cfgmod.load(overrides={**BASE, "evaluate": {"protocol": protocol}})
    labels = {"source": "s", "method": "pretrained"}
    assert score_cells(cfg, tiny_store, "t", cells, labels) == [c.out for c in cells]
    for cell in cells:
        alone = run(cell.model, tiny_store, tmp_path / "alone", protocol, cell.shots, cell.seed)
        with open(cell.out, newline="") as fh:
            assert list(csv.DictReader(fh)) == alone
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "d.csv").read_bytes()


def test_the_cli_takes_either_cells_or_one_model(model, tiny_store, tmp_path):
    from click.testing import CliRunner

    from fsad.cli import cli

    common = ["score", "--frames", str(tiny_store), "--target", "t",
              "--params", json.dumps(BASE)]
    both = CliRunner().invoke(cli, [*common, "--model", str(model), "--cell", "0", "0",
                                    str(model), str(tmp_path / "x.csv")])
    assert both.exit_code == 2 and "either --cell or --model" in both.output
    neither = CliRunner().invoke(cli, [*common, "--model", str(model)])
    assert neither.exit_code == 2 and "--shots, --out" in neither.output
    cells = CliRunner().invoke(cli, [*common, "--cell", "0", "0", str(model),
                                     str(tmp_path / "k0.csv"), "--cell", "1", "3", str(model),
                                     str(tmp_path / "k1.csv")])
    assert cells.exit_code == 0, cells.output
    assert (tmp_path / "k0.csv").is_file() and (tmp_path / "k1.csv").is_file()


def test_the_patch_score_replaces_the_loss_column_and_nothing_else(model, tiny_store,
                                                                     tmp_path):
    import torch

    from fsad.data.store import FrameStore
    from fsad.data.windows import sequential_windows
    from fsad.losses import patch_error
    from fsad.score import load_generator

    def scored(patch):
        cfg = cfgmod.load(overrides={**BASE, "evaluate": {"patch": patch}})
        out = tmp_path / f"patch{patch}.csv"
        score(cfg, model, tiny_store, "t", 0, 0, out, {"source": "s", "method": "pretrained"})
        with open(out, newline="") as fh:
            return list(csv.DictReader(fh))

    eq2, patch = scored(None), scored(8)
    assert [{k: v for k, v in r.items() if k != "loss"} for r in eq2] == \
        [{k: v for k, v in r.items() if k != "loss"} for r in patch]
    store = FrameStore(tiny_store)
    generator, _ = load_generator(model, store)
    video = store.select(["s02"], "test")[0]
    _, x, y = next(sequential_windows(store.frames(video.id), 3, 1))
    with torch.no_grad():
        first = patch_error(generator.eval()(x), y, 8).item()
    i = next(i for i, r in enumerate(patch) if r["video"] == video.id)  # its frame t
    assert float(patch[i]["loss"]) == pytest.approx(first, rel=1e-5)
    assert float(patch[i]["loss"]) != pytest.approx(float(eq2[i]["loss"]), rel=1e-3)
