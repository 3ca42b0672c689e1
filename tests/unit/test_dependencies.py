"""Dependencies flow one way: evaluation and reporting run without torch, inference imports
nothing from training, and the frame store imports no adapter. Each check runs in a fresh
interpreter, so what this test process has imported already cannot hide an import."""

import subprocess
import sys

HEADER = "source,target,backbone,method,shots,seed,video,frame,label,loss,psnr\n"


def run_python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)


def scores_csv(path, method: str, shots: int) -> str:
    rows = [f"src,tgt,rgan,{method},{shots},0,v1,{f},{int(f >= 6)},{0.1 + 0.01 * f:.4f},"
            f"{30 - f:.2f}\n" for f in range(3, 10)]
    path.write_text(HEADER + "".join(rows))
    return str(path)


# Runs the `fsad` command line in this interpreter, then fails if torch was imported.
IN_PROCESS = """
import sys
from fsad.cli import cli
cli.main(sys.argv[1:], standalone_mode=False)
loaded = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
assert not loaded, f"imported {loaded[:3]}"
"""


def test_importing_the_command_line_does_not_import_torch():
    result = run_python("import sys, fsad.cli; assert 'torch' not in sys.modules")
    assert result.returncode == 0, result.stderr


def test_scoring_does_not_load_scikit_learn():
    """A scoring job imports fsad.score: scikit-learn (seconds to load, per job) is for
    evaluation only."""
    result = run_python("import sys, fsad.score; assert 'sklearn' not in sys.modules")
    assert result.returncode == 0, result.stderr


def test_evaluate_and_report_run_without_torch(tmp_path):
    scores = [scores_csv(tmp_path / "a.csv", "pretrained", 0),
              scores_csv(tmp_path / "b.csv", "meta", 1)]
    auc = tmp_path / "auc.csv"
    for args in (["evaluate", *scores, "--out", str(auc)],
                 ["report", "tables", "--auc", str(auc), "--out-md", str(tmp_path / "t.md"),
                  "--out-csv", str(tmp_path / "t.csv")],
                 ["report", "figures", *scores, "--out", str(tmp_path / "figures")]):
        result = run_python(IN_PROCESS, *args)
        assert result.returncode == 0, f"{args[:2]}: {result.stderr[-2000:]}"
    assert auc.read_text().startswith("source,target,backbone,method,shots,seed,frame_auc")
    assert (tmp_path / "figures" / "roc.png").is_file()


def test_inference_does_not_import_training():
    result = run_python("import sys, fsad.score, fsad.detect; "
                        "assert 'fsad.train' not in sys.modules, 'fsad.train imported'")
    assert result.returncode == 0, result.stderr


def test_the_frame_store_imports_no_adapter():
    result = run_python("import sys, fsad.data.store; "
                        "bad = [m for m in sys.modules if m.startswith('fsad.data.adapters')]; "
                        "assert not bad, bad")
    assert result.returncode == 0, result.stderr
