"""bench/plot_validation_runs.py: several runs' validation curves in one PNG; a folder
without curves is refused with the command that makes them."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers.workflow import REPO

CURVE = "model,shots,step,before,after,copy_last\n" + "".join(
    f"meta K=5,5,{s},{0.09 + s / 1000},{0.08 + s / 2000},0.118\n" for s in (0, 50, 100))


def test_runs_are_drawn_into_one_figure_and_a_folder_without_curves_is_refused(tmp_path):
    for name in ("a", "b"):
        curves = tmp_path / name / "seed0/results/validation/synthetic/rgan"
        curves.mkdir(parents=True)
        (curves / "meta_k5.csv").write_text(CURVE)
    out = tmp_path / "fig/runs.png"
    script = str(REPO / "bench/plot_validation_runs.py")
    done = subprocess.run([sys.executable, script, f"{tmp_path / 'a'}=first", str(tmp_path / "b"),
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"\x89PNG")
    (tmp_path / "empty").mkdir()
    refused = subprocess.run([sys.executable, script, str(tmp_path / "empty"), "--out",
                              str(tmp_path / "x.png")], capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode != 0 and "meta_seeds.py --until validation" in refused.stderr
    assert not (tmp_path / "x.png").exists()
