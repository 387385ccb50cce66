"""The fault matrix: every fault the GitHub source, git, the disk and Consul can meet, each
against a platform with deployed models. After each: no model was removed, and the tree is consistent —
its index.json reads without damage and accounts for exactly the files the tree holds — and
the run's exit status says what happened (3: an external system failed, nothing deleted; 1: a
repository failed and its model is kept; 2: the tree or its configuration needs a person).
Once the fault is gone, the next run completes and leaves no trace of the fault.

Killing a write at every step is tests/test_rendered_tree.py's (testsupport/write_killer.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import cli, index, rendered_tree
from generator.errors import ExitCode
from testsupport.consul import (
    CONSUL_VARIABLES,
    decoded,
    point_at,
    rendered_platform,
    set_timeout,
)
from testsupport.consul import PREFIX as CONSUL_PREFIX
from testsupport.fakes.consul_server import DEFAULT_TOKEN as DEFAULT_CONSUL_TOKEN
from testsupport.fakes.consul_server import MANAGEMENT
from testsupport.fakes.github_server import DEFAULT_TOKEN, FakeGitHub
from testsupport.gitfixtures import (
    bare_remote,
    edit,
    git,
    platform_repo,
    publish,
    set_platform,
)
from testsupport.helpers import (
    ROOT,
    mlproject,
    platform_dir,
    read_tree,
    tool,
    unprivileged,
    write_repo,
)
from testsupport.inprocess import modelship
from testsupport.nginx import free_port

# ---------------------------------------------------------------- the invariants


def assert_intact(
    root: Path, deployed: set[str], damaged: frozenset[str] = frozenset()
) -> dict[str, bytes]:
    """No model of ``deployed`` is gone, and the tree at ``root`` is consistent (the entries
    of ``damaged`` are the damaged ones, kept as they were); its files."""
    tree = read_tree(root)
    recorded = index.loads(tree[index.INDEX_PATH])
    assert set(recorded.damaged) == damaged
    present = {*recorded.models, *recorded.damaged}
    assert deployed <= present, f"removed: {sorted(deployed - present)}"
    accounted = {index.INDEX_PATH, *recorded.shared_files}
    for entry in recorded.models.values():
        accounted.update(entry.files)
    for item in recorded.damaged.values():
        accounted.update(item.files or ())
    assert set(tree) == accounted, f"unaccounted: {sorted(set(tree) ^ accounted)[:5]}"
    return tree


def leftovers(root: Path) -> list[str]:
    return [
        p.name
        for p in (rendered_tree.stage_path(root), rendered_tree.backup_path(root))
        if os.path.lexists(p)
    ]


def models_of(root: Path) -> set[str]:
    return set(json.loads((root / index.INDEX_PATH).read_text())["models"])


def in_process(folder: Path, *args: str) -> tuple[int, str]:
    """The CLI in this process (the loopback GitHub runs in it too); its exit status and
    stderr."""
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = cli.main(["--platform", str(folder / "platform.yaml"), *args])
    return code, err.getvalue()


# ---------------------------------------------------------------- GitHub


MODELS = ("m0", "m1", "m2", "m3")
SERVICES = 110  # plain repositories: the scan and the team listing span two pages


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    server = FakeGitHub(blob_text_limit=400).start()
    try:
        org = server.org
        for model in MODELS:
            org.add_repo(f"{model}-model", mlproject=mlproject(name=f"{model}-model", id=model))
        # An MLproject too long for GraphQL's text: read through the contents API.
        org.add_repo(
            "big-model",
            mlproject=mlproject(name="big-model", id="big", description="b" * 200)
            + "# "
            + "padding " * 40
            + "\n",
        )
        for number in range(SERVICES):
            org.add_repo(f"service-{number:03d}")
        pushing = {repo.name: "push" for repo in org.repos.values()}
        for slug in ("rnd", "search", "search-ml", "pricing", "risk"):
            org.add_team(slug, dict(pushing))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def github_deployed(github, tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    """A github platform whose five models are rendered; each case works on a copy."""
    folder = tmp_path_factory.mktemp("github-deployed")
    data = yaml.safe_load((ROOT / "platform.yaml").read_text())
    data["github"] = {
        "organization": "acme",
        "api_url": github.url,
        "web_url": github.org.web_url,
        "limits": {"retries": 0, "timeout": 1, "rate_limit_wait": 0, "retry_time": 0},
    }
    data["source"] = {"type": "github"}
    (folder / "platform.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITHUB_TOKEN", DEFAULT_TOKEN)
        code, err = in_process(folder, "render")
    assert code == ExitCode.OK, err
    assert models_of(folder / "rendered") == {*MODELS, "big"}
    return folder, read_tree(folder / "rendered")


NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}
INCOMPLETE = ExitCode.EXTERNAL
# (case, faults to inject, the exit status, the models then kept on error). A scan that stops
# before big-model's MLproject (too long for GraphQL's text) was fetched keeps that model on
# error ("not read: the scan stopped"); nothing is removed either way.
GITHUB_FAULTS: list[tuple[str, list[dict[str, Any]], int, set[str]]] = [
    ("graphql-502", [{"kind": "status", "status": 502}], INCOMPLETE, set()),
    ("graphql-500-every-time", [{"kind": "status", "status": 500, "times": 99}], INCOMPLETE, set()),
    (
        "graphql-bad-credentials",
        [{"kind": "reply", "status": 401, "body": {"message": "Bad credentials"}}],
        INCOMPLETE,
        set(),
    ),
    (
        "graphql-forbidden",
        [{"kind": "reply", "status": 403, "body": {"message": "Resource not accessible"}}],
        INCOMPLETE,
        set(),
    ),
    ("graphql-not-found", [{"kind": "reply", "status": 404, "body": NOT_FOUND}], INCOMPLETE, set()),
    ("graphql-html-200", [{"kind": "html", "status": 200}], INCOMPLETE, set()),
    ("graphql-html-502", [{"kind": "html", "status": 502}], INCOMPLETE, set()),
    ("graphql-timeout", [{"kind": "timeout", "seconds": 3}], INCOMPLETE, set()),
    ("graphql-truncated", [{"kind": "truncated"}], INCOMPLETE, set()),
    ("graphql-not-json", [{"kind": "not_json"}], INCOMPLETE, set()),
    ("graphql-errors", [{"kind": "graphql_errors"}], INCOMPLETE, set()),
    ("graphql-errors-with-data", [{"kind": "graphql_errors", "partial": True}], INCOMPLETE, set()),
    ("graphql-rate-limit", [{"kind": "graphql_rate_limit", "seconds": 3600}], INCOMPLETE, set()),
    ("primary-rate-limit", [{"kind": "rate_limit", "seconds": 3600}], INCOMPLETE, set()),
    (
        "secondary-rate-limit",
        [{"kind": "secondary_rate_limit", "seconds": 3600}],
        INCOMPLETE,
        set(),
    ),
    ("second-page-502", [{"kind": "status", "status": 502, "page": 1}], INCOMPLETE, {"big"}),
    ("cursor-null", [{"kind": "cursor_null"}], INCOMPLETE, {"big"}),
    ("cursor-loop", [{"kind": "cursor_loop", "page": 1}], INCOMPLETE, {"big"}),
    ("nodes-missing", [{"kind": "nodes_missing", "drop": 3}], INCOMPLETE, {"big"}),
    ("early-end", [{"kind": "early_end"}], INCOMPLETE, {"big"}),
    (
        "contents-500",
        [{"kind": "status", "route": "contents", "status": 500, "times": 99}],
        ExitCode.FINDINGS,
        {"big"},
    ),
    (
        "contents-html-200",
        [{"kind": "html", "route": "contents", "status": 200}],
        ExitCode.FINDINGS,
        {"big"},
    ),
    (
        "contents-truncated",
        [{"kind": "truncated", "route": "contents"}],
        ExitCode.FINDINGS,
        {"big"},
    ),
    (
        "contents-not-found",
        [{"kind": "reply", "route": "contents", "status": 404, "body": NOT_FOUND}],
        ExitCode.FINDINGS,
        {"big"},
    ),
    (
        "team-listing-500",
        [{"kind": "status", "route": "team_repos", "status": 500, "times": 99}],
        INCOMPLETE,
        set(),
    ),
    (
        "team-listing-html-200",
        [{"kind": "html", "route": "team_repos", "status": 200, "times": 99}],
        INCOMPLETE,
        set(),
    ),
    (
        "team-listing-404-on-page-2",
        [
            {
                "kind": "reply",
                "route": "team_repos",
                "status": 404,
                "page": 1,
                "times": 99,
                "body": NOT_FOUND,
            }
        ],
        INCOMPLETE,
        set(),
    ),
    (
        "team-listing-truncated",
        [{"kind": "truncated", "route": "team_repos", "times": 99}],
        INCOMPLETE,
        set(),
    ),
    (
        "team-listing-not-json",
        [{"kind": "not_json", "route": "team_repos", "times": 99}],
        INCOMPLETE,
        set(),
    ),
]


@pytest.mark.parametrize(
    ("faults", "status", "kept"),
    [case[1:] for case in GITHUB_FAULTS],
    ids=[case[0] for case in GITHUB_FAULTS],
)
def test_a_github_fault_removes_no_model(
    github, github_deployed, tmp_path, monkeypatch, faults, status, kept
):
    base, before = github_deployed
    folder = tmp_path / "platform"
    shutil.copytree(base, folder)
    monkeypatch.setenv("GITHUB_TOKEN", DEFAULT_TOKEN)
    github.clear_faults()
    for fault in faults:
        options = {"route": "graphql", **fault}
        github.inject(options.pop("kind"), **options)
    code, err = in_process(folder, "render")
    github.clear_faults()
    assert code == status, err
    assert "internal error" not in err
    tree = assert_intact(folder / "rendered", {*MODELS, "big"})
    states = {i: e.state for i, e in index.loads(tree["index.json"]).models.items()}
    assert {i for i, state in states.items() if state == index.STATE_KEPT} == kept
    if not kept:
        assert tree == before, "an incomplete scan changes nothing it did not see"
    code, err = in_process(folder, "render")
    assert code == ExitCode.OK, err
    assert read_tree(folder / "rendered") == before


def test_a_github_team_that_vanished_keeps_its_models(
    github, github_deployed, tmp_path, monkeypatch
):
    base, _ = github_deployed
    folder = tmp_path / "platform"
    shutil.copytree(base, folder)
    monkeypatch.setenv("GITHUB_TOKEN", DEFAULT_TOKEN)
    team = github.org.teams.pop("rnd")
    try:
        code, err = in_process(folder, "render")
    finally:
        github.org.teams["rnd"] = team
    assert code == ExitCode.FINDINGS, err
    assert "GitHub team acme/rnd (named in platform.yaml's github_teams) does not exist" in err
    tree = assert_intact(folder / "rendered", {*MODELS, "big"})
    assert {e.state for e in index.loads(tree["index.json"]).models.values()} == {index.STATE_KEPT}


def test_a_single_repository_read_that_github_fails_changes_nothing(
    github, github_deployed, tmp_path, monkeypatch
):
    base, before = github_deployed
    folder = tmp_path / "platform"
    shutil.copytree(base, folder)
    monkeypatch.setenv("GITHUB_TOKEN", DEFAULT_TOKEN)
    for fault in (
        {"kind": "html", "route": "repo_teams", "status": 200},
        {"kind": "status", "status": 502},
    ):
        github.clear_faults()
        options = {"route": "graphql", **fault}
        github.inject(options.pop("kind"), **options)
        code, err = in_process(folder, "render", "--repository", "acme/m0-model")
        assert code == INCOMPLETE, err
        assert read_tree(folder / "rendered") == before
    github.clear_faults()


# ---------------------------------------------------------------- git


@dataclass
class Published:
    folder: Path  # the platform repository's checkout
    remote: Path  # its bare origin
    deployed: set[str] = field(default_factory=set)


@pytest.fixture(scope="module")
def published_once(tmp_path_factory) -> Published:
    work = tmp_path_factory.mktemp("published")
    remote = bare_remote(work / "origin.git")
    folder = platform_repo(work / "platform", remote)
    result = modelship("publish", "--push", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    return Published(folder, remote, models_of(folder / "rendered"))


@pytest.fixture
def published(published_once, tmp_path) -> Published:
    """A copy of a published platform repository and its origin, for one case."""
    remote = tmp_path / "origin.git"
    folder = tmp_path / "platform"
    shutil.copytree(published_once.remote, remote)
    shutil.copytree(published_once.folder, folder, symlinks=True)
    git(folder, "remote", "set-url", "origin", str(remote))
    return Published(folder, remote, set(published_once.deployed))


def remote_tree(remote: Path) -> Path:
    """The rendered tree as the remote's main branch holds it, checked out beside it."""
    out = remote.parent / f"checkout-{len(list(remote.parent.glob('checkout-*')))}"
    git(remote.parent, "clone", "--quiet", str(remote), str(out))
    return out / "rendered"


