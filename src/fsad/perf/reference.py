"""Figures from outside fsad that the benchmarks compare with or project from (the authors'
code's timings, the released datasets' test frame counts, a GPU's peak rate), read from a
data file that names the source of each: bench/reference_figures.yaml in the repository."""

from __future__ import annotations

from pathlib import Path

import yaml

from fsad import FsadError

# src/fsad/perf/reference.py -> the repository root; absent when fsad is installed elsewhere.
DEFAULT = Path(__file__).resolve().parents[3] / "bench" / "reference_figures.yaml"
SECTIONS = ("authors_code", "test_frames", "peak_tflops")


def load(path: str | Path | None = None) -> dict | None:
    """The reference figures: from ``path``, else from the repository's file (None when
    that is not there: the comparisons that need it are then left out). A ``path`` given
    but missing or malformed is an error."""
    if path is None:
        if not DEFAULT.is_file():
            return None
        path = DEFAULT
    path = Path(path)
    if not path.is_file():
        raise FsadError(f"reference figures not found: {path}; check the --reference path "
                        "(the repository's is bench/reference_figures.yaml)")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise FsadError(f"{path}: not valid YAML ({exc}); fix the file") from None
    missing = [s for s in SECTIONS if not isinstance(data, dict) or s not in data]
    if missing:
        raise FsadError(f"{path}: no section {', '.join(missing)}; restore it from the "
                        "repository's bench/reference_figures.yaml")
    return data


def require(figures: dict | None, what: str) -> dict:
    """``figures``, or an error saying that ``what`` needs them."""
    if figures is None:
        raise FsadError(f"{what} compares with figures from outside fsad, and "
                        f"{DEFAULT} is not there; pass --reference FILE (the repository's "
                        "bench/reference_figures.yaml)")
    return figures
