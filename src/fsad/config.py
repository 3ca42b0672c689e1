"""Configuration: one YAML file, validated against one schema, shared by Snakemake and the CLI.

The schema (``config.schema.yaml`` beside this file, symlinked into workflow/schemas) is the
single source of defaults, so a value never differs between a Snakemake run and a shell run.
"""

from __future__ import annotations

import copy
import fnmatch
import hashlib
import json
import math
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from fsad import FsadError

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")

# Which top-level sections each step reads. Snakemake passes exactly these to the step (as
# its params), so changing, say, `evaluate.seeds` never retrains a model.
# Dotted paths select nested keys; {source}/{target}/{dataset} are filled per job.
SECTIONS = {
    "synth": ["synth"],
    "extract": ["frames", "datasets.{dataset}"],
    "pretrain": ["seed", "device", "deterministic", "cpu_bf16", "sources.{source}", "model",
                 "loss", "pretrain"],
    "meta": ["seed", "device", "deterministic", "cpu_bf16", "sources.{source}", "model",
             "loss", "meta", "inner"],
    "score": ["seed", "device", "deterministic", "cpu_bf16", "targets.{target}", "inner",
              "evaluate.batch_size", "evaluate.protocol", "evaluate.patch"],
    "validate": ["seed", "device", "deterministic", "cpu_bf16", "validation", "inner"],
}


def _schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _with_defaults(validator_class):
    """A validator that fills in `default` values, as Snakemake's `validate` does."""
    validate_props = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_props(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft202012Validator)


# YAML 1.1 (PyYAML, and so Snakemake's --configfile) reads a number in e-notation only with
# a dot in the mantissa and a sign in the exponent: 2e-5 and 1.0e5 are text, 2.0e-5 a float.
_EXPONENT = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)[eE][-+]?[0-9]+")


def yaml_float(text: str) -> str | None:
    """``text`` in e-notation (2e-5) spelt as YAML 1.1 reads a float (2.0e-5); None when
    ``text`` is not e-notation."""
    if not _EXPONENT.fullmatch(text):
        return None
    mantissa, _, exponent = text.lower().partition("e")
    return f"{float(mantissa)!r}e{'' if exponent[0] in '+-' else '+'}{exponent}"


def _explain(e: jsonschema.ValidationError) -> str:
    """One line naming the key at fault and what to write instead."""
    where = "/".join(str(p) for p in e.path) or "(top level)"
    if e.validator == "additionalProperties" and isinstance(e.instance, dict):
        known = sorted(e.schema.get("properties", {}))
        extra = sorted(str(k) for k in set(e.instance) - set(known))
        key = "/".join([*(str(p) for p in e.path), extra[0]]) if extra else where
        return (f"unknown key '{key}'; remove it or correct its spelling (allowed here: "
                f"{', '.join(known)})")
    if e.validator == "type":
        kinds = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
        names = {"integer": "an integer", "number": "a number", "string": "a string",
                 "object": "a mapping", "array": "a list", "boolean": "true or false"}
        wanted = " or ".join(names.get(k, str(k)) for k in kinds)
        number = yaml_float(e.instance) if isinstance(e.instance, str) else None
        if "number" in kinds and number:
            return (f"invalid value at '{where}': YAML reads {e.instance} as text, not a "
                    f"number; write {number} there (a dot in the mantissa and a sign in "
                    "the exponent)")
        return f"invalid value at '{where}': {e.message}; write {wanted} there"
    if e.validator == "minProperties":
        return f"'{where}' is empty; name at least one entry there (config/README.md)"
    return (f"invalid value at '{where}': {e.message}; correct it (config/README.md documents "
            "every key)")


