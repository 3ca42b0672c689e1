import numpy as np
import pytest

from fsad import FsadError
from fsad.atomic import write_csv
from fsad.metrics import SCORE_COLUMNS as COLUMNS
from fsad.metrics import aucs, evaluate, minmax, read_auc


def test_minmax_eq4():
    assert np.allclose(minmax(np.array([2.0, 4.0, 3.0])), [0, 1, 0.5])
    assert np.allclose(minmax(np.array([5.0, 5.0])), [0, 0])


def test_auc_of_known_scores():
    videos = {
        # Perfect ranking inside each video, but different loss scales: only per-video
        # normalisation (Eq. 4) makes the pooled ranking perfect too.
        "a": {"label": np.array([0, 0, 1, 1]), "loss": np.array([1.0, 2.0, 3.0, 4.0])},
        "b": {"label": np.array([0, 1, 1, 0]), "loss": np.array([10.0, 30.0, 40.0, 20.0])},
    }
    frame, video = aucs(videos)
    assert frame == pytest.approx(1.0)
    assert video == pytest.approx(1.0)
    # a half-wrong video: AUC 0.5 there, mean of (1.0, 0.5)
    videos["b"]["loss"] = np.array([30.0, 10.0, 40.0, 20.0])
    assert aucs(videos)[1] == pytest.approx(0.75)


def test_video_auc_is_undefined_without_mixed_videos():
    videos = {"a": {"label": np.array([0, 0]), "loss": np.array([1.0, 2.0])},
              "b": {"label": np.array([1, 1]), "loss": np.array([1.0, 2.0])}}
    frame, video = aucs(videos)
    assert video is None
    assert 0 <= frame <= 1


def test_one_class_is_an_error():
    with pytest.raises(FsadError, match="one class"):
        aucs({"a": {"label": np.array([0, 0]), "loss": np.array([1.0, 2.0])}})


def test_evaluate_writes_exact_columns(tmp_path):
    rows = []
    for frame, (label, loss) in enumerate([(0, 0.1), (1, 0.9), (0, 0.2), (1, 0.8)]):
        rows.append(["src", "tgt", "rgan", "meta", 1, 0, "v1", frame + 3, label, loss, 20.0])
    write_csv(tmp_path / "s.csv", COLUMNS, rows)
    evaluate([tmp_path / "s.csv"], tmp_path / "auc.csv", tmp_path / "m.json")
    text = (tmp_path / "auc.csv").read_text().splitlines()
    assert text[0] == "source,target,backbone,method,shots,seed,frame_auc,video_auc"
    (row,) = read_auc(tmp_path / "auc.csv")
    assert float(row["frame_auc"]) == 1.0 and float(row["video_auc"]) == 1.0
