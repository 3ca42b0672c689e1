"""Adapters: one per released dataset layout, each turning a folder into Video records.

Contract: every adapter validates the tree before any decoding and raises FsadError naming
the missing or malformed file; test videos carry one 0/1 label per frame (checked against
the decoded frame count during extraction); junk files (.DS_Store, ._*) are ignored.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fsad import FsadError
from fsad.data.record import Video

# Adapter name -> module of this package defining `videos(root, **options)`; imported on
# first use, so reading one layout never imports another's dependencies.
ADAPTERS = ("synthetic", "frames", "ucsd", "avenue", "shanghaitech", "ucf_crime", "urfall",
            "views")


# Where each release comes from and what its root folder must hold (for error messages).
DOWNLOAD_HINTS = {
    "synthetic": "generate it with `fsad synth --out ROOT` (the pipeline's rule synth does)",
    "frames": "the ano_pred/MNAD re-packaging: ROOT/training/frames/, ROOT/testing/frames/, "
              "ROOT/<name>.mat",
    "ucsd": "UCSD_Anomaly_Dataset.tar.gz from the SVCL UCSD anomaly detection page; ROOT is "
            "its UCSDped1 or UCSDped2 folder (holding Train/ and Test/)",
    "avenue": "Avenue_Dataset.zip and ground_truth_demo.zip from the CUHK Avenue page, "
              "unpacked side by side: ROOT holds 'Avenue Dataset/' and ground_truth_demo/",
    "shanghaitech": "shanghaitech.tar.gz from the ShanghaiTech SVIP lab; ROOT holds "
                    "training/videos/ and testing/",
    "ucf_crime": "UCF-Crime from the UCF CRCV page (class folders of .mp4, "
                 "Anomaly_Train.txt, the temporal annotation .txt); ROOT is the release root",
    "urfall": "the UR Fall Detection Dataset (fall-XX-cam0-rgb and adl-XX-cam0-rgb zips, "
              "urfall-cam0-falls.csv, urfall-cam0-adls.csv) in one folder ROOT",
    "views": "a folder ROOT of normal videos (.avi, .mp4, ...) from fixed cameras, e.g. "
             "OpenCV's sample vtest.avi",
}


def scene_names(adapter: str, root: str | Path, **opts) -> list[str] | None:
    """The scene names of a dataset from its folder listing and options alone (no frame
    decoded, no label file read), for checking a config before any job runs; None where
    that is not cheap (UCF-Crime's scenes follow its list files) or the root is missing."""
    root = Path(root)
    module = importlib.import_module(f"fsad.data.adapters.{adapter}")
    if not root.is_dir() or not hasattr(module, "scene_names"):
        return None
    return module.scene_names(root, **opts)


def load_videos(adapter: str, root: str | Path, **opts) -> list[Video]:
    """Validate ``root`` with the named adapter and return its videos (frames not decoded)."""
    if adapter not in ADAPTERS:
        raise FsadError(f"unknown adapter '{adapter}' (known: {', '.join(ADAPTERS)})")
    root = Path(root)
    if not root.is_dir():
        raise FsadError(f"dataset root not found: {root} (adapter '{adapter}': "
                        f"{DOWNLOAD_HINTS[adapter]}; or fix the path in the config's "
                        "'datasets' section)")
    return importlib.import_module(f"fsad.data.adapters.{adapter}").videos(root, **opts)