def validate(cfg: dict, source: str = "config", check_refs: bool = True) -> dict:
    """Fill defaults into ``cfg`` (in place), validate it and check cross-references.

    ``check_refs=False`` is for the partial configs Snakemake hands to one step, which carry
    a target but not necessarily the dataset it names.
    """
    # YAML's .nan/.inf and JSON's NaN/Infinity pass every comparison of the schema; no
    # setting is meant to be one (a NaN rate would make every score NaN).
    for where, value in _numbers(cfg):
        if not math.isfinite(value):
            raise FsadError(f"{source}: invalid value at '{where}': {value} is not a finite "
                            "number; write a finite number there")
    _check_synth_sets(cfg.get("synth"), source)
    # Defaults of nested sections are only filled once the section exists, so run twice:
    # the first pass creates `{}` sections, the second fills their keys.
    for _ in range(2):
        errors = sorted(_Validator(_schema()).iter_errors(cfg), key=lambda e: list(e.path))
        if errors:
            raise FsadError(f"{source}: {_explain(errors[0])}")
    _drop_one_set_keys(cfg)
    m = cfg["meta"]
    if m["recompute_inner"] and (m["first_order"] or m["tasks_per_pass"] != 1):
        raise FsadError(f"{source}: meta.recompute_inner saves the memory of second-order "
                        "meta-training one task at a time; set meta.first_order: false and "
                        "meta.tasks_per_pass: 1, or meta.recompute_inner: false")
    for name in cfg["full_data"] if check_refs else ():
        if name not in cfg["targets"]:
            raise FsadError(f"{source}: full_data lists '{name}', which is not a target "
                            f"(targets: {', '.join(cfg['targets'])}); add the target or remove "
                            "the name")
    for group in ("sources", "targets", "validation") if check_refs else ():
        for name, spec in scene_sets(cfg, group):
            if spec["dataset"] not in cfg["datasets"]:
                raise FsadError(
                    f"{source}: {group}.{name} uses dataset '{spec['dataset']}', which is not "
                    f"defined under 'datasets' (defined: {', '.join(cfg['datasets']) or 'none'}); "
                    "define it under 'datasets' or correct the name"
                )
    for name in cfg["sources"]:
        datasets = [part["dataset"] for part in source_parts(cfg, name)]
        twice = sorted({d for d in datasets if datasets.count(d) > 1})
        if twice:
            raise FsadError(f"{source}: sources.{name} pools dataset '{twice[0]}' twice; list "
                            "all its scenes in one set")
    return cfg


SYNTH_ONE_SET = ("scenes", "train_videos", "test_videos", "frames")


def _check_synth_sets(synth: Any, source: str) -> None:
    """``synth.sets`` replaces the one-set keys: both at once would leave some unused. (A
    one-set key at its default is what a validated config carries: it is dropped.)"""
    if not isinstance(synth, dict) or not synth.get("sets"):
        return
    defaults = _schema()["properties"]["synth"]["properties"]
    both = [k for k in SYNTH_ONE_SET if k in synth and synth[k] != defaults[k]["default"]]
    if both:
        raise FsadError(f"{source}: synth.sets replaces synth.{both[0]}; give the counts "
                        f"per set (synth.sets.<prefix>.{both[0]}) and remove synth.{both[0]}")


def _drop_one_set_keys(cfg: dict) -> None:
    """With ``synth.sets``, the one-set keys (filled in as defaults) describe nothing."""
    if cfg["synth"].get("sets"):
        for key in SYNTH_ONE_SET:
            cfg["synth"].pop(key, None)


def _numbers(value: Any, where: str = ""):
    """('a/b/0', number) for every float inside nested mappings and lists."""
    if isinstance(value, float):
        yield where or "(top level)", value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, f"{where}/{k}" if where else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _numbers(v, f"{where}/{i}" if where else str(i))


def check_scenes(cfg: dict, source: str = "config",
                 generated: Collection[str] = ()) -> None:
    """Every scene a source or target names must exist in its dataset: a misspelled scene
    would otherwise be found only by the job that reads it, after hours of training.
    Datasets in ``generated`` are made by `fsad synth` from ``cfg['synth']``; the others are
    listed by their adapter without decoding anything (see adapters.scene_names)."""
    from fsad.data.adapters import scene_names
    from fsad.data.synth import scene_names as synth_scene_names

    known: dict[str, list[str] | None] = {}
    for group in ("sources", "targets", "validation"):
        for name, spec in scene_sets(cfg, group):
            dataset = spec["dataset"]
            if spec["scenes"] is None:
                continue
            if dataset not in known:
                ds = dict(cfg["datasets"][dataset])
                adapter, root = ds.pop("adapter"), ds.pop("root")
                known[dataset] = (synth_scene_names(cfg["synth"]) if dataset in generated
                                  else scene_names(adapter, root, **ds))
            have = known[dataset]
            unknown = [s for s in spec["scenes"]
                       if have is not None and not match_scenes([s], have)]
            if unknown:
                raise FsadError(f"{source}: {group}.{name} names scene '{unknown[0]}', which "
                                f"dataset '{dataset}' does not have (its scenes: "
                                f"{', '.join(have) or 'none'}); correct the name")


