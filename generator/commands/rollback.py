"""modelship rollback: pin a model in a promoted environment to a state it ran earlier."""

from __future__ import annotations

import argparse
import os
import re

from generator import pinning, promotion, spec_history
from generator.commands import options, pin_outcome

DESCRIPTION = """\
Pin MODEL in the promoted environment ENV (promotions/<ENV>.yaml) to a state it
ran there before, as the rendered repository's history records it: the index.json
of earlier commits (the newest 1,000 that changed it). By default the state before
the one pinned now; with --to COMMIT the newest state at that commit of the
model's repository (at least 4 hex digits of it, as `modelship list` shows
commits). The image of that commit was built when it was first rendered.

Without --pr the promotions file is written, and the next `modelship render`
or `publish` renders ENV at the new pin (the spec is found in the rendered
repository's history). With --pr the file — and, when the rendered tree lives
in the platform repository, the tree rendered at the new pin — is committed on
the branch <promotions.branch>/<ENV>-rollback from HEAD, pushed, and a pull
request is opened or updated.

  --to COMMIT     the model repository's commit to return to
  --by WHO        who to record
  --format json   the change for tools

Exit status: 0 rolled back, 1 the render at the new pin refused a mass delete
(nothing pushed), 2 bad usage or configuration (an unknown model or environment,
ENV not promoted into, no such earlier state), 3 git or GitHub failed.
"""
EXAMPLES = """\
examples:
  modelship rollback fraud-score --env production
  modelship rollback fraud-score --env production --to 4e1c2a9
  modelship rollback fraud-score --env production --pr
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", metavar="MODEL", help="the model to roll back")
    parser.add_argument("--env", required=True, metavar="ENV", help="the promoted environment")
    parser.add_argument(
        "--to",
        metavar="COMMIT",
        type=_commit,
        help="the model repository's commit to return to (4 to 40 hex digits)",
    )
    options.add_pinning(parser)


def _commit(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{4,40}", value):
        raise argparse.ArgumentTypeError(f"not a commit (4 to 40 lowercase hex digits): {value!r}")
    return value


def run(args: argparse.Namespace) -> int:
    platform = options.load_platform(args)
    env = pinning.promoted_environment(platform, args.env)
    state = pinning.read_state(platform, env)
    decision = promotion.rollback(
        platform,
        env,
        args.model,
        state.index,
        state.current,
        spec_history.earlier_states(state.rendered, args.model, env.name),
        args.to,
        options.now(),
        pinning.who(args.by, platform, state, os.environ),
    )
    branch = f"{platform.promotions.branch}/{env.name}-rollback"
    return pin_outcome.finish_pinning(args, platform, state, decision, "rolled back", branch)
