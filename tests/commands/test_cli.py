"""The CLI as a user drives it: exit codes, output, and no traceback for any input."""

import json
import os
import subprocess
import sys

import jsonschema
import pytest

from generator.cli import COMMANDS
from generator.errors import ExitCode
from testsupport.helpers import ROOT, mlproject, modelship, platform_dir, read_tree
from testsupport.output_schemas import valid_output


@pytest.fixture
def platform(tmp_path):
    return platform_dir(tmp_path)


def test_help_explains_every_command():
    result = modelship("--help", cwd=ROOT)
    assert result.returncode == 0
    assert "exit status:" in result.stdout
    for name in COMMANDS:
        assert name in result.stdout
        sub = modelship(name, "--help", cwd=ROOT)
        assert sub.returncode == 0, name
        assert sub.stdout.startswith(f"usage: modelship {name}")


HEAVY = ("github", "git", "requests", "kubernetes", "consul")


def imported_by(argv, cwd, *prefixes):
    """The modules a command imports, of the packages ``HEAVY`` and those named ``prefixes``."""
    probe = (
        "import sys\n"
        "from generator import cli\n"
        "try:\n"
        f"    cli.main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"wanted = {HEAVY!r}\n"
        f"prefixes = {prefixes!r}\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in wanted or m.startswith(prefixes)]\n"
        "print(' '.join(sorted(loaded)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, capture_output=True, text=True, check=True
    )
    lines = result.stderr.splitlines()
    return set(lines[-1].split()) if lines else set()


def test_help_lists_every_command_with_its_line_and_imports_none():
    """`modelship --help` answers from the list of commands alone: no command's module (and
    none of PyGithub, gitpython, requests, the kubernetes client they bring) is imported."""
    listing = modelship("--help", cwd=ROOT).stdout
    for name, (_, summary) in COMMANDS.items():
        assert f"    {name} " in listing
        assert " ".join(listing.split()).count(summary) == 1, summary
    assert imported_by(["--help"], ROOT, "generator.commands.") == set()


def test_validate_of_a_model_folder_imports_no_render_pipeline(tmp_path):
    """The pre-commit hook's command starts without the templates, git or any client."""
    folder = tmp_path / "churn-model"
    folder.mkdir()
    (folder / "MLproject").write_text(mlproject())
    loaded = imported_by(
        ["validate", str(folder)], tmp_path, "generator.run", "generator.rendering"
    )
    # requests reads a platform from a URL (validate --platform https://...)
    assert {name.split(".")[0] for name in loaded} == {"requests"}


def test_a_command_after_an_abbreviated_option_is_parsed_as_after_the_whole_one():
    whole = modelship("--platform", "nowhere.yaml", "schema", "mlproject", cwd=ROOT)
    short = modelship("--plat", "nowhere.yaml", "schema", "mlproject", cwd=ROOT)
    assert (short.returncode, short.stdout) == (whole.returncode, whole.stdout)
    assert whole.returncode == 0
    helped = modelship("--plat", "nowhere.yaml", "schema", "--help", cwd=ROOT)
    assert helped.stdout.startswith("usage: modelship schema")
    assert "examples:" in helped.stdout


def test_unknown_command_is_a_usage_error():
    result = modelship("deploy", cwd=ROOT)
    assert result.returncode == ExitCode.USAGE
    assert "invalid choice: 'deploy'" in result.stderr


def test_validate_json_format(tmp_path):
    folder = tmp_path / "churn-model"
    folder.mkdir()
    (folder / "MLproject").write_text(mlproject(slo="fast"))
    result = modelship("validate", "--format", "json", str(folder), cwd=tmp_path)
    assert result.returncode == ExitCode.FINDINGS
    document = valid_output("validate", result.stdout)
    assert document["errors"] == 1
    [finding] = document["findings"]
    assert finding["key"] == "slo"
    assert finding["line"] == 8
    assert finding["severity"] == "error"
    assert finding["rule"] == "mlproject/type"


def test_validate_defaults_to_the_current_folder_outside_a_platform(tmp_path):
    folder = tmp_path / "churn-model"
    folder.mkdir()
    (folder / "MLproject").write_text(mlproject())
    result = modelship("validate", cwd=folder)
    assert result.returncode == ExitCode.OK
    assert result.stdout == "0 errors, 0 warnings in 1 file\n"


