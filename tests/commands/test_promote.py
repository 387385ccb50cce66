"""promote and rollback end to end, with real git (the example platform repository and a bare
origin) and the CLI in a subprocess: a model's new commit changes staging and not
production; `promote` moves production to it; `rollback` returns production to the state
before (found in the rendered repository's history); later publishes keep the pin; the pull
request path against the loopback GitHub."""

import json

import pytest
import yaml

from generator import index
from generator.errors import ExitCode
from testsupport.fakes.github_server import DEFAULT_TOKEN
from testsupport.gitfixtures import (
    bare_remote,
    clean_env,
    edit,
    git,
    platform_repo,
    publish,
    set_platform,
    tree_at,
)
from testsupport.helpers import modelship, read_tree

PEOPLE = {"GIT_AUTHOR_NAME": "Jane Doe", "GIT_AUTHOR_EMAIL": "jane@acme.example"}
BRANCH = "modelship/promote/production"


def run(folder, *args, **env):
    return modelship(*args, cwd=folder, env=clean_env(**{**PEOPLE, **env}))


def models_at(folder, ref="HEAD"):
    return index.loads(tree_at(folder, ref)["index.json"]).models


def commit_all(folder, message):
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "-m", message)


@pytest.fixture
def platform(tmp_path):
    """The example platform, published: production runs what promotions/production.yaml pins."""
    folder = platform_repo(tmp_path / "platform", bare_remote(tmp_path / "origin.git"))
    assert publish(folder).returncode == ExitCode.OK
    return folder


def running(folder, env, model_id="size-advice", ref="HEAD"):
    return models_at(folder, ref)[model_id].environments[env]


def test_a_new_commit_changes_staging_promote_moves_production_and_rollback_returns_it(platform):
    promoted = running(platform, "production")
    deployment = "rendered/production/kubernetes/models-rnd/size-advice/deployment.yaml"
    production_before = (platform / deployment).read_bytes()

    edit(platform, "size-advice-model", "slo: 80000", "slo: 90000")
    commit_all(platform, "size-advice: a tighter SLO")
    # Pushed: list reads the rendered tree as published (origin/main).
    assert publish(platform, "--push").returncode == ExitCode.OK
    assert running(platform, "staging").model.spec.slo == 90000
    assert running(platform, "production") == promoted, "production moves only when promoted"
    assert (platform / deployment).read_bytes() == production_before
    listed = run(platform, "list", "--env", "production").stdout.splitlines()
    [row] = [line for line in listed if line.startswith("size-advice ")]
    newer = running(platform, "staging").model.provenance.short_commit
    assert row.rstrip().endswith(f"staging is at {newer}")

    promote = run(platform, "promote", "size-advice", "--from", "staging", "--to", "production")
    assert promote.returncode == ExitCode.OK, promote.stderr
    assert promote.stdout.startswith("production: 1 model promoted\n  size-advice  ")
    assert f"→ {newer} (version " in promote.stdout
    assert "wrote promotions/production.yaml" in promote.stderr
    pins = yaml.safe_load((platform / "promotions/production.yaml").read_text())["models"]
    assert pins["size-advice"]["commit"].startswith(newer)
    assert pins["size-advice"]["by"] == "Jane Doe <jane@acme.example>"
    commit_all(platform, "promote size-advice")
    assert publish(platform).returncode == ExitCode.OK
    now = running(platform, "production")
    assert now.model == running(platform, "staging").model
    assert now.promotion.action == "promote"
    image = yaml.safe_load((platform / deployment).read_text())["spec"]["template"]["spec"][
        "containers"
    ][0]["image"]
    assert image.endswith(f":{newer}")

    back = run(platform, "rollback", "size-advice", "--env", "production")
    assert back.returncode == ExitCode.OK, back.stderr
    assert back.stdout.startswith("production: 1 model rolled back\n")
    commit_all(platform, "roll size-advice back")
    # The state rolled back to is no longer in index.json: the render finds it in history.
    assert publish(platform).returncode == ExitCode.OK
    rolled = running(platform, "production")
    assert rolled.model == promoted.model
    assert rolled.promotion.action == "rollback"
    assert (platform / deployment).read_bytes() == production_before, "exactly as it ran"
    assert running(platform, "staging").model.spec.slo == 90000

    # A later commit and publish: staging moves on, the pin holds.
    edit(platform, "size-advice-model", "slo: 90000", "slo: 95000")
    commit_all(platform, "size-advice: even tighter")
    result = publish(platform)
    assert result.returncode == ExitCode.OK, result.stderr
    assert running(platform, "staging").model.spec.slo == 95000
    assert running(platform, "production").model == promoted.model
    assert modelship("render", "--check", cwd=platform).returncode == ExitCode.OK

    again = run(platform, "rollback", "size-advice", "--env", "production", "--to", newer)
    assert again.returncode == ExitCode.OK, again.stderr
    assert f"→ {newer} " in again.stdout


