"""Adapters: one per released dataset layout, each turning a folder into Video records.

Contract: every adapter validates the tree before any decoding and raises FsadError naming
the missing or malformed file; test videos carry one 0/1 label per frame (checked against
the decoded frame count during extraction); junk files (.DS_Store, ._*) are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fsad import FsadError
from fsad.data.adapters.base import Video


def _synthetic(root: Path, **opts) -> list[Video]:
    from fsad.data.adapters.synthetic import videos

    return videos(root, **opts)


def _frames(root: Path, **opts) -> list[Video]:
    from fsad.data.adapters.frames import videos

    return videos(root, **opts)


def _ucsd(root: Path, **opts) -> list[Video]:
    from fsad.data.adapters.ucsd import videos

    return videos(root, **opts)


def _avenue(root: Path, **opts) -> list[Video]:
    from fsad.data.adapters.avenue import videos

    return videos(root, **opts)


def _shanghaitech(root: Path, **opts) -> list[Video]:
    from fsad.data.adapters.shanghaitech import videos

    return videos(root, **opts)


def _ucf_crime(root: Path, **opts) -> list[Video]:
    from fsad.data.adapters.ucf_crime import videos

    return videos(root, **opts)


def _urfall(root: Path, **opts) -> list[Video]:
    from fsad.data.adapters.urfall import videos

    return videos(root, **opts)


ADAPTERS: dict[str, Callable[..., list[Video]]] = {
    "synthetic": _synthetic,
    "frames": _frames,
    "ucsd": _ucsd,
    "avenue": _avenue,
    "shanghaitech": _shanghaitech,
    "ucf_crime": _ucf_crime,
    "urfall": _urfall,
}


def load_videos(adapter: str, root: str | Path, **opts) -> list[Video]:
    """Validate ``root`` with the named adapter and return its videos (frames not decoded)."""
    if adapter not in ADAPTERS:
        raise FsadError(f"unknown adapter '{adapter}' (known: {', '.join(ADAPTERS)})")
    root = Path(root)
    if not root.is_dir():
        raise FsadError(f"dataset root not found: {root} (for adapter '{adapter}'; check the "
                        "path in your config's 'datasets' section)")
    return ADAPTERS[adapter](root, **opts)
