"""The git repository that holds the rendered tree: find or clone it, read the tree
at HEAD, commit it, push it (gitpython driving git).

The tree is either a folder of the platform repository (``rendered.path``) or a
folder of a separate repository (``rendered.repository``), which is cloned into
a work folder that belongs to Modelship. Commits only ever contain the tree:
they are built in a temporary index from HEAD plus the tree's files, so other
changes in a checkout, staged or not, are never swept into them.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import git

from generator.config.settings import Platform
from generator.errors import ExternalError, UsageError

NETWORK_TIMEOUT = 300  # seconds for one fetch or push
MAX_REBASE_STEPS = 200  # commits a rebase may stop at before we give up
# What a remote says when another push updated the branch between its ref advertisement
# and our update: a lost race, handled like a non-fast-forward.
_LOST_RACE = ("failed to update ref", "cannot lock ref", "incorrect old value")


@dataclass(frozen=True)
class RenderedRepo:
    repo: git.Repo
    tree: Path  # the rendered tree, absolute
    prefix: str  # the tree's path inside the repository, POSIX
    remote: str
    branch: str | None  # the branch published to; None when HEAD is detached

    @property
    def upstream(self) -> str:
        return f"{self.remote}/{self.branch}"


@dataclass(frozen=True)
class PushResult:
    pushed: bool
    rejected: bool  # the remote moved on (non-fast-forward): fetch, rebase, try again
    message: str = ""


def git_identity(platform: Platform, environ: Mapping[str, str]) -> dict[str, str]:
    """Author and committer for git: the environment first, then platform.yaml."""
    author = platform.publish.author
    committer = platform.publish.committer or author
    return {
        "GIT_AUTHOR_NAME": environ.get("GIT_AUTHOR_NAME") or author.name,
        "GIT_AUTHOR_EMAIL": environ.get("GIT_AUTHOR_EMAIL") or author.email,
        "GIT_COMMITTER_NAME": environ.get("GIT_COMMITTER_NAME") or committer.name,
        "GIT_COMMITTER_EMAIL": environ.get("GIT_COMMITTER_EMAIL") or committer.email,
    }


def person(handle: RenderedRepo, environ: Mapping[str, str]) -> str | None:
    """Who runs this, as ``Name <email>``: $GIT_AUTHOR_NAME/EMAIL, the GitHub Actions actor,
    or the repository's git configuration (user.name, user.email); None when none says."""
    name, email = environ.get("GIT_AUTHOR_NAME"), environ.get("GIT_AUTHOR_EMAIL")
    if not name and environ.get("GITHUB_ACTOR"):
        return f"{environ['GITHUB_ACTOR']} (GitHub Actions)"
    if not name:
        with handle.repo.config_reader() as config:
            name = str(config.get_value("user", "name", "")) or None
            email = email or str(config.get_value("user", "email", "")) or None
    if not name:
        return None
    return f"{name} <{email}>" if email else name


def open_rendered(platform: Platform, sync: bool = True) -> RenderedRepo:
    """The rendered tree's repository. A separate one is cloned, or fetched and moved
    to its remote branch (unless local commits are ahead of it), when ``sync``."""
    if platform.rendered_repository is None:
        return _in_repo(platform)
    return _separate(platform, sync)


