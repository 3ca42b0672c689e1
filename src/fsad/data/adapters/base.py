"""The junk files every adapter ignores. (The Video record adapters yield is in
``fsad.data.record``.)"""

from __future__ import annotations

from pathlib import Path

JUNK_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


def is_junk(path: Path) -> bool:
    """macOS/Windows litter that released archives carry; never data."""
    return path.name in JUNK_NAMES or path.name.startswith("._")