def test_validate_strict_fails_on_warnings(tmp_path):
    folder = tmp_path / "other-name"
    folder.mkdir()
    (folder / "MLproject").write_text(mlproject())
    assert modelship("validate", cwd=folder).returncode == ExitCode.OK
    strict = modelship("validate", "--strict", cwd=folder)
    assert strict.returncode == ExitCode.FINDINGS
    assert "warning: name: is normally the repository name ('other-name')" in strict.stdout


def test_validate_without_paths_in_a_platform_checks_every_repository(platform):
    result = modelship("validate", cwd=platform)
    assert result.returncode == ExitCode.OK
    assert result.stdout == "0 errors, 0 warnings in 6 files\n"
    broken = platform / "examples/repos/size-advice-model/MLproject"
    broken.write_text(broken.read_text().replace("slo: 80000", "slo: slow"))
    result = modelship("validate", cwd=platform)
    assert result.returncode == ExitCode.FINDINGS
    assert result.stdout.startswith(
        "examples/repos/size-advice-model/MLproject:10:6: slo: must be an integer"
    )


def test_validate_missing_path_is_a_usage_error(tmp_path):
    result = modelship("validate", "nope", cwd=tmp_path)
    assert result.returncode == ExitCode.USAGE
    assert result.stderr == "modelship: error: nope: no such file or folder\n"


def test_invalid_platform_is_a_configuration_error(tmp_path):
    (tmp_path / "platform.yaml").write_text("name: x\n")
    result = modelship("render", cwd=tmp_path)
    assert result.returncode == ExitCode.USAGE
    assert "platform.yaml:1:1: missing required key 'github'" in result.stderr
    assert "Traceback" not in result.stderr


