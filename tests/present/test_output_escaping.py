"""Text a repository controls never acts on a terminal or a GitHub Actions log: errors that
index.json records for a kept model, ids and names of damaged entries, and failure messages
are escaped on every output path — text, markdown, JSON, the commit message, list, discover —
including when read back from index.json."""

import json
import subprocess

import pytest

from generator.errors import ExitCode
from generator.present import json_output
from testsupport.gitfixtures import bare_remote, platform_repo
from testsupport.inprocess import modelship

# A key an MLproject may hold (YAML's "\e", "\a", "\u..." escapes): terminal hyperlink and
# screen-clear sequences, 8-bit CSI, bidi and zero-width controls, and a line break that
# starts a GitHub Actions workflow command.
HOSTILE_KEY = (
    "\\e]8;;https://evil.example\\aclick\\e]8;;\\a \\e[2J \\u009b31m \\u202etxt.exe "
    "\\u200b\\u2066 \\n::set-output name=pwned::yes"
)
RAW = ["\x1b", "\x07", "\x9b", "\u202e", "\u200b", "\u2066"]


def has_raw_controls(text):
    return [char for char in RAW if char in text]


def workflow_commands(text):
    """Lines the runner would read as workflow commands and that Modelship did not write."""
    ours = ("::error ", "::warning ", "::stop-commands::", "::modelship-")
    return [
        line
        for line in text.splitlines()
        if line.lstrip().startswith("::") and not line.startswith(ours)
    ]


@pytest.fixture(scope="module")
def kept_with_hostile_errors(tmp_path_factory):
    """A published platform whose size-advice repository now fails with a hostile key: its
    model is kept on error and index.json records that key in its errors."""
    tmp_path = tmp_path_factory.mktemp("escaping")
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "remote.git"))
    assert modelship("publish", cwd=folder).returncode == ExitCode.OK
    path = folder / "examples" / "repos" / "size-advice-model" / "MLproject"
    path.write_text(path.read_text() + f'"{HOSTILE_KEY}": 1\n')
    assert modelship("publish", cwd=folder).returncode == ExitCode.FINDINGS
    errors = json.loads((folder / "rendered" / "index.json").read_text())["models"]["size-advice"]
    assert any("\x1b" in error for error in errors["errors"]), "index.json holds the raw text"
    return folder


def actions_env(folder):
    """The variables a GitHub Actions runner sets for a step."""
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(folder),
        "GITHUB_STEP_SUMMARY": str(folder.parent / "summary.md"),
        "GITHUB_OUTPUT": str(folder.parent / "output.txt"),
    }


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
@pytest.mark.parametrize("actions", [False, True])
def test_diff_of_a_single_repository_read_escapes_recorded_errors(
    kept_with_hostile_errors, fmt, actions
):
    folder = kept_with_hostile_errors
    env = actions_env(folder) if actions else {}
    result = modelship(
        "diff", "--format", fmt, "--repository", "acme/fraud-score-model", cwd=folder, env=env
    )
    assert result.returncode in (ExitCode.OK, ExitCode.FINDINGS), result.stderr
    output = result.stdout + result.stderr
    assert "click" in output, "the recorded error is shown"
    assert has_raw_controls(output) == []
    assert workflow_commands(output) == []
    if fmt == "json":
        document = json.loads(result.stdout)
        [model] = [m for m in document["models"] if m["id"] == "size-advice"]
        assert any("\x1b]8;;" in error for error in model["errors"]), "JSON keeps the text exact"


def test_render_publish_and_list_escape_what_they_print(kept_with_hostile_errors):
    folder = kept_with_hostile_errors
    for command in (("render", "--dry-run"), ("publish",), ("list",), ("validate",)):
        for env in ({}, actions_env(folder)):
            result = modelship(*command, cwd=folder, env=env)
            output = result.stdout + result.stderr
            assert has_raw_controls(output) == [], command
            assert workflow_commands(output) == [], command
    log = subprocess.run(
        ["git", "log", "-3", "--format=%B"], cwd=folder, capture_output=True, text=True, check=True
    ).stdout
    assert has_raw_controls(log) == []


def test_json_output_escapes_controls_and_still_decodes_to_the_same_text():
    value = {"error": "a\x1b[2Jb\u202ec\x9bd\u200be — café"}
    text = json_output.to_json(value)
    assert has_raw_controls(text) == []
    assert "café" in text, "ordinary unicode stays readable"
    assert json.loads(text) == value


# Who promoted is recorded as a promotions file or --by says (its schema refuses C0 controls
# only): 8-bit CSI, bidi and zero-width characters reach every per-environment line.
HOSTILE_BY = "Jane \x9b31m \u202etxt.exe \u200b\u2066 Doe"


def test_who_promoted_is_escaped_on_every_per_environment_line(tmp_path):
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "remote.git"))
    assert modelship("publish", cwd=folder).returncode == ExitCode.OK
    path = folder / "examples" / "repos" / "size-advice-model" / "MLproject"
    path.write_text(path.read_text().replace("slo: 80000", "slo: 90000"))
    assert modelship("publish", cwd=folder).returncode == ExitCode.OK
    args = ("size-advice", "--from", "staging", "--to", "production", "--by", HOSTILE_BY)
    for fmt in ("text", "json"):
        promoted = modelship("promote", *args, "--format", fmt, cwd=folder)
        assert promoted.returncode == ExitCode.OK, promoted.stderr
        assert has_raw_controls(promoted.stdout + promoted.stderr) == [], fmt
    for fmt in ("text", "markdown", "json"):
        for env in ({}, actions_env(folder)):
            shown = modelship("diff", "--format", fmt, cwd=folder, env=env)
            assert shown.returncode == ExitCode.OK, shown.stderr
            output = shown.stdout + shown.stderr
            assert "production" in output
            assert "Doe" in output, "who promoted is shown"
            assert has_raw_controls(output) == [], (fmt, env)
            assert workflow_commands(output) == []
    document = json.loads(modelship("diff", "--format", "json", cwd=folder).stdout)
    [model] = [m for m in document["models"] if m["id"] == "size-advice"]
    [production] = [e for e in model["environments"] if e["environment"] == "production"]
    assert production["after"]["promotion"]["by"] == HOSTILE_BY, "JSON keeps the text exact"
    published = modelship("publish", cwd=folder)
    assert published.returncode == ExitCode.OK, published.stderr
    assert has_raw_controls(published.stdout + published.stderr) == []
    log = subprocess.run(
        ["git", "log", "-1", "--format=%B"], cwd=folder, capture_output=True, text=True, check=True
    ).stdout
    assert "production" in log
    assert "Doe" in log
    assert has_raw_controls(log) == []
    for fmt in ("text", "json"):
        listed = modelship("list", "--env", "production", "--format", fmt, cwd=folder)
        assert listed.returncode == ExitCode.OK, listed.stderr
        assert has_raw_controls(listed.stdout + listed.stderr) == [], fmt
