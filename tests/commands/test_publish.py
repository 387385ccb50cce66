"""modelship publish with real git: commits of the rendered tree only, pushes to bare remotes,
racing publishers, a separate rendered repository."""

import sys

import pytest

from generator import index
from generator.cli import build_parser
from generator.commands import publish as publish_command
from generator.config import loader
from generator.errors import ExitCode
from generator.sources.base import Scan
from generator.sources.local import LocalSource
from testsupport.chosen_scan import ChosenScan
from testsupport.gitfixtures import (
    bare_remote,
    clean_env,
    clone,
    edit,
    git,
    platform_repo,
    publish,
    set_platform,
    tree_at,
)
from testsupport.helpers import modelship, platform_dir, read_tree


@pytest.fixture
def remote(tmp_path):
    return bare_remote(tmp_path / "remote.git")


@pytest.fixture
def alice(tmp_path, remote):
    return platform_repo(tmp_path / "alice", remote)


def head(folder, ref="HEAD"):
    return git(folder, "rev-parse", ref)


def models_at(folder, ref="HEAD"):
    return index.loads(tree_at(folder, ref)["index.json"]).models


def test_publish_commits_only_the_tree_with_every_model_and_its_source(alice):
    (alice / "NOTES.md").write_text("work in progress\n")
    git(alice, "add", "NOTES.md")
    before = head(alice)
    result = publish(alice)
    assert result.returncode == ExitCode.OK, result.stderr
    assert head(alice, "HEAD~1") == before
    changed = git(alice, "show", "--name-only", "--format=", "HEAD").splitlines()
    assert changed
    assert all(path.startswith("rendered/") for path in changed)
    assert git(alice, "diff", "--cached", "--name-only") == "NOTES.md", "the staged file stays"
    assert git(alice, "status", "--porcelain", "--", "rendered") == ""
    assert tree_at(alice, "HEAD") == read_tree(alice / "rendered")
    message = git(alice, "log", "-1", "--format=%B")
    assert message.startswith(
        "modelship: render acme-ml (6 added, 0 changed, 0 removed, 0 kept-on-error, 0 unchanged)"
    )
    for model_id, entry in models_at(alice).items():
        source = entry.model.provenance
        assert f"add {model_id} from {source.repo}@{source.commit}\n" in message
    who = git(alice, "log", "-1", "--format=%an <%ae>|%cn <%ce>")
    assert who == "Modelship <modelship@acme.example>|Modelship <modelship@acme.example>"


def test_a_rerun_with_nothing_changed_makes_no_commit(alice):
    publish(alice)
    before = head(alice)
    again = publish(alice)
    assert again.returncode == ExitCode.OK
    assert "nothing to publish" in again.stderr
    assert head(alice) == before


