"""The state a loopback GitHub serves: one organization with repositories, teams and pull
requests, and the JSON shapes GitHub's REST and GraphQL APIs give them."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

PERMISSION_LEVELS = ("pull", "triage", "push", "maintain", "admin")


def _sha(*parts: object) -> str:
    return hashlib.sha1("\0".join(map(str, parts)).encode(), usedforsecurity=False).hexdigest()


@dataclass
class Repo:
    name: str
    id: int
    topics: tuple[str, ...] = ()
    archived: bool = False
    fork: bool = False
    default_branch: str | None = "main"  # None: an empty repository (no commit yet)
    files: dict[str, bytes] = field(default_factory=dict)  # path at the head → content
    pushes: int = 0

    @property
    def head_sha(self) -> str | None:
        if self.default_branch is None:
            return None
        return _sha(self.name, self.pushes, sorted(self.files.items()))

    def push(self, **files: str | bytes | None) -> str:
        """Commit on the default branch: set (or, with None, delete) files; the new head sha."""
        for path, content in files.items():
            if content is None:
                self.files.pop(path, None)
            else:
                self.files[path] = content.encode() if isinstance(content, str) else content
        self.pushes += 1
        self.default_branch = self.default_branch or "main"
        return self.head_sha or ""


@dataclass
class Team:
    slug: str
    id: int
    repos: dict[str, str] = field(default_factory=dict)  # repo name → permission level

    def repos_lower(self) -> dict[str, str]:
        return {name.lower(): level for name, level in self.repos.items()}


@dataclass
class Pull:
    number: int
    id: int
    head_ref: str
    head_owner: str
    base: str
    title: str
    body: str
    state: str = "open"


@dataclass
class Comment:
    """A comment on an issue or pull request (they share numbers and the comments API)."""

    id: int
    issue_number: int
    body: str
    user: str = "github-actions[bot]"


@dataclass
class Org:
    login: str = "acme"
    id: int = 1000
    web_url: str = "https://github.com"
    repos: dict[str, Repo] = field(default_factory=dict)  # lower-cased name → repo
    teams: dict[str, Team] = field(default_factory=dict)
    pulls: dict[str, list[Pull]] = field(default_factory=dict)  # lower-cased repo name → PRs
    comments: dict[str, list[Comment]] = field(default_factory=dict)  # lower-cased repo name

    def add_pull(self, repo: str, head: str, base: str = "main", title: str = "") -> Pull:
        """An open pull request from ``head`` (a branch of the organization) into ``base``."""
        pulls = self.pulls.setdefault(repo.lower(), [])
        number = 1 + max((p.number for p in pulls), default=0)
        pull = Pull(number, 900000 + number, head, self.login, base, title or head, "")
        pulls.append(pull)
        return pull

    def add_repo(
        self,
        name: str,
        *,
        topics: tuple[str, ...] | list[str] = (),
        archived: bool = False,
        fork: bool = False,
        mlproject: str | bytes | None = None,
        mlproject_path: str = "MLproject",
        empty: bool = False,
    ) -> Repo:
        repo = Repo(
            name=name,
            id=self.id + 1 + len(self.repos),
            topics=tuple(topics),
            archived=archived,
            fork=fork,
            default_branch=None if empty else "main",
        )
        if not empty:
            repo.files["README.md"] = f"# {name}\n".encode()
        if mlproject is not None:
            repo.files[mlproject_path] = (
                mlproject.encode() if isinstance(mlproject, str) else mlproject
            )
        self.repos[name.lower()] = repo
        return repo

    def add_team(self, slug: str, repos: dict[str, str] | None = None) -> Team:
        for level in (repos or {}).values():
            assert level in PERMISSION_LEVELS, level
        team = Team(slug, id=5000 + len(self.teams), repos=dict(repos or {}))
        self.teams[slug] = team
        return team

    def repo(self, name: str) -> Repo | None:
        return self.repos.get(name.lower())

    def sorted_repos(self) -> list[Repo]:
        """GitHub's order for `orderBy: {field: NAME, direction: ASC}`."""
        return sorted(self.repos.values(), key=lambda r: r.name.lower())

    def team_by_id(self, team_id: int) -> Team | None:
        return next((t for t in self.teams.values() if t.id == team_id), None)


