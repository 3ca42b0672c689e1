"""fsad: few-shot scene-adaptive video anomaly detection (Lu et al., ECCV 2020)."""

import os

__version__ = "0.1.0"

# OpenCV and its FFmpeg backend print warnings about damaged files straight to stderr, from C,
# around the one-line error fsad reports for the same file; keep them quiet unless the user
# asks (these must be set before cv2 is imported, and every fsad module is imported after this).
os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "8")  # AV_LOG_FATAL


class FsadError(Exception):
    """A user-facing error: the CLI prints its message on one line, without a traceback.

    Messages name the file or value at fault and say how to fix it.
    """
