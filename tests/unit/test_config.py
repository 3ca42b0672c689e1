import re

import pytest
import yaml

from fsad import FsadError
from fsad import config as cfgmod
from tests.conftest import REPO


def test_defaults_fill_every_section():
    cfg = cfgmod.load()
    assert cfg["model"]["t"] == 3
    assert cfg["inner"]["optimizer"] == "sgd"
    assert cfg["sources"]["synthetic"]["scenes"][0] == "s00"
    assert cfg["targets"]["scene08"]["scenes"] == ["s08"]


def test_repo_configs_are_valid():
    for name in ("config.yaml", "smoke.yaml"):
        cfg = cfgmod.load(REPO / "config" / name)
        assert cfg["evaluate"]["seeds"] >= 1


@pytest.mark.parametrize(
    "overlay",
    sorted(p.name for p in (REPO / "bench" / "auc_vs_widths").glob("*.yaml")),
)
def test_auc_vs_widths_overlays_are_valid(overlay):
    """run.sh stacks base.yaml, protocol.yaml and an overlay: a typo in an overlay would
    otherwise surface only when an hour-long Snakemake run starts."""

    def read(path):
        return yaml.safe_load(path.read_text())

    here = REPO / "bench" / "auc_vs_widths"
    stacked = cfgmod.merge(read(here / "base.yaml"), read(here / "protocol.yaml"))
    top = read(here / overlay)
    cfg = cfgmod.validate(cfgmod.merge(stacked, top), overlay)
    for section, values in top.items():
        if isinstance(values, dict):
            assert {k: cfg[section][k] for k in values} == values
        else:
            assert cfg[section] == values


def test_unknown_key_is_an_error():
    with pytest.raises(FsadError, match="pretrian"):
        cfgmod.load(overrides={"pretrian": {"steps": 3}})


def test_wrong_type_names_the_key():
    with pytest.raises(FsadError, match="pretrain/steps"):
        cfgmod.load(overrides={"pretrain": {"steps": "many"}})


@pytest.mark.parametrize("text, fix", [("2e-5", "2.0e-5"), ("1.0e5", "1.0e+5")])
def test_e_notation_yaml_reads_as_text_names_the_number_to_write(tmp_path, text, fix):
    path = tmp_path / "c.yaml"
    path.write_text(f"meta: {{lr_g: {text}}}\n")
    message = f"'meta/lr_g': YAML reads {text} as text.*write {re.escape(fix)}"
    with pytest.raises(FsadError, match=message):
        cfgmod.load(path)
    path.write_text(f"meta: {{lr_g: {fix}}}\n")  # the suggested spelling loads as that number
    assert cfgmod.load(path)["meta"]["lr_g"] == float(text)


@pytest.mark.parametrize("meta", [{"recompute_inner": True},
                                  {"recompute_inner": True, "first_order": False},
                                  {"recompute_inner": True, "tasks_per_pass": 1}])
def test_recompute_inner_needs_second_order_one_task_per_pass(meta):
    with pytest.raises(FsadError, match="first_order: false and meta.tasks_per_pass: 1"):
        cfgmod.load(overrides={"meta": meta})
    both = {"first_order": False, "tasks_per_pass": 1}
    assert cfgmod.load(overrides={"meta": {**meta, **both}})["meta"]["recompute_inner"]


def test_target_with_unknown_dataset(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("targets:\n  t: {dataset: nowhere}\n")
    with pytest.raises(FsadError, match="nowhere"):
        cfgmod.load(path)


def test_subset_carries_only_what_a_step_reads():
    cfg = cfgmod.load()
    sub = cfgmod.subset(cfg, "score", target="scene08")
    assert set(sub) == {"seed", "device", "deterministic", "cpu_bf16", "targets", "inner",
                        "evaluate"}
    assert list(sub["targets"]) == ["scene08"]
    assert sub["evaluate"] == {"batch_size": cfg["evaluate"]["batch_size"],
                               "protocol": "train_windows", "patch": None}
    # The frame score reaches the scoring step (a change reruns scoring, not training).
    patched = cfgmod.load(overrides={"evaluate": {"patch": 16}})
    assert cfgmod.load(overrides=cfgmod.subset(patched, "score", target="scene08"))[
        "evaluate"]["patch"] == 16
    assert cfgmod.subset(patched, "meta", source="synthetic") == cfgmod.subset(
        cfg, "meta", source="synthetic")
    # A partial config is valid on its own (Snakemake hands steps such subsets).
    assert cfgmod.load(overrides=sub)["targets"]["scene08"]["scenes"] == ["s08"]


def test_fingerprint_is_order_independent():
    assert cfgmod.fingerprint({"a": 1, "b": 2}) == cfgmod.fingerprint({"b": 2, "a": 1})
    assert cfgmod.fingerprint({"a": 1}) != cfgmod.fingerprint({"a": 2})


def test_matched_meta_models_follow_the_evaluated_k_a_fixed_one_serves_every_k():
    matched = cfgmod.load(overrides={"meta": {"shots": "matched"},
                                     "evaluate": {"shots": [0, 10, 1, 5]}})
    assert cfgmod.adapted_shots(matched) == [10, 1, 5]
    assert [cfgmod.meta_model_shots(matched, k) for k in (1, 5, 10)] == [1, 5, 10]
    assert cfgmod.meta_shots(matched) == [10, 1, 5]
    with pytest.raises(FsadError, match="--shots K"):
        cfgmod.meta_model_shots(matched, None)
    fixed = cfgmod.merge(matched, {"meta": {"shots": 5}})
    assert [cfgmod.meta_model_shots(fixed, k) for k in (None, 1, 10)] == [5, 5, 5]
    assert cfgmod.meta_shots(fixed) == [5]


def test_a_pooled_scene_set_with_unknown_dataset_is_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("sources:\n  s: {dataset: synthetic, also: [{dataset: nowhere}]}\n")
    with pytest.raises(FsadError, match=r"sources\.s\.also\[0\] uses dataset 'nowhere'"):
        cfgmod.load(path)
