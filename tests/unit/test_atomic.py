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
