# Config validation and the helpers every rule file uses.
import json
import os
import shlex
import sys
from pathlib import Path

from fsad import FsadError
from fsad import config as fsad_config

try:
    fsad_config.validate(config, source="Snakemake config")
except FsadError as exc:
    raise WorkflowError(str(exc)) from None

# Jobs call `fsad ...`, a shell function defined in front of every job's command that runs
# the package through the interpreter running Snakemake. So `.venv/bin/snakemake` works
# without an activated venv, locally and in SLURM jobs (they run Snakemake's own
# interpreter). Under `--sdm conda` (or apptainer) a job runs inside its own environment,
# whose `python` has fsad installed (workflow/envs/fsad.yaml). "set -euo pipefail" is
# Snakemake's own default prefix, kept.
_IN_OWN_ENV = {"conda", "apptainer"} & {
    str(m).lower() for m in workflow.deployment_settings.deployment_method
}
_PYTHON = "python" if _IN_OWN_ENV else shlex.quote(sys.executable)
# (Doubled braces: Snakemake formats the prefix with each command.)
shell.prefix(f'set -euo pipefail; fsad() {{{{ {_PYTHON} -m fsad "$@"; }}}}; ')

# Relative to the working directory, so that `--directory` runs (bench/) find the code too;
# from the repository root this is plain "src/fsad".
SRC = os.path.relpath(Path(workflow.basedir) / "src" / "fsad")


def _gpu_jobs():
    """Training and scoring rules claim `gpu=1` only where a GPU will be used; on a CPU
    machine they would otherwise run one at a time under --resources gpu=1."""
    if config["device"] == "cpu":
        return 0
    import torch

    return 1 if torch.cuda.is_available() else 0


GPU = _gpu_jobs()


def code(*paths):
    """Source files a rule's output depends on: Snakemake does not track imported code,
    so they are declared as inputs (small, hence checksum-compared)."""
    files = []
    for p in paths:
        path = Path(SRC) / p
        files += (
            sorted(str(f) for f in path.rglob("*.py")) if path.is_dir() else [str(path)]
        )
    return files


CODE_DATA = code("data", "outdir.py")
CODE_TRAIN = code(
    "models",
    "losses.py",
    "meta.py",
    "adapt.py",
    "train.py",
    "checkpoint.py",
    "device.py",
    "data/store.py",
    "data/windows.py",
)
CODE_SCORE = CODE_TRAIN + code("predict.py", "score.py", "atomic.py")
CODE_EVAL = code("metrics.py", "atomic.py")
CODE_REPORT = code("metrics.py", "report.py", "atomic.py", "outdir.py")


# The standard (full-data) setting trains on a target's own training videos: that target
# becomes a source named full-<target>.
FULL_SOURCES = {f"full-{t}": config["targets"][t] for t in config["full_data"]}


def with_full_sources():
    return {**config, "sources": {**config["sources"], **FULL_SOURCES}}


def step_params(step, **names):
    """The config sections one step reads, as JSON (a change reruns just that step)."""
    return json.dumps(
        fsad_config.subset(with_full_sources(), step, **names), sort_keys=True
    )


def generated_by_synth(dataset):
    spec = config["datasets"][dataset]
    return spec["adapter"] == "synthetic" and spec["root"] == f"results/raw/{dataset}"


def check_datasets():
    """Stop at parse time, before any job, when a dataset the run uses is not there."""
    from fsad.data.adapters import DOWNLOAD_HINTS

    used = {
        spec["dataset"]
        for group in ("sources", "targets", "validation")
        for _, spec in fsad_config.scene_sets(config, group)
    }
    for name in sorted(used):
        spec = config["datasets"][name]
        if generated_by_synth(name) or Path(spec["root"]).is_dir():
            continue
        raise WorkflowError(
            f"dataset '{name}' not found at {spec['root']}: download it and unpack it there "
            f"({DOWNLOAD_HINTS[spec['adapter']]}), or set datasets.{name}.root in the config"
        )


def dataset_root(wildcards):
    spec = config["datasets"][wildcards.dataset]
    return (
        spec["root"] if generated_by_synth(wildcards.dataset) else ancient(spec["root"])
    )