def scene_sets(cfg: dict, group: str) -> list[tuple[str, dict]]:
    """(name, scene set) of a group: sources and targets are named sets (a source's further
    sets, ``also``, are named ``<source>.also[i]``); ``validation`` is one set or none."""
    if group == "validation":
        return [("scenes", cfg["validation"])] if cfg.get("validation") else []
    return [(f"{name}.also[{i - 1}]" if i else name, part)
            for name, spec in cfg[group].items()
            for i, part in enumerate([spec, *spec.get("also", ())])]


def source_parts(cfg: dict, source: str) -> list[dict]:
    """The scene sets a source pools: its own, then those of ``also``, each of another
    dataset. Training reads one frame store per set, in this order."""
    if source not in cfg["sources"]:
        raise FsadError(f"unknown source '{source}' (configured: {', '.join(cfg['sources'])})")
    spec = cfg["sources"][source]
    return [spec, *spec.get("also", ())]


def match_scenes(patterns: list[str], scenes: Collection[str]) -> list[str]:
    """The ``scenes`` a scene set's list names, in order: names, or shell-style patterns
    such as ``src*`` (``fnmatch``), so a set of 64 scenes need not list them one by one."""
    return [s for s in scenes if any(fnmatch.fnmatchcase(s, p) for p in patterns)]


def load(path: str | Path | None = None, overrides: dict | None = None) -> dict:
    """Read a YAML config (or start from defaults), merge ``overrides`` on top, validate."""
    cfg: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise FsadError(f"config file not found: {path}; check the --config path")
        try:
            cfg = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise FsadError(f"{path}: {_yaml_problem(exc)}") from None
        if not isinstance(cfg, dict):
            raise FsadError(f"{path}: the top level must be a mapping of keys to values")
        source = str(path)
    if overrides:
        cfg = merge(cfg, overrides)
    return validate(cfg, source, check_refs=path is not None)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's multi-line report, on one line: where, what, and the fix."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "somewhere"
    return f"not valid YAML at {where} ({problem}); fix the YAML syntax there"


def merge(base: dict, top: dict) -> dict:
    """Recursive dict merge: values in ``top`` win; nested mappings merge key by key."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_params(text: str | None) -> dict:
    """Parse the JSON that Snakemake rules pass with ``--params``."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FsadError(f"--params is not valid JSON ({exc}); pass a JSON object such as "
                        "'{\"seed\": 1}' (keys and strings in double quotes)") from None
    if not isinstance(value, dict):
        raise FsadError("--params must be a JSON object such as '{\"seed\": 1}', not a "
                        f"{type(value).__name__}")
    return value


def subset(cfg: dict, step: str, **names: str) -> dict:
    """The part of ``cfg`` that ``step`` reads (see SECTIONS), as a nested dict."""
    out: dict[str, Any] = {}
    for dotted in SECTIONS[step]:
        keys = dotted.format(**names).split(".")
        value: Any = cfg
        for key in keys:
            value = value[key]
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = copy.deepcopy(value)
    return out


def adapted_shots(cfg: dict) -> list[int]:
    """The K > 0 the config evaluates (each scoring job at such a K adapts once)."""
    return [k for k in cfg["evaluate"]["shots"] if k > 0]


def meta_model_shots(cfg: dict, shots: int | None) -> int:
    """K of the meta-trained model that is evaluated at K = ``shots``: that same K when
    ``meta.shots`` is "matched" (one model per evaluated K, as the authors trained them),
    else the one configured K, shared by every evaluated K (K = 0, the unadapted model, is
    the model of the first adapted K). ``shots=None`` asks for the configured K alone,
    which "matched" does not name."""
    configured = cfg["meta"]["shots"]
    if configured != "matched":
        return int(configured)
    if shots == 0:  # unadapted: the model of the first adapted K stands for them all
        if not adapted_shots(cfg):
            raise FsadError("meta.shots is 'matched' but evaluate.shots has no K > 0, so no "
                            "meta-trained model is made; add a K > 0 or set meta.shots to a K")
        return meta_shots(cfg)[0]
    if shots is None:
        raise FsadError("meta.shots is 'matched' (one meta-trained model per evaluated K): "
                        "give the model's K with --shots K")
    return int(shots)


def meta_shots(cfg: dict) -> list[int]:
    """K of every meta-trained model the config evaluates, in the order of evaluate.shots."""
    return list(dict.fromkeys(meta_model_shots(cfg, k) for k in adapted_shots(cfg)))


def fingerprint(obj: Any) -> str:
    """A short stable hash of a JSON-able value (used to refuse resuming a different run)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
