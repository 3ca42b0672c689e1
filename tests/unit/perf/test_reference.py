"""Figures from outside fsad live in bench/reference_figures.yaml, each with its source."""

import pytest

from fsad import FsadError
from fsad.perf import reference
from tests.conftest import REPO


def test_the_default_is_the_repository_s_file_and_every_section_names_its_source():
    assert reference.DEFAULT == REPO / "bench" / "reference_figures.yaml"
    figures = reference.load()
    for section in reference.SECTIONS:
        assert figures[section]["source"].strip(), section
    frames = figures["test_frames"]
    assert set(frames["estimated"]) <= set(frames["frames"])


def test_a_missing_default_leaves_the_figures_out_a_missing_path_is_an_error(tmp_path,
                                                                             monkeypatch):
    monkeypatch.setattr(reference, "DEFAULT", tmp_path / "none.yaml")
    assert reference.load() is None
    with pytest.raises(FsadError, match="--reference FILE"):
        reference.require(None, "the peer suite")
    with pytest.raises(FsadError, match="not found"):
        reference.load(tmp_path / "other.yaml")
    (tmp_path / "partial.yaml").write_text("authors_code: {source: x}\n")
    with pytest.raises(FsadError, match="test_frames"):
        reference.load(tmp_path / "partial.yaml")
