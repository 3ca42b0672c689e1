import os
import subprocess
import sys

import pytest

from fsad.atomic import atomic_path


def test_success_renames_failure_leaves_nothing(tmp_path):
    with atomic_path(tmp_path / "sub" / "a.png") as tmp:
        assert tmp.suffix == ".png" and tmp.parent == tmp_path / "sub"
        tmp.write_text("x")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["a.png"]
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "b.csv") as tmp:
        tmp.write_text("half")
        raise RuntimeError
    assert not (tmp_path / "b.csv").exists() and not list(tmp_path.glob(".b*"))


def test_a_rewrite_removes_the_temporaries_of_killed_writers(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    stale = tmp_path / f".s[1].tmp-{dead}.csv"  # glob metacharacters in the name too
    alive = tmp_path / f".s[1].tmp-{os.getppid()}.csv"
    other = tmp_path / f".t.tmp-{dead}.csv"
    for p in (stale, alive, other):
        p.write_text("half")
    with atomic_path(tmp_path / "s[1].csv") as tmp:
        tmp.write_text("whole")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["s[1].csv", alive.name, other.name])
