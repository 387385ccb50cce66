"""What every command shares, as a user meets it: examples at the end of --help, global options
before or after the command, --quiet and --verbose, and colours only on a terminal."""

import importlib.metadata
import os
import pty
import re
import select
import shlex
import subprocess
import sys
import tomllib

import pytest

import generator
from generator.cli import COMMANDS, build_parser
from generator.errors import ExitCode
from testsupport.helpers import ROOT, mlproject, modelship, platform_dir
from testsupport.inprocess import modelship as in_process


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_help_ends_with_examples_that_name_the_command(name):
    result = in_process(name, "--help", cwd=ROOT)
    assert result.returncode == ExitCode.OK
    examples = result.stdout.rsplit("\nexamples:\n", 1)
    assert len(examples) == 2, f"{name} --help has no examples section at its end"
    joined = examples[1].replace("\\\n", " ")  # a command continued on the next line
    lines = [line.strip() for line in joined.splitlines() if line.strip()]
    assert lines
    assert all(f"modelship {name}" in line for line in lines), lines
    assert "--platform FILE" in result.stdout  # the global options are listed too


def example_words(line: str) -> list[str]:
    """An example's words for modelship: after any VAR=value, before any pipe or redirect."""
    words = shlex.split(line, comments=True)
    while words and "=" in words[0]:
        words.pop(0)
    for index, word in enumerate(words):
        if word in ("|", ">", ">>", "&&", ";"):
            return words[:index]
    return words


@pytest.mark.parametrize("name", [None, *sorted(COMMANDS)])
def test_every_example_in_help_is_a_command_line_the_parser_takes(name, capsys):
    shown = in_process(*([name] if name else []), "--help", cwd=ROOT).stdout
    joined = shown.rsplit("\nexamples:\n", 1)[1].replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines() if line.strip()]
    for line in lines:
        words = example_words(line)
        assert words[0] == "modelship", line
        command = next(word for word in words if word in COMMANDS)
        try:
            build_parser(command).parse_args(words[1:])
        except SystemExit:
            pytest.fail(f"{line}\n{capsys.readouterr().err}")


@pytest.mark.parametrize("where", ["before", "after"])
def test_an_empty_platform_is_a_usage_error_not_the_default_file(tmp_path, where):
    platform = platform_dir(tmp_path / "platform")
    words = ["--platform", "", "validate"] if where == "before" else ["validate", "--platform", ""]
    result = in_process(*words, cwd=platform)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "--platform: give the path or URL of a platform.yaml, not an empty word" in result.stderr


def test_global_options_are_accepted_after_the_command(tmp_path):
    platform = platform_dir(tmp_path / "platform")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shown = str(platform / "platform.yaml")
    before = in_process("--platform", shown, "validate", cwd=elsewhere)
    after = in_process("validate", "--platform", shown, cwd=elsewhere)
    assert before.returncode == after.returncode == ExitCode.OK, after.stderr
    assert before.stdout == after.stdout == "0 errors, 0 warnings in 6 files\n"
    # given after the command, it wins over one given before
    missing = in_process("--platform", shown, "list", "--platform", "nowhere.yaml", cwd=elsewhere)
    assert missing.returncode == ExitCode.USAGE
    assert "nowhere.yaml: no such file" in missing.stderr


def test_quiet_keeps_results_and_problems_and_verbose_adds_detail(tmp_path):
    platform = platform_dir(tmp_path)
    normal = in_process("render", cwd=platform)
    assert normal.returncode == ExitCode.OK, normal.stderr
    assert "rendered 6 models into rendered" in normal.stderr
    quiet = in_process("render", "--quiet", cwd=platform)
    assert (quiet.returncode, quiet.stderr) == (ExitCode.OK, "")
    # a problem is still told with --quiet
    broken = platform / "examples/repos/size-advice-model/MLproject"
    broken.write_text(broken.read_text().replace("slo: 80000", "slo: slow"))
    quiet = in_process("-q", "render", cwd=platform)
    assert quiet.returncode == ExitCode.FINDINGS
    assert "size-advice-model/MLproject:10:6: slo: must be an integer" in quiet.stderr
    assert "kept-on-error: size-advice" in quiet.stderr
    verbose = in_process("render", "--verbose", cwd=platform)
    assert "platform: platform.yaml" in verbose.stderr
    assert "read acme/size-advice-model@" in verbose.stderr
    both = in_process("render", "--quiet", "--verbose", cwd=platform)
    assert both.returncode == ExitCode.USAGE
    assert "not allowed with argument" in both.stderr


COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # SGR: colour and weight


def on_a_terminal(args, cwd, **env):
    """The CLI with stdout and stderr on a pseudo-terminal, as in a person's shell."""
    leader, follower = pty.openpty()
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.update(TERM="xterm-256color", COLUMNS="200", **env)
    process = subprocess.Popen(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=environ,
    )
    os.close(follower)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the pty closes when the process exits
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(leader)
        code = process.wait(timeout=60)
    return code, output.decode()


def test_errors_and_warnings_are_coloured_on_a_terminal_unless_no_color(tmp_path):
    folder = tmp_path / "other-name"
    folder.mkdir()
    (folder / "MLproject").write_text(mlproject(slo="fast"))
    code, shown = on_a_terminal(["validate"], folder)
    assert code == ExitCode.FINDINGS
    red, yellow = "\x1b[1;31m", "\x1b[33m"
    assert f"{red}MLproject:8:6: slo: must be" in shown
    assert f"{yellow}MLproject:1:7: warning: name:" in shown
    code, plain = on_a_terminal(["validate"], folder, NO_COLOR="1")
    assert code == ExitCode.FINDINGS
    assert not COLOUR.search(plain)
    assert "MLproject:8:6: slo: must be" in plain
    # and never in a pipe
    piped = modelship("validate", cwd=folder)
    assert "\x1b" not in piped.stdout + piped.stderr
    code, error = on_a_terminal(["list", "--platform", "nowhere.yaml"], folder)
    assert code == ExitCode.USAGE
    assert f"{red}modelship: error: nowhere.yaml: no such file" in error


def test_the_version_is_written_once_and_printed():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["hatch"]["version"] == {"path": "generator/__init__.py"}
    declared = generator.__version__
    # what the installed package says is what the package's one line says
    assert importlib.metadata.version("modelship") == declared
    result = modelship("--version", cwd=ROOT)
    assert (result.returncode, result.stdout) == (0, f"modelship {declared}\n")
    # between releases a development version: no tag vX.Y.Z is claimed for it
    assert ".dev" in declared or re.fullmatch(r"\d+\.\d+\.\d+", declared)


def test_every_format_option_speaks_one_vocabulary():
    subcommands = next(
        action for action in build_parser()._actions if action.dest == "command"
    ).choices
    seen = {}  # text for people (the default), json for tools, markdown for a pull request
    for name, parser in subcommands.items():
        [option] = [a for a in parser._actions if "--format" in a.option_strings] or [None]
        if option is None:
            continue
        assert option.default == "text", name
        assert set(option.choices) <= {"text", "json", "markdown"}, name
        seen[name] = tuple(option.choices)
    assert {"list", "render", "publish", "diff", "promote", "rollback"} <= set(seen)
