"""Real git for the publish and diff tests: bare remotes on disk, clones, commits."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import git as gitpython
import yaml

from testsupport.helpers import modelship, platform_dir

DEVELOPER = ("-c", "user.name=Data Scientist", "-c", "user.email=ds@acme.example")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any GIT_* variable (a hook or CI may have set some)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(extra)
    return env


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *DEVELOPER, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def bare_remote(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    git(path.parent, "init", "--quiet", "--bare", "--initial-branch=main", str(path))
    return path


def platform_repo(folder: Path, remote: Path, repos: dict[str, str] | None = None) -> Path:
    """A platform repository (the example platform) pushed to ``remote``."""
    platform_dir(folder, repos)
    git(folder, "init", "--quiet", "--initial-branch=main")
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "-m", "platform")
    git(folder, "remote", "add", "origin", str(remote))
    git(folder, "push", "--quiet", "origin", "main")
    return folder


def published_platform(tmp_path: Path) -> tuple[Path, Path]:
    """The example platform repository and its bare origin, after a first ``publish --push``."""
    remote = bare_remote(tmp_path / "origin.git")
    folder = platform_repo(tmp_path / "platform", remote)
    result = publish(folder, "--push")
    assert result.returncode == 0, result.stderr
    return folder, remote


def clone(remote: Path, folder: Path) -> Path:
    git(remote.parent, "clone", "--quiet", str(remote), str(folder))
    return folder


def edit(folder: Path, repo: str, old: str, new: str) -> None:
    path = folder / "examples" / "repos" / repo / "MLproject"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def set_platform(folder: Path, **sections: object) -> None:
    """Replace top-level sections of platform.yaml, and commit the change when the folder is
    a git repository, as a platform team does (publish refuses an uncommitted platform)."""
    path = folder / "platform.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(sections)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    if (folder / ".git").exists():
        git(folder, "add", "platform.yaml")
        git(folder, "commit", "--quiet", "--allow-empty", "-m", "platform.yaml")


def publish(folder: Path, *args: str, **env: str):
    return modelship("publish", *args, cwd=folder, env=clean_env(**env))


def tree_at(repo: Path, ref: str, prefix: str = "rendered") -> dict[str, bytes]:
    """The files under ``prefix`` at ``ref``, by path relative to ``prefix``."""
    with gitpython.Repo(repo) as opened:
        try:
            folder = opened.commit(ref).tree / prefix
        except KeyError:
            return {}
        return {
            item.path[len(prefix) + 1 :]: item.data_stream.read()
            for item in folder.traverse()
            if item.type == "blob"
        }
