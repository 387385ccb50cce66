"""The endpoints of the loopback GitHub, as GitHub documents them.

Each handler takes the server and the request and returns a Reply; ``ROUTES`` maps
``METHOD /path`` to them. Paths are relative to the API root (``https://api.github.com``
or a GitHub Enterprise ``/api/v3``); GraphQL is ``/graphql``. To serve another endpoint,
add a function with ``@ROUTES.route(...)`` here.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import jwt

from testsupport.fakes import github_org
from testsupport.fakes.github_state import Server
from testsupport.fakes.http import Reply, Request, Router

ROUTES = Router()
DOCS = "https://docs.github.com/rest"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30
_CURSOR_PREFIX = "cursor:v2:"
_FILE_ALIAS = re.compile(r'(\w+)\s*:\s*object\(\s*expression:\s*"HEAD:([^"]+)"\s*\)')


def not_found(documentation_url: str = DOCS) -> Reply:
    return Reply(404, {"message": "Not Found", "documentation_url": documentation_url})


def validation_failed(message: str, resource: str, documentation_url: str = DOCS) -> Reply:
    return Reply(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": resource, "code": "custom", "message": message}],
            "documentation_url": documentation_url,
        },
    )


def paginate(server: Server, request: Request, items: list[Any], link_path: str) -> Reply:
    """One page of a REST list, with GitHub's ``Link`` header (next, last, first, prev).
    The links point at ``link_path``, which may differ from the path asked for, as
    GitHub's ``/organizations/{id}/...`` links do."""
    try:
        per_page = min(max(int(request.query.get("per_page", DEFAULT_PER_PAGE)), 1), MAX_PER_PAGE)
        page = max(int(request.query.get("page", "1")), 1)
    except ValueError:
        return Reply(400, {"message": "Invalid page parameters", "documentation_url": DOCS})
    last = max((len(items) + per_page - 1) // per_page, 1)
    start = (page - 1) * per_page
    body = items[start : start + per_page]
    others = {k: v for k, v in request.query.items() if k not in {"page", "per_page"}}

    def link(number: int, rel: str) -> str:
        query = urlencode({**others, "per_page": per_page, "page": number})
        return f'<{server.api_url}{link_path}?{query}>; rel="{rel}"'

    links = []
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links += [link(1, "first"), link(page - 1, "prev")]
    headers = {"Link": ", ".join(links)} if links else {}
    return Reply(200, body, headers)


# -- GraphQL ------------------------------------------------------------------------------


def cursor(offset: int) -> str:
    return base64.b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode()


def cursor_offset(value: str) -> int | None:
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not text.startswith(_CURSOR_PREFIX) or not text[len(_CURSOR_PREFIX) :].isdigit():
        return None
    return int(text[len(_CURSOR_PREFIX) :])


def graphql_page(request: Request) -> int:
    """0-based page index of a repositories query, from its ``after`` cursor."""
    try:
        variables = request.json().get("variables") or {}
        first = int(variables.get("first") or MAX_PER_PAGE)
        after = variables.get("after")
        offset = cursor_offset(after) if after else 0
    except (ValueError, AttributeError, TypeError):
        return 0
    return (offset or 0) // max(first, 1)


def graphql_error(message: str, *, kind: str | None = None, path: list[str] | None = None) -> Reply:
    error: dict[str, Any] = {"message": message, "locations": [{"line": 1, "column": 1}]}
    if kind:
        error["type"] = kind
    if path:
        error["path"] = path
    return Reply(200, {"errors": [error]} if path is None else {"data": None, "errors": [error]})


@ROUTES.route("POST", "/graphql", "graphql", page_of=graphql_page)
def graphql(server: Server, request: Request) -> Reply:
    try:
        document = request.json()
    except ValueError:
        return Reply(400, {"message": "Problems parsing JSON", "documentation_url": DOCS})
    query = document.get("query") or ""
    variables = document.get("variables") or {}
    if re.search(r"\brepository\(\s*owner:", query):
        return graphql_repository(server, query, variables)
    if "repositoryOwner(" not in query or "repositories(" not in query:
        return graphql_error(
            "The loopback GitHub serves only the repositories and repository queries"
        )
    first = variables.get("first")
    if not isinstance(first, int) or not 1 <= first <= MAX_PER_PAGE:
        return graphql_error(
            f"Requesting {first} records on the `repositories` connection exceeds the "
            "`first` limit of 100 records.",
            kind="EXCESSIVE_PAGE_SIZE",
            path=["repositoryOwner", "repositories"],
        )
    after = variables.get("after")
    offset = 0 if after is None else cursor_offset(after)
    if offset is None:
        return graphql_error(
            f"`{after}` does not appear to be a valid cursor.",
            kind="INVALID_CURSOR_ARGUMENTS",
            path=["repositoryOwner", "repositories"],
        )
    org = server.org
    if str(variables.get("owner", "")).lower() != org.login.lower():
        return Reply(200, {"data": {"repositoryOwner": None}})
    files = dict(_FILE_ALIAS.findall(query))
    repos = org.sorted_repos()
    window = repos[offset : offset + first]
    end = offset + len(window)
    nodes = [github_org.repo_node_json(org, r, files, server.blob_text_limit) for r in window]
    has_next = end < len(repos)
    end_cursor = cursor(end) if window else None
    fault = server.take_page_fault(request)
    if fault is not None:
        if fault.kind == "cursor_null":
            has_next, end_cursor = True, None
        elif fault.kind == "cursor_loop":
            has_next, end_cursor = True, cursor(offset)
        elif fault.kind == "nodes_missing":
            nodes = nodes[: max(len(nodes) - fault.drop, 0)]
        elif fault.kind == "early_end":
            has_next = False
    connection = {
        "totalCount": len(repos),
        "pageInfo": {"hasNextPage": has_next, "endCursor": end_cursor},
        "nodes": nodes,
    }
    return Reply(
        200, {"data": {"repositoryOwner": {"login": org.login, "repositories": connection}}}
    )


def graphql_repository(server: Server, query: str, variables: dict[str, Any]) -> Reply:
    """``repository(owner: $owner, name: $name) { ... }``: the node of the repositories
    query, or GitHub's NOT_FOUND answer (HTTP 200, ``repository: null`` and the error)."""
    owner, name = str(variables.get("owner", "")), str(variables.get("name", ""))
    org = server.org
    found = org.repo(name) if owner.lower() == org.login.lower() else None
    if found is None:
        error = {
            "type": "NOT_FOUND",
            "path": ["repository"],
            "locations": [{"line": 2, "column": 3}],
            "message": f"Could not resolve to a Repository with the name '{owner}/{name}'.",
        }
        return Reply(200, {"data": {"repository": None}, "errors": [error]})
    files = dict(_FILE_ALIAS.findall(query))
    node = github_org.repo_node_json(org, found, files, server.blob_text_limit)
    return Reply(200, {"data": {"repository": node}})


# -- REST: organization, repositories, contents ------------------------------------------


def _own_repo(server: Server, request: Request) -> github_org.Repo | None:
    if request.params["owner"].lower() != server.org.login.lower():
        return None
    return server.org.repo(request.params["repo"])


@ROUTES.route("GET", "/orgs/{org}/repos", "org_repos")
def org_repos(server: Server, request: Request) -> Reply:
    org = server.org
    if request.params["org"].lower() != org.login.lower():
        return not_found("https://docs.github.com/rest/repos/repos#list-organization-repositories")
    items = [github_org.repo_json(org, r, server.api_url) for r in org.sorted_repos()]
    return paginate(server, request, items, f"/organizations/{org.id}/repos")


@ROUTES.route("GET", "/organizations/{org_id}/repos", "org_repos")
def org_repos_by_id(server: Server, request: Request) -> Reply:
    if request.params["org_id"] != str(server.org.id):
        return not_found()
    request.params["org"] = server.org.login
    return org_repos(server, request)


@ROUTES.route("GET", "/repos/{owner}/{repo}", "repo")
def repo(server: Server, request: Request) -> Reply:
    found = _own_repo(server, request)
    if found is None:
        return not_found("https://docs.github.com/rest/repos/repos#get-a-repository")
    return Reply(200, github_org.repo_json(server.org, found, server.api_url, "admin"))


@ROUTES.route("GET", "/repos/{owner}/{repo}/contents/{path+}", "contents")
def contents(server: Server, request: Request) -> Reply:
    docs = "https://docs.github.com/rest/repos/contents#get-repository-content"
    found = _own_repo(server, request)
    if found is None or found.head_sha is None:
        return not_found(docs)
    ref = request.query.get("ref")
    if ref not in (None, found.head_sha, found.default_branch):
        return Reply(
            404, {"message": f"No commit found for the ref {ref}", "documentation_url": docs}
        )
    path = request.params["path"]
    content = found.files.get(path)
    if content is None:
        return not_found(docs)
    return Reply(
        200,
        github_org.content_json(
            server.org, found, path, content, server.api_url, ref or found.head_sha
        ),
    )


# -- REST: teams ----------------------------------------------------------------------------


def _team_repos(server: Server, request: Request, team: github_org.Team | None) -> Reply:
    if team is None:
        return not_found("https://docs.github.com/rest/teams/teams#list-team-repositories")
    org = server.org
    items = []
    for name, level in sorted(team.repos.items(), key=lambda item: item[0].lower()):
        found = org.repo(name)
        if found is not None:
            items.append(github_org.repo_json(org, found, server.api_url, level))
    return paginate(server, request, items, f"/organizations/{org.id}/team/{team.id}/repos")


@ROUTES.route("GET", "/orgs/{org}/teams/{slug}/repos", "team_repos")
def team_repos(server: Server, request: Request) -> Reply:
    if request.params["org"].lower() != server.org.login.lower():
        return _team_repos(server, request, None)
    return _team_repos(server, request, server.org.teams.get(request.params["slug"]))


@ROUTES.route("GET", "/organizations/{org_id}/team/{team_id}/repos", "team_repos")
def team_repos_by_id(server: Server, request: Request) -> Reply:
    team = None
    if request.params["org_id"] == str(server.org.id) and request.params["team_id"].isdigit():
        team = server.org.team_by_id(int(request.params["team_id"]))
    return _team_repos(server, request, team)


@ROUTES.route("GET", "/repos/{owner}/{repo}/teams", "repo_teams")
def repo_teams(server: Server, request: Request) -> Reply:
    """The teams with access to the repository, each with its ``permission`` on it."""
    found = _own_repo(server, request)
    if found is None:
        return not_found("https://docs.github.com/rest/repos/repos#list-repository-teams")
    org = server.org
    items = [
        github_org.team_json(org, team, server.api_url, team.repos_lower()[found.name.lower()])
        for team in sorted(org.teams.values(), key=lambda t: t.slug)
        if found.name.lower() in team.repos_lower()
    ]
    return paginate(server, request, items, f"/repositories/{found.id}/teams")


# -- REST: pull requests --------------------------------------------------------------------

PULLS_DOCS = "https://docs.github.com/rest/pulls/pulls"


@ROUTES.route("GET", "/repos/{owner}/{repo}/pulls", "pulls_list")
def pulls_list(server: Server, request: Request) -> Reply:
    found = _own_repo(server, request)
    if found is None:
        return not_found(f"{PULLS_DOCS}#list-pull-requests")
    state = request.query.get("state", "open")
    head = request.query.get("head")
    base = request.query.get("base")
    items = [
        github_org.pull_json(server.org, found, pull, server.api_url)
        for pull in server.org.pulls.get(found.name.lower(), [])
        if state in ("all", pull.state)
        and (head is None or head == f"{pull.head_owner}:{pull.head_ref}")
        and (base is None or base == pull.base)
    ]
    return paginate(server, request, items, f"/repositories/{found.id}/pulls")


@ROUTES.route("POST", "/repos/{owner}/{repo}/pulls", "pulls_create")
def pulls_create(server: Server, request: Request) -> Reply:
    found = _own_repo(server, request)
    if found is None:
        return not_found(f"{PULLS_DOCS}#create-a-pull-request")
    try:
        data = request.json()
    except ValueError:
        return Reply(400, {"message": "Problems parsing JSON", "documentation_url": PULLS_DOCS})
    for key in ("head", "base"):
        if not isinstance(data.get(key), str) or not data[key]:
            return validation_failed(f"{key} is missing", "PullRequest")
    if (refused := _too_long(data, "PullRequest")) is not None:
        return refused
    owner, _, ref = data["head"].rpartition(":")
    owner = owner or server.org.login
    pulls = server.org.pulls.setdefault(found.name.lower(), [])
    for pull in pulls:
        if pull.state == "open" and (pull.head_owner, pull.head_ref, pull.base) == (
            owner,
            ref,
            data["base"],
        ):
            return validation_failed(
                f"A pull request already exists for {owner}:{ref}.", "PullRequest"
            )
    number = 1 + max((p.number for p in pulls), default=0)
    pull = github_org.Pull(
        number=number,
        id=900000 + number,
        head_ref=ref,
        head_owner=owner,
        base=data["base"],
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
    )
    pulls.append(pull)
    return Reply(201, github_org.pull_json(server.org, found, pull, server.api_url))


def _pull(server: Server, request: Request) -> tuple[github_org.Repo, github_org.Pull] | None:
    found = _own_repo(server, request)
    if found is None or not request.params["number"].isdigit():
        return None
    number = int(request.params["number"])
    for pull in server.org.pulls.get(found.name.lower(), []):
        if pull.number == number:
            return found, pull
    return None


@ROUTES.route("GET", "/repos/{owner}/{repo}/pulls/{number}", "pull")
def pull_get(server: Server, request: Request) -> Reply:
    found = _pull(server, request)
    if found is None:
        return not_found(f"{PULLS_DOCS}#get-a-pull-request")
    return Reply(200, github_org.pull_json(server.org, *found, server.api_url))


@ROUTES.route("PATCH", "/repos/{owner}/{repo}/pulls/{number}", "pulls_update")
def pulls_update(server: Server, request: Request) -> Reply:
    found = _pull(server, request)
    if found is None:
        return not_found(f"{PULLS_DOCS}#update-a-pull-request")
    data = request.json() or {}
    if (refused := _too_long(data, "PullRequest")) is not None:
        return refused
    repo_, pull = found
    for key in ("title", "body", "state", "base"):
        if key in data and data[key] is not None:
            setattr(pull, key, str(data[key]))
    return Reply(200, github_org.pull_json(server.org, repo_, pull, server.api_url))


# -- REST: pull-request (issue) comments ------------------------------------------------

COMMENTS_DOCS = "https://docs.github.com/rest/issues/comments"
BODY_LIMIT = 65536  # characters of a comment's or pull request's body


def _too_long(data: Any, resource: str) -> Reply | None:
    body = data.get("body") if isinstance(data, dict) else None
    if isinstance(body, str) and len(body) > BODY_LIMIT:
        return validation_failed(f"body is too long (maximum is {BODY_LIMIT} characters)", resource)
    return None


def _issue(server: Server, request: Request) -> github_org.Repo | None:
    """The repository, when ``number`` is one of its pull requests."""
    found = _own_repo(server, request)
    number = request.params["number"]
    if found is None or not number.isdigit():
        return None
    pulls = server.org.pulls.get(found.name.lower(), [])
    return found if any(p.number == int(number) for p in pulls) else None


@ROUTES.route("GET", "/repos/{owner}/{repo}/issues/{number}/comments", "comments_list")
def comments_list(server: Server, request: Request) -> Reply:
    found = _issue(server, request)
    if found is None:
        return not_found(f"{COMMENTS_DOCS}#list-issue-comments")
    number = int(request.params["number"])
    items = [
        github_org.comment_json(server.org, found, comment, server.api_url)
        for comment in server.org.comments.get(found.name.lower(), [])
        if comment.issue_number == number
    ]
    return paginate(server, request, items, f"/repositories/{found.id}/issues/{number}/comments")


@ROUTES.route("POST", "/repos/{owner}/{repo}/issues/{number}/comments", "comments_create")
def comments_create(server: Server, request: Request) -> Reply:
    found = _issue(server, request)
    if found is None:
        return not_found(f"{COMMENTS_DOCS}#create-an-issue-comment")
    data = request.json()
    if not isinstance(data, dict) or not isinstance(data.get("body"), str) or not data["body"]:
        return validation_failed("body is missing", "IssueComment")
    if (refused := _too_long(data, "IssueComment")) is not None:
        return refused
    comments = server.org.comments.setdefault(found.name.lower(), [])
    every = [c for listed in server.org.comments.values() for c in listed]
    comment = github_org.Comment(
        id=1_000_000 + len(every) + 1,
        issue_number=int(request.params["number"]),
        body=data["body"],
    )
    comments.append(comment)
    return Reply(201, github_org.comment_json(server.org, found, comment, server.api_url))


@ROUTES.route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", "comments_update")
def comments_update(server: Server, request: Request) -> Reply:
    found = _own_repo(server, request)
    comment_id = request.params["comment_id"]
    comment = None
    if found is not None and comment_id.isdigit():
        listed = server.org.comments.get(found.name.lower(), [])
        comment = next((c for c in listed if c.id == int(comment_id)), None)
    if found is None or comment is None:
        return not_found(f"{COMMENTS_DOCS}#update-an-issue-comment")
    data = request.json()
    if not isinstance(data, dict) or not isinstance(data.get("body"), str):
        return validation_failed("body is missing", "IssueComment")
    if (refused := _too_long(data, "IssueComment")) is not None:
        return refused
    comment.body = data["body"]
    return Reply(200, github_org.comment_json(server.org, found, comment, server.api_url))


# -- REST: the /repositories/{id}/... form of the links GitHub's pagination sends ----------


def _by_repository_id(handler: Any) -> Any:
    def by_id(server: Server, request: Request) -> Reply:
        repo_id = request.params.pop("repo_id")
        found = next((r for r in server.org.repos.values() if str(r.id) == repo_id), None)
        if found is None:
            return not_found()
        request.params.update(owner=server.org.login, repo=found.name)
        return handler(server, request)

    return by_id


ROUTES.route("GET", "/repositories/{repo_id}/pulls", "pulls_list")(_by_repository_id(pulls_list))
ROUTES.route("GET", "/repositories/{repo_id}/teams", "repo_teams")(_by_repository_id(repo_teams))
ROUTES.route("GET", "/repositories/{repo_id}/issues/{number}/comments", "comments_list")(
    _by_repository_id(comments_list)
)


# -- REST: apps and rate limits -------------------------------------------------------------


@ROUTES.route("POST", "/app/installations/{installation_id}/access_tokens", "access_token")
def access_token(server: Server, request: Request) -> Reply:
    """Exchange the App's JWT (RS256, ``iss`` = app id) for an installation token."""
    docs = "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app"
    app = server.app
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if app is None or scheme.lower() != "bearer" or not token:
        return Reply(
            401, {"message": "A JSON web token could not be decoded", "documentation_url": docs}
        )
    try:
        claims = jwt.decode(
            token,
            app.public_key,
            algorithms=["RS256"],
            options={"require": ["iat", "exp", "iss"]},
            leeway=60,
        )
    except jwt.PyJWTError:
        return Reply(
            401, {"message": "A JSON web token could not be decoded", "documentation_url": docs}
        )
    if str(claims["iss"]) != str(app.app_id):
        return Reply(
            401, {"message": "'Issuer' claim ('iss') must be an Integer", "documentation_url": docs}
        )
    if request.params["installation_id"] != str(app.installation_id):
        return not_found(docs)
    issued = f"ghs_{secrets.token_hex(18)}"
    server.issue_token(issued)
    expires = datetime.now(UTC) + timedelta(hours=1)
    return Reply(
        201,
        {
            "token": issued,
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "permissions": {"contents": "read", "members": "read", "metadata": "read"},
            "repository_selection": "all",
        },
    )


@ROUTES.route("GET", "/rate_limit", "rate_limit")
def rate_limit(server: Server, request: Request) -> Reply:
    resources = {name: state.json() for name, state in server.rate_limits.items()}
    return Reply(200, {"resources": resources, "rate": resources["core"]})
