"""modelship promote: pin models in a promoted environment to what its source runs now."""

from __future__ import annotations

import argparse
import os

from generator import pinning, promotion
from generator.commands import options, pin_outcome
from generator.errors import UsageError

DESCRIPTION = """\
Record, in the platform repository's promotions/<TO>.yaml, that each MODEL (or
every model, with --all) runs in the environment TO at the state the
environment FROM runs it now: its repository's commit and its spec, as the
rendered tree at HEAD of its repository records them. TO must be promoted from
FROM in platform.yaml (environments.TO.promotion.from). Only a model that runs
in FROM and is not kept on error there is promoted, and only into an
environment it may run in (platform.yaml's environments.TO.models, the
MLproject's skip_environments); pins of models no longer on the platform are
dropped, and a model whose index.json entry is damaged keeps its pin and is not
promoted (it runs as it was). The change is printed model by model.

Without --pr the promotions file is written, and the next `modelship render`
or `publish` renders TO at the new pins. With --pr nothing is written here: the
file — and, when the rendered tree lives in the platform repository, the tree
rendered at the new pins, reading no model repository — is committed on the
branch <promotions.branch>/<TO> from HEAD, pushed, and a pull request is opened
or updated with the promotion and the rendered diff (the token github.auth
names must be able to write pull requests there).

  --all        every model that runs in FROM (models that may not run in TO are
               skipped)
  --by WHO     who to record (default: $GIT_AUTHOR_NAME <$GIT_AUTHOR_EMAIL>,
               the GitHub Actions actor, or git's user.name and user.email)
  --format json   the change for tools

Exit status: 0 promoted (or nothing to change), 1 a model named could not be
promoted (the others are), or the render at the new pins refused a mass delete
(nothing pushed), 2 bad usage or configuration (an unknown model or
environment, TO not promoted from FROM), 3 git or GitHub failed.
"""
EXAMPLES = """\
examples:
  modelship promote visual-similarity --from staging --to production
  modelship promote --all --from staging --to production --pr
  modelship promote fraud-score size-advice --from staging --to production --format json
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("models", nargs="*", metavar="MODEL", help="the models to promote")
    parser.add_argument("--all", action="store_true", help="every model that runs in FROM")
    parser.add_argument(
        "--from", dest="source", required=True, metavar="FROM", help="the environment promoted from"
    )
    parser.add_argument(
        "--to", dest="target", required=True, metavar="TO", help="the environment promoted into"
    )
    options.add_pinning(parser)


def run(args: argparse.Namespace) -> int:
    if bool(args.models) == args.all:
        raise UsageError("name the models to promote, or give --all (not both)")
    platform = options.load_platform(args)
    env = pinning.promoted_environment(platform, args.target, args.source)
    state = pinning.read_state(platform, env)
    decision = promotion.promote(
        platform,
        env,
        state.index,
        state.current,
        args.models or None,
        options.now(),
        pinning.who(args.by, platform, state, os.environ),
    )
    branch = f"{platform.promotions.branch}/{env.name}"
    return pin_outcome.finish_pinning(args, platform, state, decision, "promoted", branch)
