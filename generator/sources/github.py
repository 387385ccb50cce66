"""The github source: an organization's model repositories, read with PyGithub.

Requests, for an organization of N repositories:

- the scan: one GraphQL query per 100 repositories, each carrying names, flags, topics,
  the default branch's head commit and the MLproject text at that head — ⌈N/100⌉ pages
  (one for an empty organization), plus the App token exchange with App auth: at most
  ⌈N/100⌉ + 2;
- file fallbacks: one REST contents request per MLproject too large for GraphQL's text;
- ownership: one team-repositories listing (100 per page) per GitHub team the platform
  names, giving the teams with push access to each repository.

The pages are walked by hand rather than with PyGithub's ``PaginatedList`` because the
walk must check the cursor chain (a repeated or missing cursor, a repository seen twice,
a count that does not match ``totalCount``) and keep what was read when a page fails;
``PaginatedList`` does neither. The REST team listings are walked by hand too: each page
must be a list of repositories (``PaginatedList`` crashes on an HTML page with status 200),
and a 404 after the first page is a failed read, not a team that does not exist. Any
failure makes the scan incomplete; nothing is raised.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from github.GithubException import UnknownObjectException
from requests.utils import parse_header_links

from generator.config.settings import GitHubSettings, Platform
from generator.github import graphql, transport
from generator.github.client import Connection, connect
from generator.github.errors import FAILURES, describe
from generator.github.graphql import ResponseShapeError
from generator.github.transport import Clock
from generator.mlproject import MAX_BYTES, too_large
from generator.sources import selection
from generator.sources.base import (
    FetchFailure,
    ProgressCallback,
    RepoSnapshot,
    Scan,
    SingleRead,
)
from generator.sources.report import RateLimit, ScanReport, Skipped

PUSH_PERMISSIONS = ("push", "maintain", "admin")
PAGE_SIZE = graphql.PAGE_SIZE
MAX_REST_PAGES = 1000  # 100,000 entries in one listing: beyond any organization's


class _Incomplete(Exception):
    pass


class GitHubSource:
    def __init__(
        self,
        settings: GitHubSettings,
        team_slugs: tuple[str, ...] = (),
        *,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.team_slugs = tuple(sorted(set(team_slugs)))
        self.rules = selection.Rules(
            suffix=settings.repo_suffix,
            topic=settings.topic,
            include_topics=settings.include_topics,
            exclude_topics=settings.exclude_topics,
            name_pattern=settings.name_pattern,
            skip_forks=settings.skip_forks,
        )
        # Credentials are resolved now: a missing token is a configuration error (exit 2)
        # before any request, not a failed scan.
        self.connection: Connection = connect(settings, clock=clock, environ=environ)
        self.report = ScanReport(settings.organization)

    @classmethod
    def from_platform(
        cls,
        platform: Platform,
        *,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> GitHubSource:
        slugs = tuple(slug for team in platform.teams.values() for slug in team.github_teams)
        return cls(platform.github, slugs, clock=clock, environ=environ)

    @property
    def organization(self) -> str:
        return self.settings.organization

    def scan(self, progress: ProgressCallback | None = None) -> Scan:
        self.report = report = ScanReport(self.organization)
        usage = self.connection.usage
        before = replace(usage)
        counted = usage.requests

        def requests_since_last_call() -> int:
            nonlocal counted
            spent, counted = usage.requests - counted, usage.requests
            return spent

        nodes, reason = self._read_pages(report, progress)
        report.scan_requests = requests_since_last_call()
        selected: list[tuple[graphql.RepoNode, selection.Verdict]] = []
        for node in nodes:
            verdict = selection.judge(self.rules, node.name, node.topics, node.archived, node.fork)
            if verdict.selected:
                selected.append((node, verdict))
            elif verdict.candidate:
                report.skipped.append(
                    Skipped(node.full_name, verdict.selected_by, verdict.skipped, verdict.detail)
                )
        texts, failures = self._read_files(report, selected, stop=bool(reason))
        report.file_requests = requests_since_last_call()
        owners: dict[str, set[str]] = {}
        if selected and not reason:
            owners, reason = self._push_teams(report)
        report.ownership_requests = requests_since_last_call()
        report.retries = usage.retries - before.retries
        report.rate_limit_waited = usage.rate_limit_waited - before.rate_limit_waited
        report.backoff_slept = usage.backoff_slept - before.backoff_slept
        failed = {failure.full_name for failure in failures}
        snapshots = [
            self._snapshot(node, verdict, texts.get(node.full_name), owners, reason)
            for node, verdict in selected
            if node.full_name not in failed
        ]
        return Scan(
            snapshots=tuple(sorted(snapshots, key=lambda s: s.full_name)),
            failures=tuple(sorted(failures, key=lambda f: f.full_name)),
            complete=not reason,
            incomplete_reason=reason,
            warnings=tuple(report.warnings),
        )

    # -- one repository ----------------------------------------------------------------------

    def read(self, full_name: str, progress: ProgressCallback | None = None) -> Scan:
        """Only ``full_name``: one GraphQL query for the repository (the same fields as a
        page of the scan), the REST contents request when its MLproject is too large for
        GraphQL, and one listing of the repository's teams for ownership (100 per page)
        when the platform names GitHub teams. Not found, or not a model repository: a scan
        with no snapshot, and ``single.missing`` says why."""
        self.report = report = ScanReport(self.organization)
        try:
            node = self._repository(full_name, report)
        except _NotFound:
            missing = (
                "was not found on GitHub (deleted, renamed, or not visible to "
                f"{self.connection.credential_hint})"
            )
            return Scan((), single=SingleRead(full_name, missing))
        except FAILURES as error:
            reason = f"{full_name}: {describe(error, self.connection.credential_hint)}"
            return Scan((), complete=False, incomplete_reason=reason, single=SingleRead(full_name))
        if progress:
            progress(1, 1)
        report.seen = 1
        verdict = selection.judge(self.rules, node.name, node.topics, node.archived, node.fork)
        if not verdict.selected:
            return Scan((), single=SingleRead(full_name, _not_selected(self.rules, verdict)))
        texts, failures = self._read_files(report, [(node, verdict)], stop=False)
        if failures:
            return Scan((), tuple(failures), single=SingleRead(full_name))
        owners, reason = self._repository_push_teams(node.full_name)
        if reason:
            # Ownership unknown: nothing about the repository is concluded this run.
            return Scan((), complete=False, incomplete_reason=reason, single=SingleRead(full_name))
        snapshot = self._snapshot(node, verdict, texts.get(node.full_name), owners, "")
        return Scan((snapshot,), single=SingleRead(full_name))

    def _repository(self, full_name: str, report: ScanReport) -> graphql.RepoNode:
        variables = graphql.repository_variables(full_name)
        try:
            data = self._graphql(graphql.REPOSITORY_QUERY, variables, report)
        except UnknownObjectException as error:
            if _is_graphql_not_found(error.data):
                raise _NotFound from None
            raise
        return graphql.parse_repository(data)

    def _repository_push_teams(self, full_name: str) -> tuple[dict[str, set[str]], str]:
        """Like ``_push_teams`` for one repository: the platform's GitHub teams among those
        with push, maintain or admin access to it."""
        if not self.team_slugs:
            return {}, ""
        wanted = set(self.team_slugs)
        teams: set[str] = set()
        try:
            for page in self._rest_pages(f"/repos/{full_name}/teams", f"the teams of {full_name}"):
                for slug, permission in _fields(page, ("slug", "permission"), full_name):
                    if slug in wanted and permission in PUSH_PERMISSIONS:
                        teams.add(slug)
        except FAILURES as error:
            failure = describe(error, self.connection.credential_hint)
            return {}, f"the teams of {full_name} could not be listed: {failure}"
        return {full_name.lower(): teams}, ""

    # -- the GraphQL pages ---------------------------------------------------------------

    def _read_pages(
        self, report: ScanReport, progress: ProgressCallback | None
    ) -> tuple[list[graphql.RepoNode], str]:
        """Every repository of the organization, and "" — or what was read before the
        failure, and why the scan is incomplete."""
        nodes: list[graphql.RepoNode] = []
        seen: set[str] = set()
        cursors: set[str] = set()
        cursor: str | None = None
        try:
            while True:
                total = report.total_count
                if total is not None and report.pages > math.ceil(total / PAGE_SIZE) + 1:
                    raise _Incomplete(
                        f"the cursor chain is broken: {report.pages} pages for {total} repositories"
                    )
                page = self._page(cursor, report)
                report.pages += 1
                report.total_count = page.total_count
                for node in page.nodes:
                    if node.full_name.lower() in seen:
                        raise _Incomplete(
                            f"the cursor chain is broken: page {report.pages} repeats "
                            f"{node.full_name}"
                        )
                    seen.add(node.full_name.lower())
                    nodes.append(node)
                report.seen = len(nodes)
                if progress:
                    progress(len(nodes), page.total_count)
                if not page.has_next_page:
                    if len(nodes) != page.total_count:
                        raise _Incomplete(
                            f"GitHub counts {page.total_count} repositories but its pages held "
                            f"{len(nodes)}"
                        )
                    return nodes, ""
                if page.end_cursor is None or page.end_cursor in cursors:
                    raise _Incomplete(
                        f"the cursor chain is broken: page {report.pages} announces a next "
                        "page without a new cursor"
                    )
                cursors.add(page.end_cursor)
                cursor = page.end_cursor
        except _Incomplete as incomplete:
            return nodes, self._incomplete(report, str(incomplete))
        except FAILURES as error:
            failure = describe(error, self.connection.credential_hint)
            return nodes, self._incomplete(report, f"page {report.pages + 1}: {failure}")

    def _incomplete(self, report: ScanReport, reason: str) -> str:
        total = "?" if report.total_count is None else str(report.total_count)
        return f"{reason} (read {report.seen} of {total} repositories)"

    def _page(self, cursor: str | None, report: ScanReport) -> graphql.Page:
        variables = graphql.variables(self.organization, cursor)
        data = self._graphql(graphql.QUERY, variables, report)
        return graphql.parse_page(data, self.organization)

    def _graphql(self, query: str, variables: dict[str, Any], report: ScanReport) -> Any:
        headers, data = transport.graphql(
            self.connection.client.requester,
            self.connection.usage,
            self.settings.limits.retries,
            query,
            variables,
        )
        self._observe(report, headers)
        return data

    def _observe(self, report: ScanReport, headers: Mapping[str, Any]) -> None:
        try:
            limit = RateLimit(
                resource=str(headers.get("x-ratelimit-resource", "graphql")),
                remaining=int(headers["x-ratelimit-remaining"]),
                limit=int(headers["x-ratelimit-limit"]),
                reset=int(headers["x-ratelimit-reset"]),
            )
        except (KeyError, ValueError):
            return
        report.rate_limits[limit.resource] = limit

    def _observe_rest(self, report: ScanReport) -> None:
        requester = self.connection.client.requester
        remaining, limit = requester.rate_limiting
        if limit >= 0:
            report.rate_limits["core"] = RateLimit(
                "core", remaining, limit, requester.rate_limiting_resettime
            )

    # -- files too large for GraphQL ------------------------------------------------------

    def _read_files(
        self,
        report: ScanReport,
        selected: list[tuple[graphql.RepoNode, selection.Verdict]],
        stop: bool,
    ) -> tuple[dict[str, str], list[FetchFailure]]:
        texts: dict[str, str] = {}
        failures: list[FetchFailure] = []
        for node, _ in selected:
            blob = node.mlproject
            if blob is None:
                continue
            if blob.problem is not None:
                failures.append(FetchFailure(node.full_name, blob.problem))
            elif blob.size > MAX_BYTES:
                failures.append(FetchFailure(node.full_name, too_large(blob.path, blob.size)))
            elif blob.binary:
                failures.append(
                    FetchFailure(node.full_name, f"{blob.path} is a binary file, not YAML text")
                )
            elif blob.text is not None and not blob.truncated:
                texts[node.full_name] = blob.text
            elif not stop:
                try:
                    texts[node.full_name] = self._fetch_file(node, blob)
                except _FileError as error:
                    failures.append(FetchFailure(node.full_name, error.message, error.detail))
            else:
                failures.append(
                    FetchFailure(node.full_name, f"{blob.path} was not read: the scan stopped")
                )
        if any(node.mlproject and node.mlproject.truncated for node, _ in selected):
            self._observe_rest(report)
        return texts, failures

    def _fetch_file(self, node: graphql.RepoNode, blob: graphql.Blob) -> str:
        repo = self.connection.client.get_repo(node.full_name)
        try:
            content = repo.get_contents(blob.path, ref=node.head_sha or "")
        except FAILURES as error:
            what = (
                f"{blob.path} ({blob.size} bytes, too large for GraphQL) could not be read "
                "through the contents API"
            )
            hint = self.connection.credential_hint
            raise _FileError(
                f"{what}: {describe(error, hint, stable=True)}", f"{what}: {describe(error, hint)}"
            ) from None
        if isinstance(content, list) or content.type != "file":
            raise _FileError(f"{blob.path} is not a file at {node.head_sha}")
        if content.encoding != "base64":
            raise _FileError(
                f"{blob.path} is {blob.size} bytes, larger than GitHub's contents API returns"
            )
        try:
            return content.decoded_content.decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise _FileError(f"{blob.path} is not UTF-8 text") from None

    # -- ownership -------------------------------------------------------------------------

    def _push_teams(self, report: ScanReport) -> tuple[dict[str, set[str]], str]:
        """Lower-cased owner/name → slugs of the platform's GitHub teams with push access.

        A 404 for the first page of a team's listing means the team does not exist (or the
        credentials cannot see it): said once, and its repositories have no push access by
        it. Any other failure, a 404 on a later page included, leaves ownership unknown."""
        owners: dict[str, set[str]] = defaultdict(set)
        for slug in self.team_slugs:
            read = 0  # pages of this team's listing read so far
            url = f"/orgs/{self.organization}/teams/{slug}/repos"
            try:
                for page in self._rest_pages(url, f"GitHub team {slug}'s repositories"):
                    read += 1
                    where = f"page {read} of GitHub team {slug}'s repositories"
                    for full_name, permissions in _fields(
                        page, ("full_name", "permissions"), where
                    ):
                        if isinstance(permissions, dict) and any(
                            permissions.get(p) is True for p in PUSH_PERMISSIONS
                        ):
                            owners[full_name.lower()].add(slug)
            except UnknownObjectException as error:
                if read:
                    failure = describe(error, self.connection.credential_hint)
                    return owners, (
                        f"page {read + 1} of GitHub team {slug}'s repositories could not be "
                        f"read after page {read} was: {failure}"
                    )
                report.warnings.append(missing_team(self.organization, slug))
            except FAILURES as error:
                failure = describe(error, self.connection.credential_hint)
                return owners, (
                    f"GitHub team {slug}'s repositories could not be listed (page {read + 1}): "
                    f"{failure}"
                )
        if self.team_slugs:
            self._observe_rest(report)
        return owners, ""

    def _rest_pages(self, url: str, what: str) -> Iterator[list[Any]]:
        """Each page of a REST listing (100 per page), following GitHub's ``Link`` header. An
        answer that is not a JSON list (an HTML page with status 200, say) is a
        ResponseShapeError, as the GraphQL pages' are: never a crash, never an empty list."""
        requester = self.connection.client.requester
        next_url: str | None = url
        parameters: dict[str, Any] | None = {"per_page": PAGE_SIZE}
        for page in range(1, MAX_REST_PAGES + 1):
            if next_url is None:
                return
            headers, data = requester.requestJsonAndCheck("GET", next_url, parameters=parameters)
            if not isinstance(data, list):
                raise ResponseShapeError(f"page {page} of {what} is not a list")
            yield data
            links = {
                link.get("rel"): link.get("url")
                for link in parse_header_links(str(headers.get("link", "")))
            }
            next_url, parameters = links.get("next"), None
        raise ResponseShapeError(f"{what} run to more than {MAX_REST_PAGES} pages")

    def _snapshot(
        self,
        node: graphql.RepoNode,
        verdict: selection.Verdict,
        text: str | None,
        owners: Mapping[str, set[str]],
        reason: str,
    ) -> RepoSnapshot:
        # Ownership unknown (the scan stopped before it was read) is marked as such, and its
        # teams are "none proven", never None, which would let the policy skip the rule.
        push_teams = () if reason else tuple(sorted(owners.get(node.full_name.lower(), ())))
        return RepoSnapshot(
            full_name=node.full_name,
            clone_url=f"{node.url}.git",
            default_branch=node.default_branch or "",
            head_sha=node.head_sha or "",
            mlproject=text,
            mlproject_path=node.mlproject.path if node.mlproject else "MLproject",
            topics=node.topics,
            archived=node.archived,
            fork=node.fork,
            selected_by=verdict.selected_by,
            push_teams=push_teams,
            push_teams_unknown=bool(reason),
        )


