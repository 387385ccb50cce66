import git
import pytest

from generator.config import settings
from generator.errors import ConfigError
from generator.sources.local import LocalSource
from testsupport.helpers import mlproject, write_repo

GITHUB = settings.GitHubSettings(organization="acme")


def scan(folder):
    return LocalSource(folder, GITHUB).scan()


def test_plain_folders_are_read_with_a_content_hash(tmp_path):
    write_repo(tmp_path, "churn-model", mlproject(), **{"train.py": "print(1)\n"})
    [snapshot] = scan(tmp_path).snapshots
    assert snapshot.full_name == "acme/churn-model"
    assert snapshot.clone_url == "https://github.com/acme/churn-model.git"
    assert snapshot.mlproject == mlproject()
    assert len(snapshot.head_sha) == 40
    first = snapshot.head_sha
    assert scan(tmp_path).snapshots[0].head_sha == first
    (tmp_path / "churn-model" / "train.py").write_text("print(2)\n")
    assert scan(tmp_path).snapshots[0].head_sha != first


def test_mlproject_name_is_case_insensitive_like_mlflow(tmp_path):
    repo = write_repo(tmp_path, "churn-model", None)
    (repo / "MLProject").write_text(mlproject())
    [snapshot] = scan(tmp_path).snapshots
    assert snapshot.mlproject_path == "MLProject"
    assert snapshot.mlproject == mlproject()


def test_folder_without_mlproject_is_a_snapshot_without_text(tmp_path):
    write_repo(tmp_path, "empty-model", None, **{"README.md": "x"})
    [snapshot] = scan(tmp_path).snapshots
    assert snapshot.mlproject is None


def test_git_checkout_is_read_at_head_not_the_work_tree(tmp_path):
    folder = write_repo(tmp_path, "churn-model", mlproject(slo=5000))
    repo = git.Repo.init(folder, initial_branch="trunk")
    repo.index.add(["MLproject"])
    commit = repo.index.commit("first")
    (folder / "MLproject").write_text(mlproject(slo=9000))  # uncommitted
    [snapshot] = scan(tmp_path).snapshots
    assert snapshot.head_sha == commit.hexsha
    assert snapshot.default_branch == "trunk"
    assert "slo: 5000" in snapshot.mlproject


def test_bare_repository_is_read_at_head(tmp_path):
    work = write_repo(tmp_path / "work", "churn-model", mlproject())
    repo = git.Repo.init(work)
    repo.index.add(["MLproject"])
    commit = repo.index.commit("first")
    git.Repo.clone_from(work, tmp_path / "repos" / "churn-model.git", bare=True)
    [snapshot] = scan(tmp_path / "repos").snapshots
    assert snapshot.full_name == "acme/churn-model"
    assert snapshot.head_sha == commit.hexsha


def test_repository_without_commits_is_a_failure_not_a_crash(tmp_path):
    git.Repo.init(tmp_path / "new-model")
    result = scan(tmp_path)
    assert result.snapshots == ()
    [failure] = result.failures
    assert failure.full_name == "acme/new-model"
    assert "no commits" in failure.message


def test_undecodable_mlproject_is_a_failure(tmp_path):
    repo = write_repo(tmp_path, "latin-model", None)
    (repo / "MLproject").write_bytes(b"name: caf\xe9\n")
    [failure] = scan(tmp_path).failures
    assert "not UTF-8" in failure.message


def test_hidden_folders_and_files_are_ignored_and_order_is_sorted(tmp_path):
    for name in ("b-model", "a-model", ".cache"):
        write_repo(tmp_path, name, mlproject())
    (tmp_path / "notes.txt").write_text("x")
    assert [s.name for s in scan(tmp_path).snapshots] == ["a-model", "b-model"]


def test_missing_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such folder"):
        scan(tmp_path / "nope")


def test_progress_is_reported(tmp_path):
    for name in ("a-model", "b-model"):
        write_repo(tmp_path, name, mlproject())
    seen = []
    LocalSource(tmp_path, GITHUB).scan(lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]


def test_findings_name_a_plain_folders_mlproject_relative_to_the_working_folder(
    tmp_path, monkeypatch
):
    source = tmp_path / "repos"
    write_repo(source, "churn-model", mlproject())
    (source / "empty-model").mkdir()
    (source / "blank-model").mkdir()
    (source / "blank-model" / "MLproject").write_text("")
    monkeypatch.chdir(tmp_path)
    for folder in (source, source.relative_to(tmp_path)):
        found = {s.full_name: s for s in scan(folder).snapshots}
        assert found["acme/churn-model"].mlproject_location == "repos/churn-model/MLproject"
        assert found["acme/blank-model"].mlproject_location == "repos/blank-model/MLproject"
        assert found["acme/empty-model"].mlproject_location == "acme/empty-model/MLproject"
    monkeypatch.chdir(source / "churn-model")
    located = {s.full_name: s.mlproject_location for s in scan(source).snapshots}
    assert located["acme/churn-model"] == "MLproject"
    assert located["acme/blank-model"] == "../blank-model/MLproject"