def test_the_environment_names_the_author_and_committer(alice):
    result = publish(
        alice,
        GIT_AUTHOR_NAME="Release Bot",
        GIT_AUTHOR_EMAIL="bot@acme.example",
        GIT_COMMITTER_NAME="CI",
        GIT_COMMITTER_EMAIL="ci@acme.example",
    )
    assert result.returncode == ExitCode.OK, result.stderr
    assert git(alice, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == (
        "Release Bot <bot@acme.example>|CI <ci@acme.example>"
    )


def test_platform_yaml_can_name_a_separate_committer(alice):
    set_platform(
        alice,
        publish={
            "author": {"name": "Platform Team", "email": "platform@acme.example"},
            "committer": {"name": "Modelship CI", "email": "ci@acme.example"},
        },
    )
    assert publish(alice).returncode == ExitCode.OK
    assert git(alice, "log", "-1", "--format=%an <%ae>|%cn <%ce>") == (
        "Platform Team <platform@acme.example>|Modelship CI <ci@acme.example>"
    )


ENVIRONMENTS = ("production", "staging")


def test_one_changed_model_is_one_line_and_only_its_files(alice):
    publish(alice)
    edit(alice, "size-advice-model", "slo: 80000", "slo: 90000")
    assert publish(alice).returncode == ExitCode.OK
    message = git(alice, "log", "-1", "--format=%B")
    entry = models_at(alice)["size-advice"]
    assert f"update size-advice from acme/size-advice-model@{entry.model.provenance.commit}" in (
        message
    )
    assert "(0 added, 1 changed, 0 removed, 0 kept-on-error, 5 unchanged)" in message
    changed = set(git(alice, "show", "--name-only", "--format=", "HEAD").splitlines())
    shared = {"rendered/index.json", *(f"rendered/{env}/consul/kv.json" for env in ENVIRONMENTS)}
    assert changed - shared <= {f"rendered/{p}" for p in entry.files}


def test_a_refused_mass_delete_commits_nothing(alice):
    publish(alice)
    before = head(alice)
    for name in ("size-advice-model", "fraud-score-model"):
        for path in sorted((alice / "examples/repos" / name).rglob("*"), reverse=True):
            path.unlink()
        (alice / "examples/repos" / name).rmdir()
    refused = publish(alice, "--push")
    assert refused.returncode == ExitCode.FINDINGS
    assert "refusing to remove 2 of 6 models" in refused.stderr
    assert head(alice) == before
    assert git(alice, "status", "--porcelain", "--", "rendered") == ""
    allowed = publish(alice, "--allow-mass-delete")
    assert allowed.returncode == ExitCode.OK
    assert "remove size-advice from acme/size-advice-model@" in git(
        alice, "log", "-1", "--format=%B"
    )


def test_an_incomplete_or_failing_source_still_publishes_what_it_can(alice):
    publish(alice)
    edit(alice, "size-advice-model", "slo: 80000", "slo: fast")
    result = publish(alice)
    assert result.returncode == ExitCode.FINDINGS
    message = git(alice, "log", "-1", "--format=%B")
    assert "keep size-advice from acme/size-advice-model@" in message
    assert models_at(alice)["size-advice"].state == "kept-on-error"


def test_push_lands_on_the_remote_and_a_rerun_pushes_nothing(alice, remote):
    result = publish(alice, "--push")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "pushed to origin/main" in result.stderr
    assert git(remote, "rev-parse", "main") == head(alice)
    again = publish(alice, "--push")
    assert again.returncode == ExitCode.OK
    assert "origin/main is up to date" in again.stderr
    assert git(remote, "rev-parse", "main") == head(alice)


@pytest.mark.parametrize("rendered_too", [False, True], ids=["sources", "sources-and-render"])
def test_two_publishers_racing_on_one_remote_both_land(tmp_path, alice, remote, rendered_too):
    """Alice and Bob change different models from the same base; Alice pushes first, so
    Bob's push is rejected: he fetches, rebases, renders again and lands both changes."""
    assert publish(alice, "--push").returncode == ExitCode.OK
    bob = clone(remote, tmp_path / "bob")
    edit(alice, "size-advice-model", "slo: 80000", "slo: 90000")
    edit(bob, "fraud-score-model", "instances: 4", "instances: 5")
    for person in (alice, bob):
        if rendered_too:  # the README's workflow: render, commit the model and rendered/
            assert modelship("render", cwd=person).returncode == ExitCode.OK
        git(person, "commit", "--quiet", "--all", "-m", "change a model")
    first = publish(alice, "--push")
    assert first.returncode == ExitCode.OK, first.stderr
    second = publish(bob, "--push")
    assert second.returncode == ExitCode.OK, second.stderr
    assert "origin/main moved on" in second.stderr
    assert "pushed to origin/main" in second.stderr
    landed = models_at(remote, "main")
    assert landed["size-advice"].model.spec.slo == 90000
    assert landed["fraud-score"].model.spec.instances == 5
    check = clone(remote, tmp_path / "check")
    assert modelship("render", "--check", cwd=check).returncode == ExitCode.OK
    subjects = git(remote, "log", "--format=%s", "main").splitlines()
    assert subjects.count("change a model") == 2
    parents = git(remote, "log", "--format=%p", "main").splitlines()
    assert all(len(p.split()) <= 1 for p in parents), "history is linear"


# ---------------------------------------------------------------- a separate rendered repository


def separate(folder, rendered_remote, **repository):
    set_platform(
        folder,
        rendered={
            "path": "rendered",
            "repository": {"url": str(rendered_remote), "branch": "main", **repository},
        },
    )


def test_a_separate_rendered_repository_is_cloned_committed_and_pushed(tmp_path, alice):
    deployments = bare_remote(tmp_path / "deployments.git")  # empty: no branch yet
    separate(alice, deployments, workdir="work/deployments")
    git(alice, "commit", "--quiet", "--all", "--allow-empty", "-m", "render into ml-deployments")
    platform_head = head(alice)
    result = publish(alice, "--push")
    assert result.returncode == ExitCode.OK, result.stderr
    assert head(alice) == platform_head, "the platform repository gets no commit"
    assert not (alice / "rendered").exists()
    workdir = alice / "work/deployments"
    assert tree_at(deployments, "main") == read_tree(workdir / "rendered")
    assert set(models_at(deployments, "main")) == set(models_at(workdir))
    pushed = git(deployments, "rev-parse", "main")
    rerun = publish(alice, "--push")
    assert rerun.returncode == ExitCode.OK
    assert "nothing to publish" in rerun.stderr
    assert git(deployments, "rev-parse", "main") == pushed
    listed = modelship("list", cwd=alice)
    assert "visual-similarity" in listed.stdout


def test_a_separate_repository_follows_its_remote_branch(tmp_path, alice):
    deployments = bare_remote(tmp_path / "deployments.git")
    separate(alice, deployments)
    assert publish(alice, "--push").returncode == ExitCode.OK
    # Someone else adds a file next to the tree and removes a model by hand.
    other = clone(deployments, tmp_path / "other")
    (other / "README.md").write_text("Rendered by Modelship\n")
    git(other, "rm", "--quiet", "-r", "rendered/production/kubernetes/models-rnd/size-advice")
    git(other, "add", "README.md")
    git(other, "commit", "--quiet", "-m", "by hand")
    git(other, "push", "--quiet", "origin", "main")
    result = publish(alice, "--push")
    assert result.returncode == ExitCode.OK, result.stderr
    after = clone(deployments, tmp_path / "after")
    assert (after / "README.md").exists()
    assert (after / "rendered/production/kubernetes/models-rnd/size-advice").is_dir()
    assert "changed" in git(deployments, "log", "-1", "--format=%s", "main")


def hook(workdir, script):
    path = workdir / ".git" / "hooks" / "pre-push"
    path.write_text(
        "#!/bin/sh\nfor v in $(env | grep ^GIT_ | cut -d= -f1); do unset $v; done\n" + script
    )
    path.chmod(0o755)


def test_a_separate_repository_publisher_that_loses_a_race_retries(tmp_path, alice):
    deployments = bare_remote(tmp_path / "deployments.git")
    separate(alice, deployments)
    assert publish(alice, "--push").returncode == ExitCode.OK
    other = clone(deployments, tmp_path / "other")
    # Between Alice's fetch and her push, someone else pushes (once).
    hook(
        alice / ".modelship/rendered-repo",
        f"if [ ! -e {tmp_path}/raced ]; then touch {tmp_path}/raced\n"
        f"cd {other} && echo x > README.md && git add README.md\n"
        "git -c user.name=o -c user.email=o@o commit -q -m readme && git push -q origin main\n"
        "fi\n",
    )
    edit(alice, "size-advice-model", "slo: 80000", "slo: 90000")
    result = publish(alice, "--push")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "origin/main moved on" in result.stderr
    log = git(deployments, "log", "--format=%s", "main").splitlines()
    assert log[0].startswith("modelship: render acme-ml (0 added, 1 changed")
    assert log[1] == "readme"
    assert models_at(deployments, "main")["size-advice"].model.spec.slo == 90000


def test_retries_are_bounded(tmp_path, alice):
    deployments = bare_remote(tmp_path / "deployments.git")
    separate(alice, deployments)
    set_platform(alice, publish={"push_attempts": 2})
    assert publish(alice, "--push").returncode == ExitCode.OK
    other = clone(deployments, tmp_path / "other")
    hook(  # someone always pushes first
        alice / ".modelship/rendered-repo",
        f"cd {other} && date +%N >> README.md && git add README.md\n"
        "git -c user.name=o -c user.email=o@o commit -q -m readme && git push -q origin main\n",
    )
    edit(alice, "size-advice-model", "slo: 80000", "slo: 90000")
    result = publish(alice, "--push")
    assert result.returncode == ExitCode.EXTERNAL
    assert "the push to origin/main was rejected 2 times" in result.stderr
    assert git(deployments, "log", "--format=%s", "main").splitlines()[:2] == ["readme", "readme"]


def test_detached_head_cannot_be_pushed(alice):
    git(alice, "checkout", "--quiet", "--detach")
    result = publish(alice, "--push")
    assert result.returncode == ExitCode.USAGE
    assert "HEAD is detached" in result.stderr


def test_a_tree_outside_any_git_repository_is_a_clear_error(tmp_path):
    folder = platform_dir(tmp_path / "plain")
    result = modelship("publish", cwd=folder, env=clean_env(GIT_CEILING_DIRECTORIES=str(tmp_path)))
    assert result.returncode == ExitCode.USAGE
    assert "is not inside a git repository" in result.stderr


def test_two_first_publishes_to_an_empty_repository(tmp_path, alice, remote):
    """Both start from a repository without any branch; Bob's root commit loses the race."""
    deployments = bare_remote(tmp_path / "deployments.git")
    separate(alice, deployments)
    bob = clone(remote, tmp_path / "bob")
    separate(bob, deployments)
    workdir = clone(deployments, bob / ".modelship/rendered-repo")
    hook(
        workdir,
        f"if [ ! -e {tmp_path}/raced ]; then touch {tmp_path}/raced\n"
        f"cd {alice} && {sys.executable} -m generator publish --push >/dev/null 2>&1\nfi\n",
    )
    result = publish(bob, "--push")
    assert result.returncode == ExitCode.OK, result.stderr
    assert "origin/main moved on" in result.stderr
    assert (tmp_path / "raced").exists()
    assert len(git(deployments, "log", "--format=%s", "main").splitlines()) == 1
    assert tree_at(deployments, "main") == read_tree(workdir / "rendered")


def test_an_incomplete_scan_publishes_what_it_saw_deletes_nothing_and_exits_3(alice, capsys):
    assert publish(alice).returncode == ExitCode.OK
    before = models_at(alice)
    edit(alice, "size-advice-model", "slo: 80000", "slo: 90000")
    platform = loader.load(alice / "platform.yaml")
    seen = [s for s in LocalSource.from_platform(platform).scan().snapshots if "size" in s.name]
    partial = Scan(tuple(seen), complete=False, incomplete_reason="timeout on page 3")
    args = build_parser().parse_args(["publish"])
    status = publish_command.execute(args, lambda: platform, lambda _: ChosenScan(partial), {})
    assert status == ExitCode.EXTERNAL
    assert "did not complete (timeout on page 3)" in capsys.readouterr().err
    after = models_at(alice)
    assert after.keys() == before.keys()
    assert after["size-advice"].model.spec.slo == 90000
    assert all(after[m] == before[m] for m in before if m != "size-advice")
    assert "update size-advice" in git(alice, "log", "-1", "--format=%B")


def test_a_conflict_outside_the_tree_stops_the_publish(tmp_path, alice, remote):
    assert publish(alice, "--push").returncode == ExitCode.OK
    bob = clone(remote, tmp_path / "bob")
    edit(alice, "size-advice-model", "slo: 80000", "slo: 90000")
    edit(bob, "size-advice-model", "slo: 80000", "slo: 70000")
    for person in (alice, bob):
        git(person, "commit", "--quiet", "--all", "-m", "change the slo")
    assert publish(alice, "--push").returncode == ExitCode.OK
    pushed = git(remote, "rev-parse", "main")
    result = publish(bob, "--push")
    assert result.returncode == ExitCode.EXTERNAL
    assert (
        "cannot rebase onto origin/main (conflicts in examples/repos/size-advice-model/MLproject)"
        in result.stderr
    )
    assert git(remote, "rev-parse", "main") == pushed
    assert git(bob, "log", "-1", "--format=%s") == "change the slo"
    assert not (bob / ".git" / "rebase-merge").exists()
