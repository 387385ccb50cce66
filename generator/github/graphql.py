"""The GraphQL query that reads 100 repositories per request, and the strict reading
of its answer.   (pure)

One page carries, per repository: name, URL, archived/fork flags, topics, the default
branch and its head commit, and the MLproject text at that head. MLflow finds the file
under any capitalisation; GraphQL paths are case-sensitive, so the query asks for the
three spellings seen in practice.

Anything that is not exactly the documented shape raises ``ResponseShapeError``: an
answer we cannot read must never look like an organization with fewer repositories.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.mlproject import several_files

PAGE_SIZE = 100  # GraphQL's largest page: `first` must be 1-100
MLPROJECT_SPELLINGS = ("MLproject", "MLProject", "mlproject")
_ALIASES = {spelling: f"file{index}" for index, spelling in enumerate(MLPROJECT_SPELLINGS)}

_BLOB_FIELDS = "... on Blob { text isTruncated isBinary byteSize }"
_FILES = "\n".join(
    f'        {alias}: object(expression: "HEAD:{spelling}") {{ {_BLOB_FIELDS} }}'
    for spelling, alias in _ALIASES.items()
)

_NODE_FIELDS = f"""name
        nameWithOwner
        url
        isArchived
        isFork
        repositoryTopics(first: 20) {{ nodes {{ topic {{ name }} }} }}
        defaultBranchRef {{ name target {{ oid }} }}
{_FILES}"""

QUERY = f"""query ModelshipRepositories($owner: String!, $first: Int!, $after: String) {{
  repositoryOwner(login: $owner) {{
    login
    repositories(first: $first, after: $after, ownerAffiliations: [OWNER],
                 orderBy: {{field: NAME, direction: ASC}}) {{
      totalCount
      pageInfo {{ hasNextPage endCursor }}
      nodes {{
        {_NODE_FIELDS}
      }}
    }}
  }}
}}"""

# One repository, for a single-repository run (a model-changed dispatch): the same fields
# as a node of QUERY. GitHub answers an unknown name with ``repository: null`` and a
# NOT_FOUND error.
REPOSITORY_QUERY = f"""query ModelshipRepository($owner: String!, $name: String!) {{
  repository(owner: $owner, name: $name) {{
        {_NODE_FIELDS}
  }}
}}"""


class ResponseShapeError(Exception):
    """The answer is not the shape GitHub documents for this query."""


@dataclass(frozen=True)
class Blob:
    path: str
    text: str | None  # None when GitHub says the file is binary
    truncated: bool
    binary: bool
    size: int
    # Why the repository's MLproject cannot be read at all (spelt twice, or not a file).
    problem: str | None = None


@dataclass(frozen=True)
class RepoNode:
    name: str
    full_name: str
    url: str
    archived: bool
    fork: bool
    topics: tuple[str, ...]
    default_branch: str | None  # None for an empty repository
    head_sha: str | None
    mlproject: Blob | None


@dataclass(frozen=True)
class Page:
    total_count: int
    has_next_page: bool
    end_cursor: str | None
    nodes: tuple[RepoNode, ...]


def variables(owner: str, after: str | None) -> dict[str, Any]:
    return {"owner": owner, "first": PAGE_SIZE, "after": after}


def repository_variables(full_name: str) -> dict[str, Any]:
    owner, _, name = full_name.partition("/")
    return {"owner": owner, "name": name}


def parse_repository(document: Any) -> RepoNode:
    """The answer to REPOSITORY_QUERY (GitHub's NOT_FOUND answer is an error PyGithub
    raises, never this document)."""
    data = _data(document)
    if "repository" not in data:
        raise ResponseShapeError("the response has no data.repository")
    if data["repository"] is None:
        raise ResponseShapeError("data.repository is null without a NOT_FOUND error")
    return _node(data["repository"])


def _data(document: Any) -> dict[str, Any]:
    if isinstance(document, dict) and isinstance(document.get("data"), str):
        # PyGithub's reading of a body that is not JSON (an HTML error page, a proxy)
        page = " ".join(document["data"].split())[:80]
        raise ResponseShapeError(f"the answer is not JSON but a page starting {page!r}")
    return _field(document, "data", dict, "the response")


def parse_page(document: Any, owner: str) -> Page:
    data = _data(document)
    repository_owner = data.get("repositoryOwner", ...)
    if repository_owner is ...:
        raise ResponseShapeError("the response has no data.repositoryOwner")
    if repository_owner is None:
        raise ResponseShapeError(
            f"GitHub knows no organization or user {owner!r} (or the credentials cannot see it)"
        )
    connection = _field(repository_owner, "repositories", dict, "repositoryOwner")
    total = _field(connection, "totalCount", int, "repositories")
    info = _field(connection, "pageInfo", dict, "repositories")
    has_next = _field(info, "hasNextPage", bool, "pageInfo")
    cursor = info.get("endCursor")
    if cursor is not None and not isinstance(cursor, str):
        raise ResponseShapeError("pageInfo.endCursor is not a string")
    nodes = _field(connection, "nodes", list, "repositories")
    if len(nodes) > PAGE_SIZE:
        raise ResponseShapeError(f"a page holds {len(nodes)} repositories, more than {PAGE_SIZE}")
    return Page(total, has_next, cursor or None, tuple(_node(node) for node in nodes))


def _node(node: Any) -> RepoNode:
    if not isinstance(node, dict):
        raise ResponseShapeError("a repository node is not an object")
    name = _field(node, "name", str, "repository")
    where = f"repository {name!r}"
    branch_ref = node.get("defaultBranchRef")
    branch: str | None = None
    head: str | None = None
    if branch_ref is not None:
        branch = _field(branch_ref, "name", str, f"{where} defaultBranchRef")
        target = _field(branch_ref, "target", dict, f"{where} defaultBranchRef")
        head = _field(target, "oid", str, f"{where} defaultBranchRef.target")
    topics = _field(node, "repositoryTopics", dict, where)
    return RepoNode(
        name=name,
        full_name=_field(node, "nameWithOwner", str, where),
        url=_field(node, "url", str, where),
        archived=_field(node, "isArchived", bool, where),
        fork=_field(node, "isFork", bool, where),
        topics=tuple(
            _field(_field(item, "topic", dict, where), "name", str, f"{where} topic")
            for item in _field(topics, "nodes", list, f"{where} repositoryTopics")
        ),
        default_branch=branch,
        head_sha=head,
        mlproject=_mlproject(node, where) if head is not None else None,
    )


def _mlproject(node: dict[str, Any], where: str) -> Blob | None:
    present: list[tuple[str, Any]] = []
    for spelling, alias in _ALIASES.items():
        if alias not in node:
            raise ResponseShapeError(f"{where} has no field {alias!r}")
        # null: no such path; {}: the path is a folder or a submodule (the Blob fragment
        # selects nothing of it)
        if node[alias] is not None:
            present.append((spelling, node[alias]))
    if not present:
        return None
    spelling, found = present[0]
    several = several_files(name for name, _ in present)
    if several is not None or found == {}:
        problem = several or (
            f"{spelling} is a folder or a submodule, not a file; a repository's MLproject "
            "must be a regular file"
        )
        return Blob(spelling, None, truncated=False, binary=False, size=0, problem=problem)
    blob_where = f"{where} {spelling}"
    text = found.get("text") if isinstance(found, dict) else None
    if text is not None and not isinstance(text, str):
        raise ResponseShapeError(f"{blob_where}: text is not a string")
    return Blob(
        path=spelling,
        text=text,
        truncated=_field(found, "isTruncated", bool, blob_where),
        binary=_field(found, "isBinary", bool, blob_where),
        size=_field(found, "byteSize", int, blob_where),
    )


def _field(container: Any, key: str, kind: type, where: str) -> Any:
    if not isinstance(container, dict) or key not in container:
        raise ResponseShapeError(f"{where} has no field {key!r}")
    value = container[key]
    # bool is an int in Python; a count must not be True.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ResponseShapeError(f"{where}: {key} is not a {kind.__name__}")
    return value
