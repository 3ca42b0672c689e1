"""The embedded synthetic multi-scene benchmark (`fsad synth`).

Why it exists: the real source datasets are tens of GB; this one lets anyone run the whole
method in minutes on a CPU while keeping what makes the problem few-shot and scene-adaptive:

* every scene has its own background texture, lighting, sensor noise and camera geometry
  (a perspective factor: objects lower in the frame are larger and faster), and its own
  *normal motion*: direction, speed, object size and shape;
* normality is scene-specific: the scenes' directions and speeds differ, so the motion that
  is normal in one scene is an anomaly in another, and a model that has not adapted to the
  target scene misjudges it;
* test videos carry labelled anomalies of five kinds (ANOMALY_KINDS); training videos hold
  only normal behaviour.

Scenes come in one set (``synth.scenes`` scenes named s00, s01, ...) or in named sets
(``synth.sets``: e.g. 64 source scenes src00..src63 with one short normal clip each, 4
validation scenes val00.., 8 target scenes tgt00.. with 4 labelled test videos each). Each set
draws its scenes from its own random stream, so sets never share a scene, and adding a set
changes no other set's pixels.

Layout written under ROOT (read back by ``fsad.data.adapters.synthetic``)::

    ROOT/meta.json                      generator settings, per-scene parameters, events
    ROOT/<scene>/training/<NN>.avi      normal videos (MJPG)
    ROOT/<scene>/testing/<NN>.avi       test videos
    ROOT/<scene>/testing/<NN>.csv       per-frame labels: frame,label,kind (frame is 0-based)

The generator is deterministic: the same settings and seed give the same pixels.
"""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from fsad import FsadError
from fsad.data.video import VideoWriter
from fsad.outdir import atomic_dir

FORMAT_VERSION = 1

ANOMALY_KINDS = {
    "speed": "an object of the scene's normal type moving at 3-4x the scene's normal speed",
    "direction": "an object moving against (or across) the scene's normal direction",
    "object": "an unseen object type: another shape, twice the normal size, other intensity",
    "appearance": "an object that appears suddenly and jumps from place to place",
    "fall": "an object that walks normally, stops, and falls over (turns 90 degrees)",
}
SHAPES = ("disk", "box", "bar")
SUPERSAMPLE = 16  # cv2 drawing `shift` of 4 bits: sub-pixel object positions


@dataclass
class SceneParams:
    name: str
    direction_deg: float  # normal direction of motion
    speed: float  # pixels per frame at the reference (middle) depth
    size: float  # object radius in pixels at the reference depth
    shape: str
    polarity: int  # +1 objects brighter than the background, -1 darker
    perspective: float  # 0 = orthographic; larger = stronger depth scaling
    brightness: float
    contrast: float
    noise: float
    spawn_rate: float  # expected new objects per frame
    lateral_jitter: float  # spread of the lane across the frame (0..1)


@dataclass
class Thing:
    """One moving object in a video."""

    x: float
    y: float
    vx: float
    vy: float
    size: float
    shape: str
    value: float  # intensity in [0, 1]
    kind: str = "normal"
    t0: int = 0
    script: dict = field(default_factory=dict)  # per-kind behaviour state


@dataclass(frozen=True)
class ScenePlan:
    """What to generate for one scene: its name, its random stream and its videos."""

    name: str
    index: int  # within its set: spreads directions and anomaly kinds over the set
    stream: tuple[int, ...]  # numpy SeedSequence entropy of the scene's generator
    train_videos: int
    test_videos: int
    frames: int


def scene_name(index: int, prefix: str = "s", count: int = 0) -> str:
    """s00, s01, ... (at least two digits, more when the set has over 100 scenes)."""
    return f"{prefix}{index:0{max(2, len(str(max(count - 1, 0))))}d}"