def test_a_pin_whose_state_cannot_be_found_is_an_error_and_production_keeps_the_model(platform):
    promoted = running(platform, "production")
    path = platform / "promotions/production.yaml"
    path.write_text(path.read_text().replace(promoted.model.provenance.commit, "e" * 40))
    before = read_tree(platform / "rendered")
    result = modelship("render", cwd=platform)
    assert result.returncode == ExitCode.FINDINGS
    assert "promotions/production.yaml:" in result.stderr
    assert "models.size-advice: the state pinned (acme/size-advice-model@eeeeeee" in result.stderr
    assert "production keeps size-advice as it runs" in result.stderr
    entry = index.loads((platform / "rendered/index.json").read_bytes()).models["size-advice"]
    assert entry.environments["production"].model == promoted.model
    assert entry.environments["production"].state == "kept-on-error"
    after = read_tree(platform / "rendered")
    production = [
        p for p in before if p.startswith("production/kubernetes/models-rnd/size-advice/")
    ]
    assert production
    assert all(after[p] == before[p] for p in production), "never a fall-back to HEAD"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("promote", "nope", "--from", "staging", "--to", "production"), "nope: no such model"),
        (
            ("promote", "--all", "--from", "staging", "--to", "staging"),
            "staging follows the sources",
        ),
        (
            ("promote", "--all", "--from", "qa", "--to", "production"),
            "production is promoted from staging, not from qa",
        ),
        (
            ("promote", "--from", "staging", "--to", "production"),
            "name the models to promote, or give --all",
        ),
        (
            ("rollback", "size-advice", "--env", "production"),
            "no earlier state of size-advice in production",
        ),
        (("rollback", "size-advice", "--env", "production", "--to", "xyz"), "not a commit"),
        (("rollback", "size-advice", "--env", "qa"), "qa: no such environment in platform.yaml"),
    ],
)
def test_bad_requests_are_usage_errors(platform, args, message):
    result = run(platform, *args)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert git(platform, "status", "--porcelain") == ""


@pytest.mark.parametrize(
    ("by", "env", "message"),
    [
        ("a\nb", {}, "--by: must be who did it, on one line: 1 to 200 characters"),
        ("x" * 100_000, {}, "--by: must be who did it, on one line"),
        (None, {"GIT_AUTHOR_NAME": "x\ay"}, "$GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>, the GitHub"),
    ],
)
def test_who_a_promotions_file_could_not_hold_is_refused_before_it_is_written(
    platform, by, env, message
):
    edit(platform, "size-advice-model", "slo: 80000", "slo: 90000")
    commit_all(platform, "size-advice: a tighter SLO")
    assert publish(platform).returncode == ExitCode.OK
    pins = (platform / "promotions/production.yaml").read_bytes()
    given = ("--by", by) if by is not None else ()
    moves = ("promote", "size-advice", "--from", "staging", "--to", "production", *given)
    refused = run(platform, *moves, **env)
    assert refused.returncode == ExitCode.USAGE, refused.stderr
    assert message in refused.stderr
    assert (platform / "promotions/production.yaml").read_bytes() == pins
    assert run(platform, "render").returncode == ExitCode.OK, "the platform is not wedged"
    promoted = run(platform, *moves[:6], "--by", "Ann <ann@acme.example>")
    assert promoted.returncode == ExitCode.OK, promoted.stderr


