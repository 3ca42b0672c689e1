"""A checkpoint that carries a pickle payload is refused without running it, in one line
that names the file, with no warning from torch before it and without repeating torch's
advice to load it with weights_only=False (the one thing a user must not do)."""

from __future__ import annotations

import json
import pickle

import pytest
import torch

from tests.helpers.cli import files, one_line_error, run_fsad


class Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('x')",))


def _raw_pickle(path, payload):  # protocol 4, which makes torch warn before it refuses
    path.write_bytes(pickle.dumps(payload, protocol=4))


def _torch_save(path, payload):
    torch.save(payload, path)


@pytest.mark.parametrize("write", [_raw_pickle, _torch_save], ids=["pickle", "torch.save"])
def test_pickle_payload_is_refused_quietly(tiny_store, tmp_path, write):
    marker = tmp_path / "pwned"
    model = tmp_path / "model.pt"
    write(model, {"format": "fsad-checkpoint", "x": Evil(marker)})
    out = tmp_path / "out"
    result = run_fsad("score", "--model", model, "--frames", tiny_store, "--target", "t",
                      "--shots", 0, "--out", out / "scores.csv", "--params",
                      json.dumps({"device": "cpu", "targets": {
                          "t": {"dataset": "synthetic", "scenes": ["s00"]}}}))
    line = one_line_error(result, "model.pt: not a loadable fsad checkpoint, refused",
                          "use a checkpoint written by fsad")
    assert result.stderr.strip() == line  # no warning, nothing else
    assert "weights_only" not in line and "Warning" not in result.stderr
    assert not marker.exists()
    assert files(out) == []