def missing_team(organization: str, slug: str) -> str:
    return (
        f"GitHub team {organization}/{slug} (named in platform.yaml's github_teams) does not "
        "exist or these credentials cannot see it: it gives push access to no repository, so "
        "a platform team that relies on it cannot own its models — its new models are "
        "rejected and its deployed ones are kept on error until the team is visible"
    )


def _fields(page: list[Any], keys: tuple[str, str], where: str) -> list[tuple[str, Any]]:
    """The two fields ``keys`` of every object of a listing page, the first a string."""
    found = []
    for item in page:
        first = item.get(keys[0]) if isinstance(item, dict) else None
        if not isinstance(first, str) or keys[1] not in item:
            raise ResponseShapeError(f"{where}: an entry lacks {keys[0]} or {keys[1]}")
        found.append((first, item[keys[1]]))
    return found


class _FileError(Exception):
    """``message`` for index.json (the same for the same answer), ``detail`` for the console."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = "" if detail == message else detail


class _NotFound(Exception):
    pass


def _is_graphql_not_found(data: Any) -> bool:
    """GitHub's answer for an unknown repository: ``repository: null`` and one NOT_FOUND
    error at the path ``repository`` (a 404 of a wrong GraphQL URL is not that)."""
    errors = data.get("errors") if isinstance(data, dict) else None
    return isinstance(errors, list) and any(
        isinstance(e, dict) and e.get("type") == "NOT_FOUND" and e.get("path") == ["repository"]
        for e in errors
    )


def _not_selected(rules: selection.Rules, verdict: selection.Verdict) -> str:
    """Why a repository is not a model repository, to end a sentence starting with its name."""
    if not verdict.candidate:
        return (
            f"is not a model repository (its name does not end with {rules.suffix} and it "
            f"lacks the topic {rules.topic})"
        )
    detail = f" ({verdict.detail})" if verdict.detail else ""
    reasons = {
        selection.ARCHIVED: "is archived",
        selection.FORK: "is a fork (github.skip_forks)",
        selection.EXCLUDED_TOPIC: f"carries an excluded topic{detail}",
        selection.NO_INCLUDE_TOPIC: f"lacks every include topic{detail}",
        selection.NAME_PATTERN: f"does not match github.name_pattern{detail}",
    }
    return reasons.get(verdict.skipped, f"is left out: {verdict.skipped}")
