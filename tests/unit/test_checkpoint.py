import pickle

import pytest
import torch

from fsad import FsadError, checkpoint


def test_round_trip(tmp_path):
    checkpoint.save(tmp_path / "c.pt", {"step": 3, "w": torch.ones(2)})
    loaded = checkpoint.load(tmp_path / "c.pt")
    assert loaded["step"] == 3 and torch.equal(loaded["w"], torch.ones(2))
    assert list(tmp_path.iterdir()) == [tmp_path / "c.pt"]  # no temporary left behind


class Evil:
    def __reduce__(self):
        return (exec, ("open('/tmp/fsad-pwned', 'w').write('x')",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"format": "fsad-checkpoint", "x": Evil()}))
    with pytest.raises(FsadError, match="not a loadable fsad checkpoint"):
        checkpoint.load(path)
    import os

    assert not os.path.exists("/tmp/fsad-pwned")


def test_truncated_and_foreign_files(tmp_path):
    checkpoint.save(tmp_path / "c.pt", {"w": torch.ones(100)})
    data = (tmp_path / "c.pt").read_bytes()
    (tmp_path / "t.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(FsadError, match="t.pt: not a loadable"):
        checkpoint.load(tmp_path / "t.pt")
    torch.save({"w": torch.ones(1)}, tmp_path / "f.pt")
    with pytest.raises(FsadError, match="not an fsad checkpoint"):
        checkpoint.load(tmp_path / "f.pt")
    torch.save({"format": "fsad-checkpoint", "version": 99}, tmp_path / "v.pt")
    with pytest.raises(FsadError, match="version 99"):
        checkpoint.load(tmp_path / "v.pt")
