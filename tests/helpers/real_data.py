"""Where the tests find the real datasets that live outside the repository.

``FSAD_REAL_DATA`` names the folder that holds them (``ped2/``, ``vtest/``; the layout of
this project's ``../shared/data``, whose README says what each is); by default the
``shared/data`` folder beside the clone. A test that needs one skips when it is absent, so a
fresh clone anywhere else runs without it. The tests pass these paths explicitly: no config
of the repository points outside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
REAL_DATA = Path(os.environ.get("FSAD_REAL_DATA", REPO.parent / "shared" / "data"))
PED2 = REAL_DATA / "ped2"
VTEST = REAL_DATA / "vtest" / "vtest.avi"


def needs(path: Path) -> pytest.MarkDecorator:
    """Skip unless the real dataset at ``path`` is on this machine."""
    return pytest.mark.skipif(not path.exists(),
                              reason=f"{path} not present (set FSAD_REAL_DATA)")
