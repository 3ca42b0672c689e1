"""The paired comparison meta minus fine-tuned: pairing, averaging per target, t-interval."""

import math

import pytest

from fsad.report import auc_tables, paired_differences


def rows(table):
    """auc.csv rows from {(target, method, K, seed): auc}."""
    return [{"source": "src", "target": t, "backbone": "rgan", "method": m, "shots": k,
             "seed": s, "frame_auc": a} for (t, m, k, s), a in table.items()]


def test_differences_are_paired_by_draw_averaged_per_target_then_over_targets():
    table = {}
    # Target a: meta - pretrained = +0.10 and +0.20 over two draws -> +0.15.
    # Target b: +0.05 and -0.05 -> 0.00. Target c: +0.30 (one draw; one draw unpaired).
    for t, diffs in {"a": [0.10, 0.20], "b": [0.05, -0.05], "c": [0.30]}.items():
        for s, d in enumerate(diffs):
            table[(t, "pretrained", 5, s)] = 0.6
            table[(t, "meta", 5, s)] = 0.6 + d
    table[("c", "meta", 5, 7)] = 0.99  # no pretrained draw 7: left out
    (cell,) = paired_differences(rows(table))
    per_target = [0.15, 0.0, 0.30]
    mean = sum(per_target) / 3
    sd = math.sqrt(sum((d - mean) ** 2 for d in per_target) / 2)
    half = 4.302652729911275 * sd / math.sqrt(3)  # t(0.975, 2 degrees of freedom)
    assert cell["shots"] == 5 and cell["targets"] == 3 and cell["wins"] == 2
    assert cell["mean"] == pytest.approx(mean)
    assert (cell["low"], cell["high"]) == pytest.approx((mean - half, mean + half))


def test_one_target_gives_a_difference_without_an_interval(tmp_path):
    table = {("a", "pretrained", 0, 0): 0.5, ("a", "meta", 0, 0): 0.6,
             ("a", "pretrained", 1, 0): 0.7, ("a", "meta", 1, 0): 0.65}
    cells = paired_differences(rows(table))
    assert [c["shots"] for c in cells] == [0, 1]
    assert math.isnan(cells[0]["low"])
    auc = tmp_path / "auc.csv"
    header = "source,target,backbone,method,shots,seed,frame_auc,video_auc\n"
    auc.write_text(header + "".join(f"src,{t},rgan,{m},{k},{s},{a},\n"
                                    for (t, m, k, s), a in table.items()))
    text = auc_tables(auc, tmp_path / "auc.md")
    assert "| src | rgan | 0 | +10.0 | – | 1 of 1 |" in text
    assert "| src | rgan | 1 | -5.0 | – | 0 of 1 |" in text
    assert "meta K=0" in text  # the meta-trained model is scored unadapted too
