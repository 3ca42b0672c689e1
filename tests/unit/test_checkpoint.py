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


def test_checksum_covers_every_value_and_survives_a_round_trip(tmp_path):
    # An optimiser state has int keys, tuples, None and bools: all go through the digest.
    w = torch.nn.Parameter(torch.randn(3, 3))
    opt = torch.optim.Adam([w], betas=(0.5, 0.999))
    w.grad = torch.ones(3, 3)
    opt.step()
    payload = {"step": 1, "optim": opt.state_dict(), "w": w.detach(), "half": torch.ones(2).half()}
    checkpoint.save(tmp_path / "c.pt", payload)
    loaded = checkpoint.load(tmp_path / "c.pt")
    assert len(loaded["sha256"]) == 64 and loaded["sha256"] == checkpoint.digest(payload)
    assert checkpoint.digest({**payload, "step": 2}) != loaded["sha256"]
    assert checkpoint.digest({**payload, "w": w.detach() + 1e-7}) != loaded["sha256"]
    # Saving a loaded checkpoint again (as `fsad adapt` does) keeps one envelope.
    checkpoint.save(tmp_path / "d.pt", loaded)
    assert checkpoint.load(tmp_path / "d.pt")["sha256"] == loaded["sha256"]


def test_a_flipped_byte_fails_the_checksum(tmp_path):
    weights = torch.arange(1000, dtype=torch.float32)
    checkpoint.save(tmp_path / "c.pt", {"w": weights})
    data = bytearray((tmp_path / "c.pt").read_bytes())
    at = bytes(data).find(weights.numpy().tobytes()[400:440])
    assert at > 0
    data[at] ^= 0x01  # one bit of one weight: torch itself still reads the file
    (tmp_path / "c.pt").write_bytes(bytes(data))
    assert not torch.equal(torch.load(tmp_path / "c.pt", weights_only=True)["w"], weights)
    with pytest.raises(FsadError, match=r"c\.pt: checksum mismatch, the file is corrupt"):
        checkpoint.load(tmp_path / "c.pt")


def test_a_version_1_checkpoint_is_refused(tmp_path):
    torch.save({"format": "fsad-checkpoint", "version": 1, "w": torch.ones(1)},
               tmp_path / "v1.pt")
    with pytest.raises(FsadError, match=r"version 1 is not supported by this fsad \(expects 2\)"):
        checkpoint.load(tmp_path / "v1.pt")


def test_previous_keeps_the_replaced_file(tmp_path):
    path, prev = tmp_path / "s.pt", tmp_path / "s.prev.pt"
    checkpoint.save(path, {"step": 1}, previous=prev)
    assert not prev.exists()
    checkpoint.save(path, {"step": 2}, previous=prev)
    checkpoint.save(path, {"step": 3}, previous=prev)
    assert checkpoint.load(path)["step"] == 3 and checkpoint.load(prev)["step"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.prev.pt", "s.pt"]


def test_a_kill_inside_the_write_leaves_the_old_file_whole(tmp_path):
    from fsad.atomic import remove_stale
    from tests.helpers.forked import run_forked

    path, prev = tmp_path / "s.pt", tmp_path / "s.prev.pt"
    checkpoint.save(path, {"step": 1, "w": torch.zeros(10_000)})
    checkpoint.save(path, {"step": 2, "w": torch.ones(10_000)}, previous=prev)
    status = run_forked(lambda: checkpoint.save(path, {"step": 3, "w": torch.ones(10_000)},
                                                previous=prev),
                        fault="kill_in_checkpoint_write:s.pt:3")
    assert status == -9
    assert checkpoint.load(path)["step"] == 2 and checkpoint.load(prev)["step"] == 1
    (tmp,) = tmp_path.glob(".s.tmp-*.pt")  # the half-written temporary, never renamed
    assert 0 < tmp.stat().st_size < path.stat().st_size
    assert remove_stale(path) == [tmp] and not tmp.exists()
