"""Options as users type them: every help text shown whole (Rich markup does not eat
brackets), an option given empty refused, an output path that is a directory refused."""

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


BLANKABLE = [
    (path, param.opts[0])
    for path, cmd in _commands(ROOT)
    if path and (not getattr(cmd, "commands", None) or cmd.invoke_without_command)
    for param in cmd.params
    if getattr(param, "opts", None) and param.opts[0].startswith("--")
    and not getattr(param, "is_flag", False)
]


@pytest.mark.parametrize(
    ("path", "flag"), BLANKABLE, ids=[" ".join(p) + " " + f for p, f in BLANKABLE]
)
def test_an_option_given_empty_is_refused(path, flag, tmp_path, monkeypatch):
    # Read as "not given", `--segment "$SEG"` with SEG unset would quietly target everyone.
    # Text options get cust's message; numbers, choices and paths Typer's own (also exit 2).
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path))
    result = runner.invoke(app, [*path, flag, " "])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_text_options_given_empty_get_the_message():
    for args, flag in ((["promo", "simulate", "--segment", ""], "--segment"),
                       (["funnel", "--by", " "], "--by"), (["--orders", "", "check"], "--orders"),
                       (["check", "--orders", ""], "--orders")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert f"{flag} is given an empty value" in result.output


def test_an_output_path_that_is_a_directory_is_refused(tmp_path, monkeypatch):
    # `--out ""` is the current directory once Typer makes it a Path: it was a traceback.
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "cache"))
    for args in (["segment", "rfm", "--out", ""], ["segment", "rfm", "--out", str(tmp_path)],
                 ["check", "--rejects", str(tmp_path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert "is a directory" in result.output
        assert "Traceback" not in result.output