def hook(repo: Path, name: str, script: str) -> None:
    path = repo / "hooks" / name if repo.name.endswith(".git") else repo / ".git" / "hooks" / name
    path.write_text(f"#!/bin/sh\n{script}")
    path.chmod(0o755)


def test_a_remote_that_refuses_the_push_removes_no_model(published):
    hook(published.remote, "pre-receive", "echo 'protected branch' >&2; exit 1\n")
    edit(published.folder, "size-advice-model", "slo: 80000", "slo: 90000")
    result = modelship("publish", "--push", cwd=published.folder)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert_intact(published.folder / "rendered", published.deployed)
    assert_intact(remote_tree(published.remote), published.deployed)
    (published.remote / "hooks" / "pre-receive").unlink()
    assert modelship("publish", "--push", cwd=published.folder).returncode == ExitCode.OK


def test_an_unreachable_remote_removes_no_model(published):
    git(published.folder, "remote", "set-url", "origin", str(published.folder.parent / "gone.git"))
    edit(published.folder, "size-advice-model", "slo: 80000", "slo: 90000")
    result = modelship("publish", "--push", cwd=published.folder)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert "Traceback" not in result.stderr
    assert_intact(published.folder / "rendered", published.deployed)


def test_a_remote_that_keeps_moving_is_retried_a_bounded_number_of_times(published, tmp_path):
    other = tmp_path / "other"
    git(tmp_path, "clone", "--quiet", str(published.remote), str(other))
    hook(
        published.folder,
        "reference-transaction",
        f'[ "$1" = committed ] && [ -z "$MODELSHIP_RACE" ] && (cd {other} && date +%N >> README.md && '
        "git add README.md && git -c user.name=o -c user.email=o@o commit -q -m race && "
        "MODELSHIP_RACE=1 git push -q origin main) >/dev/null 2>&1; exit 0\n",
    )
    set_platform(published.folder, publish={"push_attempts": 2})
    edit(published.folder, "size-advice-model", "slo: 80000", "slo: 90000")
    result = modelship("publish", "--push", cwd=published.folder)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert "rejected 2 times" in result.stderr
    assert_intact(published.folder / "rendered", published.deployed)
    assert_intact(remote_tree(published.remote), published.deployed)


