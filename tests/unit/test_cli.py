import pytest
from click.testing import CliRunner

from fsad.cli import cli
from tests.helpers.cli import run_fsad

SUBCOMMANDS = ["synth", "extract", "train", "score", "adapt", "evaluate", "report", "config"]


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def fsad(*args):
    return run_fsad(*args)


def test_user_errors_are_one_line_without_traceback(tmp_path):
    for args in (["extract", "--adapter", "synthetic", "--root", str(tmp_path / "x"),
                  "--out", str(tmp_path / "o.h5")],
                 ["config", "--params", "{not json"],
                 ["config", "--params", '{"meta": {"tasks": -1}}'],
                 ["score", "--model", str(tmp_path / "none.pt"), "--frames", "f.h5",
                  "--target", "scene08", "--shots", "1", "--out", str(tmp_path / "s.csv")]):
        result = fsad(*args)
        assert result.returncode == 1, args
        assert "Traceback" not in result.stderr
        lines = [line for line in result.stderr.splitlines() if line.startswith("fsad: error:")]
        assert len(lines) == 1, result.stderr
    assert not list(tmp_path.iterdir())


def test_config_prints_defaults():
    result = fsad("config")
    assert result.returncode == 0 and "inner:" in result.stdout


def test_datasets_check_json(tmp_path):
    import json

    from tests.helpers.layouts import frames_mat

    root = frames_mat(tmp_path / "tiny")
    result = fsad("datasets", "check", "frames", str(root), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["videos"] == {"train": 2, "test": 2}
    assert summary["frames"] == 8 + 8 + 10 + 9
    assert summary["scenes"] == ["tiny"]
    assert summary["test_frames"] == 19 and summary["anomalous_frames"] == 4 + 4


def test_datasets_check_names_the_bad_file(tmp_path):
    from tests.helpers.layouts import frames_mat

    root = frames_mat(tmp_path / "tiny")
    (root / "tiny.mat").unlink()
    result = fsad("datasets", "check", "frames", str(root))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "<name>.mat" in result.stderr