def open_platform(platform: Platform) -> RenderedRepo:
    """The platform repository (where platform.yaml and the promotions files are), described
    like a rendered repository whose tree is the promotions folder."""
    if platform.rendered_repository is None:
        rendered = _in_repo(platform)
        tree = platform.promotions.path
        return RenderedRepo(
            rendered.repo, tree, _prefix(rendered.repo, tree), rendered.remote, rendered.branch
        )
    try:
        repo = git.Repo(platform.root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(
            f"{platform.root} is not inside a git repository; the promotions files are "
            "committed to the platform repository"
        ) from None
    return _described(repo, platform.promotions.path, platform.publish.remote)


def prepare(platform: Platform) -> None:
    """Make sure a separate rendered repository is cloned and current; nothing in-repo."""
    if platform.rendered_repository is not None:
        _separate(platform, sync=True)


def head_tree(rendered: RenderedRepo, revision: str | None = None) -> dict[str, bytes]:
    """The rendered tree as committed at HEAD (not the working tree), or at ``revision``
    of its repository; {} before the first commit or when the tree is not committed yet."""
    if revision is None:
        commit = _head_commit(rendered.repo)
    else:
        try:
            commit = rendered.repo.commit(revision)
        except (git.BadName, git.BadObject, ValueError):
            raise UsageError(
                f"{revision!r} is no commit of {rendered.repo.working_tree_dir}"
            ) from None
    if commit is None:
        return {}
    try:
        folder = commit.tree / rendered.prefix
    except KeyError:
        return {}
    start = len(rendered.prefix) + 1
    try:
        return {
            item.path[start:]: item.data_stream.read()
            for item in folder.traverse()
            if isinstance(item, git.Blob)
        }
    except (git.GitCommandError, ValueError) as error:
        raise ExternalError(f"cannot read {rendered.prefix} at HEAD: {error}") from None


@dataclass(frozen=True)
class Published:
    """The rendered tree as a reader of the repository gets it: ``where`` names it
    (``origin/main@abc1234``; ``main@abc1234 (not pushed)`` without a remote branch;
    ``the working tree of rendered (no git repository)``), ``revision`` is its commit."""

    where: str
    tree: dict[str, bytes] | None  # None: read the tree on disk
    revision: str = ""


def published(platform: Platform) -> Published:
    """The rendered repository's branch as published: its remote branch, fetched first; the
    local branch when there is no remote branch yet; the tree on disk outside git."""
    if platform.rendered_repository is not None:
        rendered = _separate(platform, sync=True)
    else:
        try:
            rendered = _in_repo(platform)
        except UsageError:  # not in git: what the tree on disk holds is all there is
            where = f"the working tree of {platform.rendered_path.name} (no git repository)"
            return Published(where, None)
    if rendered.branch is not None and rendered.remote in [r.name for r in rendered.repo.remotes]:
        fetched = fetch(rendered)
        if fetched:
            commit = rendered.repo.commit(rendered.upstream)
            return Published(
                f"{rendered.upstream}@{commit.hexsha[:7]}",
                head_tree(rendered, commit.hexsha),
                rendered.upstream,
            )
    head = _head_commit(rendered.repo)
    if head is None:
        return Published(f"the working tree of {platform.rendered_path.name} (no commit yet)", None)
    branch = rendered.branch or "HEAD"
    return Published(f"{branch}@{head.hexsha[:7]} (not pushed)", head_tree(rendered), branch)


@dataclass(frozen=True)
class PlatformCommit:
    """The platform repository's commit a render read, and whether its files (the rendered
    tree's aside) had changes not committed yet: then the render is of more than that commit."""

    commit: str
    dirty: bool


def platform_commit(platform: Platform) -> PlatformCommit | None:
    """HEAD of the platform repository (platform.yaml's), None outside git or before a commit."""
    try:
        repo = git.Repo(platform.root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    head = _head_commit(repo)
    if head is None:
        return None
    paths = ["--", "."]
    tree = platform.rendered_path
    top = Path(str(repo.working_tree_dir)).resolve()
    if tree.resolve().is_relative_to(top):
        paths.append(f":(exclude){tree.resolve().relative_to(top).as_posix()}")
    changed = _git(repo, "-C", str(top), "status", "--porcelain", *paths)
    return PlatformCommit(head.hexsha, bool(changed.strip()))


def head_file(rendered: RenderedRepo, path: str) -> tuple[bytes | None, str | None]:
    """One file of the rendered tree as committed at HEAD, and HEAD's sha: (None, sha) when
    HEAD has no such file, (None, None) before the first commit."""
    commit = _head_commit(rendered.repo)
    if commit is None:
        return None, None
    try:
        item = commit.tree / f"{rendered.prefix}/{path}"
    except KeyError:
        return None, commit.hexsha
    if not isinstance(item, git.Blob):
        return None, commit.hexsha
    try:
        return item.data_stream.read(), commit.hexsha
    except (git.GitCommandError, ValueError) as error:
        raise ExternalError(f"cannot read {rendered.prefix}/{path} at HEAD: {error}") from None


def commit_tree(
    rendered: RenderedRepo,
    message: str,
    identity: Mapping[str, str],
    tree: Mapping[str, bytes] | None = None,
) -> str | None:
    """A commit of HEAD with the tree's folder replaced — by ``tree`` when given, else by the
    working tree's folder — without moving HEAD; None when that is HEAD's tree already."""
    if tree is None:
        return _commit(rendered, message, identity, [rendered.prefix], None)
    return commit_files(rendered, message, identity, folders={rendered.prefix: tree})


def commit_files(
    handle: RenderedRepo,
    message: str,
    identity: Mapping[str, str],
    *,
    folders: Mapping[str, Mapping[str, bytes]] | None = None,
    files: Mapping[str, bytes] | None = None,
) -> str | None:
    """A commit of HEAD in ``handle``'s repository with each of ``folders`` (a path from the
    repository's root → its whole new content) replaced and each of ``files`` (path →
    content) written, without moving HEAD or touching the checkout; None when that is
    HEAD's tree already."""
    staged: dict[str, bytes] = dict(files or {})
    for prefix, tree in (folders or {}).items():
        staged.update((f"{prefix}/{path}", content) for path, content in tree.items())
    paths = [*(folders or {}), *(files or {})]
    return _commit(handle, message, identity, paths, staged, empty=list(folders or {}))


def _commit(
    handle: RenderedRepo,
    message: str,
    identity: Mapping[str, str],
    paths: list[str],
    staged: Mapping[str, bytes] | None,
    empty: list[str] | None = None,
) -> str | None:
    """Commit HEAD with ``paths`` taken from the checkout (``staged`` None) or from a work
    tree of their own holding ``staged`` (path → content; ``empty`` folders made even
    without a file)."""
    repo = handle.repo
    head = _head_commit(repo)
    # An index of our own, so the checkout's index (and what is staged in it) stays as is.
    with tempfile.TemporaryDirectory(prefix="modelship-", dir=repo.git_dir) as scratch:
        env = {**identity, "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        if staged is not None:
            # The planned files, staged from a work tree of their own: the checkout is untouched.
            work = Path(scratch) / "work"
            for path, content in staged.items():
                target = work / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            for folder in empty or ():
                (work / folder).mkdir(parents=True, exist_ok=True)
            work.mkdir(exist_ok=True)
            env["GIT_WORK_TREE"] = str(work)
        if head is None:
            _git(repo, "read-tree", "--empty", env=env)
        else:
            _git(repo, "read-tree", head.hexsha, env=env)
        _git(repo, "add", "--all", "--force", "--", *paths, env=env)
        written = _git(repo, "write-tree", env=env)
        if head is not None and head.tree.hexsha == written:
            return None
        parents = ["-p", head.hexsha] if head is not None else []
        return _git(repo, "commit-tree", written, *parents, "-m", message, env=env)


def commit(rendered: RenderedRepo, message: str, identity: Mapping[str, str]) -> str | None:
    """Commit the tree on the current branch; None when nothing changed."""
    sha = commit_tree(rendered, message, identity)
    if sha is None:
        return None
    repo = rendered.repo
    head = _head_commit(repo)
    old = head.hexsha if head is not None else ""
    _git(repo, "update-ref", "-m", "modelship publish", "HEAD", sha, old)
    # The checkout's index still has the tree as it was: take the committed one.
    _git(repo, "reset", "--quiet", "HEAD", "--", rendered.prefix)
    return sha


def push(rendered: RenderedRepo, source: str, branch: str, force: bool = False) -> PushResult:
    """Push ``source`` (a commit or HEAD) to ``branch`` of the remote."""
    refspec = f"{'+' if force else ''}{source}:refs/heads/{branch}"
    remote = _remote(rendered)
    try:
        infos = remote.push(refspec, kill_after_timeout=NETWORK_TIMEOUT)
    except git.GitCommandError as error:
        raise ExternalError(f"git push to {_safe_url(remote)} failed: {_stderr(error)}") from None
    for info in infos:
        summary = info.summary.strip()
        if info.flags & info.REJECTED:
            return PushResult(False, True, summary)
        if info.flags & info.REMOTE_REJECTED and any(m in summary for m in _LOST_RACE):
            return PushResult(False, True, summary)
        if info.flags & (info.ERROR | info.REMOTE_REJECTED | info.REMOTE_FAILURE):
            return PushResult(False, False, summary)
    return PushResult(True, False)


def fetch(rendered: RenderedRepo) -> bool:
    """Fetch the published branch; False when the remote has no such branch yet."""
    branch = rendered.branch
    refspec = f"+refs/heads/{branch}:refs/remotes/{rendered.remote}/{branch}"
    remote = _remote(rendered)
    try:
        rendered.repo.git.execute(
            ["git", "ls-remote", "--exit-code", "--heads", remote.name, f"refs/heads/{branch}"],
            kill_after_timeout=NETWORK_TIMEOUT,
        )
    except git.GitCommandError as error:
        if error.status == 2:  # --exit-code: the remote has no such branch
            return False
        raise ExternalError(f"git ls-remote {_safe_url(remote)} failed: {_stderr(error)}") from None
    try:
        remote.fetch(refspec, kill_after_timeout=NETWORK_TIMEOUT)
    except git.GitCommandError as error:
        raise ExternalError(
            f"git fetch from {_safe_url(remote)} failed: {_stderr(error)}"
        ) from None
    return True


def rewind(rendered: RenderedRepo, sha: str) -> None:
    """Undo our own commit ``sha`` (HEAD) after a rejected push: HEAD back to its parent,
    the tree's files with it; changes elsewhere in the checkout stay."""
    repo = rendered.repo
    if repo.head.commit.hexsha != sha:
        raise ExternalError(f"HEAD moved away from the commit {sha[:7]} while publishing")
    parents = repo.head.commit.parents
    if parents:
        _git(repo, "reset", "--quiet", "--keep", parents[0].hexsha)
    else:
        _git(repo, "update-ref", "-d", "HEAD")
        _git(repo, "reset", "--quiet", "--", rendered.prefix)


def rebase(rendered: RenderedRepo, identity: Mapping[str, str]) -> None:
    """Rebase the branch onto its fetched remote branch. Conflicts inside the rendered tree
    (a local commit that rendered too) are settled with the remote's side: the render that
    follows makes the tree right. A conflict anywhere else stops the publish."""
    repo = rendered.repo
    env = {**identity, "GIT_EDITOR": "true"}
    if _head_commit(repo) is None:  # our first commit was dropped: nothing of ours to keep
        _git(repo, "checkout", "--quiet", "--force", "-B", str(rendered.branch), rendered.upstream)
        return
    try:
        _git(repo, "rebase", "--autostash", rendered.upstream, env=env)
        return
    except ExternalError as error:
        failure = error.message
    for _ in range(MAX_REBASE_STEPS):
        conflicted = _git(repo, "diff", "--name-only", "--diff-filter=U").splitlines()
        outside = [path for path in conflicted if not _inside(path, rendered.prefix)]
        if outside or not conflicted:
            _abort_rebase(repo)
            reason = f"conflicts in {', '.join(outside)}" if outside else failure
            raise ExternalError(
                f"cannot rebase onto {rendered.upstream} ({reason}); nothing was pushed"
            )
        for path in conflicted:
            if _exists_at_head(repo, path):
                _git(repo, "checkout", "HEAD", "--", path)
            else:
                _git(repo, "rm", "--quiet", "--force", "--ignore-unmatch", "--", path)
        try:
            _git(repo, "rebase", "--continue", env=env)
            return
        except ExternalError as error:
            failure = error.message
    _abort_rebase(repo)
    raise ExternalError(f"cannot rebase onto {rendered.upstream}: too many conflicting commits")


def _abort_rebase(repo: git.Repo) -> None:
    """Back to where the rebase started; quietly nothing when none is in progress."""
    with contextlib.suppress(git.GitCommandError):
        repo.git.execute(["git", "rebase", "--abort"])


def ahead_of_upstream(rendered: RenderedRepo) -> bool:
    """Whether HEAD has commits its remote branch lacks (or the remote branch is missing)."""
    repo = rendered.repo
    head = _head_commit(repo)
    if head is None:
        return False
    try:
        upstream = repo.commit(rendered.upstream)
    except (git.BadName, ValueError):
        return True
    return upstream.hexsha != head.hexsha


def remote_url(rendered: RenderedRepo) -> str:
    return _remote(rendered).url


# ---------------------------------------------------------------- locating and cloning


def _in_repo(platform: Platform) -> RenderedRepo:
    tree = platform.rendered_path
    start = next((p for p in (tree, *tree.parents) if p.exists()), tree)
    try:
        repo = git.Repo(start, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise UsageError(
            f"{tree} is not inside a git repository; `diff` and `publish` compare with and "
            "commit to git (set rendered.repository in platform.yaml for a separate one)"
        ) from None
    return _described(repo, tree, platform.publish.remote)


def _separate(platform: Platform, sync: bool) -> RenderedRepo:
    settings = platform.rendered_repository
    assert settings is not None
    workdir = settings.workdir
    shown = _mask(settings.url)
    try:
        if not (workdir / ".git").exists():
            if workdir.exists() and any(workdir.iterdir()):
                raise UsageError(
                    f"rendered.repository.workdir {workdir} exists and is not a clone of "
                    f"{shown}; remove it or choose another folder"
                )
            repo = git.Repo.clone_from(settings.url, workdir, kill_after_timeout=NETWORK_TIMEOUT)
        else:
            repo = git.Repo(workdir)
            if repo.remotes.origin.url != settings.url:
                raise UsageError(
                    f"{workdir} is a clone of {_mask(repo.remotes.origin.url)}, not of {shown} "
                    "(rendered.repository.url); remove the folder to clone again"
                )
    except git.GitCommandError as error:
        raise ExternalError(f"cannot clone {shown}: {_stderr(error)}") from None
    except git.UnsafeProtocolError:
        raise UsageError(
            f"rendered.repository.url {shown}: git refuses this protocol; use https://, ssh:// "
            "or a path"
        ) from None
    except (git.InvalidGitRepositoryError, AttributeError, ValueError):
        raise UsageError(f"{workdir} is not a clone of {shown}; remove the folder") from None
    tree = platform.rendered_path
    rendered = RenderedRepo(repo, tree, _prefix(repo, tree), "origin", settings.branch)
    if sync:
        _follow_remote(rendered)
    return rendered


def _follow_remote(rendered: RenderedRepo) -> None:
    """Put the work folder on the remote branch — unless it is on that branch already with
    commits of its own on top (an earlier ``publish`` without ``--push``)."""
    repo, branch = rendered.repo, rendered.branch
    exists = fetch(rendered)
    current = None if repo.head.is_detached else repo.head.reference.name
    if not exists:
        if _head_commit(repo) is None:
            _git(repo, "symbolic-ref", "HEAD", f"refs/heads/{branch}")
            return
        if current == branch:
            return
        raise ExternalError(
            f"{_mask(remote_url(rendered))} has no branch {branch!r}; create it first"
        )
    upstream = repo.commit(rendered.upstream)
    if current == branch and repo.is_ancestor(upstream, repo.head.commit):
        return
    _git(repo, "checkout", "--quiet", "--force", "-B", str(branch), rendered.upstream)


def _described(repo: git.Repo, tree: Path, remote: str) -> RenderedRepo:
    branch = None if repo.head.is_detached else repo.head.reference.name
    return RenderedRepo(repo, tree, _prefix(repo, tree), remote, branch)


def _prefix(repo: git.Repo, tree: Path) -> str:
    top = Path(str(repo.working_tree_dir)).resolve()
    target = tree.resolve()
    try:
        prefix = target.relative_to(top).as_posix()
    except ValueError:
        raise UsageError(f"{tree} is not inside the git repository {top}") from None
    if prefix in ("", "."):
        raise UsageError(
            f"the rendered tree {tree} is the root of its git repository; use a folder in it"
        )
    return prefix


# ---------------------------------------------------------------- small helpers


def _git(repo: git.Repo, *args: str, env: Mapping[str, str] | None = None) -> str:
    try:
        return str(repo.git.execute(["git", *args], env=env, kill_after_timeout=NETWORK_TIMEOUT))
    except git.GitCommandError as error:
        raise ExternalError(f"git {args[0]} failed: {_stderr(error)}") from None


def _head_commit(repo: git.Repo) -> git.Commit | None:
    try:
        return repo.head.commit
    except ValueError:
        return None


def _exists_at_head(repo: git.Repo, path: str) -> bool:
    try:
        repo.head.commit.tree / path
    except KeyError:
        return False
    return True


def _inside(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def _remote(rendered: RenderedRepo) -> git.Remote:
    try:
        remote = rendered.repo.remote(rendered.remote)
    except ValueError:
        raise UsageError(
            f"the repository {rendered.repo.working_tree_dir} has no remote "
            f"{rendered.remote!r} (publish.remote in platform.yaml)"
        ) from None
    return remote


def _safe_url(remote: git.Remote) -> str:
    return _mask(remote.url)


def _mask(text: str) -> str:
    """Hide credentials written into URLs (https://user:token@host/...)."""
    return re.sub(r"(://)[^/@\s]+@", r"\1***@", text)


def _stderr(error: git.GitCommandError) -> str:
    detail = error.stderr if isinstance(error.stderr, str) else str(error)
    detail = detail.strip().removeprefix("stderr:").strip().strip("'").strip()
    return _mask(" ".join(detail.split())) or f"exit status {error.status}"
