"""fsad: few-shot scene-adaptive video anomaly detection (Lu et al., ECCV 2020)."""

__version__ = "0.1.0"


class FsadError(Exception):
    """A user-facing error: the CLI prints its message on one line, without a traceback.

    Messages name the file or value at fault and say how to fix it.
    """
