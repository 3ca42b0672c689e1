import subprocess
import sys

import pytest
from click.testing import CliRunner

from fsad.cli import cli

SUBCOMMANDS = ["synth", "extract", "train", "score", "adapt", "evaluate", "report", "config"]


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_help(name):
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def fsad(*args):
    return subprocess.run([sys.executable, "-m", "fsad.cli", *args], capture_output=True,
                          text=True)


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