def test_a_publish_author_the_promotions_file_could_not_hold_is_named_as_the_culprit(platform):
    edit(platform, "size-advice-model", "slo: 80000", "slo: 90000")
    commit_all(platform, "size-advice: a tighter SLO")
    assert publish(platform).returncode == ExitCode.OK
    set_platform(platform, publish={"author": {"name": "Ann\tLee", "email": "ann@acme.example"}})
    git(platform, "config", "user.name", "")  # nobody else says who runs this
    anonymous = {
        key: value
        for key, value in clean_env().items()
        if key not in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GITHUB_ACTOR")
    }
    moves = ("promote", "size-advice", "--from", "staging", "--to", "production")
    refused = modelship(*moves, cwd=platform, env=anonymous)
    assert refused.returncode == ExitCode.USAGE, refused.stderr
    assert "publish.author in platform.yaml, who runs this: must be who did it" in refused.stderr


def test_promote_all_changes_nothing_when_production_is_where_staging_is(platform):
    result = run(
        platform, "promote", "--all", "--from", "staging", "--to", "production", "--format", "json"
    )
    assert result.returncode == ExitCode.OK, result.stderr
    document = json.loads(result.stdout)
    assert document["moves"] == []
    assert len(document["unchanged"]) == 6
    assert "nothing to change in production" in result.stderr
    assert git(platform, "status", "--porcelain") == ""


def point_at(folder, server):
    path = folder / "platform.yaml"
    data = yaml.safe_load(path.read_text())
    data["github"]["api_url"] = server.url
    data["publish"]["pull_request"] = {"repository": "acme/modelship"}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    commit_all(folder, "pull requests go to acme/modelship")


def test_promote_with_pr_opens_a_pull_request_with_the_pins_and_the_rendered_tree(
    tmp_path, github_server
):
    github_server.org.add_repo("modelship")
    remote = bare_remote(tmp_path / "origin.git")
    folder = platform_repo(tmp_path / "platform", remote)
    point_at(folder, github_server)
    assert publish(folder, "--push").returncode == ExitCode.OK
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    commit_all(folder, "size-advice: a tighter SLO")
    assert publish(folder, "--push").returncode == ExitCode.OK
    main = git(folder, "rev-parse", "HEAD")
    checkout = {name: read_tree(folder / name) for name in ("promotions", "rendered")}

    result = run(
        folder,
        "promote",
        "size-advice",
        "--from",
        "staging",
        "--to",
        "production",
        "--pr",
        GITHUB_TOKEN=DEFAULT_TOKEN,
    )
    assert result.returncode == ExitCode.OK, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "opened pull request #1: https://github.com/acme/modelship/pull/1"
    )
    assert git(folder, "rev-parse", "HEAD") == main, "the checked-out branch does not move"
    assert {name: read_tree(folder / name) for name in checkout} == checkout, "nothing written"
    assert git(folder, "status", "--porcelain") == ""
    assert git(remote, "rev-parse", f"{BRANCH}~1") == main
    changed = git(remote, "diff", "--name-only", "main", BRANCH).splitlines()
    assert "promotions/production.yaml" in changed
    assert "rendered/production/kubernetes/models-rnd/size-advice/deployment.yaml" in changed
    assert not any(path.startswith("rendered/staging/") for path in changed), "staging stays"
    branch_models = index.loads(tree_at(remote, BRANCH)["index.json"]).models
    assert branch_models["size-advice"].environments["production"].model == (
        branch_models["size-advice"].environments["staging"].model
    )
    [pull] = github_server.org.pulls["modelship"]
    assert (pull.head_ref, pull.base) == (BRANCH, "main")
    assert pull.title == "modelship: promoted 1 model in production (acme-ml)"
    assert pull.body.startswith(
        "### production\\: 1 model promoted\n\n| Model | Runs now | To run | Version |"
    )
    assert "`size-advice`" in pull.body
    assert "<summary><code>size-advice</code> changed" in pull.body
    # The branch is what a render of it gives: merged, it is up to date.
    git(folder, "fetch", "--quiet", "origin")
    git(folder, "merge", "--quiet", "--ff-only", f"origin/{BRANCH}")
    assert modelship("render", "--check", cwd=folder).returncode == ExitCode.OK

    again = run(
        folder,
        "promote",
        "size-advice",
        "--from",
        "staging",
        "--to",
        "production",
        "--pr",
        GITHUB_TOKEN=DEFAULT_TOKEN,
    )
    assert again.returncode == ExitCode.OK, again.stderr
    assert "nothing to change in production" in again.stderr
    assert github_server.count("pulls_create") == 1
