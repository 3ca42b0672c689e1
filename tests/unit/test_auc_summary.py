"""bench/auc_vs_widths/summarize.py: the per-run record behind docs/figures/auc_by_model.png."""

import csv
import subprocess
import sys

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "bench" / "auc_vs_widths" / "summarize.py"
RECORD = REPO / "bench" / "auc_vs_widths" / "runs.csv"


def summarize(*args):
    return subprocess.run([sys.executable, SCRIPT, *map(str, args)],
                          capture_output=True, text=True)


def test_committed_record_names_real_overlays():
    """Every run in the record is an overlay run.sh can rerun (or the plain default)."""
    with open(RECORD) as fh:
        rows = list(csv.DictReader(fh))
    assert rows
    for row in rows:
        model = row["run"].split("@")[0]
        assert model == "default" or (RECORD.parent / f"{model}.yaml").exists(), row["run"]
        assert all(0 <= float(row[c]) <= 100 for c in ("k0", "fine_tuned", "meta_trained"))


def write_run(out, name):
    run = out / name / "results"
    run.mkdir(parents=True)
    (run / "auc.csv").write_text(
        "target,method,shots,draw,frame_auc\n"
        "s08,pretrained,0,0,0.50\n"
        "s08,pretrained,1,0,0.60\ns08,pretrained,1,1,0.70\n"   # one cell of two draws
        "s09,pretrained,1,0,0.80\n"
        "s08,meta,1,0,0.55\n")


def test_new_runs_join_the_record(tmp_path):
    write_run(tmp_path / "out", "widths_16@3")
    record = tmp_path / "runs.csv"
    record.write_text("run,k0,fine_tuned,meta_trained\nwidths_16,57.3,63.5,61.4\n")
    done = summarize(tmp_path / "out", "--record", record)
    assert done.returncode == 0, done.stderr
    assert record.read_text().splitlines() == [
        "run,k0,fine_tuned,meta_trained",
        "widths_16,57.3,63.5,61.4",   # kept as written
        "widths_16@3,50.00,72.50,55.00",   # fine-tuned: mean of the cells 65 and 80
    ]
    assert "| widths_16 | 0, 3 | 68.0 ± 6.4 | 58.2 ± 4.5 |" in done.stdout


@pytest.mark.parametrize("text, error", [
    ("name,auc\nx,1\n", "expected the columns run,k0,fine_tuned,meta_trained"),
    ("run,k0,fine_tuned,meta_trained\nx,55,6o.1,60\n", "a mean that is not a number"),
])
def test_bad_record_is_refused_untouched(tmp_path, text, error):
    record = tmp_path / "runs.csv"
    record.write_text(text)
    write_run(tmp_path / "out", "widths_16@3")   # a run that would be merged into it
    done = summarize(tmp_path / "out", "--record", record)
    assert done.returncode == 2
    assert error in done.stderr and "Traceback" not in done.stderr
    assert record.read_text() == text


def test_compare_prints_the_gap_with_its_welch_interval(tmp_path):
    record = tmp_path / "runs.csv"
    record.write_text("run,k0,fine_tuned,meta_trained\n"
                      "a,50,60,70\na@1,50,62,70\na@2,50,64,70\n"
                      "b,50,64,66\nb@1,50,66,70\nb@2,50,68,74\nb@3,50,50,50\n")
    plot = tmp_path / "plot.png"
    done = summarize("--record", record, "--compare", "a", "b", "--exclude", "b@3",
                     "--plot", plot)
    assert done.returncode == 0, done.stderr
    assert "| b@3 (excluded) | 50.0 | 50.0 | 50.0 | 50.0 |" in done.stdout
    assert "| b | 0, 1, 2 | 66.0 ± 2.0 | 70.0 ± 4.0 |" in done.stdout
    assert plot.stat().st_size > 0
    # Fine-tuned: gap 4, SE sqrt(4/3 + 4/3) = 1.63, 4 degrees of freedom, t = 2.776.
    # Meta-trained: the same means, a's seeds agree, b's spread 4: SE 2.31, dof 2, t = 4.303.
    assert ("| b minus a | 3 vs 3 | +4.0 ± 1.6 (2.4 SE) [-0.5, +8.5] "
            "| +0.0 ± 2.3 (0.0 SE) [-9.9, +9.9] |") in done.stdout


def test_compare_without_any_spread_says_so(tmp_path):
    record = tmp_path / "runs.csv"
    record.write_text("run,k0,fine_tuned,meta_trained\na,50,60,70\na@1,50,60,70\n"
                      "b,50,61,70\nb@1,50,61,70\n")
    done = summarize("--record", record, "--compare", "a", "b")
    assert done.returncode == 0, done.stderr
    assert ("| b minus a | 2 vs 2 | +1.0 ± 0.0 (no spread between seeds) "
            "| +0.0 ± 0.0 (no spread between seeds) |") in done.stdout


def test_compare_needs_two_seeds_and_writes_nothing(tmp_path):
    record = tmp_path / "runs.csv"
    text = "run,k0,fine_tuned,meta_trained\na,50,60,70\na@1,50,62,70\nb,50,64,66\n"
    record.write_text(text)
    write_run(tmp_path / "out", "a@2")
    done = summarize(tmp_path / "out", "--record", record, "--compare", "a", "b")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "b needs at least two seeds in the runs left in (it has 1)" in done.stderr
    assert record.read_text() == text and done.stdout == ""


def test_exclude_names_a_run_that_exists(tmp_path):
    record = tmp_path / "runs.csv"
    record.write_text("run,k0,fine_tuned,meta_trained\na,50,60,70\n")
    done = summarize("--record", record, "--exclude", "a@9")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--exclude a@9: no such run; runs: a" in done.stderr
