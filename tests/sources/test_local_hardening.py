"""The local source reads only what it can stand behind: a link to a folder elsewhere, a folder
it may not read, a folder name GitHub would not allow, or an MLproject that is not exactly one
regular file of a sensible size is a failure of that repository — its model stays, the others
render, and the next run is not wedged."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys

import git
import pytest

from generator import mlproject
from generator.config import settings
from generator.errors import ExitCode
from generator.sources import local
from generator.sources.local import LocalSource
from testsupport.helpers import mlproject as mlproject_text
from testsupport.helpers import platform_dir, read_tree, unprivileged, write_repo
from testsupport.inprocess import modelship

GITHUB = settings.GitHubSettings(organization="acme")


def scan(folder):
    return LocalSource(folder, GITHUB).scan()


def failures(folder):
    return {f.full_name: f.message for f in scan(folder).failures}


def committed(folder, **files):
    """A git checkout of ``folder`` with ``files`` (name → text, or a callable that adds an
    entry to the index) committed."""
    repo = git.Repo.init(folder)
    for name, content in files.items():
        (folder / name).write_text(content)
    repo.index.add(list(files))
    repo.index.commit("first")
    return repo


def test_a_link_to_a_repository_folder_elsewhere_is_a_failure_never_followed(tmp_path):
    outside = write_repo(tmp_path / "elsewhere", "churn-model", mlproject_text(slo=5000))
    repos = tmp_path / "repos"
    repos.mkdir()
    (repos / "churn-model").symlink_to(outside, target_is_directory=True)
    (tmp_path / "notes.txt").write_text("notes\n")
    (repos / "notes.txt").symlink_to(tmp_path / "notes.txt")  # a link to a file: a file
    result = scan(repos)
    assert result.snapshots == ()
    [failure] = result.failures
    assert failure.full_name == "acme/churn-model"
    assert "symbolic link to a folder" in failure.message
    assert "never follows" in failure.message


def test_a_repository_folder_replaced_by_a_link_to_nowhere_keeps_its_model(tmp_path):
    folder = platform_dir(tmp_path)  # six models: one removed is no mass delete
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    kept = read_tree(folder / "rendered" / "staging" / "kubernetes")
    repo = folder / "examples" / "repos" / "search-ranking-model"
    shutil.rmtree(repo)
    repo.symlink_to("/nonexistent/search-ranking-model")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "is a symbolic link to nothing" in result.stderr
    assert read_tree(folder / "rendered" / "staging" / "kubernetes") == kept


@pytest.mark.parametrize("name", ["my model", "churn@model", "caf\u00e9-model", "a" * 141])
def test_a_folder_name_index_json_cannot_hold_is_a_failure_not_a_wedge(tmp_path, name):
    folder = platform_dir(tmp_path, {"churn-model": mlproject_text()})
    write_repo(folder / "examples" / "repos", name, mlproject_text(name=name[:100], id="other"))
    first = modelship("render", cwd=folder)
    assert first.returncode == ExitCode.FINDINGS, first.stderr
    assert "cannot be a model's repository" in first.stderr
    assert "Traceback" not in first.stderr
    models = json.loads((folder / "rendered" / "index.json").read_text())["models"]
    assert sorted(models) == ["churn"]
    again = modelship("render", cwd=folder)
    assert again.returncode == ExitCode.FINDINGS, "the next run is not wedged (exit 2)"


def test_a_repository_folder_that_cannot_be_read_is_kept_and_the_others_render(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    locked = folder / "examples" / "repos" / "fraud-score-model"
    path = folder / "examples" / "repos" / "size-advice-model" / "MLproject"
    path.write_text(path.read_text().replace("slo: 80000", "slo: 90000"))
    locked.chmod(0)
    try:
        result = subprocess.run(
            unprivileged(sys.executable, "-m", "generator", "render"),
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        locked.chmod(0o755)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "acme/fraud-score-model" in result.stderr
    assert "Permission denied" in result.stderr
    assert "internal error" not in result.stderr
    models = json.loads((folder / "rendered" / "index.json").read_text())["models"]
    assert models["fraud-score"]["state"] == "kept-on-error"
    assert models["size-advice"]["environments"]["staging"]["slo"] == 90000


@pytest.mark.parametrize("layout", ["plain", "git"])
def test_two_mlproject_files_differing_in_case_are_a_failure_in_every_reader(tmp_path, layout):
    repos = tmp_path / "repos"
    repo = write_repo(repos, "churn-model", mlproject_text())
    (repo / "mlproject").write_text(mlproject_text(slo=5000))
    if layout == "git":
        committed(repo, MLproject=mlproject_text(), mlproject=mlproject_text(slo=5000))
    assert failures(repos) == {
        "acme/churn-model": (
            "the repository has 2 MLproject files (MLproject, mlproject); MLflow refuses a "
            "project with more than one: keep one"
        )
    }
    result = modelship("validate", str(repo), cwd=tmp_path)
    assert result.returncode == ExitCode.FINDINGS
    assert "2 MLproject files" in result.stdout


def test_a_folder_or_a_pipe_named_mlproject_keeps_the_deployed_model(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    before = read_tree(folder / "rendered")
    repos = folder / "examples" / "repos"
    (repos / "fraud-score-model" / "MLproject").unlink()
    (repos / "fraud-score-model" / "MLproject").mkdir()
    (repos / "size-advice-model" / "MLproject").unlink()
    os.mkfifo(repos / "size-advice-model" / "MLproject")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "MLproject is a folder, not a file" in result.stderr
    assert "MLproject is a special file" in result.stderr
    models = json.loads((folder / "rendered" / "index.json").read_text())["models"]
    assert {models[i]["state"] for i in ("fraud-score", "size-advice")} == {"kept-on-error"}
    assert set(models) == set(json.loads(before["index.json"])["models"])


def test_git_entries_named_mlproject_that_are_no_file_are_failures(tmp_path):
    repos = tmp_path / "repos"
    folder_repo = write_repo(repos, "folder-model", None)
    (folder_repo / "MLproject").mkdir()
    (folder_repo / "MLproject" / "inner").write_text("x")
    committed(folder_repo)
    repo = git.Repo(folder_repo)
    repo.index.add(["MLproject/inner"])
    repo.index.commit("a folder")
    link_repo = write_repo(repos, "link-model", None)
    (link_repo / "MLproject").symlink_to("/etc/passwd")
    repo = git.Repo.init(link_repo)
    repo.index.add(["MLproject"])
    repo.index.commit("a link")
    assert failures(repos) == {
        "acme/folder-model": (
            "MLproject is a folder, not a file; a repository's MLproject must be a regular file"
        ),
        "acme/link-model": "MLproject is a symbolic link; Modelship reads only regular files",
    }


@pytest.mark.parametrize("layout", ["plain", "git"])
def test_an_mlproject_past_the_size_limit_is_refused_before_it_is_read(tmp_path, layout):
    repos = tmp_path / "repos"
    text = mlproject_text() + "#" * mlproject.MAX_BYTES + "\n"
    repo = write_repo(repos, "churn-model", text)
    if layout == "git":
        committed(repo, MLproject=text)
    size = len(text.encode())
    assert failures(repos) == {"acme/churn-model": mlproject.too_large("MLproject", size)}
    assert f"{size:,} bytes, more than the {mlproject.MAX_BYTES:,} bytes" in (
        mlproject.too_large("MLproject", size)
    )


def validate_quickly(*paths, cwd):
    """`modelship validate` that must answer at once: a hang is a failure, not a wait."""
    return subprocess.run(
        [sys.executable, "-m", "generator", "validate", *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_validate_refuses_a_pipe_and_a_device_without_reading_them(tmp_path):
    repo = write_repo(tmp_path, "churn-model", None)
    os.mkfifo(repo / "MLproject")
    for path in (repo, repo / "MLproject", "/dev/zero"):
        result = validate_quickly(path, cwd=tmp_path)
        assert result.returncode == ExitCode.FINDINGS, result
        assert "is not a regular file" in result.stdout


def test_validate_refuses_a_file_past_the_size_limit(tmp_path):
    path = tmp_path / "MLproject"
    path.write_text(mlproject_text() + "#" * (mlproject.MAX_BYTES + 10) + "\n")
    result = validate_quickly(path, cwd=tmp_path)
    assert result.returncode == ExitCode.FINDINGS
    assert f"more than the {mlproject.MAX_BYTES:,} bytes an MLproject may have" in result.stdout


@pytest.mark.parametrize("replacement", ["link", "pipe"])
def test_a_file_replaced_after_the_listing_is_not_read_through(tmp_path, replacement):
    """A plain folder's file that became a link or a pipe between the listing and the read
    (a race no scan can rule out) fails that repository: never read through, never a wait."""
    path = tmp_path / "model.pkl"
    if replacement == "link":
        (tmp_path / "elsewhere").write_text("secret\n")
        path.symlink_to(tmp_path / "elsewhere")
    else:
        os.mkfifo(path)
    digest = hashlib.sha1(usedforsecurity=False)

    def waited(*_):
        raise AssertionError("the read waited on the pipe")  # not an OSError: not caught

    before = signal.signal(signal.SIGALRM, waited)
    signal.alarm(10)
    try:
        with pytest.raises(local._ReadError, match=r"cannot read model\.pkl"):
            local._hash_file(str(path), "model.pkl", digest, keep=False)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)


@pytest.mark.parametrize("gitmodules", [True, False], ids=["listed", "unlisted"])
def test_an_mlproject_that_is_a_submodule_at_head_is_a_failure_saying_so(tmp_path, gitmodules):
    repos = tmp_path / "repos"
    folder = repos / "churn-model"
    repo = git.Repo.init(folder)
    sha = "0123456789abcdef0123456789abcdef01234567"
    repo.git.update_index("--add", "--cacheinfo", f"160000,{sha},MLproject")
    if gitmodules:
        (folder / ".gitmodules").write_text(
            '[submodule "MLproject"]\n\tpath = MLproject\n\turl = ../elsewhere\n'
        )
        repo.index.add([".gitmodules"])
    repo.index.commit("a submodule")
    assert failures(repos) == {
        "acme/churn-model": "MLproject is a submodule, not a file; a repository's MLproject "
        "must be a regular file"
    }
