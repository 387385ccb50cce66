"""Earlier states of models, read from the rendered repository's history: the index.json of
earlier commits (gitpython). A promoted environment pinned to a state the current
index.json no longer holds (a rollback) finds its spec here; ``rollback`` finds here the
states an environment ran before."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import git

from generator import index, rendered_repo
from generator.config.settings import Platform
from generator.errors import ExternalError, UsageError
from generator.index import SpecKey
from generator.model import Model
from generator.promotion import EarlierState

MAX_COMMITS = 1000  # commits that changed index.json, newest first, read at most


def versions(rendered: rendered_repo.RenderedRepo) -> Iterator[tuple[str, bytes]]:
    """(commit, index.json) of the commits that changed the tree's index.json, newest
    first, at most MAX_COMMITS."""
    path = f"{rendered.prefix}/{index.INDEX_PATH}"
    repo = rendered.repo
    if not repo.head.is_valid():  # no commit yet
        return
    try:
        commits = list(repo.iter_commits("HEAD", paths=path, max_count=MAX_COMMITS))
    except git.GitCommandError as error:
        raise ExternalError(f"cannot read the history of {path}: {error}") from None
    for commit in commits:
        try:
            blob = commit.tree / path
        except KeyError:
            continue
        yield commit.hexsha, blob.data_stream.read()


def find(rendered: rendered_repo.RenderedRepo, wanted: Iterable[SpecKey]) -> dict[SpecKey, Model]:
    """The states among ``wanted`` that an earlier index.json recorded."""
    missing = set(wanted)
    found: dict[SpecKey, Model] = {}
    for _, data in versions(rendered):
        if not missing:
            break
        more = index.known_states(data, missing)
        found.update(more)
        missing -= set(more)
    return found


Lookup = Callable[[set[SpecKey]], dict[SpecKey, Model]]


def finder(platform: Platform) -> Lookup:
    """``find`` against the platform's rendered repository, opened only when asked; a tree
    in no git repository has no history (nothing is found)."""

    def lookup(wanted: set[SpecKey]) -> dict[SpecKey, Model]:
        try:
            rendered = rendered_repo.open_rendered(platform, sync=False)
        except UsageError:
            return {}
        return find(rendered, wanted)

    return lookup


def earlier_states(
    rendered: rendered_repo.RenderedRepo, model_id: str, environment: str
) -> list[EarlierState]:
    """What ``environment`` ran of ``model_id`` at each earlier index.json, newest first."""
    states = []
    for sha, data in versions(rendered):
        entry = index.recorded_state(data, model_id, environment)
        if entry is not None:
            states.append(EarlierState(sha, entry))
    return states
