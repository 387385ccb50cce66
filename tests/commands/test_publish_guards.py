"""publish never credits an uncommitted platform change to a model repository, and a switch
to a separate rendered repository says that the in-repo tree is left behind."""

import shutil
import subprocess
import sys

import yaml

from generator.errors import ExitCode
from testsupport.gitfixtures import (
    bare_remote,
    clean_env,
    git,
    platform_repo,
    publish,
    set_platform,
)
from testsupport.helpers import ROOT
from testsupport.inprocess import modelship


def a_platform(tmp_path):
    remote = bare_remote(tmp_path / "origin.git")
    folder = platform_repo(tmp_path / "platform", remote)
    assert publish(folder, "--push").returncode == ExitCode.OK
    return folder, remote


def test_an_uncommitted_platform_yaml_is_refused(tmp_path):
    folder, remote = a_platform(tmp_path)
    path = folder / "platform.yaml"
    path.write_text(path.read_text().replace("instances: 2", "instances: 3"))
    head = git(folder, "rev-parse", "HEAD")
    refused = publish(folder, "--push")
    assert refused.returncode == ExitCode.USAGE
    assert "uncommitted changes to the platform: platform.yaml." in refused.stderr
    assert "commit them first (or set publish.uncommitted_platform: warn)" in refused.stderr
    assert git(folder, "rev-parse", "HEAD") == head == git(remote, "rev-parse", "main")
    git(folder, "add", "platform.yaml")  # staged is not committed either
    assert publish(folder, "--push").returncode == ExitCode.USAGE
    git(folder, "commit", "--quiet", "-m", "three instances")
    published = publish(folder, "--push")
    assert published.returncode == ExitCode.OK, published.stderr
    assert "3 changed" in git(folder, "log", "-1", "--format=%s")  # those without instances


def test_an_untracked_or_changed_template_is_refused_and_warn_publishes(tmp_path):
    folder, _ = a_platform(tmp_path)
    own = folder / "templates" / "kubernetes"
    own.mkdir(parents=True)
    shutil.copy(ROOT / "templates/kubernetes/service.yaml.j2", own / "service.yaml.j2")
    data = yaml.safe_load((folder / "platform.yaml").read_text())
    data["templates"] = "templates"
    (folder / "platform.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    git(folder, "add", "platform.yaml")
    git(folder, "commit", "--quiet", "-m", "own templates (the folder not committed yet)")
    refused = publish(folder)
    assert refused.returncode == ExitCode.USAGE
    assert "templates/kubernetes/service.yaml.j2" in refused.stderr
    git(folder, "add", "templates")
    git(folder, "commit", "--quiet", "-m", "the template")
    assert publish(folder).returncode == ExitCode.OK
    template = own / "service.yaml.j2"
    template.write_text(template.read_text() + "# an experiment\n")
    assert publish(folder).returncode == ExitCode.USAGE
    set_platform(folder, publish={"uncommitted_platform": "warn"})  # committed
    warned = publish(folder)
    assert warned.returncode == ExitCode.OK, warned.stderr
    assert (
        "modelship: warning: uncommitted changes to the platform: "
        "templates/kubernetes/service.yaml.j2; publishing them" in warned.stderr
    )


def test_a_changed_template_of_a_copy_of_this_repository_is_refused(tmp_path, project_repo):
    """This repository copied to start a platform (README: "Copying this repository"):
    Modelship runs from the copy, whose templates/ are the ones its platform renders with."""
    folder = tmp_path / "copy"
    git(tmp_path, "clone", "--quiet", str(project_repo), str(folder))
    template = folder / "templates" / "kubernetes" / "service.yaml.j2"
    template.write_text(template.read_text() + "# an experiment\n")
    head = git(folder, "rev-parse", "HEAD")
    command = [sys.executable, "-m", "generator", "publish"]
    run = {"cwd": folder, "capture_output": True, "text": True, "timeout": 120, "check": False}
    refused = subprocess.run(command, env=clean_env(PYTHONPATH=str(folder)), **run)
    assert refused.returncode == ExitCode.USAGE, refused.stderr
    assert (
        "uncommitted changes to the platform: templates/kubernetes/service.yaml.j2."
        in refused.stderr
    )
    assert git(folder, "rev-parse", "HEAD") == head
    git(folder, "checkout", "--", "templates")
    published = subprocess.run(command, env=clean_env(PYTHONPATH=str(folder)), **run)
    assert published.returncode == ExitCode.OK, published.stderr


def test_an_installed_copy_in_the_platform_repository_is_not_a_change_to_it(tmp_path, project_repo):
    """A CI job's virtualenv in its workspace: Modelship's templates lie in the repository,
    untracked, and are no uncommitted template of the platform."""
    folder = tmp_path / "copy"
    git(tmp_path, "clone", "--quiet", str(project_repo), str(folder))
    installed = folder / "venv" / "site-packages"
    for part in ("generator", "templates", "schemas"):
        shutil.copytree(folder / part, installed / part)
    # Run from outside the checkout, whose own generator/ would come first on sys.path.
    command = [sys.executable, "-m", "generator", "--platform", str(folder / "platform.yaml")]
    published = subprocess.run(
        [*command, "publish"],
        cwd=tmp_path,
        env=clean_env(PYTHONPATH=str(installed)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert published.returncode == ExitCode.OK, published.stderr


def test_switching_to_a_separate_rendered_repository_tells_of_the_tree_left_behind(tmp_path):
    folder, _ = a_platform(tmp_path)
    deployments = bare_remote(tmp_path / "deployments.git")
    set_platform(folder, rendered={"path": "rendered", "repository": {"url": str(deployments)}})
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    assert (
        "modelship: warning: rendered still holds a rendered tree, but platform.yaml's "
        "rendered.repository now names a separate repository" in result.stderr
    )
    assert "remove it (git rm -r) when the switch is done" in result.stderr
    git(folder, "rm", "-r", "--quiet", "rendered")
    git(folder, "commit", "--quiet", "-m", "the tree lives in deployments.git now")
    quiet = modelship("publish", "--push", cwd=folder)
    assert quiet.returncode == ExitCode.OK, quiet.stderr
    assert "warning" not in quiet.stderr