def frames_of(group, name=None):
    """The frame store a scene set reads; for a source, one per set it pools (its own and
    those of ``also``), in order."""
    if group == "sources":
        parts = fsad_config.source_parts(with_full_sources(), name)
        return [f"results/frames/{part['dataset']}.h5" for part in parts]
    spec = config["validation"] if group == "validation" else config[group][name]
    return f"results/frames/{spec['dataset']}.h5"


def frames_args(wildcards, input):
    """--frames A.h5 [--frames B.h5 ...] for a training job's source."""
    return [arg for path in input.frames for arg in ("--frames", path)]


def model_for(source, backbone, method, shots):
    base = f"results/models/{source}/{backbone}"
    if method == "pretrained":
        return f"{base}/pretrained/model.pt"
    return f"{base}/meta/k{fsad_config.meta_model_shots(config, shots)}/model.pt"


def score_cells():
    """(K, seed) of every scores file of one (source, target, backbone, method); K = 0
    draws nothing, so it has one seed."""
    ev = config["evaluate"]
    return [
        (k, s)
        for k in ev["shots"]
        for s in (range(1) if k == 0 else range(ev["seeds"]))
    ]


def score_file(source, target, backbone, method, k, s):
    return f"results/scores/{source}/{target}/{backbone}/{method}/k{k}/seed{s}.csv"


def score_files(source, target, backbone):
    return [
        score_file(source, target, backbone, method, k, s)
        for method in config["evaluate"]["methods"]
        for k, s in score_cells()
    ]


def score_job_models(wildcards):
    """The models one scoring job adapts: one per K (matched meta-training) or one."""
    return sorted(
        {
            model_for(wildcards.source, wildcards.backbone, wildcards.method, k)
            for k, _ in score_cells()
        }
    )


def score_job_cells(wildcards, output):
    """`--cell K SEED MODEL OUT` for every output of one scoring job, as a list of words
    (the rule quotes each)."""
    words = []
    for (k, s), out in zip(score_cells(), output, strict=True):
        model = model_for(wildcards.source, wildcards.backbone, wildcards.method, k)
        words += ["--cell", str(k), str(s), model, out]
    return words


def all_score_files(backbones=None):
    return [
        f
        for source in config["sources"]
        for target in config["targets"]
        for backbone in backbones or config["backbones"]
        for f in score_files(source, target, backbone)
    ]


ALL_BACKBONES = ["rgan", "rgan_star", "rvae"]


def full_data_scores():
    return [
        f"results/scores/full-{t}/{t}/{backbone}/pretrained/k0/seed0.csv"
        for t in config["full_data"]
        for backbone in config["backbones"]
    ]


def model_dir(source, backbone, model):
    """results/models/... of a validation curve's model: pretrained, or meta_k<K>."""
    base = f"results/models/{source}/{backbone}"
    return (
        f"{base}/pretrained" if model == "pretrained" else f"{base}/meta/k{model[6:]}"
    )


def validation_curves(source, backbone):
    models = ["pretrained"] * ("pretrained" in config["evaluate"]["methods"]) + [
        f"meta_k{k}" for k in fsad_config.meta_shots(config)
    ] * ("meta" in config["evaluate"]["methods"])
    return [f"results/validation/{source}/{backbone}/{m}.csv" for m in models]


def validation_figures():
    if not config["validation"]:
        return []
    return [
        f"results/figures/validation/{source}_{backbone}.png"
        for source in config["sources"]
        for backbone in config["backbones"]
    ]


def figure_dirs():
    return [
        f"results/figures/{source}/{target}/{backbone}"
        for source in config["sources"]
        for target in config["targets"]
        for backbone in config["backbones"]
    ]


def target_scores(wildcards):
    return score_files(wildcards.source, wildcards.target, wildcards.backbone)


wildcard_constraints:
    dataset=r"[A-Za-z0-9_\-]+",
    source=r"[A-Za-z0-9_\-]+",
    target=r"[A-Za-z0-9_\-]+",
    backbone=r"[A-Za-z0-9_\-]+",
    method=r"pretrained|meta",
    model=r"pretrained|meta_k\d+",
    shots=r"\d+",
    seed=r"\d+",


check_datasets()

try:
    fsad_config.check_scenes(
        with_full_sources(),
        "Snakemake config",
        generated=[name for name in config["datasets"] if generated_by_synth(name)],
    )
except FsadError as exc:
    raise WorkflowError(str(exc)) from None
