"""Measuring primitives: side-by-side rounds and FLOP counts, against known values."""

import torch

from fsad.perf.timing import alternate, count_flops, round_ratio


def test_alternate_runs_the_functions_in_turn_and_ratios_are_taken_per_round():
    calls = []
    rounds = alternate([lambda: calls.append("a"), lambda: calls.append("b")], 3)
    assert calls == ["a", "b"] * 4  # one warm-up each, then three rounds
    assert len(rounds) == 3 and all(len(r) == 2 and min(r) >= 0 for r in rounds)
    # per-round ratios 1, 2 and 9: their median is 2, the ratio of the medians (4 / 1) is 4
    assert round_ratio([[1, 1], [4, 2], [9, 1]]) == 2


def test_count_flops_counts_two_per_multiply_add():
    layer, x = torch.nn.Linear(3, 4, bias=False), torch.rand(5, 3)
    assert count_flops(lambda: layer(x)) == 2 * 5 * 3 * 4
    conv, image = torch.nn.Conv2d(2, 3, 3, padding=1, bias=False), torch.rand(1, 2, 8, 8)
    assert count_flops(lambda: conv(image)) == 2 * (2 * 3 * 3) * 3 * 8 * 8
