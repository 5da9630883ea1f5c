"""Every option's help text reaches ``--help`` whole: Rich markup does not eat brackets."""

import re

import pytest
import typer.main
from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()
ROOT = typer.main.get_command(app)


def _commands(cmd, path=()):
    yield path, cmd
    for name, sub in getattr(cmd, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def _squash(text: str) -> str:
    return re.sub(r"[\s│╭╮╰╯─]+", "", text)


CASES = [
    (path, param)
    for path, cmd in _commands(ROOT)
    for param in cmd.params
    if getattr(param, "help", None) and not getattr(param, "hidden", False)
]


@pytest.mark.parametrize(
    ("path", "param"), CASES, ids=[" ".join(p) + " " + (q.name or "") for p, q in CASES]
)
def test_option_help_is_shown_whole(path, param):
    result = runner.invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    expected = param.help.replace("\\[", "[")
    assert _squash(expected) in _squash(result.output)


def test_the_check_sees_lost_text():
    assert _squash("a [b] c") not in _squash("│ a c │")
