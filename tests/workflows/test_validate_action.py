"""The composite action (action.yml): its steps run as the runner runs them.

The runner itself cannot run here. The test runs each ``run:`` step of action.yml with
bash the way the runner does (script file, ``env:`` evaluated, GITHUB_OUTPUT per step,
GITHUB_ACTION_PATH at the action's files), for real: a venv, pip installing Modelship
from a git clone of this project, ``modelship validate`` in Actions mode. The one
``uses:`` step, actions/setup-python, is stood in for by this interpreter.
"""

import sys

import pytest
import yaml

from generator.errors import ExitCode
from testsupport.github_runner import (
    evaluate,
    pull_request_payload,
    read_outputs,
    run_step,
    runner,
)
from testsupport.helpers import ROOT, mlproject, platform_dir
from testsupport.inprocess import modelship

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = {step["id"]: step for step in ACTION["runs"]["steps"]}

# The Install step (a venv and a pip install, about 40 s) runs once: every test of this
# module goes to one pytest-xdist worker (scripts/test runs with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("validate-action")


def action_inputs(given):
    contexts = {"github.action_repository": "acme/modelship"}
    defaults = {
        name: evaluate(spec.get("default", ""), contexts) for name, spec in ACTION["inputs"].items()
    }
    unknown = set(given) - set(defaults)
    assert not unknown, f"action.yml declares no input {unknown}"
    return {f"inputs.{name}": value for name, value in {**defaults, **given}.items()}


@pytest.fixture(scope="module")
def installed(tmp_path_factory, project_repo):
    """The Install step, run once: the path of the modelship it installed."""
    temp = tmp_path_factory.mktemp("runner-temp")
    output = temp / "set_output_install"
    output.touch()
    env = {
        **runner(temp, "acme/churn-model", "pull_request", {}).env,
        "RUNNER_TEMP": str(temp),
        "GITHUB_ACTION_PATH": str(project_repo),
        "GITHUB_OUTPUT": str(output),
    }
    contexts = {**action_inputs({}), "steps.python.outputs.python-path": sys.executable}
    result = run_step(STEPS["install"], env, contexts, cwd=temp, temp=temp)
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = read_outputs(output)
    assert outputs["modelship"] == str(temp / "modelship-venv" / "bin" / "modelship")
    return outputs["modelship"]


def validate(tmp_path, installed, files, **given):
    """The Validate step on a model repository's pull request; its result and the
    action's outputs."""
    step = runner(
        tmp_path, "acme/churn-model", "pull_request", pull_request_payload("acme/churn-model")
    )
    for name, text in files.items():
        (step.workspace / name).parent.mkdir(parents=True, exist_ok=True)
        (step.workspace / name).write_text(text)
    contexts = {**action_inputs(given), "steps.install.outputs.modelship": installed}
    result = run_step(STEPS["validate"], step.env, contexts, cwd=step.workspace, temp=tmp_path)
    step_outputs = {f"steps.validate.outputs.{k}": v for k, v in read_outputs(step.output).items()}
    outputs = {
        name: evaluate(spec["value"], step_outputs) for name, spec in ACTION["outputs"].items()
    }
    return result, outputs, step


def test_the_action_annotates_a_broken_mlproject_and_fails(tmp_path, installed):
    result, outputs, step = validate(tmp_path, installed, {"MLproject": mlproject(slo="fast")})
    assert result.returncode == ExitCode.FINDINGS
    assert result.stdout.splitlines() == [
        "::error file=MLproject,line=8,col=6,title=Modelship (mlproject/type)::MLproject:8:6: "
        'slo: must be an integer number of microseconds between 1000 and 10000000 (got "fast")',
        "1 error, 0 warnings in 1 file",
    ]
    assert outputs == {"errors": "1", "warnings": "0"}
    assert "**Failed:** 1 error, 0 warnings in 1 file" in step.summary_text()


def test_the_action_passes_a_valid_mlproject(tmp_path, installed):
    result, outputs, _ = validate(tmp_path, installed, {"MLproject": mlproject()})
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    assert outputs == {"errors": "0", "warnings": "0"}


def test_strict_fails_on_warnings(tmp_path, installed):
    files = {"MLproject": mlproject(name="churn-model-v2")}
    lenient, outputs, _ = validate(tmp_path / "lenient", installed, files)
    assert lenient.returncode == ExitCode.OK
    assert outputs == {"errors": "0", "warnings": "1"}
    strict, _, _ = validate(tmp_path / "strict", installed, files, strict="true")
    assert strict.returncode == ExitCode.FINDINGS


def test_paths_are_one_per_line_and_may_hold_spaces(tmp_path, installed):
    files = {
        "models/churn-model/MLproject": mlproject(),
        "old models/churn-model/MLproject": mlproject(slo=0),
    }
    result, outputs, _ = validate(
        tmp_path, installed, files, paths="models/churn-model\nold models/churn-model\n"
    )
    assert result.returncode == ExitCode.FINDINGS
    assert result.stdout.splitlines() == [
        "::error file=old models/churn-model/MLproject,line=8,col=6,title=Modelship "
        "(mlproject/minimum)::old models/churn-model/MLproject:8:6: slo: must be an integer "
        "number of microseconds between 1000 and 10000000 (got 0)",
        "1 error, 0 warnings in 2 files",
    ]
    assert outputs == {"errors": "1", "warnings": "0"}


def test_a_ref_without_a_repository_to_install_from_is_a_clear_error(tmp_path):
    # github.action_repository is empty for an action used by path (uses: ./)
    env = {**runner(tmp_path, "acme/churn-model", "push", {}).env, "RUNNER_TEMP": str(tmp_path)}
    contexts = {
        **action_inputs({"modelship-ref": "v0.2.0", "modelship-repository": ""}),
        "steps.python.outputs.python-path": sys.executable,
    }
    result = run_step(STEPS["install"], env, contexts, cwd=tmp_path, temp=tmp_path)
    assert result.returncode == 2
    assert result.stdout.startswith(
        "::error title=Modelship::modelship-ref is set but the repository to install it from"
    )
    assert not (tmp_path / "modelship-venv").exists()


def test_with_the_platform_a_typod_team_or_a_taken_id_fails_the_pull_request(tmp_path, installed):
    platform = platform_dir(tmp_path / "platform")
    assert modelship("render", cwd=platform).returncode == ExitCode.OK
    given = {"platform": str(platform / "platform.yaml"), "repository": "acme/churn-model"}
    typo, outputs, _ = validate(
        tmp_path / "typo", installed, {"MLproject": mlproject(team="rndd")}, **given
    )
    assert typo.returncode == ExitCode.FINDINGS
    assert typo.stdout.startswith(
        "::error file=MLproject,line=3,col=7,title=Modelship (policy/unknown-team)::MLproject:3:7: "
        "team: team 'rndd' is not a team of this platform"
    )
    assert outputs == {"errors": "1", "warnings": "0"}
    taken, _, _ = validate(
        tmp_path / "taken", installed, {"MLproject": mlproject(id="size-advice")}, **given
    )
    assert taken.returncode == ExitCode.FINDINGS
    assert "id 'size-advice' already belongs to acme/size-advice-model" in taken.stdout
    fine, _, _ = validate(tmp_path / "fine", installed, {"MLproject": mlproject()}, **given)
    assert fine.returncode == ExitCode.OK, fine.stdout + fine.stderr