# -- REST shapes --------------------------------------------------------------------------


def owner_json(org: Org, api: str) -> dict[str, Any]:
    return {
        "login": org.login,
        "id": org.id,
        "node_id": base64.b64encode(f"04:Organization{org.id}".encode()).decode(),
        "url": f"{api}/users/{org.login}",
        "html_url": f"{org.web_url}/{org.login}",
        "type": "Organization",
        "site_admin": False,
    }


def permissions_json(level: str | None) -> dict[str, bool]:
    rank = PERMISSION_LEVELS.index(level) if level else -1
    return {name: index <= rank for index, name in enumerate(PERMISSION_LEVELS)}


def repo_json(org: Org, repo: Repo, api: str, permission: str | None = None) -> dict[str, Any]:
    full_name = f"{org.login}/{repo.name}"
    data: dict[str, Any] = {
        "id": repo.id,
        "node_id": base64.b64encode(f"010:Repository{repo.id}".encode()).decode(),
        "name": repo.name,
        "full_name": full_name,
        "private": False,
        "owner": owner_json(org, api),
        "html_url": f"{org.web_url}/{full_name}",
        "description": None,
        "fork": repo.fork,
        "url": f"{api}/repos/{full_name}",
        "clone_url": f"{org.web_url}/{full_name}.git",
        "default_branch": repo.default_branch or "main",
        "archived": repo.archived,
        "disabled": False,
        "visibility": "public",
        "topics": list(repo.topics),
        "size": sum(len(content) for content in repo.files.values()) // 1024,
    }
    if permission is not None:
        data["permissions"] = permissions_json(permission)
        data["role_name"] = permission
    return data


def team_json(org: Org, team: Team, api: str, permission: str) -> dict[str, Any]:
    """A team as ``GET /repos/{owner}/{repo}/teams`` lists it: with its permission there."""
    return {
        "id": team.id,
        "node_id": base64.b64encode(f"04:Team{team.id}".encode()).decode(),
        "url": f"{api}/organizations/{org.id}/team/{team.id}",
        "html_url": f"{org.web_url}/orgs/{org.login}/teams/{team.slug}",
        "name": team.slug,
        "slug": team.slug,
        "description": None,
        "privacy": "closed",
        "notification_setting": "notifications_enabled",
        "permission": permission,
        "permissions": permissions_json(permission),
        "members_url": f"{api}/organizations/{org.id}/team/{team.id}/members{{/member}}",
        "repositories_url": f"{api}/organizations/{org.id}/team/{team.id}/repos",
        "parent": None,
    }


def content_json(
    org: Org, repo: Repo, path: str, content: bytes, api: str, ref: str
) -> dict[str, Any]:
    """A file of the contents API: base64 with a newline every 60 characters, as GitHub
    sends it; above 1 MB the content is empty and the encoding "none"."""
    full_name = f"{org.login}/{repo.name}"
    blob_sha = _sha("blob", content)
    encoded = base64.b64encode(content).decode()
    large = len(content) > 1024 * 1024
    url = f"{api}/repos/{full_name}/contents/{path}?ref={ref}"
    return {
        "type": "file",
        "encoding": "none" if large else "base64",
        "size": len(content),
        "name": path.rsplit("/", 1)[-1],
        "path": path,
        "content": ""
        if large
        else "".join(f"{encoded[i : i + 60]}\n" for i in range(0, len(encoded), 60)),
        "sha": blob_sha,
        "url": url,
        "git_url": f"{api}/repos/{full_name}/git/blobs/{blob_sha}",
        "html_url": f"{org.web_url}/{full_name}/blob/{ref}/{path}",
        "download_url": f"https://raw.githubusercontent.com/{full_name}/{ref}/{path}",
        "_links": {"self": url, "git": f"{api}/repos/{full_name}/git/blobs/{blob_sha}"},
    }


