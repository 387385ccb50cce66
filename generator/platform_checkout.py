"""The platform's own folder as git sees it: the changes to platform.yaml and its templates
that are not committed.

``publish`` credits every change it commits to the model repositories it names; a change to
platform.yaml or a template that is not committed would be published under their names, and
come from nowhere anyone can review.
"""

from __future__ import annotations

import os
from pathlib import Path

import git

from generator import resources
from generator.config.settings import Platform
from generator.errors import ExternalError


def uncommitted(platform: Platform) -> list[str]:
    """platform.yaml and the files of the templates it renders with that differ from HEAD
    (staged or not, or untracked), relative to the platform's folder; [] outside a git
    repository. The templates are the platform's folder of them and the built-in ones where
    the platform's repository tracks these (Modelship run from the platform's own checkout,
    as when this repository is copied to start one) — not an installed copy that happens to
    lie in it, such as a virtualenv a CI job makes in its workspace."""
    try:
        repo = git.Repo(platform.root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return []
    top = Path(str(repo.working_tree_dir)).resolve()
    own = [p.resolve() for p in (platform.config_file, platform.templates_path) if p]
    inside = [path.relative_to(top).as_posix() for path in own if path.is_relative_to(top)]
    builtin = resources.builtin_dir("templates").resolve()
    try:
        if builtin.is_relative_to(top):
            shown = builtin.relative_to(top).as_posix()
            if repo.git.execute(["git", "ls-files", "-z", "--", shown]):
                inside.append(shown)
        if not inside:
            return []
        listed = repo.git.execute(
            [
                "git",
                "status",
                "--porcelain=v1",
                "-z",
                "--untracked-files=all",
                "--no-renames",
                "--",
                *inside,
            ]
        )
    except git.GitCommandError as error:
        detail = str(error.stderr or error).strip().removeprefix("stderr:").strip().strip("'")
        raise ExternalError(
            f"cannot tell whether platform.yaml or its templates are committed in {top}: "
            f"git {' '.join(error.command[1:2])} failed: {' '.join(detail.split())}"
        ) from None
    # each entry is "XY path"; -z leaves paths unquoted
    paths = [entry[3:] for entry in str(listed).split("\0") if len(entry) > 3]
    return sorted(os.path.relpath(top / path, platform.root) for path in paths)