def plan(settings: dict) -> list[ScenePlan]:
    """The scenes a ``synth`` config section asks for, in order.

    One set (``sets`` null): scenes s00.. drawn from streams (seed, i), as ever. Named sets:
    prefix ``p`` draws its scenes from streams (seed, crc32(p), i), disjoint from every
    other set's and independent of which other sets exist."""
    seed = settings["seed"]
    if not settings.get("sets"):
        n = settings["scenes"]
        return [ScenePlan(scene_name(i, "s", n), i, (seed, i), settings["train_videos"],
                          settings["test_videos"], settings["frames"]) for i in range(n)]
    out = []
    for prefix, spec in settings["sets"].items():
        n, key = spec["scenes"], zlib.crc32(prefix.encode())
        out += [ScenePlan(scene_name(i, prefix, n), i, (seed, key, i), spec["train_videos"],
                          spec["test_videos"], spec["frames"]) for i in range(n)]
    return out


def scene_names(settings: dict) -> list[str]:
    """The names of the scenes a ``synth`` config section generates."""
    return [p.name for p in plan(settings)]


def scene_params(index: int, rng: np.random.Generator, name: str | None = None) -> SceneParams:
    # Directions spread around the circle by the golden angle so that any 8 scenes of a set
    # cover very different motions, plus a little jitter.
    direction = (index * 137.508 + rng.uniform(-10, 10)) % 360
    return SceneParams(
        name=name or scene_name(index),
        direction_deg=float(direction),
        speed=float(np.exp(rng.uniform(np.log(0.7), np.log(2.8)))),
        size=float(rng.uniform(2.5, 5.5)),
        shape=SHAPES[index % len(SHAPES)],
        polarity=int(rng.choice([-1, 1])),
        perspective=float(rng.uniform(0.0, 0.9)),
        brightness=float(rng.uniform(0.3, 0.7)),
        contrast=float(rng.uniform(0.05, 0.2)),
        noise=float(rng.uniform(0.004, 0.025)),
        spawn_rate=float(rng.uniform(0.06, 0.12)),
        lateral_jitter=float(rng.uniform(0.3, 0.8)),
    )


