"""The local source never follows a link out of a repository folder, turns every read failure
into a failure of that repository (its model is kept), says what is really wrong with a damaged
git repository, and records in index.json only messages that are the same on every machine."""

import hashlib
import json
import os
import shutil

import git

from generator.config import settings
from generator.errors import ExitCode
from generator.sources.local import LocalSource
from testsupport.helpers import ROOT, mlproject, modelship, platform_dir, read_tree, write_repo

GITHUB = settings.GitHubSettings(organization="acme")


def scan(folder):
    return LocalSource(folder, GITHUB).scan()


def test_a_link_in_a_plain_folder_is_hashed_as_a_link_never_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("one\n")
    repos = tmp_path / "repos"
    repo = write_repo(repos, "churn-model", mlproject())
    (repo / "data").symlink_to(outside)
    (repo / "mem").symlink_to("/proc/self/mem")  # reading it fails with EIO
    first = scan(repos)
    assert first.failures == ()
    outside.write_text("two\n")
    assert scan(repos).snapshots[0].head_sha == first.snapshots[0].head_sha
    (repo / "data").unlink()
    (repo / "data").symlink_to(tmp_path / "elsewhere.txt")
    assert scan(repos).snapshots[0].head_sha != first.snapshots[0].head_sha


def test_the_content_hash_of_a_folder_without_links_is_unchanged(tmp_path):
    # The hash of a plain folder is its "commit" in index.json: a new version of Modelship
    # must give the same one. The example's recorded commits, and the formula they come from.
    recorded = json.loads((ROOT / "rendered" / "index.json").read_text())
    commits = {m["source"]["repo"]: m["source"]["commit"] for m in recorded["models"].values()}
    folder = platform_dir(tmp_path) / "examples" / "repos"
    assert {s.full_name: s.head_sha for s in scan(folder).snapshots} == commits
    repo = write_repo(tmp_path / "more", "churn-model", mlproject())
    for name in ("a-b/x", "a/b", "a.c", ".hidden"):
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text(name)
    digest = hashlib.sha1(usedforsecurity=False)
    for path in sorted(p for p in repo.rglob("*") if p.is_file()):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(repo).as_posix()}\0{len(data)}\0".encode() + data)
    assert scan(tmp_path / "more").snapshots[0].head_sha == digest.hexdigest()


def deep_file(folder, depth=20):
    """A file whose path is longer than Linux allows (PATH_MAX), made with relative calls:
    opening it by its path fails with ENAMETOOLONG — for root too, unlike a chmod."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d" * 250, dir_fd=handle)
            inner = os.open("d" * 250, os.O_RDONLY, dir_fd=handle)
            os.close(handle)
            handle = inner
        os.close(os.open("weights.bin", os.O_CREAT | os.O_WRONLY, 0o644, dir_fd=handle))
    finally:
        os.close(handle)


def test_a_file_that_cannot_be_read_is_a_failure_of_its_repository(tmp_path):
    repo = write_repo(tmp_path, "churn-model", mlproject())
    deep_file(repo)
    [failure] = scan(tmp_path).failures
    assert failure.full_name == "acme/churn-model"
    assert failure.message.startswith("cannot read dddd")
    assert failure.message.endswith(": File name too long")
    assert str(tmp_path) not in failure.message


def test_a_special_file_is_skipped_never_opened(tmp_path):
    repo = write_repo(tmp_path, "churn-model", mlproject())
    os.mkfifo(repo / "pipe")  # opening it would block for ever
    assert len(scan(tmp_path).snapshots) == 1


def test_render_keeps_a_model_whose_folder_cannot_be_read(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    deep_file(folder / "examples" / "repos" / "fraud-score-model")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "kept-on-error: fraud-score" in result.stderr
    entry = json.loads((folder / "rendered" / "index.json").read_text())["models"]["fraud-score"]
    assert entry["state"] == "kept-on-error"


def test_a_symlinked_mlproject_is_a_failure(tmp_path):
    repo = write_repo(tmp_path, "churn-model", None)
    (tmp_path / "elsewhere").write_text(mlproject())
    (repo / "MLproject").symlink_to(tmp_path / "elsewhere")
    [failure] = scan(tmp_path).failures
    assert failure.message == "MLproject is a symbolic link; Modelship reads only regular files"


def test_a_git_repository_with_missing_objects_says_so(tmp_path):
    folder = write_repo(tmp_path, "churn-model", mlproject())
    repo = git.Repo.init(folder)
    repo.index.add(["MLproject"])
    commit = repo.index.commit("first")
    repo.close()
    shutil.rmtree(folder / ".git" / "objects" / commit.hexsha[:2])
    [failure] = scan(tmp_path).failures
    assert failure.message == (
        f"HEAD ({commit.hexsha}) cannot be read: the repository's objects are missing or damaged"
    )
    assert "no commits" not in failure.message


def test_two_folders_for_one_repository_are_reported(tmp_path):
    write_repo(tmp_path, "churn-model", mlproject())
    work = write_repo(tmp_path / "work", "churn-model", mlproject(slo=5000))
    repo = git.Repo.init(work)
    repo.index.add(["MLproject"])
    repo.index.commit("first")
    git.Repo.clone_from(work, tmp_path / "repos" / "churn-model.git", bare=True)
    shutil.move(tmp_path / "repos" / "churn-model.git", tmp_path / "churn-model.git")
    shutil.rmtree(tmp_path / "work")
    (tmp_path / "repos").rmdir()
    write_repo(tmp_path, "Pricing-model", mlproject(name="Pricing-model", id="pricing"))
    write_repo(tmp_path, "pricing-model", mlproject(name="pricing-model", id="pricing"))
    result = scan(tmp_path)
    assert result.snapshots == ()
    assert {f.full_name: f.message for f in result.failures} == {
        "acme/churn-model": (
            "the folders churn-model and churn-model.git are both the repository "
            "acme/churn-model; keep one"
        ),
        "acme/Pricing-model": (
            "the folders Pricing-model and pricing-model are both the repository "
            "acme/pricing-model (GitHub ignores letter case); keep one"
        ),
        "acme/pricing-model": (
            "the folders Pricing-model and pricing-model are both the repository "
            "acme/pricing-model (GitHub ignores letter case); keep one"
        ),
    }


def test_index_json_records_no_path_of_this_machine(tmp_path):
    trees = []
    for place in ("first", "second"):
        folder = platform_dir(tmp_path / place)
        assert modelship("render", cwd=folder).returncode == ExitCode.OK
        repo = folder / "examples" / "repos" / "fraud-score-model"
        (repo / ".git").write_text("gitdir: ../nowhere\n")  # a checkout whose git folder is gone
        result = modelship("render", cwd=folder)
        assert result.returncode == ExitCode.FINDINGS, result.stderr
        assert str(repo) in result.stderr, "the console keeps the detail"
        trees.append(read_tree(folder / "rendered"))
    assert trees[0] == trees[1]
    entry = json.loads(trees[0]["index.json"])["models"]["fraud-score"]
    assert entry["errors"] == [
        "cannot read the repository: not a git repository (its .git does not lead to one)"
    ]
