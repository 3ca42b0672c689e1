"""bench/anomaly_kinds.py: per anomaly kind, the loss of its frames and their AUC against
the normal frames (its figures are in docs/benchmarks.md)."""

import sys

import numpy as np
import pytest

from fsad import FsadError
from tests.conftest import REPO
from tests.helpers.cli import assert_bench_script_names_its_run_folder

sys.path.insert(0, str(REPO / "bench"))
from anomaly_kinds import frame_kinds, kind_table  # noqa: E402


def test_each_kind_is_ranked_against_the_normal_frames_by_per_video_minmax_scores():
    videos = [
        # scores after min-max: normal 0, 0.5; speed 1
        {"loss": np.array([1.0, 2.0, 3.0]), "kind": np.array(["normal", "normal", "speed"])},
        # ten times louder, which min-max undoes: normal 0.5, 1; direction 0
        {"loss": np.array([20.0, 10.0, 30.0]),
         "kind": np.array(["normal", "direction", "normal"])},
    ]
    rows = {kind: (n, loss, auc) for kind, n, loss, auc in kind_table(videos)}
    assert rows["normal"][:2] == (4, pytest.approx((1 + 2 + 20 + 30) / 4))
    # normal scores 0, 0.5, 0.5, 1: speed's 1 is above three and ties one (counts half),
    # direction's 0 ties one and is below three
    assert rows["speed"] == (1, 3.0, 3.5 / 4)
    assert rows["any anomaly"] == (2, 6.5, pytest.approx((3.5 + 0.5) / 8))
    assert rows["direction"] == (1, 10.0, pytest.approx(0.5 / 4))


def test_kinds_are_read_from_the_generator_s_labels_and_checked_against_the_store(tmp_path):
    folder = tmp_path / "val00" / "testing"
    folder.mkdir(parents=True)
    (folder / "01.csv").write_text("frame,label,kind\n0,0,normal\n1,1,fall\n2,1,fall\n")
    kinds = frame_kinds(tmp_path, "val00/test/01", np.array([0, 1, 1]))
    assert kinds.tolist() == ["normal", "fall", "fall"]
    with pytest.raises(FsadError, match="01.csv: its labels differ"):
        frame_kinds(tmp_path, "val00/test/01", np.array([0, 0, 1]))
    with pytest.raises(FsadError, match="02.csv not found.*results/raw/synthetic"):
        frame_kinds(tmp_path, "val00/test/02", np.array([0]))


def test_outside_a_run_folder_the_script_says_where_to_run_it(tmp_path):
    assert_bench_script_names_its_run_folder("anomaly_kinds.py", tmp_path)


def test_the_patch_score_is_the_largest_patch_mean_error_where_the_frame_mean_dilutes_it():
    import torch

    from anomaly_kinds import frame_scores

    class CopyLast(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.unused = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return x[:, -1]

    frames = np.zeros((5, 64, 64, 1), np.uint8)
    frames[4, 8:24, 16:32] = 255  # one 16 x 16 block lights up in the last frame
    scores = frame_scores(CopyLast(), frames, 3, {"l1": 1.0, "msssim": 0.0, "gdl": 0.0})
    assert scores["patch"].tolist() == pytest.approx([0.0, 1.0])  # a patch on the block
    assert scores["Eq. 2"].tolist() == pytest.approx([0.0, 16 * 16 / 64**2])