def pull_json(org: Org, repo: Repo, pull: Pull, api: str) -> dict[str, Any]:
    full_name = f"{org.login}/{repo.name}"
    repo_data = repo_json(org, repo, api)

    def side(ref: str, owner: str) -> dict[str, Any]:
        return {
            "label": f"{owner}:{ref}",
            "ref": ref,
            "sha": _sha("branch", repo.name, ref),
            "user": owner_json(org, api),
            "repo": repo_data,
        }

    return {
        "id": pull.id,
        "node_id": base64.b64encode(f"011:PullRequest{pull.id}".encode()).decode(),
        "number": pull.number,
        "state": pull.state,
        "locked": False,
        "title": pull.title,
        "body": pull.body,
        "url": f"{api}/repos/{full_name}/pulls/{pull.number}",
        "html_url": f"{org.web_url}/{full_name}/pull/{pull.number}",
        "user": {"login": "modelship-bot", "id": 42, "type": "Bot"},
        "head": side(pull.head_ref, pull.head_owner),
        "base": side(pull.base, org.login),
        "draft": False,
        "merged": False,
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
    }


def comment_json(org: Org, repo: Repo, comment: Comment, api: str) -> dict[str, Any]:
    full_name = f"{org.login}/{repo.name}"
    return {
        "id": comment.id,
        "node_id": base64.b64encode(f"012:IssueComment{comment.id}".encode()).decode(),
        "url": f"{api}/repos/{full_name}/issues/comments/{comment.id}",
        "html_url": f"{org.web_url}/{full_name}/pull/{comment.issue_number}"
        f"#issuecomment-{comment.id}",
        "issue_url": f"{api}/repos/{full_name}/issues/{comment.issue_number}",
        "body": comment.body,
        "user": {"login": comment.user, "id": 41898282, "type": "Bot"},
        "author_association": "NONE",
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
    }


# -- GraphQL shapes -----------------------------------------------------------------------


def blob_json(content: bytes | None, text_limit: int) -> dict[str, Any] | None:
    """``... on Blob { text isTruncated isBinary byteSize }``; null when there is no such path."""
    if content is None:
        return None
    binary = b"\0" in content[:8000]
    text = None if binary else content[:text_limit].decode("utf-8", "ignore")
    return {
        "text": text,
        "isTruncated": len(content) > text_limit,
        "isBinary": binary,
        "byteSize": len(content),
    }


def repo_node_json(org: Org, repo: Repo, files: dict[str, str], text_limit: int) -> dict[str, Any]:
    """One node of ``repositories``; ``files`` maps each alias the query asked for to its
    ``HEAD:<path>`` expression's path."""
    node: dict[str, Any] = {
        "name": repo.name,
        "nameWithOwner": f"{org.login}/{repo.name}",
        "url": f"{org.web_url}/{org.login}/{repo.name}",
        "isArchived": repo.archived,
        "isFork": repo.fork,
        "repositoryTopics": {"nodes": [{"topic": {"name": t}} for t in repo.topics]},
        "defaultBranchRef": None
        if repo.head_sha is None
        else {"name": repo.default_branch, "target": {"oid": repo.head_sha}},
    }
    for alias, path in files.items():
        if repo.head_sha is None:
            node[alias] = None
        elif path not in repo.files and any(name.startswith(f"{path}/") for name in repo.files):
            node[alias] = {}  # a Tree: the query's `... on Blob` fragment selects nothing of it
        else:
            node[alias] = blob_json(repo.files.get(path), text_limit)
    return node


def populate(org: Org, count: int, mlproject_text: Any, *, models_every: int = 5) -> list[Repo]:
    """A synthetic organization of ``count`` repositories: every ``models_every``-th one a
    model repository with an MLproject (``mlproject_text(name, index)``), the others plain
    services. Names sort in index order (``repo-00005-model`` after ``repo-00004``), so
    the first k repositories hold ⌈k / models_every⌉ models."""
    made = []
    for index in range(count):
        if index % models_every == 0:
            name = f"repo-{index:05d}-model"
            made.append(org.add_repo(name, mlproject=mlproject_text(name, index)))
        else:
            made.append(org.add_repo(f"repo-{index:05d}"))
    return made
