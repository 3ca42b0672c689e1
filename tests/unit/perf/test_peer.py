"""`fsad bench --suite peer`: the authors' settings, their figures read from the reference
file, and the work of each row (no timing thresholds)."""


import pytest

from fsad import config
from fsad.perf import reference
from fsad.perf.peer import peer
from tests.conftest import REPO
from tests.helpers.cli import run_fsad


@pytest.mark.slow  # an end-to-end benchmark run
def test_peer_runs_the_authors_settings_against_the_reference_figures():
    smoke = config.load(REPO / "config/smoke.yaml")
    figures = reference.load()
    result = peer(smoke, figures, repeats=1)
    rows = result["rows"]
    assert [(r["shots"], r["inner_steps"], r["windows_per_step"]) for r in rows] == \
        [(1, 1, 1), (5, 5, 1), (5, 5, "all")]
    theirs = figures["authors_code"]["meta_iteration_s"]
    assert [r["peer_seconds"] for r in rows] == [theirs["64x64 K=1"], theirs["64x64 K=5"],
                                                 theirs["64x64 K=5"]]
    # one window per inner step: K = 5 is five times the passes of K = 1 (5 support + 5
    # query windows against 1 + 1); all windows per step adds 4 more windows per step
    assert rows[1]["gflop"] == pytest.approx(5 * rows[0]["gflop"], rel=1e-9)
    assert rows[2]["gflop"] > rows[1]["gflop"]
    assert result["gflop_per_window_256"] == pytest.approx(16 * result["gflop_per_window_64"],
                                                           rel=1e-9)


def test_without_the_reference_file_the_peer_suite_says_what_it_needs(tmp_path):
    result = run_fsad("bench", "--config", str(REPO / "config/smoke.yaml"),
                      "--suite", "peer", "--reference", str(tmp_path / "none.yaml"))
    assert result.returncode == 1
    assert result.stderr.startswith("fsad: error: reference figures not found: ")
    assert len(result.stderr.strip().splitlines()) == 1
