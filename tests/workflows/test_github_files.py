"""Workflows, the composite action and dependabot.yml pass the real linters, and hold the
project's rules: pinned actions, least privilege, timeouts, the documented contracts."""

import os
import re
import subprocess

import pytest
import yaml

from testsupport.helpers import ROOT, tool

SKIPPED_FOLDERS = {".git", ".venv", "node_modules", "rendered"}


def github_yaml(kind):
    """Every workflow (any .github/workflows folder, examples too) or action file in the repo."""
    found = []
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = sorted(d for d in subfolders if d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            path = os.path.join(folder, name)
            is_workflow = folder.endswith(os.path.join(".github", "workflows"))
            if kind == "workflow" and is_workflow and name.endswith((".yml", ".yaml")):
                found.append(path)
            if kind == "action" and name in ("action.yml", "action.yaml"):
                found.append(path)
    return [os.path.relpath(p, ROOT) for p in found]


WORKFLOWS = github_yaml("workflow")
ACTIONS = github_yaml("action")
OFFLINE = {
    **os.environ,
    # a download attempt fails instead of reaching the network: the built-in schemas must do
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
}


def load(path):
    return yaml.safe_load((ROOT / path).read_text())


def run(*command, cwd=ROOT):
    return subprocess.run(
        command, cwd=cwd, env=OFFLINE, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_github_files_are_found():
    assert set(WORKFLOWS) >= {
        ".github/workflows/ci.yml",
        ".github/workflows/pr-preview.yml",
        ".github/workflows/render.yml",
        ".github/workflows/validate-model.yml",
        "examples/model-repo/.github/workflows/modelship.yml",
        "scaffold/.github/workflows/render.yml",
        "scaffold/.github/workflows/pr-preview.yml",
        "scaffold/.github/workflows/ci.yml",
    }
    assert ACTIONS == ["action.yml"]


def test_workflows_match_githubs_workflow_schema():
    result = run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *WORKFLOWS
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_job_has_a_timeout():
    # reusable-workflow jobs (uses:) cannot set one; the called workflow's jobs do
    result = run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "custom.github-workflows-require-timeout",
        *WORKFLOWS,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_actions_match_githubs_action_schema():
    result = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", *ACTIONS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependabot_config_matches_its_schema():
    result = run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", ".github/dependabot.yml"
    )
    assert result.returncode == 0, result.stdout + result.stderr


def actionlint(*files, cwd=ROOT):
    return run(tool("actionlint"), "-shellcheck", tool("shellcheck"), "-oneline", *files, cwd=cwd)


def test_workflows_pass_actionlint_with_shellcheck():
    result = actionlint(*WORKFLOWS)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_the_linters_do_catch_mistakes(tmp_path):
    """The two checks above would fail on a broken workflow (they are not no-ops)."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    broken = workflows / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.titel }} $undefined_var\n"
    )
    linted = actionlint(str(broken), cwd=tmp_path)
    assert linted.returncode == 1
    assert "[shellcheck]" in linted.stdout
    schema = workflows / "no-jobs.yml"
    schema.write_text("on: push\n")
    checked = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", schema)
    assert checked.returncode == 1
    assert "'jobs' is a required property" in checked.stdout


def run_scripts(document):
    for step in document["runs"]["steps"]:
        if "run" in step:
            yield step["name"], step["shell"], step["run"]


@pytest.mark.parametrize("path", ACTIONS)
def test_action_scripts_pass_shellcheck(path, tmp_path):
    """actionlint reads action.yml for the inputs a workflow passes to it, but does not
    shellcheck its scripts: this does, as actionlint does for a workflow's run steps."""
    scripts = list(run_scripts(load(path)))
    assert scripts
    for name, shell, script in scripts:
        assert shell == "bash", name
        file = tmp_path / "script.sh"
        file.write_text(script)
        result = run(tool("shellcheck"), "--shell=bash", "--norc", str(file))
        assert result.returncode == 0, f"{name}:\n{result.stdout}"


USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<target>\S+)(?P<comment>.*)$")
PINNED = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}")
VERSION_COMMENT = re.compile(r"\s+# v\d+\.\d+\.\d+$")


def test_third_party_actions_are_pinned_to_a_commit_with_its_version():
    seen = 0
    for path in [*WORKFLOWS, *ACTIONS]:
        for number, line in enumerate((ROOT / path).read_text().splitlines(), start=1):
            match = USES.match(line)
            if match is None:
                continue
            target, where = match["target"], f"{path}:{number}"
            if target.startswith("./"):
                continue  # this repository's own action
            if target.startswith("acme/modelship/"):
                # the example's reference to Modelship: a commit that exists (test_pins.py)
                assert re.fullmatch(r"acme/modelship/\S+@[0-9a-f]{40}", target), where
                continue
            assert PINNED.fullmatch(target), f"{where}: {target} is not pinned to a commit"
            assert VERSION_COMMENT.fullmatch(match["comment"]), f"{where}: no '# vX.Y.Z'"
            seen += 1
    assert seen >= 5


