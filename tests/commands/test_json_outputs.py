"""render, publish, diff, list, promote, rollback and discover print JSON that validates against the schema shipped for it,
carries its format version, and speaks diff's vocabulary for changes."""

import shutil

from generator.errors import ExitCode
from testsupport.gitfixtures import bare_remote, edit, git, platform_repo, publish
from testsupport.helpers import platform_dir, read_tree
from testsupport.inprocess import modelship
from testsupport.output_schemas import valid_output


def test_render_json_in_every_mode(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    before = read_tree(folder / "rendered")
    check = modelship("render", "--check", "--format", "json", cwd=folder)
    assert check.returncode == ExitCode.FINDINGS
    document = valid_output("render", check.stdout)
    assert (document["mode"], document["written"], document["up_to_date"]) == (
        "check",
        False,
        False,
    )
    [model] = document["models"]
    assert (model["id"], model["change"], model["repo"]) == (
        "size-advice",
        "changed",
        "acme/size-advice-model",
    )
    assert {f["path"] for f in model["files"]} >= {"staging/gateway/routes/size-advice.conf"}
    assert document["summary"]["changed"] == 1
    dry = modelship("render", "--dry-run", "--format", "json", cwd=folder)
    assert valid_output("render", dry.stdout)["mode"] == "dry-run"
    assert read_tree(folder / "rendered") == before
    written = modelship("render", "--format", "json", cwd=folder)
    assert written.returncode == ExitCode.OK, written.stderr
    document = valid_output("render", written.stdout)
    assert (document["mode"], document["written"], document["models_rendered"]) == (
        "write",
        True,
        6,
    )
    again = valid_output("render", modelship("render", "--format", "json", cwd=folder).stdout)
    assert (again["written"], again["up_to_date"], again["models"]) == (False, True, [])


def test_render_json_with_findings_and_a_refusal(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    edit(folder, "fraud-score-model", "instances: 4", "instances: many")
    for name in ("size-advice-model", "search-ranking-model"):
        shutil.rmtree(folder / "examples" / "repos" / name)
    result = modelship("render", "--format", "json", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS
    document = valid_output("render", result.stdout)
    assert "refusing to remove 2 of 6 models" in document["refusal"]
    assert document["written"] is False
    [error] = [f for f in document["findings"] if f["severity"] == "error"]
    assert (error["key"], error["repo"]) == ("instances", "acme/fraud-score-model")


def test_publish_json_tells_the_commit_and_the_push(tmp_path):
    remote = bare_remote(tmp_path / "origin.git")
    folder = platform_repo(tmp_path / "platform", remote)
    first = publish(folder, "--push", "--format", "json")
    assert first.returncode == ExitCode.OK, first.stderr
    document = valid_output("publish", first.stdout)
    assert document["commit"] == git(remote, "rev-parse", "main")
    assert (document["branch"], document["pushed"], document["pull_request"]) == (
        "main",
        True,
        None,
    )
    assert "pushed to origin/main" in document["said"]
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    second = valid_output("publish", publish(folder, "--format", "json").stdout)
    assert [m["id"] for m in second["models"]] == ["size-advice"]
    assert second["pushed"] is False
    nothing = valid_output("publish", publish(folder, "--format", "json").stdout)
    assert (nothing["commit"], nothing["models"]) == (None, [])
    text = publish(folder)
    assert text.stdout == ""  # text goes to stderr; stdout is for JSON


def test_discover_json(tmp_path):
    folder = platform_dir(tmp_path)
    result = modelship("discover", "--format", "json", cwd=folder)
    assert result.returncode == ExitCode.OK
    document = valid_output("discover", result.stdout)
    assert len(document["repositories"]) == 6
    assert document["github"] is None


def test_promote_and_rollback_json_validate_against_their_schemas(tmp_path):
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "origin.git"))
    assert publish(folder).returncode == ExitCode.OK
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    git(folder, "commit", "--quiet", "--all", "-m", "size-advice: a tighter SLO")
    assert publish(folder).returncode == ExitCode.OK
    promoted = modelship(
        "promote",
        "size-advice",
        "--from",
        "staging",
        "--to",
        "production",
        "--format",
        "json",
        cwd=folder,
    )
    assert promoted.returncode == ExitCode.OK, promoted.stderr
    document = valid_output("promote", promoted.stdout)
    [move] = document["moves"]
    assert (document["environment"], move["model"]) == ("production", "size-advice")
    assert move["before"]["commit"] != move["after"]["commit"]
    assert document["file"] == "promotions/production.yaml"
    git(folder, "commit", "--quiet", "--all", "-m", "promote size-advice")
    assert publish(folder).returncode == ExitCode.OK
    back = modelship(
        "rollback", "size-advice", "--env", "production", "--format", "json", cwd=folder
    )
    assert back.returncode == ExitCode.OK, back.stderr
    document = valid_output("rollback", back.stdout)
    [undo] = document["moves"]
    assert (undo["before"], undo["after"]) == (move["after"], move["before"])


def test_diff_and_list_json_validate_against_their_schemas(tmp_path):
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "origin.git"))
    assert publish(folder, "--push").returncode == ExitCode.OK
    listed = valid_output("list", modelship("list", "--format", "json", cwd=folder).stdout)
    assert len(listed["models"]) == 6
    assert listed["rejected"] == []
    assert (
        valid_output("diff", modelship("diff", "--format", "json", cwd=folder).stdout)["models"]
        == []
    )
