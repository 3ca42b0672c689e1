"""The Video record: what every adapter yields (``fsad.data.adapters``) and extraction
writes into the frame store (``fsad.data.store``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Video:
    """One video of a dataset. Frames are decoded lazily by calling ``frames()``."""

    id: str
    scene: str
    split: str  # "train" | "test"
    source: Path
    frames: Callable[[], Iterable[np.ndarray]]  # BGR or gray uint8 frames, in order
    labels: np.ndarray | None = None  # uint8 0/1 per frame, test videos only
    label_source: Path | None = None