def permissions_granted(document):
    yield "workflow", document.get("permissions")
    for name, job in document["jobs"].items():
        if "permissions" in job:
            yield name, job["permissions"]


# The only write access any workflow has, job by job; every other grant is read or none.
WRITES = {
    (".github/workflows/render.yml", "publish"): {
        "contents": "write",  # commit and push rendered/
        "pull-requests": "write",  # publish mode pull-request
    },
    (".github/workflows/pr-preview.yml", "preview"): {"pull-requests": "write"},  # the comment
    # what `modelship init` writes into a platform repository (scaffold/)
    ("scaffold/.github/workflows/render.yml", "publish"): {
        "contents": "write",
        "pull-requests": "write",
    },
    ("scaffold/.github/workflows/pr-preview.yml", "preview"): {"pull-requests": "write"},
}


@pytest.mark.parametrize("path", WORKFLOWS)
def test_workflows_ask_for_least_privilege(path):
    document = load(path)
    assert "permissions" in document, f"{path}: no top-level permissions"
    for where, granted in permissions_granted(document):
        scopes = granted or {}
        assert isinstance(scopes, dict), f"{path}: {where}: {granted!r}"
        writes = {scope: level for scope, level in scopes.items() if level == "write"}
        assert writes == WRITES.get((path, where), {}), f"{path}: {where} asks for {scopes}"
        assert set(scopes.values()) <= {"read", "none", "write"}, f"{path}: {where}: {scopes}"
    if any(path == workflow for workflow, _ in WRITES):
        # write access is granted per job, never to the whole workflow
        assert document["permissions"] == {}, f"{path}: top-level permissions must be {{}}"


def on(document):
    # PyYAML reads the key `on` as the boolean True (YAML 1.1)
    return document[True]


def test_ci_runs_the_readme_test_command_on_push_and_pull_request():
    document = load(".github/workflows/ci.yml")
    assert set(on(document)) == {"push", "pull_request"}
    assert document["concurrency"]["cancel-in-progress"] is True
    assert "github.ref" in document["concurrency"]["group"]
    runs = [step.get("run") for step in document["jobs"]["test"]["steps"]]
    assert "scripts/test" in runs
    assert "scripts/test" in (ROOT / "README.md").read_text()


def test_ci_runs_the_action_on_every_example_repository():
    steps = load(".github/workflows/ci.yml")["jobs"]["action"]["steps"]
    [validate] = [step for step in steps if step.get("uses") == "./"]
    listed = validate["with"]["paths"].split()
    examples = sorted(
        f"examples/repos/{p.name}" for p in (ROOT / "examples/repos").iterdir() if p.is_dir()
    )
    assert listed == examples


def test_reusable_workflow_is_called_with_inputs_it_declares():
    reusable = load(".github/workflows/validate-model.yml")
    declared = on(reusable)["workflow_call"]["inputs"]
    job = load("examples/model-repo/.github/workflows/modelship.yml")["jobs"]["validate"]
    called = job["uses"].split("@")[0].removeprefix("acme/modelship/")
    assert (ROOT / called).resolve() == (ROOT / ".github/workflows/validate-model.yml").resolve()
    assert set(job.get("with", {})) <= set(declared)
    assert set(job.get("secrets", {})) <= set(on(reusable)["workflow_call"]["secrets"])
    # and the reusable workflow passes to the action only inputs action.yml declares
    action_inputs = set(load("action.yml")["inputs"])
    [step] = [s for s in reusable["jobs"]["validate"]["steps"] if s.get("uses") == "./.modelship"]
    assert set(step["with"]) <= action_inputs


def test_example_model_workflow_starts_the_platforms_render_after_validation_on_push():
    document = load("examples/model-repo/.github/workflows/modelship.yml")
    assert set(on(document)) == {"pull_request", "push"}
    job = document["jobs"]["notify-platform"]
    assert job["needs"] == "validate"
    assert job["if"] == "github.event_name == 'push'"
    assert job["permissions"] == {}
    script = job["steps"][0]["run"]
    assert "/actions/workflows/$PLATFORM_WORKFLOW/dispatches" in script
    assert "secrets.MODELSHIP_DISPATCH_TOKEN" in job["steps"][0]["env"]["DISPATCH_TOKEN"]
    # the workflow it starts takes the input it sends, and guards a mass delete
    render = load("scaffold/.github/workflows/render.yml")
    assert "repository" in on(render)["workflow_dispatch"]["inputs"]
    assert "modelship-mass-delete" in render["jobs"]["publish"]["environment"]
