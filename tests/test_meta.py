"""Meta-tests: every command has help with an example and a README entry; CI runs the README."""

from pathlib import Path

from typer.main import get_command

from cust.cli.main import app

ROOT = Path(__file__).resolve().parents[1]


def _commands(group, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        path = (*prefix, name)
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, path)
        else:
            yield " ".join(path), cmd


def test_every_command_has_help_with_example_and_readme_entry():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = list(_commands(get_command(app)))
    assert {"check", "sample", "segment buckets", "segment abc"} <= {n for n, _ in commands}
    for name, cmd in commands:
        assert cmd.help, f"{name} has no help"
        assert "Example: cust " in cmd.help, f"{name} has no example in its help"
        assert f"`cust {name}`" in readme, f"README has no entry for cust {name}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = next(line for line in ci.splitlines() if line.startswith("python3 -m venv"))
    assert command in readme



def test_version_is_the_package_version():
    import tomllib

    from typer.testing import CliRunner

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"cust {project['version']}\n")
