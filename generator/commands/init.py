"""modelship init: start a platform repository in the current folder."""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from pathlib import Path

from generator import scaffold
from generator.config import loader
from generator.errors import ExitCode, UsageError
from generator.findings import printable
from generator.present import console
from generator.shown_paths import shown_path

DESCRIPTION = """\
Write what a platform repository needs into the current folder (or --directory):

  platform.yaml        the platform, commented, checked as every command checks it
  .gitignore           Modelship's work folders and side files, and .venv/
  requirements.txt     the pin: the Modelship the workflows install
  .github/workflows/   render.yml (publish after every change, every hour and for
                       every model repository's dispatch), pr-preview.yml (the
                       rendered diff on every pull request), ci.yml (validate and
                       render --check)
  models/example-model with --source local: an example model repository

The pin is the Modelship running this command when it was installed from git
(pip records the commit it resolved: that commit, which certainly exists);
otherwise give it with --pin. Nothing is overwritten without --force, and
nothing is written through a symbolic link: --force replaces a file or a link
at a path init writes (never what the link points to), and refuses a folder it
writes into (.github, .github/workflows, models, models/example-model) that is
a link.

Then: review platform.yaml, commit, and `modelship publish --push` (README:
"Start your own platform").
"""
EXAMPLES = """\
examples:
  modelship init --organization acme --team rnd
  modelship init --organization acme --team rnd --source local   # try it without GitHub
  modelship init --organization acme --team rnd \\
      --rendered-repository https://github.com/acme/ml-deployments.git
  modelship init --organization acme --team rnd \\
      --pin "modelship @ git+https://github.com/acme/modelship@<commit sha>"
"""

_ORGANIZATION = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_URL = re.compile(r"(https://|ssh://|git@)[^\s\"'\\]+")


def _checked(pattern: re.Pattern[str], what: str, limit: int):
    def check(value: str) -> str:
        if len(value) > limit or not pattern.fullmatch(value):
            raise argparse.ArgumentTypeError(f"not {what}: {value!r}")
        return value

    return check


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--organization",
        required=True,
        type=_checked(_ORGANIZATION, "a GitHub organization login", 39),
        help="the GitHub organization of the model repositories",
    )
    parser.add_argument(
        "--team",
        required=True,
        type=_checked(_LABEL, "a team name (lowercase letters, digits and '-')", 63),
        help="the first team (models-TEAM is its namespace); add more in platform.yaml",
    )
    parser.add_argument(
        "--name",
        type=_checked(_LABEL, "a platform name (lowercase letters, digits and '-')", 63),
        help="the platform's name (default: ORGANIZATION-ml, lowercased)",
    )
    parser.add_argument(
        "--source",
        choices=("github", "local"),
        default="github",
        help="github: scan the organization (default); local: model repositories are the "
        "folders of models/ (with an example), to try it out",
    )
    parser.add_argument(
        "--rendered-repository",
        metavar="URL",
        type=_checked(_URL, "an https://, ssh:// or git@ repository URL", 500),
        help="keep the rendered tree in a repository of its own (default: rendered/ here)",
    )
    parser.add_argument(
        "--pin",
        metavar="REQUIREMENT",
        help="the requirements.txt line that installs Modelship, e.g. 'modelship @ "
        "git+https://github.com/acme/modelship@<sha>' (default: this Modelship's commit)",
    )
    parser.add_argument(
        "--directory", metavar="DIR", default=".", help="where to write (default: here)"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace the files that exist (a link itself, not what it points to)",
    )


def run(args: argparse.Namespace) -> int:
    root = Path(args.directory)
    _check_directory(root)
    build = scaffold.installed()
    pin = args.pin or build.pin
    if pin is None:
        raise UsageError(
            f"this Modelship ({build.version}) was not installed from a git repository, so "
            "its commit is unknown; give the requirement to pin with --pin, e.g. --pin "
            "'modelship @ git+https://github.com/acme/modelship@<release commit sha>'"
        )
    if "\n" in pin or not pin.strip():
        raise UsageError(f"--pin must be one requirement line: {pin!r}")
    choices = scaffold.Choices(
        name=args.name or f"{args.organization.lower()}-ml",
        organization=args.organization,
        team=args.team,
        source=args.source,
        rendered_repository=args.rendered_repository,
        pin=pin.strip(),
    )
    contents = scaffold.files(choices, build)
    _check_targets(root, list(contents), args.force)
    _check_platform(contents["platform.yaml"], root)
    scaffold.write(root, contents)
    for path in contents:
        console.info(printable(f"wrote {shown_path(root / path)}"))
    console.info(
        "next: review platform.yaml, then `git add --all && git commit` and "
        "`modelship publish --push` (README: Start your own platform)"
    )
    return ExitCode.OK


def _check_directory(root: Path) -> None:
    """--directory is a folder (a link to one is the user's choice), or a path init can make:
    the nearest of it and its parents that exists is a folder."""
    for path in (root, *root.parents):
        if not os.path.lexists(path):
            continue
        if path.is_dir():
            return
        what = "a symbolic link to nothing" if not path.exists() else "not a folder"
        where = "" if path == root else f"{path} is "
        raise UsageError(printable(f"--directory {root}: {where}{what}; nothing was written"))


def _check_targets(root: Path, paths: list[str], force: bool) -> None:
    """Before anything is written: init writes inside --directory only, so a folder on the
    way that is a link is refused even with --force; and --force replaces a file or a link
    (never what the link points to), not a folder or a pipe."""
    for folder in _folders(paths):
        path = root / folder
        if path.is_symlink():
            problem = f"a symbolic link; init writes only inside {root}, never through a link"
        elif os.path.lexists(path) and not path.is_dir():
            problem = "not a folder, and init writes into it"
        else:
            continue
        raise UsageError(printable(f"{shown_path(path)}: {problem}: nothing was written"))
    existing = [path for path in paths if os.path.lexists(root / path)]
    if existing and not force:
        raise UsageError(
            printable(
                f"{', '.join(existing)} already exist in {root}; nothing was written "
                "(--force replaces them)"
            )
        )
    for path in existing:
        if not ((root / path).is_symlink() or (root / path).is_file()):
            raise UsageError(
                printable(
                    f"{shown_path(root / path)}: not a file; --force replaces files and links, "
                    "not folders, pipes or devices: nothing was written"
                )
            )


def _folders(paths: list[str]) -> list[str]:
    """The folders between --directory and each of ``paths``, each one before those below."""
    return sorted({str(parent) for path in paths for parent in Path(path).parents} - {"."})


def _check_platform(text: str, root: Path) -> None:
    """The platform.yaml about to be written, read as every command will read it."""
    with tempfile.TemporaryDirectory(prefix="modelship-init-") as folder:
        (Path(folder) / "models").mkdir()
        loader.parse(text, Path(folder) / "platform.yaml", shown=str(root / "platform.yaml"))
