"""The use case of ``promote`` and ``rollback``: read what the rendered repository's HEAD
runs, decide the environment's new pins (``promotion``), and either write its promotions
file, or commit it on a branch of its own — with the rendered tree rendered at the new
pins when the tree lives in the platform repository — push that and open or update a pull
request whose body shows the promotion and the rendered diff.

The render of a promotion reads no model repository: every model stays as index.json has
it, and only the promoted environment moves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from generator import changeset, index, pins, promotion_store, rendered_repo, run
from generator.changeset import ChangeSet
from generator.config.settings import Environment, Platform
from generator.errors import ExternalError, UsageError
from generator.github import pull_requests
from generator.github.client import connect
from generator.github.hosting import platform_repository
from generator.pins import Promotions
from generator.promotion import Decision
from generator.sources.base import Scan


def promoted_environment(platform: Platform, name: str, source: str | None = None) -> Environment:
    """The environment ``name``, which must be promoted into (from ``source``, when given)."""
    env = platform.environment(name)
    if env is None:
        known = ", ".join(e.name for e in platform.environments)
        raise UsageError(f"{name}: no such environment in platform.yaml ({known})")
    if env.promoted_from is None:
        raise UsageError(
            f"{name} follows the sources, it is not promoted into: give it "
            f"`promotion: {{from: ...}}` in platform.yaml (environments.{name})"
        )
    if source is not None and source != env.promoted_from:
        raise UsageError(
            f"{name} is promoted from {env.promoted_from}, not from {source} "
            f"(environments.{name}.promotion.from in platform.yaml)"
        )
    return env


@dataclass(frozen=True)
class State:
    """What a promotion starts from: the rendered repository, its tree at HEAD and that
    tree's index, and the environment's pins now."""

    rendered: rendered_repo.RenderedRepo
    tree: dict[str, bytes]
    index: index.Index
    current: Promotions


def read_state(platform: Platform, env: Environment) -> State:
    rendered = rendered_repo.open_rendered(platform)
    tree = rendered_repo.head_tree(rendered)
    return State(
        rendered,
        tree,
        index.tree_index(tree, str(platform.rendered_path)),
        promotion_store.read(platform, env.name),
    )


def who(given: str | None, platform: Platform, state: State, environ: Mapping[str, str]) -> str:
    """Who the pins record as moving them: ``given`` (--by), else who runs this, else
    publish.author. One the promotions file could not hold (every later run would refuse
    the file) is refused before anything is written."""
    author = platform.publish.author
    person = given or rendered_repo.person(state.rendered, environ)
    by = person or f"{author.name} <{author.email}>"
    problem = pins.recorder_problem(by)
    if problem is None:
        return by
    if given:
        raise UsageError(f"--by: {problem}")
    if person:
        raise UsageError(
            "who runs this, as $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>, the GitHub Actions actor "
            f"or git's user.name and user.email say: {problem}; give --by"
        )
    raise UsageError(f"publish.author in platform.yaml, who runs this: {problem}; give --by")


@dataclass
class Outcome:
    decision: Decision
    said: list[str] = field(default_factory=list)
    written: str = ""  # the promotions file written, as shown
    pull_request: pull_requests.PullRequest | None = None
    refusal: str | None = None  # the render at the new pins was refused: nothing pushed
    changes: ChangeSet | None = None


def write(platform: Platform, decision: Decision) -> str:
    promotion_store.write(platform, decision.promotions)
    return promotion_store.shown(platform, decision.promotions.environment)


def render_at(
    platform: Platform, state: State, promotions: Promotions
) -> tuple[run.RenderRun, ChangeSet]:
    """The tree at HEAD rendered again with ``promotions`` for their environment, reading
    no repository (every model stays as index.json has it)."""
    every = promotion_store.read_all(platform)
    every[promotions.environment] = promotions
    result = run.render_run(platform, Scan((), chosen=True), base=state.tree, promotions=every)
    return result, changeset.classify(state.tree, result.planned, platform.promoted_from)


def open_pull_request(
    platform: Platform,
    state: State,
    decision: Decision,
    *,
    branch: str,
    message: str,
    body: Callable[[ChangeSet, run.RenderRun], str],
    environ: Mapping[str, str],
) -> Outcome:
    """Commit the promotions file (and, in the platform repository, the tree rendered at the
    new pins) on ``branch`` from HEAD, push it and open or update its pull request."""
    outcome = Outcome(decision)
    handle = rendered_repo.open_platform(platform)
    if handle.branch is None:
        raise UsageError(
            f"HEAD is detached in {handle.repo.working_tree_dir}; check out the branch the "
            "pull request is to go into"
        )
    repository = platform_repository(platform, handle)
    connection = connect(platform.github, writes=True, environ=environ, purpose="a pull request")
    result, changes = render_at(platform, state, decision.promotions)
    outcome.changes = changes
    if result.refusal:
        outcome.refusal = result.refusal
        return outcome
    name = pins.file_name(decision.promotions.environment)
    files = {f"{handle.prefix}/{name}": pins.dumps(decision.promotions)}
    folders = (
        {state.rendered.prefix: result.planned} if platform.rendered_repository is None else {}
    )
    identity = rendered_repo.git_identity(platform, environ)
    sha = rendered_repo.commit_files(handle, message, identity, folders=folders, files=files)
    if sha is None:
        outcome.said.append(f"nothing to commit: {handle.branch} holds this already")
        return outcome
    pushed = rendered_repo.push(handle, sha, branch, force=True)
    if not pushed.pushed:
        raise ExternalError(f"cannot push the branch {branch}: {pushed.message}")
    outcome.said.append(f"committed {sha[:7]} ({branch}) and pushed it")
    outcome.pull_request = pull_requests.open_or_update(
        connection.client,
        repository,
        branch,
        str(handle.branch),
        message.splitlines()[0],
        body(changes, result),
    )
    return outcome
