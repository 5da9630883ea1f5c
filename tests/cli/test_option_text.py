"""Options as users type them: every help text shown whole (Rich markup does not eat
brackets), an option given empty refused, an output path that is a directory refused."""

import re
import shlex
from pathlib import Path

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
                       (["check", "--orders", ""], "--orders"),
                       # Paths too: Typer made `--out ""` Path(""), the current directory.
                       (["segment", "rfm", "--out", ""], "--out"),
                       (["check", "--rejects", ""], "--rejects"),
                       (["check", "--config", ""], "--config"),
                       (["report", "weekly", "--out-dir", ""], "--out-dir"),
                       (["sample", "--out", ""], "--out")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert f"{flag} is given an empty value" in result.output


def test_an_output_path_that_is_a_directory_is_refused(tmp_path, monkeypatch):
    # (`--out ""` is refused as empty, above, not read as the current directory.)
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "cache"))
    for args in (["segment", "rfm", "--out", str(tmp_path)],
                 ["check", "--rejects", str(tmp_path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, args
        assert "is a directory" in result.output
        assert "Traceback" not in result.output


EXAMPLE = re.compile(r"Example: (cust [^\n]*?)(?: \(or cust [^)]*\))?$", re.M)
# Each under the command it names: ``paths`` is ``funnel paths`` under a second name, with
# the same help.
EXAMPLES = [
    (path, m.group(1))
    for path, cmd in _commands(ROOT)
    for m in EXAMPLE.finditer(getattr(cmd, "help", None) or "")
    if m.group(1).split()[1 : 1 + len(path)] == list(path)
]
INPUTS = ("--orders", "--customers", "--events", "--prices")


def _runnable(example: str, tmp_path) -> list[str]:
    """The example's arguments, its files replaced by the sample's and its outputs by tmp."""
    from cust.pipelines.io.inputs import sample_path

    args = shlex.split(example)[1:]
    out = []
    for i, arg in enumerate(args):
        before = args[i - 1] if i else ""
        if before in INPUTS and args[0] != "sample":  # sample --customers is a count
            out.append(str(sample_path(before.removeprefix("--"))))
        elif before in ("--out", "--rejects"):
            out.append(str(tmp_path / Path(arg).name))
        elif before == "--out-dir":
            out.append(str(tmp_path / "reports"))
        elif arg.endswith(".toml") and (REPOSITORY / arg).is_file():
            out.append(str(REPOSITORY / arg))  # a shipped example file (issue 26)
        elif arg.endswith(".toml"):
            scenarios = tmp_path / arg
            scenarios.write_text("[scenarios.spend_5000]\nthreshold = 5000\nreward_amount = 500\n"
                                 "[scenarios.spend_100]\nthreshold = 100\nreward_amount = 10\n",
                                 encoding="utf-8")
            out.append(str(scenarios))
        else:
            out.append(arg)
    return out


REPOSITORY = Path(__file__).resolve().parents[2]


def test_every_command_has_an_example():
    leaves = {p: c for p, c in _commands(ROOT) if p and not getattr(c, "commands", None)}
    assert [p for p, c in leaves.items() if not EXAMPLE.search(c.help or "")] == []
    assert {p for p, _ in EXAMPLES} >= set(leaves) - {("paths",)}  # funnel paths' example


@pytest.mark.parametrize(("path", "example"), EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_help_examples_run_on_the_sample_data(path, example, tmp_path):
    args = _runnable(example, tmp_path)
    assert args[: len(path)] == list(path)
    result = runner.invoke(app, args)
    # --fail-on-alert may find alerts in the sample's weeks: exit 3 is its answer.
    allowed = {0, 3} if "--fail-on-alert" in args or "--fail-on-drift" in args else {0}
    assert result.exit_code in allowed, result.output
    for option in ("--out", "--rejects", "--out-dir"):
        if option in args and option != "--rejects":
            assert Path(args[args.index(option) + 1]).exists(), option


@pytest.mark.parametrize("args", [["sample", "--seed", "-1"],
                                  ["promo", "simulate", "--bootstrap", "10", "--seed", "-1"]])
def test_a_negative_seed_is_refused(args, tmp_path):
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2, result.output
    assert "--seed" in result.output
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(("args", "name", "says"), [
    (["report", "weekly"], "r.parquet", "the report is an HTML page"),
    (["report", "weekly"], "r.csv", "the report is an HTML page"),
    (["segment", "buckets"], "b.xlsx", "cust does not write .xlsx workbooks"),
])
def test_an_output_suffix_that_cannot_be_honoured_is_refused(args, name, says, tmp_path):
    result = runner.invoke(app, [*args, "--out", str(tmp_path / name)])
    assert result.exit_code == 2, result.output
    assert says in result.output
    assert list(tmp_path.iterdir()) == []
