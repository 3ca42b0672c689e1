"""fsad at the settings at which the authors' public code was timed (`fsad bench --suite
peer`): 6 tasks, 64x64, first order, K = 1 and 5, K inner Adam steps, with the forward FLOPs
of both, so a ratio reads as "less work" times "faster work". Their figures come from the
reference file (``fsad.perf.reference``); their code is not part of fsad."""

from __future__ import annotations

from fsad.perf.scaling import forward_gflop, meta_iteration_cost
from fsad.perf.workload import at


def peer(cfg: dict, figures: dict, backbone: str = "rgan", repeats: int = 2) -> dict:
    """``windows_per_step`` 1 is the authors' inner loop (step s trains on support window s:
    the same work as theirs); "all" is Eq. 1 on all K windows per step (K times the work at
    K > 1). ``cfg`` holds the architecture to compare (config/paper.yaml: the paper's widths;
    config/config.yaml: the default CPU model); ``figures`` is the reference file's content."""
    theirs = figures["authors_code"]
    base = at(cfg, size=64, tasks=theirs["tasks"], first_order=True)
    rows = []
    for k, per_step in ((1, 1), (5, 1), (5, None)):
        cost = meta_iteration_cost(at(base, steps=k, windows_per_step=per_step), k, backbone,
                                   repeats)
        ref = theirs["meta_iteration_s"][f"64x64 K={k}"]
        rows.append({"shots": k, "inner_steps": k, "windows_per_step": per_step or "all",
                     **cost, "peer_seconds": ref, "speedup": ref / cost["seconds"]})
    return {"rows": rows, "gflop_per_window_64": forward_gflop(base, backbone, 64),
            "gflop_per_window_256": forward_gflop(base, backbone, 256), "peer": theirs}