def test_a_locked_git_index_removes_no_model(published):
    (published.folder / ".git" / "index.lock").write_text("")
    edit(published.folder, "size-advice-model", "slo: 80000", "slo: 90000")
    result = modelship("publish", cwd=published.folder)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert_intact(published.folder / "rendered", published.deployed)
    (published.folder / ".git" / "index.lock").unlink()
    assert modelship("publish", cwd=published.folder).returncode == ExitCode.OK


def test_missing_git_objects_remove_no_model(published):
    head = git(published.folder, "rev-parse", "HEAD:rendered")
    shutil.rmtree(published.folder / ".git" / "objects" / head[:2])
    before = read_tree(published.folder / "rendered")
    result = modelship("publish", cwd=published.folder)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    # publish stops at its first look at git: whether the platform is committed
    assert "git status failed: fatal: unable to read tree" in result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stderr
    assert read_tree(published.folder / "rendered") == before


def test_a_detached_head_is_refused_before_anything_is_written(published):
    git(published.folder, "checkout", "--quiet", "--detach")
    before = read_tree(published.folder / "rendered")
    result = modelship("publish", "--push", cwd=published.folder)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert read_tree(published.folder / "rendered") == before


def test_an_unreachable_separate_rendered_repository_removes_no_model(tmp_path):
    folder = platform_dir(tmp_path / "platform")
    set_platform(
        folder,
        rendered={"path": "rendered", "repository": {"url": str(tmp_path / "missing.git")}},
    )
    result = modelship("publish", "--push", cwd=folder)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert "cannot clone" in result.stderr


