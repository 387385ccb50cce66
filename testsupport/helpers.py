"""Builders shared by the tests: MLproject texts, platform folders, real tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import environments, index, workers
from generator.config.settings import Platform
from generator.model import Model
from generator.pins import Pin, Promotions
from generator.rendering.plan import RenderFiles, plan, render_files
from generator.rendering.templating import Renderer
from generator.resources import load_templates

ROOT = Path(__file__).resolve().parent.parent

VALID: dict[str, Any] = {
    "name": "churn-model",
    "id": "churn",
    "team": "rnd",
    "description": "Predicts whether a customer will leave within 90 days",
    "version": "4f1255f50f5f32e93b4fb69704d23f466e468ebd",
    "input_type": "doubles",
    "default_output": "0.0",
}


def mlproject(**overrides: Any) -> str:
    """A valid MLproject text, with keys replaced (or removed when set to ...)."""
    data = {**VALID, **overrides}
    data = {k: v for k, v in data.items() if v is not ...}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write_repo(folder: Path, name: str, text: str | None, **files: str) -> Path:
    repo = folder / name
    repo.mkdir(parents=True)
    if text is not None:
        (repo / "MLproject").write_text(text, encoding="utf-8")
    for filename, content in files.items():
        (repo / filename).write_text(content, encoding="utf-8")
    return repo


def platform_dir(tmp_path: Path, repos: dict[str, str] | None = None) -> Path:
    """A copy of the example platform in ``tmp_path``; its repos are ``repos`` (name → MLproject)
    or, when None, a copy of examples/repos and of the promotions that pin them in production."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "platform.yaml", tmp_path / "platform.yaml")
    folder = tmp_path / "examples" / "repos"
    if repos is None:
        shutil.copytree(ROOT / "examples" / "repos", folder)
        shutil.copytree(ROOT / "promotions", tmp_path / "promotions")
    else:
        folder.mkdir(parents=True)
        for name, text in repos.items():
            write_repo(folder, name, text)
    return tmp_path


def tool(name: str) -> str:
    """A program the tests drive for real; fail (never skip) when it is missing."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; run scripts/test, which installs it")
    return found


def unprivileged(*command: str) -> list[str]:
    """``command`` without root's right to read any file: a folder with mode 000 is then as
    unreadable to it as to anyone (setpriv drops the two capabilities that bypass modes)."""
    if os.geteuid() != 0:
        return list(command)
    drop = "-dac_override,-dac_read_search"
    return [tool("setpriv"), f"--bounding-set={drop}", f"--inh-caps={drop}", "--", *command]


def without_monitoring(folder: Path) -> Path:
    """Take the example platform's ``monitoring`` block out of ``folder``'s platform.yaml: the
    platform as it was before Modelship rendered monitoring objects (format-1 trees)."""
    path = folder / "platform.yaml"
    text = path.read_text()
    start = text.index("\nmonitoring:")
    end = text.index("\nteams:", start)
    path.write_text(text[:start] + text[end:])
    return folder


def modelship(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "generator", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def renderer(override: Path | None = None) -> Renderer:
    """The template engine with the built-in templates (and a platform's own)."""
    return Renderer(load_templates(override))


PROMOTED_AT = "2026-01-01T00:00:00Z"


def pins_of(platform: Platform, models: list[Model] | tuple[Model, ...]) -> dict[str, Promotions]:
    """Promotions that pin every model, in every promoted environment, at its state in
    ``models`` — as if `modelship promote --all` had run."""

    def pin(model: Model) -> Pin:
        commit, digest = index.spec_key(model)
        return Pin(model.provenance.repo, commit, digest, "promote", PROMOTED_AT, "tests")

    return {
        env.name: Promotions(env.name, {m.id: pin(m) for m in models})
        for env in platform.environments
        if env.promoted
    }


def plan_everywhere(
    platform: Platform,
    models: list[Model] | tuple[Model, ...],
    renderer: Renderer,
    make_files: RenderFiles = render_files,
) -> dict[str, bytes]:
    """The tree of ``models`` with each running in every environment it may run in (those
    promoted into pinned at its state here)."""
    catalog = {index.spec_key(m): m for m in models}
    placements = environments.place(
        platform, models, {}, index.Index(), pins_of(platform, models), catalog
    )
    return plan(platform, models, renderer, placements=placements, make_files=make_files)


def override_template(folder: Path, name: str, text: str) -> None:
    """The platform in ``folder`` gets its own ``name`` template (in ``my-templates``)."""
    path = folder / "my-templates" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if "templates: my-templates" not in (folder / "platform.yaml").read_text():
        with (folder / "platform.yaml").open("a") as handle:
            handle.write("templates: my-templates\n")


def started_workers(monkeypatch: pytest.MonkeyPatch) -> list[workers.Worker | None]:
    """The workers started from now on (``workers.started``), as they are started: None
    for one the system refused."""
    started: list[workers.Worker | None] = []
    original = workers.started

    def recording(make: Any, **options: Any) -> workers.Worker | None:
        worker = original(make, **options)
        started.append(worker)
        return worker

    monkeypatch.setattr(workers, "started", recording)
    return started
