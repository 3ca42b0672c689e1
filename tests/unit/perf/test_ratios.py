"""`fsad bench` (the ratios suite) at a tiny size: it runs, and measures the work the config
describes (no timing thresholds)."""

import json

import pytest

from fsad import config
from fsad.perf.ratios import video_frames
from tests.conftest import REPO
from tests.helpers.cli import run_fsad


@pytest.mark.slow  # an end-to-end benchmark run
def test_bench_json_measures_the_configured_work():
    smoke = config.load(REPO / "config/smoke.yaml")
    result = run_fsad("bench", "--config", str(REPO / "config/smoke.yaml"),
                      "--repeats", "1", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("extract_vs_decode", "loader_vs_model", "meta_vs_plain", "score_vs_forward"):
        assert isinstance(data[key], float), key
    # the data path's scene: 2 scenes x 3 videos x video_frames(synth) frames, as stored
    assert data["data"]["frames"] == 2 * 3 * video_frames(smoke["synth"])
    # one meta-trained model per evaluated K > 0 (meta.shots: matched)
    assert smoke["meta"]["shots"] == "matched"
    assert [m["shots"] for m in data["meta"]] == [k for k in smoke["evaluate"]["shots"] if k]
    # plain passes: per task, one per inner step (all K windows each) and one for the query
    tasks, steps = smoke["meta"]["tasks"], smoke["inner"]["steps"]
    assert all(m["passes"] == tasks * (steps + 1) for m in data["meta"])
    assert data["train"]["batch_size"] == smoke["pretrain"]["batch_size"]


def test_benchmark_scenes_are_as_long_as_the_configured_videos():
    """The default config names scene sets instead of one set's frames: the bench scenes
    take the longest set's length (a KeyError once), and never fewer than 60 frames."""
    default = config.load(REPO / "config/config.yaml")["synth"]
    assert default.get("frames") is None and default["sets"]
    assert video_frames(default) == max(v["frames"] for v in default["sets"].values()) == 120
    assert video_frames({"frames": 200}) == 200
    assert video_frames({"frames": 40}) == 60
    assert video_frames({"sets": {"a": {"frames": 40}}}) == 60