def test_platform_option_and_environment_variable(platform, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert (
        modelship("--platform", str(platform / "platform.yaml"), "list", cwd=elsewhere).returncode
        == 0
    )
    env = {**os.environ, "MODELSHIP_PLATFORM": str(platform / "platform.yaml")}
    assert modelship("list", cwd=elsewhere, env=env).returncode == 0
    missing = modelship("list", cwd=elsewhere)
    assert missing.returncode == ExitCode.USAGE
    assert "platform.yaml: no such file" in missing.stderr


def test_render_then_rerun_writes_nothing(platform):
    first = modelship("render", cwd=platform)
    assert first.returncode == ExitCode.OK, first.stderr
    assert "rendered 6 models" in first.stderr
    stamps = {p: p.stat().st_mtime_ns for p in (platform / "rendered").rglob("*")}
    second = modelship("render", cwd=platform)
    assert "0 added, 0 changed, 0 removed" in second.stderr
    assert {p: p.stat().st_mtime_ns for p in (platform / "rendered").rglob("*")} == stamps


def test_dry_run_prints_the_diff_and_writes_nothing(platform):
    modelship("render", cwd=platform)
    before = read_tree(platform / "rendered")
    path = platform / "examples/repos/size-advice-model/MLproject"
    path.write_text(path.read_text().replace("slo: 80000", "slo: 90000"))
    result = modelship("render", "--dry-run", cwd=platform)
    assert result.returncode == ExitCode.OK
    assert read_tree(platform / "rendered") == before
    assert "--- a/index.json\n+++ b/index.json\n" in result.stdout
    # staging follows the source; production runs what was promoted, and does not move
    assert '-          "slo": 80000,\n+          "slo": 90000,\n' in result.stdout
    assert "+++ b/staging/kubernetes/models-rnd/size-advice/deployment.yaml" in result.stdout
    assert "b/production/kubernetes/models-rnd/size-advice" not in result.stdout
    assert "nothing written" in result.stderr


def test_check_exits_1_when_stale_and_0_when_current(platform):
    stale = modelship("render", "--check", cwd=platform)
    assert stale.returncode == ExitCode.FINDINGS
    assert "out of date: index.json" in stale.stdout
    assert not (platform / "rendered").exists()
    modelship("render", cwd=platform)
    current = modelship("render", "--check", cwd=platform)
    assert current.returncode == ExitCode.OK
    assert current.stdout == ""


def test_render_removes_the_files_of_a_removed_model(platform):
    modelship("render", cwd=platform)
    for path in (platform / "examples/repos/size-advice-model").iterdir():
        path.unlink()
    (platform / "examples/repos/size-advice-model").rmdir()
    result = modelship("render", cwd=platform)
    assert result.returncode == ExitCode.OK
    assert not list((platform / "rendered").rglob("*size-advice*"))
    assert "size-advice" not in (platform / "rendered/index.json").read_text()


def test_list_prints_the_model_table(platform):
    modelship("render", cwd=platform)
    result = modelship("list", cwd=platform)
    assert result.returncode == ExitCode.OK
    source, *lines = result.stdout.splitlines()
    assert source == "the working tree of rendered (no git repository):"
    assert lines[0].split() == [
        "MODEL",
        "ENVIRONMENT",
        "VERSION",
        "COMMIT",
        "STATE",
        "INSTANCES",
        "INPUT",
        "TEAM",
        "PROMOTION",
        "CANARY",
    ]
    production, staging = (line.split() for line in lines[-2:])
    commit = staging[3]
    assert staging == [
        "visual-similarity",
        "staging",
        "4f1255f",
        commit,
        "deployed",
        "1",
        "doubles",
        "rnd",
    ]
    assert production[:8] == [
        "visual-similarity",
        "production",
        "4f1255f",
        commit,
        "deployed",
        "2",
        "doubles",
        "rnd",
    ]
    assert " ".join(production[8:]).startswith("promoted 20")
    assert production[-3:] == ["as", "in", "staging"]
    document = json.loads(modelship("list", "--format", "json", cwd=platform).stdout)
    assert document["models"][0]["id"] == "fraud-score"
    placed = document["models"][0]["environments"]
    assert sorted(placed) == ["production", "staging"]
    assert placed["production"]["behind"] is False
    assert placed["production"]["promotion"]["action"] == "promote"
    only = modelship("list", "--env", "staging", cwd=platform).stdout.splitlines()
    assert len(only) == 2 + 6
    assert all(line.split()[1] == "staging" for line in only[2:])
    unknown = modelship("list", "--env", "qa", cwd=platform)
    assert unknown.returncode == ExitCode.USAGE
    assert "--env qa: no such environment in platform.yaml (production, staging)" in unknown.stderr


def test_list_with_a_damaged_index_is_a_clear_error(platform):
    (platform / "rendered").mkdir()
    (platform / "rendered/index.json").write_text("{not json")
    result = modelship("list", cwd=platform)
    assert result.returncode == ExitCode.USAGE
    assert "index.json: not a Modelship index" in result.stderr


def test_schema_is_a_valid_draft_2020_12_schema():
    for which in ("mlproject", "platform"):
        result = modelship("schema", which, cwd=ROOT)
        schema = json.loads(result.stdout)
        jsonschema.Draft202012Validator.check_schema(schema)
    assert json.loads(modelship("schema", cwd=ROOT).stdout)["title"].startswith("MLproject")


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00garbage",
        b"name: [\n",
        b"- a\n- b\n",
        b"{}",
        b"id: !!binary aGVsbG8=\n",
        b"a: &x [*x]\n",
    ],
)
def test_no_traceback_for_any_input(tmp_path, content):
    (tmp_path / "MLproject").write_bytes(content)
    result = modelship("validate", str(tmp_path), cwd=tmp_path)
    assert result.returncode == ExitCode.FINDINGS
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.startswith(f"{tmp_path}/MLproject:")


def test_tables_show_names_as_text_not_terminal_markup(tmp_path):
    folder = platform_dir(tmp_path, repos={"x[red]y-model": mlproject()})
    result = modelship("discover", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    assert "acme/x[red]y-model" in result.stdout


def test_a_rendered_repository_url_git_refuses_is_a_configuration_error(platform):
    text = (platform / "platform.yaml").read_text()
    old = "  path: rendered "
    assert old in text
    text = text.replace(old, "  repository:\n    url: ext::sh%20-c%20true\n" + old)
    (platform / "platform.yaml").write_text(text)
    result = modelship("list", cwd=platform)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert "git refuses this protocol" in result.stderr
