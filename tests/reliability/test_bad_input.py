"""Bad input: malformed datasets, configs and command lines, each fed to the real `fsad`
command in a child process.

Every error case must end in exactly one line on stderr, ``fsad: error: ...``, that names
the cause (the file, key or value) and says what to do, with a non-zero exit status (not a
signal, not a traceback), and must leave no output behind: nothing under the output's
name and no temporary file beside it. The success cases (names with spaces and non-ASCII
characters) must simply work. docs/reliability.md lists every case and its outcome.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.helpers import layouts
from tests.helpers.cli import ENV, FSAD, run_fsad

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (INFO|DEBUG) ")
TARGET = {"device": "cpu", "targets": {"t": {"dataset": "synthetic", "scenes": ["s00"]}}}


@dataclass
class Ctx:
    """What a case builds its input from: a scratch folder, a pristine synthetic benchmark,
    a tiny trained model and the frame store it was trained on."""

    tmp: Path
    synth: Path
    store: Path
    model: Path
    out_dir: Path = field(init=False)

    def __post_init__(self):
        self.out_dir = self.tmp / "out"
        self.out_dir.mkdir()

    def synthetic(self) -> Path:
        return Path(shutil.copytree(self.synth, self.tmp / "synthetic"))


@dataclass
class Run:
    """A command to run: its arguments, the output that must not appear, and how the child
    is constrained (a file-size limit, dropped root permissions)."""

    args: list
    out: Path
    fsize: int | None = None
    drop_root: bool = False
    check: Callable[[], None] | None = None  # success cases: what the output must hold


@dataclass
class Case:
    id: str
    build: Callable[[Ctx], Run]
    cause: str  # must appear in the error line (the file, key or value at fault)
    fix: str  # must appear too (what to do); ignored for success cases
    ok: bool = False


def extract(root: Path, adapter: str, ctx: Ctx, **kw) -> Run:
    out = ctx.out_dir / "store.h5"
    return Run(["extract", "--adapter", adapter, "--root", root, "--out", out], out, **kw)


def score(ctx: Ctx, shots, model=None, frames=None, **kw) -> Run:
    out = ctx.out_dir / "scores.csv"
    return Run(["score", "--model", model or ctx.model, "--frames", frames or ctx.store,
                "--target", "t", "--shots", shots, "--params", json.dumps(TARGET),
                "--out", out], out, **kw)


def detect(ctx: Ctx, shots, video=None, normal=None, out=None, **kw) -> Run:
    out = out or ctx.out_dir / "detect"
    normal = normal or ctx.synth / "s00/training/01.avi"
    video = video or ctx.synth / "s01/testing/01.avi"
    return Run(["detect", "--model", ctx.model, "--normal", normal, "--shots", shots, video,
                "--out", out, "--steps", 1, "--params", json.dumps({"device": "cpu"})], out, **kw)


def write_config(ctx: Ctx, text: str) -> Path:
    path = ctx.tmp / "config.yaml"
    path.write_text(text)
    return path


def show_config(ctx: Ctx, *args) -> Run:
    return Run(["config", *args], ctx.out_dir / "none")


# --- malformed datasets -------------------------------------------------------------------

def truncated_video(ctx):
    root = ctx.synthetic()
    video = root / "s00/training/01.avi"
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    return extract(root, "synthetic", ctx)


def zero_frame_video(ctx):
    root = ctx.synthetic()
    writer = cv2.VideoWriter(str(root / "s01/training/01.avi"),
                             cv2.VideoWriter_fourcc(*"MJPG"), 25, (32, 32), True)
    writer.release()
    return extract(root, "synthetic", ctx)


def empty_video_file(ctx):
    root = ctx.synthetic()
    (root / "s02/testing/01.avi").write_bytes(b"")
    return extract(root, "synthetic", ctx)


def mixed_resolutions(ctx):
    root = layouts.frames_mat(ctx.tmp / "tiny")
    cv2.imwrite(str(root / "training/frames/02/003.jpg"), np.zeros((48, 64, 3), np.uint8))
    return extract(root, "frames", ctx)


def unreadable_image(ctx):
    root = layouts.frames_mat(ctx.tmp / "tiny")
    (root / "testing/frames/01/004.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    return extract(root, "frames", ctx)


def labels_for_other_video_count(ctx):
    from scipy.io import savemat

    root = layouts.frames_mat(ctx.tmp / "tiny")
    gt = np.empty((1, 3), dtype=object)
    for i in range(3):
        gt[0, i] = np.array([[1], [2]], np.uint8)
    savemat(root / "tiny.mat", {"gt": gt})
    return extract(root, "frames", ctx)


def nan_in_label_array(ctx):
    root = layouts.shanghaitech(ctx.tmp / "shanghaitech")
    labels = np.zeros(10, np.float32)
    labels[4] = np.nan
    np.save(root / "testing/test_frame_mask/01_0014.npy", labels)
    return extract(root, "shanghaitech", ctx)


def nan_in_label_intervals(ctx):
    from scipy.io import savemat

    root = layouts.frames_mat(ctx.tmp / "tiny")
    gt = np.empty((1, 2), dtype=object)
    gt[0, 0] = np.array([[3.0], [6.0]])
    gt[0, 1] = np.array([[1.0], [np.nan]])
    savemat(root / "tiny.mat", {"gt": gt})
    return extract(root, "frames", ctx)


def labels_shorter_than_video(ctx):
    root = ctx.synthetic()
    csv = root / "s00/testing/01.csv"
    csv.write_text("".join(csv.read_text().splitlines(keepends=True)[:-5]))
    return extract(root, "synthetic", ctx)


def interval_outside_video(ctx):
    root = layouts.ucsd(ctx.tmp, test=((10, "3:10"), (9, "1:2, 8:99")))
    return extract(root, "ucsd", ctx)


def only_stale_label_backup(ctx):
    root = layouts.ucsd(ctx.tmp)
    (root / "Test/UCSDped2.m").unlink()
    return extract(root, "ucsd", ctx)


def missing_mask_file(ctx):
    root = layouts.avenue(ctx.tmp / "avenue")
    (root / "ground_truth_demo/testing_label_mask/2_label.mat").unlink()
    return extract(root, "avenue", ctx)


def listed_video_missing(ctx):
    root = layouts.ucf_crime(ctx.tmp / "ucf")
    (root / "Anomaly-Videos-Part-1/Arrest/Arrest001_x264.mp4").unlink()
    return extract(root, "ucf_crime", ctx)


def bad_label_value_in_csv(ctx):
    root = layouts.urfall(ctx.tmp / "urfall")
    csv = root / "urfall-cam0-falls.csv"
    rows = csv.read_text().splitlines()
    name, frame, _, *rest = rows[0].split(",")
    rows[0] = ",".join([name, frame, "7", *rest])
    csv.write_text("\n".join(rows) + "\n")
    return extract(root, "urfall", ctx)


def unexpected_file(ctx):
    root = ctx.synthetic()
    (root / "s01/training/notes.txt").write_text("mine\n")
    return extract(root, "synthetic", ctx)


def missing_dataset_root(ctx):
    return extract(ctx.tmp / "no such dataset", "ucsd", ctx)


# --- malformed configs --------------------------------------------------------------------

def unknown_config_key(ctx):
    return show_config(ctx, "--config", write_config(ctx, "pretrian: {steps: 10}\n"))


def wrong_type(ctx):
    return show_config(ctx, "--config", write_config(ctx, "pretrain: {steps: ten}\n"))


def yaml_syntax_error(ctx):
    return show_config(ctx, "--config", write_config(ctx, "pretrain: {steps: 10\nmeta: [\n"))


def config_file_missing(ctx):
    return show_config(ctx, "--config", ctx.tmp / "confg.yaml")


def params_not_json(ctx):
    return show_config(ctx, "--params", "{seed: 1}")


def undefined_dataset_reference(ctx):
    text = "sources:\n  mine: {dataset: campus, scenes: [s00]}\n"
    return show_config(ctx, "--config", write_config(ctx, text))


# --- malformed command lines --------------------------------------------------------------

def negative_k_score(ctx):
    return score(ctx, -1)


def negative_k_detect(ctx):
    return detect(ctx, -2)


def k_larger_than_windows_score(ctx):
    return score(ctx, 1000)


def k_larger_than_windows_detect(ctx):
    return detect(ctx, 500)


def k_not_a_number(ctx):
    return score(ctx, "two")


def truncated_checkpoint(ctx):
    model = ctx.tmp / "model.pt"
    model.write_bytes(ctx.model.read_bytes()[:2000])
    return score(ctx, 1, model=model)


def frame_store_not_hdf5(ctx):
    frames = ctx.tmp / "frames.h5"
    frames.write_text("not hdf5\n")
    return score(ctx, 1, frames=frames)


def unreadable_video_to_score(ctx):
    video = ctx.tmp / "camera 2.avi"
    video.write_bytes(b"RIFF but no video")
    return detect(ctx, 1, video=video)


# --- unwritable outputs -------------------------------------------------------------------

def read_only_output_folder(ctx):
    os.chmod(ctx.out_dir, 0o555)
    return extract(ctx.synth, "synthetic", ctx, drop_root=True)


def output_parent_is_a_file(ctx):
    blocker = ctx.out_dir / "results"
    blocker.write_text("a file, not a folder\n")
    out = blocker / "frames" / "store.h5"
    return Run(["extract", "--adapter", "synthetic", "--root", ctx.synth, "--out", out], out)


def disk_full_extract(ctx):
    return extract(ctx.synth, "synthetic", ctx, fsize=64 * 1024)


def disk_full_detect(ctx):
    return detect(ctx, 1, fsize=1024)


# --- names with spaces and non-ASCII characters: these must work --------------------------

def non_ascii_dataset_and_store(ctx):
    root = layouts.frames_mat(ctx.tmp / "my data" / "Straße 東京")
    out = ctx.out_dir / "résultats 1" / "магазин кадров.h5"

    def check():
        from fsad.data.store import FrameStore

        store = FrameStore(out)
        assert len(store.videos) == 4 and store.labels("test/01").sum() == 4
        store.close()

    return Run(["extract", "--adapter", "frames", "--root", root, "--out", out], out,
               check=check)


def non_ascii_videos_and_detect_output(ctx):
    folder = ctx.tmp / "caméra nord" / "vidéos d'été"
    folder.mkdir(parents=True)
    normal = Path(shutil.copy(ctx.synth / "s00/training/01.avi", folder / "normal ü.avi"))
    video = Path(shutil.copy(ctx.synth / "s00/testing/01.avi", folder / "nuit 夜 1.avi"))
    out = ctx.out_dir / "sortie é"

    def check():
        rows = (out / "nuit 夜 1.scores.csv").read_text(encoding="utf-8").splitlines()
        assert len(rows) == 1 + 37 and (out / "nuit 夜 1.scores.png").stat().st_size > 1000

    return detect(ctx, 1, video=video, normal=normal, out=out, check=check)


CASES = [
    # datasets (fsad extract)
    Case("truncated video", truncated_video, "s00/training/01.avi", "re-download"),
    Case("video with zero frames", zero_frame_video, "s01/training/01.avi", "re-download"),
    Case("empty (0-byte) video file", empty_video_file, "s02/testing/01.avi", "re-download"),
    Case("mixed resolutions in one video folder", mixed_resolutions, "frames/02/003.jpg",
         "resize"),
    Case("unreadable image", unreadable_image, "frames/01/004.jpg", "re-download"),
    Case("label file for a different number of videos", labels_for_other_video_count,
         "tiny.mat", "label file"),
    Case("NaN in a label array", nan_in_label_array, "01_0014.npy", "re-download"),
    Case("NaN in label intervals", nan_in_label_intervals, "tiny.mat", "re-download"),
    Case("fewer labels than frames", labels_shorter_than_video, "s00/testing/01.csv",
         "exactly one entry per frame"),
    Case("label interval past the last frame", interval_outside_video, "UCSDped2.m",
         "fix the interval"),
    Case("only the stale .m~ label backup", only_stale_label_backup, "UCSDped2.m",
         "re-download"),
    Case("missing per-video mask file", missing_mask_file, "2_label.mat", "re-download"),
    Case("listed video missing", listed_video_missing, "Arrest001_x264.mp4", "re-download"),
    Case("label value outside -1/0/1", bad_label_value_in_csv, "urfall-cam0-falls.csv",
         "re-download"),
    Case("unexpected file in the tree", unexpected_file, "notes.txt", "remove"),
    Case("missing dataset root", missing_dataset_root, "no such dataset", "fix the path"),
    # configs (fsad config; every subcommand loads configs the same way)
    Case("unknown config key", unknown_config_key, "pretrian", "remove"),
    Case("wrong type", wrong_type, "pretrain/steps", "integer"),
    Case("YAML syntax error", yaml_syntax_error, "config.yaml", "line"),
    Case("config file missing", config_file_missing, "confg.yaml", "--config"),
    Case("--params not JSON", params_not_json, "--params", "JSON object"),
    Case("undefined dataset reference", undefined_dataset_reference, "campus",
         "define it under 'datasets'"),
    # command lines (fsad score, fsad detect)
    Case("negative K (score)", negative_k_score, "'--shots': -1", "x>=0"),
    Case("negative K (detect)", negative_k_detect, "'--shots': -2", "x>=0"),
    Case("K larger than the windows available (score)", k_larger_than_windows_score, "1000",
         "lower K"),
    Case("K larger than the windows available (detect)", k_larger_than_windows_detect, "500",
         "smaller K"),
    Case("K not a number", k_not_a_number, "'two'", "--help"),
    Case("truncated checkpoint", truncated_checkpoint, "model.pt", "rerun the step"),
    Case("frame store not HDF5", frame_store_not_hdf5, "frames.h5", "rerun the extraction"),
    Case("unreadable video to score", unreadable_video_to_score, "camera 2.avi",
         "re-encode"),
    # outputs
    Case("read-only output folder", read_only_output_folder, "store.h5", "writable"),
    Case("output folder's parent is a file", output_parent_is_a_file, "out/results",
         "choose another path"),
    Case("full disk while extracting (64 KiB file-size limit)", disk_full_extract, "store.h5",
         "free disk space"),
    Case("full disk while writing detect results (1 KiB limit)", disk_full_detect, "detect",
         "free disk space"),
    # must work
    Case("spaces and non-ASCII in dataset and store paths", non_ascii_dataset_and_store, "",
         "", ok=True),
    Case("spaces and non-ASCII in video names and detect output",
         non_ascii_videos_and_detect_output, "", "", ok=True),
]


# --- running ------------------------------------------------------------------------------

def _child_limits(run: Run):
    """preexec_fn: a file-size limit (SIGXFSZ ignored, so writes fail with EFBIG instead of
    killing the process, as a full disk fails them with ENOSPC) and, for root, no permission
    override (root ignores file modes unless CAP_DAC_OVERRIDE is dropped)."""

    def limit():
        if run.fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (run.fsize, run.fsize))
        if run.drop_root and os.geteuid() == 0:
            libc = ctypes.CDLL(None, use_errno=True)
            for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
                if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone after exec
                    raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")

    return limit


def _can_drop_root() -> bool:
    if os.geteuid() != 0:
        return True
    r = subprocess.run([sys.executable, "-c", "pass"], preexec_fn=_child_limits(
        Run([], Path(), drop_root=True)), capture_output=True)
    return r.returncode == 0


def run_case(run: Run) -> subprocess.CompletedProcess:
    """The command in a forked child (tests.helpers.cli), or, where root must lose its
    permission override, in a fresh one: a dropped capability takes effect at exec only."""
    if not run.drop_root:
        return run_fsad(*run.args, preexec=_child_limits(run))
    env = {**os.environ, **ENV}
    return subprocess.run([str(FSAD), *map(str, run.args)], capture_output=True, text=True,
                          env=env, preexec_fn=_child_limits(run), timeout=300)


@pytest.fixture(scope="module")
def model(tiny_store, tmp_path_factory) -> Path:
    """A barely trained r-GAN: the error paths need a valid checkpoint, not a good one."""
    from fsad import config as cfgmod
    from fsad.train import pretrain

    cfg = cfgmod.load(overrides={
        "device": "cpu", "sources": {"s": {"dataset": "synthetic", "scenes": ["s00"]}},
        "model": {"widths": [4, 8], "lstm_hidden": 4, "disc_width": 4},
        "pretrain": {"steps": 2, "batch_size": 2, "checkpoint_every": 2}})
    out = tmp_path_factory.mktemp("model") / "model.pt"
    pretrain(cfg, tiny_store, "s", "rgan", out)
    return out


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() \
        else []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, tmp_path, tiny_synth, tiny_store, model):
    ctx = Ctx(tmp_path, tiny_synth, tiny_store, model)
    run = case.build(ctx)
    if run.drop_root and not _can_drop_root():
        pytest.skip("running as root without CAP_SETPCAP: file modes cannot be enforced")
    result = run_case(run)
    if case.ok:
        assert result.returncode == 0, result.stderr
        assert "error" not in result.stderr.lower(), result.stderr
        assert run.out.exists()
        run.check()
        return
    try:
        assert 0 < result.returncode < 128, (result.returncode, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        # Progress may be logged before (timestamped INFO lines); the error is the one last
        # line, and nothing else on stderr (no warnings from C libraries, no usage text).
        *before, line = result.stderr.strip().splitlines()
        assert all(LOG_LINE.match(b) for b in before), result.stderr
        assert line.startswith("fsad: error: "), result.stderr
        assert case.cause in line, (case.cause, line)
        assert case.fix in line, (case.fix, line)
        # No partial output: nothing under the output's name, no temporary file beside it.
        assert not run.out.exists(), line
        leftovers = [f for f in _files(ctx.out_dir) if f not in ("results",)]
        assert leftovers == [], leftovers
    finally:
        os.chmod(ctx.out_dir, 0o755)