# ---------------------------------------------------------------- the disk


@pytest.fixture(scope="module")
def disk_deployed(tmp_path_factory) -> Path:
    folder = platform_dir(tmp_path_factory.mktemp("disk-deployed"))
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    return folder


@pytest.fixture
def deployed(disk_deployed, tmp_path) -> tuple[Path, set[str], dict[str, bytes]]:
    folder = tmp_path / "platform"
    shutil.copytree(disk_deployed, folder)
    return folder, models_of(folder / "rendered"), read_tree(folder / "rendered")


def render(folder: Path, *command_prefix: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """render in a process of its own: with fewer rights, or resource limits."""
    return subprocess.run(
        [*command_prefix, sys.executable, "-m", "generator", "render"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        **options,
    )


def recovers(folder: Path, deployed: set[str]) -> None:
    """With the fault gone, a run completes: no trace of the fault, no model lost."""
    code, err = in_process(folder, "render")
    assert code in (ExitCode.OK, ExitCode.FINDINGS), err
    assert_intact(folder / "rendered", deployed)
    assert leftovers(folder / "rendered") == []


def test_a_read_only_folder_removes_no_model(deployed):
    folder, models, before = deployed
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    os.chmod(folder, 0o555)
    try:
        result = render(folder, *unprivileged())
    finally:
        os.chmod(folder, 0o755)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert read_tree(folder / "rendered") == before
    recovers(folder, models)


def test_a_full_disk_removes_no_model(deployed, tmp_path):
    """The platform on a tmpfs of its own (a private mount namespace), filled but for a few
    kilobytes: the stage cannot be written."""
    folder, models, before = deployed
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    for path in (folder / "examples" / "repos").glob("*/MLproject"):
        path.write_text(path.read_text().replace("description: ", "description: Changed "))
    results = tmp_path / "results"
    results.mkdir()
    script = (
        'set -e; mount -t tmpfs -o size=4m tmpfs "$1"; cp -a "$2"/. "$1"/; '
        'dd if=/dev/zero of="$1"/filler bs=1k count=$(( $(df -k --output=avail "$1" | tail -1) - 8 )) '
        '2>/dev/null || true; cd "$1"; set +e; '
        f'{sys.executable} -m generator render > "$3"/stdout 2> "$3"/stderr; echo $? > "$3"/code; '
        'rm -f "$1"/filler; cp -a "$1"/rendered "$3"/rendered; '
        'ls -a "$1" > "$3"/listing'
    )
    mount_point = tmp_path / "mount"
    mount_point.mkdir()
    namespace = (
        [tool("unshare"), "--mount"]
        if os.geteuid() == 0
        else [tool("unshare"), "--map-root-user", "--mount"]
    )
    done = subprocess.run(
        [*namespace, "sh", "-c", script, "sh", str(mount_point), str(folder), str(results)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert int((results / "code").read_text()) == ExitCode.EXTERNAL, (
        results / "stderr"
    ).read_text()
    assert "No space left on device" in (results / "stderr").read_text()
    assert read_tree(results / "rendered") == before
    assert ".rendered.modelship-stage" not in (results / "listing").read_text().split()
    recovers(folder, models)


def test_a_file_size_limit_mid_write_removes_no_model(deployed):
    folder, models, before = deployed
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))

    result = render(folder, preexec_fn=small_files)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert "File too large" in result.stderr
    assert read_tree(folder / "rendered") == before
    recovers(folder, models)


def test_what_a_killed_write_leaves_beside_the_tree_is_cleaned_up(deployed):
    folder, models, before = deployed
    root = folder / "rendered"
    shutil.copytree(root, rendered_tree.stage_path(root))  # killed while staging
    recovers(folder, models)
    os.rename(root, rendered_tree.backup_path(root))  # killed between the fallback's two renames
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["--platform", str(folder / "platform.yaml"), "list"]) == ExitCode.OK
    assert "size-advice" in out.getvalue(), "the old tree is what is read"
    recovers(folder, models)
    assert read_tree(root) == before


def test_a_change_rendered_after_an_interrupted_swap_lands_in_the_recovered_tree(deployed):
    """The tree is read from the backup folder and moved back by the write: the change
    lands in the tree's place, touching only its model's files and the shared ones."""
    folder, models, before = deployed
    root = folder / "rendered"
    os.rename(root, rendered_tree.backup_path(root))  # killed between the fallback's two renames
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    recovers(folder, models)
    changed = {p for p, content in read_tree(root).items() if before.get(p) != content}
    assert changed
    assert all("size-advice" in p or p.endswith(".json") for p in changed), changed
    edit(folder, "size-advice-model", "slo: 90000", "slo: 80000")
    recovers(folder, models)
    assert read_tree(root) == before


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("link", "a symbolic link in the rendered tree"),
        ("fifo", "not a regular file"),
        ("no-index", "has files but no index.json"),
        ("truncated-index", "not a Modelship index"),
    ],
)
def test_a_damaged_tree_is_refused_and_nothing_is_written(deployed, damage, message):
    folder = deployed[0]
    root = folder / "rendered"
    victim = next(root.rglob("size-advice/service.yaml"))
    if damage == "link":
        victim.unlink()
        victim.symlink_to("/etc/passwd")
    elif damage == "fifo":
        victim.unlink()
        os.mkfifo(victim)
    elif damage == "no-index":
        (root / index.INDEX_PATH).unlink()
    else:
        data = (root / index.INDEX_PATH).read_bytes()
        (root / index.INDEX_PATH).write_bytes(data[: len(data) // 2])
    listing = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    code, err = in_process(folder, "render")
    assert code == ExitCode.USAGE, err
    assert message in err
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*")) == listing


def test_a_missing_source_folder_removes_no_model(deployed):
    folder, _, before = deployed
    shutil.move(folder / "examples" / "repos", folder / "examples" / "elsewhere")
    code, err = in_process(folder, "render")
    assert code == ExitCode.USAGE, err
    assert read_tree(folder / "rendered") == before


def test_unreadable_repositories_and_files_keep_their_models(deployed):
    folder, models, _ = deployed
    repos = folder / "examples" / "repos"
    (repos / "fraud-score-model").chmod(0)
    (repos / "size-advice-model" / "MLproject").chmod(0)
    try:
        result = render(folder, *unprivileged())
    finally:
        (repos / "fraud-score-model").chmod(0o755)
        (repos / "size-advice-model" / "MLproject").chmod(0o644)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    tree = assert_intact(folder / "rendered", models)
    states = {i: e.state for i, e in index.loads(tree["index.json"]).models.items()}
    assert states["fraud-score"] == states["size-advice"] == index.STATE_KEPT
    recovers(folder, models)


# ---------------------------------------------------------------- Consul
#
# sync-consul applies kv.json as committed at HEAD to a Consul that holds the keys of the
# models deployed before. The publish since then adds six models, updates one, keeps one on
# error, removes one and preserves one whose index.json entry is damaged: 87 operations, two
# transactions. After each fault no key of a model kv.json still lists is gone from Consul,
# each model's keys come whole from one version (as deployed, or as rendered now), and the
# next sync, the fault gone, leaves Consul exactly as kv.json says.

STAGING_KV = "rendered/staging/consul/kv.json"
ADDED = tuple(f"extra{number}" for number in range(6))
PRESERVED = "search-ranking"  # its index.json entry is damaged and its repository fails


@dataclass(frozen=True)
class ConsulPlatform:
    folder: Path  # a platform repository whose last publish changed the models' keys
    deployed: dict[str, bytes]  # the keys Consul holds: kv.json of the publish before
    rendered: dict[str, bytes]  # kv.json at HEAD
    models: set[str]  # the models of index.json at HEAD


def consul_keys(folder: Path, revision: str) -> dict[str, bytes]:
    return decoded(json.loads(git(folder, "show", f"{revision}:{STAGING_KV}")))


@pytest.fixture(scope="module")
def consul_published(tmp_path_factory) -> ConsulPlatform:
    folder = rendered_platform(tmp_path_factory.mktemp("consul") / "platform")
    index_file = folder / "rendered" / index.INDEX_PATH
    document = json.loads(index_file.read_text())
    entry = document["models"][PRESERVED]
    entry["specs"][entry["spec"]]["entry_points"] = [1]  # as an older Modelship wrote
    index_file.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    git(folder, "commit", "--quiet", "--all", "-m", "an entry an older Modelship wrote")
    repos = folder / "examples" / "repos"
    for model in ADDED:
        write_repo(repos, f"{model}-model", mlproject(name=f"{model}-model", id=model))
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    edit(folder, "fraud-score-model", "slo: 20000", "slo: fast")  # kept on error
    edit(folder, "search-ranking-model", "slo: 50000", "slo: fast")
    shutil.rmtree(repos / "price-elasticity-model")
    published = publish(folder)
    assert published.returncode == ExitCode.FINDINGS, published.stderr
    deployed, rendered = consul_keys(folder, "HEAD~1"), consul_keys(folder, "HEAD")
    assert deployed != rendered
    assert {key for key in deployed if f"/{PRESERVED}/" in key} <= set(rendered)
    return ConsulPlatform(folder, deployed, rendered, models_of(folder / "rendered"))


@pytest.fixture
def consul_case(consul_published, consul_servers, tmp_path, monkeypatch):
    """A copy of the published platform, and a loopback Consul holding the deployed keys."""
    for name in CONSUL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONSUL_HTTP_TOKEN", DEFAULT_CONSUL_TOKEN)
    folder = Path(shutil.copytree(consul_published.folder, tmp_path / "platform", symlinks=True))
    server = consul_servers(datacenter="staging")
    for key, value in consul_published.deployed.items():
        server.put(key, value)
    point_at(folder, address=server.address, datacenter="staging")
    git(folder, "commit", "--quiet", "--all", "-m", "staging's Consul")
    return folder, server, consul_published


def model_of(key: str) -> str:
    return key.removeprefix(CONSUL_PREFIX).split("/")[0]


def assert_no_key_lost(live: dict[str, bytes], platform: ConsulPlatform) -> None:
    """No key of a model kv.json at HEAD lists is gone from Consul, and each model's keys are
    whole: all as deployed before, or all as rendered now."""
    for model in sorted({model_of(key) for key in platform.rendered}):

        def mine(keys: dict[str, bytes], owner: str = model) -> dict[str, bytes]:
            return {key: value for key, value in keys.items() if model_of(key) == owner}

        before, now, after = mine(platform.deployed), mine(live), mine(platform.rendered)
        assert set(before) <= set(now), f"{model} lost {sorted(set(before) - set(now))}"
        assert now in (before, after), f"{model}'s keys are neither as deployed nor as rendered"


def consul_recovers(folder: Path, server: Any, platform: ConsulPlatform) -> None:
    """With the fault gone, a sync completes and Consul holds exactly what kv.json says."""
    code, err = in_process(folder, "sync-consul", "--env", "staging")
    assert code == ExitCode.OK, err
    assert server.values(CONSUL_PREFIX) == platform.rendered
    assert_intact(folder / "rendered", platform.models, frozenset({PRESERVED}))


def test_the_published_platform_changes_keys_of_every_kind(consul_case):
    folder, server, platform = consul_case
    assert server.values(CONSUL_PREFIX) == platform.deployed
    assert {model_of(key) for key in platform.rendered} >= {*ADDED, PRESERVED}
    assert "price-elasticity" not in {model_of(key) for key in platform.rendered}
    consul_recovers(folder, server, platform)
    assert [t.operations for t in server.transactions()] == [60, 27]


def test_a_refused_consul_token_writes_nothing(consul_case):
    folder, server, platform = consul_case
    server.refuse(DEFAULT_CONSUL_TOKEN)
    code, err = in_process(folder, "sync-consul", "--env", "staging")
    assert code == ExitCode.EXTERNAL, err
    assert "refused the token from CONSUL_HTTP_TOKEN (403: ACL not found)" in err
    assert server.writes() == []
    assert server.values(CONSUL_PREFIX) == platform.deployed
    server.tokens[DEFAULT_CONSUL_TOKEN] = MANAGEMENT
    consul_recovers(folder, server, platform)


def test_a_consul_failing_between_transactions_loses_no_key(consul_case):
    folder, server, platform = consul_case
    server.fail_txn(2)
    code, err = in_process(folder, "sync-consul", "--env", "staging")
    assert code == ExitCode.EXTERNAL, err
    assert "before transaction 2 of 2 failed; run sync-consul again to finish" in err
    live = server.values(CONSUL_PREFIX)
    assert live not in (platform.deployed, platform.rendered), "one transaction was applied"
    assert_no_key_lost(live, platform)
    consul_recovers(folder, server, platform)


def test_a_concurrent_consul_writer_is_never_overwritten_unseen_and_loses_no_key(consul_case):
    folder, server, platform = consul_case
    written = []

    def other_writer(consul: Any, number: int) -> None:
        """Between this sync's read and its first write, another client changes a key this
        sync updates and deletes a key of a model it keeps."""
        if number == 1:
            changed = f"{CONSUL_PREFIX}size-advice/slo"
            gone = f"{CONSUL_PREFIX}{PRESERVED}/slo"
            consul.put(changed, "1")
            consul.delete(gone)
            written.extend([changed, gone])

    server.before_txn(other_writer)
    code, err = in_process(folder, "sync-consul", "--env", "staging")
    assert code == ExitCode.OK, err
    assert written, "the other writer wrote"
    assert f'another writer changed "{written[0]}" after it was read' in err
    assert 409 in [t.status for t in server.transactions()], "rolled back, not overwritten"
    assert server.values(CONSUL_PREFIX) == platform.rendered, "re-read, re-planned, converged"
    consul_recovers(folder, server, platform)


@pytest.mark.parametrize("fault", ["unreachable", "silent"])
def test_an_unreachable_or_silent_consul_changes_nothing(consul_case, fault):
    folder, server, platform = consul_case
    if fault == "unreachable":
        point_at(folder, address=f"127.0.0.1:{free_port()}")
        git(folder, "commit", "--quiet", "--all", "-m", "a Consul nothing listens on")
    else:
        set_timeout(folder, 0.5)
        server.hang(2)
    code, err = in_process(folder, "sync-consul", "--env", "staging")
    assert code == ExitCode.EXTERNAL, err
    assert "cannot connect to Consul" in err if fault == "unreachable" else "did not answer" in err
    assert server.writes() == []
    assert server.values(CONSUL_PREFIX) == platform.deployed
    point_at(folder, address=server.address)
    set_timeout(folder, 5)
    consul_recovers(folder, server, platform)
