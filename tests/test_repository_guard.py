"""No exception in the handling of one repository ends the run: that repository fails (its
model is kept on error) with a message saying it is a bug of Modelship; exit 4 stays for a bug
that is not about one repository."""

import json

from generator import cli, mlproject
from generator.errors import ExitCode
from testsupport.helpers import platform_dir

BROKEN = "acme/fraud-score-model"


def crashing_on(repo, real):
    def parse(text, path="MLproject", repo_name=""):
        if repo_name == repo:
            raise RuntimeError("a bug reached by this repository only")
        return real(text, path, repo_name)

    return parse


def test_an_exception_checking_one_repository_keeps_its_model_and_renders_the_rest(
    tmp_path, monkeypatch, capsys
):
    folder = platform_dir(tmp_path)
    assert cli.main(["--platform", str(folder / "platform.yaml"), "render"]) == ExitCode.OK
    path = folder / "examples" / "repos" / "size-advice-model" / "MLproject"
    path.write_text(path.read_text().replace("slo: 80000", "slo: 90000"))
    monkeypatch.setattr(mlproject, "parse", crashing_on(BROKEN, mlproject.parse))
    capsys.readouterr()
    code = cli.main(["--platform", str(folder / "platform.yaml"), "render"])
    err = capsys.readouterr().err
    assert code == ExitCode.FINDINGS, err
    assert "internal error: RuntimeError" in err
    assert "This is a bug in Modelship" in err
    assert "kept-on-error: fraud-score" in err
    models = json.loads((folder / "rendered" / "index.json").read_text())["models"]
    assert models["fraud-score"]["state"] == "kept-on-error"
    assert models["size-advice"]["environments"]["staging"]["slo"] == 90000
    assert len(models) == 6


def test_a_bug_outside_any_one_repository_is_still_exit_4(tmp_path, monkeypatch, capsys):
    folder = platform_dir(tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the plan")

    monkeypatch.setattr("generator.rendering.plan.plan", broken)
    code = cli.main(["--platform", str(folder / "platform.yaml"), "render"])
    assert code == ExitCode.INTERNAL
    assert "internal error: RuntimeError: a bug in the plan" in capsys.readouterr().err
