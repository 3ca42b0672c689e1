"""Carry a "frames + .mat" dataset (e.g. UCSD Ped2) to a machine with a small transfer
limit, and unpack it there into the same layout.

    python bench/pack_frames.py pack ROOT DEST      # here: one MPEG-4 .avi per video
    python bench/pack_frames.py unpack DEST ROOT2   # there: ROOT2/{training,testing}/frames

``pack`` writes each video folder of ROOT (``training/frames/NN/`` and ``testing/frames/NN/``)
as one gray MPEG-4 Part 2 video at its own resolution, copies the label files (``*.mat``)
and writes ``manifest.json`` (every video's frame count and its first frame's number and
name width). Ped2's 4,560 frames (109 MB of JPEG) become 12.7 MiB at a mean PSNR of about
38 dB against the JPEGs. ``unpack`` decodes them into PNG frames named as the originals
(``000.png``, ...), copies the label files, and stops if any video decodes to another
number of frames than the manifest says, so labels, which are matched to frames by
position, stay aligned. The frames are lossy copies: figures measured on them are close
to, not identical with, figures on the originals.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import cv2

from fsad import FsadError
from fsad.data.adapters.frames import frame_files
from fsad.data.video import read_image

SPLITS = ("training", "testing")
CODEC, SUFFIX = "mp4v", ".avi"


def pack(root: Path, dest: Path) -> dict:
    if dest.exists():
        raise FsadError(f"{dest} exists; remove it or pack into another folder")
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    manifest: dict = {"codec": CODEC, "videos": {}}
    labels = sorted(root.glob("*.mat"))
    if not labels:
        raise FsadError(f"{root}: no .mat label file; is this a frames + .mat dataset?")
    for split in SPLITS:
        folders = sorted(p for p in (root / split / "frames").glob("*") if p.is_dir())
        if not folders:
            raise FsadError(f"{root / split / 'frames'}: no video folders")
        for folder in folders:
            files = frame_files(folder)
            key = f"{split}/{folder.name}"
            manifest["videos"][key] = _write_video(files, staging / split / (folder.name + SUFFIX))
    for f in labels:
        shutil.copy2(f, staging / f.name)
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1))
    staging.rename(dest)
    return manifest


def _write_video(files: list[Path], path: Path) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = read_image(files[0]).shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*CODEC), 10.0, (w, h), True)
    if not writer.isOpened():
        raise FsadError(f"{path}: OpenCV cannot write {CODEC} video here")
    for f in files:
        # gray stored as BGR (Ped2's JPEGs are gray in three channels): one plane of content
        gray = cv2.cvtColor(read_image(f), cv2.COLOR_BGR2GRAY)
        if gray.shape != (h, w):
            raise FsadError(f"{f}: {gray.shape[1]}x{gray.shape[0]}, but the video's first "
                            f"frame is {w}x{h}")
        writer.write(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR))
    writer.release()
    stem = files[0].stem
    return {"frames": len(files), "first": int(stem), "digits": len(stem)}


def unpack(dest: Path, root: Path) -> None:
    manifest = json.loads((dest / "manifest.json").read_text())
    if root.exists():
        raise FsadError(f"{root} exists; remove it or unpack into another folder")
    staging = root.with_name(root.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    for key, video in manifest["videos"].items():
        split, name = key.split("/")
        out = staging / split / "frames" / name
        out.mkdir(parents=True)
        cap = cv2.VideoCapture(str(dest / split / (name + SUFFIX)))
        count = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            number = video["first"] + count
            cv2.imwrite(str(out / f"{number:0{video['digits']}d}.png"),
                        cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
            count += 1
        cap.release()
        if count != video["frames"]:
            raise FsadError(f"{dest / split / (name + SUFFIX)}: {count} frames decoded, the "
                            f"manifest says {video['frames']}; pack it again")
    for f in dest.glob("*.mat"):
        shutil.copy2(f, staging / f.name)
    staging.rename(root)


def main() -> None:
    ap = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="frames + .mat dataset -> one video per folder")
    p.add_argument("root", type=Path)
    p.add_argument("dest", type=Path)
    u = sub.add_parser("unpack", help="packed folder -> frames + .mat dataset (PNG frames)")
    u.add_argument("dest", type=Path)
    u.add_argument("root", type=Path)
    args = ap.parse_args()
    try:
        if args.command == "pack":
            manifest = pack(args.root, args.dest)
            size = sum(f.stat().st_size for f in args.dest.rglob("*") if f.is_file())
            frames = sum(v["frames"] for v in manifest["videos"].values())
            print(f"{args.dest}: {len(manifest['videos'])} videos, {frames} frames, "
                  f"{size / 2**20:.1f} MiB")
        else:
            unpack(args.dest, args.root)
            print(f"{args.root}: unpacked")
    except FsadError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
