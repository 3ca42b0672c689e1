"""config/README.md's key table is generated from the schema and must not drift from it."""

import subprocess
import sys

import pytest

from fsad import FsadError, config_doc
from fsad import config as cfgmod
from fsad.data.adapters import ADAPTERS
from fsad.models import BACKBONES
from tests.conftest import REPO

README = REPO / "config" / "README.md"


def test_config_readme_matches_the_schema():
    text = README.read_text()
    assert text == config_doc.with_table(text, config_doc.markdown(), str(README)), (
        "config/README.md's key table differs from src/fsad/config.schema.yaml: regenerate it "
        "with `make config-docs` (fsad config --markdown --into config/README.md) and commit "
        "the result")


def leaves(value, key=""):
    """Dotted paths of every leaf of a config, mapping names replaced by NAME."""
    if not isinstance(value, dict) or not value:
        yield key
        return
    for name, sub in value.items():
        part = config_doc.NAME if key in ("datasets", "sources", "targets") else name
        yield from leaves(sub, f"{key}.{part}" if key else part)


def test_every_key_of_a_filled_in_config_has_a_row_with_a_meaning():
    table = {row.key: row for row in config_doc.rows()}
    # The defaults, plus one dataset with every adapter option set, as the validator sees it.
    options = {"label_file": "x.mat", "scene": "s", "labels": "masks", "scene_rule": "groups",
               "scene_groups": 2, "train_list": "t.txt", "annotation_file": "a.txt",
               "fall_labels": [0], "adl_labels": [], "unlabelled": "drop", "train_adls": 1,
               "grid": [2, 2], "clips": 4}
    cfg = cfgmod.load(overrides={"datasets": {"d": {"adapter": "urfall", "root": "r",
                                                    **options}}})
    keys = set(leaves(cfg))
    assert keys - table.keys() == set()
    assert [row.key for row in table.values() if not row.meaning] == []
    # Sections, named entries, the keys of sections null by default (synth.sets,
    # validation) and a source's optional further scene sets (also).
    assert {row.key for row in table.values()} - keys <= {
        "datasets", "datasets.NAME", "sources", "sources.NAME", "sources.NAME.also",
        "targets", "targets.NAME",
        "synth", "frames", "model", "loss", "pretrain", "meta", "inner", "evaluate",
        *(k for k in table if k.startswith(("synth.sets.NAME", "validation.")))}


def test_rows_show_types_defaults_and_every_choice():
    table = {row.key: row for row in config_doc.rows()}
    # Every adapter and backbone the code knows is offered (the stale hand-written table
    # listed two of seven adapters and one of three backbones).
    assert all(f"`{name}`" in table["datasets.NAME.adapter"].type for name in ADAPTERS)
    assert all(f"`{name}`" in table["backbones"].type for name in BACKBONES)
    assert table["datasets.NAME.adapter"].default == "required"
    assert table["pretrain.lr_g"].type == "number > 0"
    assert table["pretrain.grad_clip"].type == "number > 0 or `null`"
    assert table["meta.shots"].type == "`matched` or integer ≥ 1"
    assert table["model.widths"].type == "list of integer ≥ 1 (at least 2 items)"
    assert table["model.widths"].default == "`[16, 32, 64]`"
    assert table["evaluate.shots"].default == "`[0, 1, 5, 10]`"
    assert table["sources.NAME.scenes"].default == "`null`"
    assert table["targets"].type.startswith("mapping of NAME")


def test_markdown_escapes_pipes_in_cells():
    row = config_doc.Row("k", "a | b", "—", "x | y")
    assert "a \\| b" in config_doc.markdown([row]) and "x \\| y" in config_doc.markdown([row])


def test_regeneration_keeps_the_prose_and_replaces_only_the_table(tmp_path):
    doc = tmp_path / "README.md"
    doc.write_text(f"# Title\nbefore\n{config_doc.START}\nstale row\n{config_doc.END}\nafter\n")
    assert config_doc.write_into(doc) is True
    text = doc.read_text()
    assert text.startswith(f"# Title\nbefore\n{config_doc.START}\n| key | type |")
    assert text.endswith(f"|\n{config_doc.END}\nafter\n") and "stale row" not in text
    assert config_doc.write_into(doc) is False


def test_missing_markers_are_a_one_line_error(tmp_path):
    doc = tmp_path / "README.md"
    doc.write_text("# no table here\n")
    with pytest.raises(FsadError, match="no generated-table markers"):
        config_doc.write_into(doc)
    assert doc.read_text() == "# no table here\n"


def test_cli_prints_the_table_and_regenerates_a_file(tmp_path):
    out = subprocess.run([sys.executable, "-m", "fsad.cli", "config", "--markdown"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout == config_doc.markdown()
    doc = tmp_path / "README.md"
    doc.write_text(f"{config_doc.START}\n{config_doc.END}\n")
    out = subprocess.run([sys.executable, "-m", "fsad.cli", "config", "--markdown", "--into",
                          str(doc)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert doc.read_text() == f"{config_doc.START}\n{config_doc.markdown()}{config_doc.END}\n"
