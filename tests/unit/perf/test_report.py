"""How `fsad bench` writes its figures."""

from fsad.perf.report import duration, rows_text


def test_durations_read_at_a_glance():
    assert [duration(s) for s in (41, 750, 846_000)] == ["41 s", "12.5 min", "235.0 h"]


def test_rows_are_key_value_lines_with_four_significant_digits():
    assert rows_text([{"what": "x", "seconds": 0.123456, "n": 3}]) == \
        ["what=x  seconds=0.1235  n=3"]
