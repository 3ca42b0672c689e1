"""bench/input_frames_check.py: the input variants that show whether a generator uses its
first input frames (its figures are in docs/benchmarks.md)."""

import sys

import torch

from tests.conftest import REPO
from tests.helpers.cli import assert_bench_script_names_its_run_folder

sys.path.insert(0, str(REPO / "bench"))
from input_frames_check import VARIANTS, first_repeated, static  # noqa: E402


def test_the_variants_replace_the_earlier_frames_and_keep_the_last():
    x = torch.arange(2 * 3 * 1 * 2 * 2, dtype=torch.float32).reshape(2, 3, 1, 2, 2)
    fr, st = first_repeated(x), static(x)
    assert torch.equal(fr[:, 0], x[:, 1]) and torch.equal(fr[:, 1:], x[:, 1:])
    assert all(torch.equal(st[:, i], x[:, -1]) for i in range(3))
    assert torch.equal(VARIANTS["intact"](x), x)
    kept = x.clone()
    st += 1
    fr += 1  # copies, not views of the input
    assert torch.equal(x, kept)


def test_outside_a_run_folder_the_script_says_where_to_run_it(tmp_path):
    assert_bench_script_names_its_run_folder("input_frames_check.py", tmp_path)
