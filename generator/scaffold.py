"""What `modelship init` writes into a new platform repository: platform.yaml (commented, and
checked by the same loader every command uses), .gitignore, requirements.txt pinning this
Modelship, and the workflows for a repository that installs Modelship as a package.

The files are ``scaffold/`` of Modelship's repository (``generator/_data/scaffold`` in a
wheel): the workflows and .gitignore are copied as they are — the same bytes the project's
tests lint with actionlint and GitHub's schemas — and the two ``.j2`` files are filled in
with Jinja2 from values the command line checked.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2

from generator import resources
from generator.errors import ExternalError
from generator.findings import printable
from generator.shown_paths import shown_path

# Copied as they are: scaffold file → where it goes in the platform repository.
COPIED = {
    "gitignore": ".gitignore",
    ".github/workflows/render.yml": ".github/workflows/render.yml",
    ".github/workflows/pr-preview.yml": ".github/workflows/pr-preview.yml",
    ".github/workflows/ci.yml": ".github/workflows/ci.yml",
}
PLATFORM_TEMPLATE = "platform.yaml.j2"
EXAMPLE_MODEL_TEMPLATE = "models/example-model/MLproject.j2"
EXAMPLE_MODEL = "models/example-model/MLproject"
REQUIREMENTS = "requirements.txt"
PACKAGE = "modelship"
_FULL_SHA = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class Choices:
    name: str  # the platform's name (DNS label)
    organization: str  # the GitHub organization of the model repositories
    team: str  # the first team (DNS label)
    source: str  # github | local (models/, with an example model)
    rendered_repository: str | None  # URL of a separate rendered repository, or None
    pin: str  # the requirements.txt line that installs this Modelship


@dataclass(frozen=True)
class Installed:
    """How this Modelship was installed (PEP 610's direct_url.json), for the pin."""

    version: str
    url: str | None  # the git repository it was installed from, when it was
    commit: str | None  # the commit pip resolved, when installed from git
    requested: str | None  # the ref asked for (a tag), when given

    @property
    def pin(self) -> str | None:
        """A requirement that installs exactly this Modelship, or None when it cannot be
        known (an editable install or a folder): then ``--pin`` must say."""
        if self.url is not None and self.commit is not None:
            return f"{PACKAGE} @ git+{self.url}@{self.commit}"
        return None

    @property
    def schema_url(self) -> str | None:
        """Where editors read platform.yaml's schema at this very commit, on GitHub."""
        if self.url is None or self.commit is None:
            return None
        parts = urlsplit(self.url)
        if parts.hostname != "github.com":
            return None
        repository = parts.path.strip("/").removesuffix(".git")
        return (
            f"https://raw.githubusercontent.com/{repository}/{self.commit}"
            "/schemas/platform.schema.json"
        )


def installed() -> Installed:
    try:
        distribution = metadata.distribution(PACKAGE)
    except metadata.PackageNotFoundError:
        return Installed("0+unknown", None, None, None)
    text = distribution.read_text("direct_url.json")
    data: dict[str, Any] = json.loads(text) if text else {}
    vcs = data.get("vcs_info") or {}
    commit = vcs.get("commit_id")
    if vcs.get("vcs") != "git" or not isinstance(commit, str) or not _FULL_SHA.fullmatch(commit):
        return Installed(distribution.version, None, None, None)
    return Installed(distribution.version, str(data["url"]), commit, vcs.get("requested_revision"))


def files(choices: Choices, build: Installed) -> dict[str, str]:
    """Every file ``init`` writes, by path relative to the platform repository."""
    folder = resources.builtin_dir("scaffold")
    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    values = {
        "name": choices.name,
        "organization": choices.organization,
        "team": choices.team,
        "source": choices.source,
        # a URL is the one free-form value: written as a YAML (JSON) string
        "rendered_repository": (
            json.dumps(choices.rendered_repository) if choices.rendered_repository else None
        ),
        "version": build.version,
        "schema_url": build.schema_url,
    }

    def filled(template: str) -> str:
        return environment.from_string((folder / template).read_text("utf-8")).render(values)

    written = {target: (folder / source).read_text("utf-8") for source, target in COPIED.items()}
    written["platform.yaml"] = filled(PLATFORM_TEMPLATE)
    written[REQUIREMENTS] = requirements(choices.pin, build)
    if choices.source == "local":
        written[EXAMPLE_MODEL] = filled(EXAMPLE_MODEL_TEMPLATE)
    return dict(sorted(written.items()))


def requirements(pin: str, build: Installed) -> str:
    asked = f" (asked for {build.requested})" if build.requested and build.pin == pin else ""
    return (
        f"# The Modelship this platform runs{asked}; the workflows install it from here.\n"
        "# To upgrade: change the ref to a newer release tag's commit, run `modelship render`\n"
        "# with it, and review the rendered diff in the pull request.\n"
        f"{pin}\n"
    )


def write(root: Path, contents: dict[str, str]) -> None:
    """Write each file anew: what is at its path (a file, or a link) is removed first, so
    nothing is written through a link, nor through a second hard link to a file. The folders
    on the way are the command's to check."""
    for path, text in contents.items():
        target = root / path
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            with open(os.open(target, flags, 0o666), "w", encoding="utf-8") as file:
                file.write(text)
        except OSError as error:
            raise ExternalError(
                printable(f"cannot write {shown_path(target)}: {error.strerror}")
            ) from None