def background(p: SceneParams, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A static textured background with a lighting gradient and a few fixed structures."""
    coarse = rng.normal(0, 1, (6, 6)).astype(np.float32)
    tex = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 1.0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    gradient = (np.cos(angle) * xx / w + np.sin(angle) * yy / h) - 0.5
    bg = p.brightness + p.contrast * (tex + 0.3 * fine) + 0.25 * gradient
    for _ in range(rng.integers(2, 5)):  # benches, walls, planters
        x0, y0 = rng.integers(0, w - 8), rng.integers(0, h - 8)
        x1, y1 = x0 + rng.integers(4, w // 3), y0 + rng.integers(4, h // 4)
        bg[y0:y1, x0:x1] += rng.uniform(-0.15, 0.15)
    return np.clip(bg, 0.05, 0.95)


class SceneRenderer:
    """Renders one scene's videos: normal traffic plus scripted anomalies."""

    def __init__(self, p: SceneParams, h: int, w: int, rng: np.random.Generator):
        self.p, self.h, self.w, self.rng = p, h, w, rng
        self.bg = background(p, h, w, rng)
        rad = math.radians(p.direction_deg)
        self.dir = np.array([math.cos(rad), math.sin(rad)])
        self.normal_value = float(np.clip(self.bg.mean() + p.polarity * 0.35, 0, 1))

    def depth_scale(self, y: float) -> float:
        """Perspective: 1 at mid-height, larger towards the bottom of the frame."""
        return max(0.35, 1.0 + self.p.perspective * (y / self.h - 0.5))

    def _entry_point(self, direction: np.ndarray) -> tuple[float, float]:
        """A point just outside the frame from which ``direction`` crosses the frame."""
        c = np.array([self.w / 2, self.h / 2])
        perp = np.array([-direction[1], direction[0]])
        offset = self.rng.uniform(-0.5, 0.5) * self.p.lateral_jitter * min(self.h, self.w)
        point = c + perp * offset
        # Walk back along -direction to the border (ray/box exit), then a margin beyond it.
        limits = []
        for axis, size in ((0, self.w), (1, self.h)):
            d = -direction[axis]
            if abs(d) > 1e-6:
                limits.append(((size if d > 0 else 0) - point[axis]) / d)
        back = min(limits) + 2.5 * self.p.size * (1 + self.p.perspective)
        start = point - direction * back
        return float(start[0]), float(start[1])

    def spawn_normal(self, t: int) -> Thing:
        x, y = self._entry_point(self.dir)
        speed = self.p.speed * self.rng.uniform(0.85, 1.15)
        return Thing(x, y, *(self.dir * speed), size=self.p.size * self.rng.uniform(0.85, 1.15),
                     shape=self.p.shape, value=self.normal_value, t0=t)

    def _path(self, thing: Thing) -> list[tuple[float, float]]:
        """The positions a mover will take while it is in view."""
        path, probe = [], Thing(**{**thing.__dict__, "script": {}, "kind": "normal"})
        for t in range(4 * max(self.h, self.w)):
            self.step(probe, t)
            if self.visible(probe):
                path.append((probe.x, probe.y))
            elif path:
                break
        return path

    def _shorten_path(self, thing: Thing, length: int) -> None:
        """Start a mover part-way along its path so it leaves the frame after ``length``
        frames: a slow wrong-way walker would otherwise fill most of a short test video."""
        path = self._path(thing)
        if len(path) > length:
            thing.x, thing.y = path[len(path) - length - 1]

    def spawn_anomaly(self, kind: str, t: int, length: int) -> Thing:
        thing = self.spawn_normal(t)
        thing.kind = kind
        if kind == "speed":
            factor = self.rng.uniform(3.0, 4.0)
            thing.vx, thing.vy = thing.vx * factor, thing.vy * factor
        elif kind == "direction":
            turn = self.rng.choice([180.0, 90.0, -90.0])
            rad = math.radians(self.p.direction_deg + turn)
            d = np.array([math.cos(rad), math.sin(rad)])
            thing.x, thing.y = self._entry_point(d)
            thing.vx, thing.vy = d * self.p.speed
        elif kind == "object":
            thing.shape = SHAPES[(SHAPES.index(self.p.shape) + 1) % len(SHAPES)]
            thing.size *= 2.0
            thing.value = float(np.clip(self.bg.mean() - self.p.polarity * 0.3, 0, 1))
        elif kind == "appearance":
            thing.vx = thing.vy = 0.0
            thing.script = {"jump_every": int(self.rng.integers(3, 6))}
            self._teleport(thing)
        elif kind == "fall":
            # Walk in as a normal object for a few frames, stop mid-path, fall over (a bar
            # rotates by 90 degrees, a disk or box flattens). Labelled from the stop on.
            path = self._path(thing)
            stop = len(path) // 2
            start = max(0, stop - 6)
            thing.x, thing.y = path[start] if path else (self.w / 2, self.h / 2)
            thing.script = {"stop_after": stop - start, "fall_frames": 6}
        if kind in ("speed", "direction", "object"):
            self._shorten_path(thing, length)
        return thing

    def _teleport(self, thing: Thing) -> None:
        thing.x = float(self.rng.uniform(0.15, 0.85) * self.w)
        thing.y = float(self.rng.uniform(0.15, 0.85) * self.h)

    def step(self, thing: Thing, t: int) -> None:
        age = t - thing.t0
        if thing.kind == "appearance":
            if age > 0 and age % thing.script["jump_every"] == 0:
                self._teleport(thing)
            return
        if thing.kind == "fall" and age >= thing.script["stop_after"]:
            fall_age = age - thing.script["stop_after"]
            thing.script["fallen"] = min(1.0, fall_age / thing.script["fall_frames"])
            return
        scale = self.depth_scale(thing.y)
        thing.x += thing.vx * scale
        thing.y += thing.vy * scale

    def anomalous(self, thing: Thing, t: int) -> bool:
        if thing.kind == "normal" or not self.visible(thing):
            return False
        return thing.kind != "fall" or t - thing.t0 >= thing.script["stop_after"]

    def visible(self, thing: Thing) -> bool:
        r = thing.size * self.depth_scale(thing.y) * 2
        return -r < thing.x < self.w + r and -r < thing.y < self.h + r

    def alive(self, thing: Thing, t: int) -> bool:
        if thing.kind in ("appearance", "fall"):
            return t - thing.t0 < thing.script.get("lifetime", 10**9)
        # Movers live until they have crossed the frame and left it again.
        if self.visible(thing):
            thing.script["entered"] = True
            return True
        return not thing.script.get("entered") and t - thing.t0 < 4 * max(self.h, self.w)

    def draw(self, things: list[Thing]) -> np.ndarray:
        img = self.bg.copy()
        for th in things:
            mask = np.zeros((self.h, self.w), np.uint8)
            r = th.size * self.depth_scale(th.y)
            c = (int(round(th.x * SUPERSAMPLE)), int(round(th.y * SUPERSAMPLE)))
            fallen = th.script.get("fallen", 0.0)
            if fallen and th.shape != "bar":  # a fallen disk or box lies flat
                axes = (int(r * (1 + 0.8 * fallen) * SUPERSAMPLE),
                        int(r * (1 - 0.6 * fallen) * SUPERSAMPLE))
                cv2.ellipse(mask, c, axes, 0, 0, 360, 255, -1, cv2.LINE_AA, 4)
            elif th.shape == "disk":
                cv2.circle(mask, c, int(r * SUPERSAMPLE), 255, -1, cv2.LINE_AA, 4)
            else:
                # Boxes are square; bars are upright (2.2:1), rotated as they fall.
                half = (r, r) if th.shape == "box" else (0.55 * r, 1.2 * r)
                axes = (int(half[0] * SUPERSAMPLE), int(half[1] * SUPERSAMPLE))
                cv2.ellipse(mask, c, axes, 90.0 * fallen, 0, 360, 255, -1, cv2.LINE_AA, 4)
                if th.shape == "box":  # fill the corners: a square, not a disk
                    p0 = (c[0] - axes[0], c[1] - axes[1])
                    p1 = (c[0] + axes[0], c[1] + axes[1])
                    cv2.rectangle(mask, p0, p1, 255, -1, cv2.LINE_AA, 4)
            m = mask.astype(np.float32) / 255.0
            img = img * (1 - m) + th.value * m
        img = img + self.rng.normal(0, self.p.noise, img.shape).astype(np.float32)
        return np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8)

    def render(self, frames: int, events: list[dict]) -> tuple[list[np.ndarray], np.ndarray]:
        """Render a video; ``events`` schedule anomalies. Returns frames and 0/1 labels."""
        things: list[Thing] = []
        # Start mid-stream: pre-roll normal traffic so the first frame is not empty.
        for t in range(-40, 0):
            things = self._advance(things, t)
        out, labels = [], np.zeros(frames, np.uint8)
        pending = sorted(events, key=lambda e: e["start"])
        for t in range(frames):
            while pending and pending[0]["start"] == t:
                ev = pending.pop(0)
                th = self.spawn_anomaly(ev["kind"], t, ev["length"])
                th.script["lifetime"] = ev["length"]
                things.append(th)
            things = self._advance(things, t)
            labels[t] = any(self.anomalous(th, t) for th in things)
            out.append(self.draw(things))
        return out, labels

    def _advance(self, things: list[Thing], t: int) -> list[Thing]:
        if self.rng.random() < self.p.spawn_rate or not any(th.kind == "normal" for th in things):
            things.append(self.spawn_normal(t))
        for th in things:
            self.step(th, t)
        return [th for th in things if self.alive(th, t)]


def plan_events(frames: int, index: int, rng: np.random.Generator) -> list[dict]:
    """Two anomalies per test video, at non-overlapping times, cycling through the kinds
    (``index`` counts test videos across scenes, so every kind occurs in a small set)."""
    kinds = list(ANOMALY_KINDS)
    events = []
    slots = [(0.15, 0.45), (0.55, 0.85)]
    for j, (lo, hi) in enumerate(slots):
        length = int(rng.integers(max(4, frames // 8), max(5, frames // 4)))
        start = int(rng.uniform(lo, hi) * frames)
        start = min(start, frames - length)
        events.append({"kind": kinds[(2 * index + j) % len(kinds)], "start": start,
                       "length": length})
    return events


def generate(root: Path, scenes: int = 10, train_videos: int = 2, test_videos: int = 2,
             frames: int = 120, height: int = 96, width: int = 96, seed: int = 0,
             sets: dict | None = None, inputs: Iterable[Path] = ()) -> Path:
    """Write the benchmark under ``root`` atomically (built in a temporary sibling folder).

    ``sets`` (prefix -> {scenes, train_videos, test_videos, frames}) replaces the one set of
    ``scenes`` scenes. An existing ``root`` is replaced only when fsad made it
    (``fsad.outdir``); ``inputs`` (the config file) must not lie inside it."""
    root = Path(root)
    settings = ({"sets": sets} if sets else
                {"scenes": scenes, "train_videos": train_videos, "test_videos": test_videos,
                 "frames": frames})
    settings.update(height=height, width=width, seed=seed)
    meta: dict = {
        "format": "fsad-synthetic", "version": FORMAT_VERSION, "settings": settings,
        "anomaly_kinds": ANOMALY_KINDS, "scenes": {},
    }
    with atomic_dir(root, inputs) as tmp:
        for scene in tqdm(plan(settings), desc="synth scenes", disable=None):
            rng = np.random.default_rng(list(scene.stream))
            p = scene_params(scene.index, rng, scene.name)
            renderer = SceneRenderer(p, height, width, rng)
            scene_meta = {"params": asdict(p), "test_events": {}}
            for split, count in (("training", scene.train_videos),
                                 ("testing", scene.test_videos)):
                folder = tmp / p.name / split
                folder.mkdir(parents=True)
                for v in range(count):
                    vid = f"{v + 1:02d}"
                    events = (plan_events(scene.frames, scene.index * count + v, rng)
                              if split == "testing" else [])
                    video, labels = renderer.render(scene.frames, events)
                    with VideoWriter(folder / f"{vid}.avi", width, height) as writer:
                        for frame in video:
                            writer.write(frame)
                    if split == "testing":
                        scene_meta["test_events"][vid] = events
                        kinds = _frame_kinds(scene.frames, events, labels)
                        rows = [f"{t},{labels[t]},{kinds[t]}" for t in range(scene.frames)]
                        (folder / f"{vid}.csv").write_text("frame,label,kind\n"
                                                            + "\n".join(rows) + "\n")
            meta["scenes"][p.name] = scene_meta
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return root


def _frame_kinds(frames: int, events: list[dict], labels: np.ndarray) -> list[str]:
    kinds = ["normal"] * frames
    for ev in events:
        for t in range(ev["start"], min(frames, ev["start"] + ev["length"])):
            if labels[t]:
                kinds[t] = ev["kind"]
    return kinds


def check_settings(settings: dict) -> None:
    for prefix, spec in (settings.get("sets") or {"": settings}).items():
        where = f"synth.sets.{prefix}.frames" if prefix else "synth.frames"
        if spec["frames"] < 40 and spec["test_videos"]:
            raise FsadError(f"{where} must be at least 40 so that each test video holds "
                            "normal frames around its two anomalies")
