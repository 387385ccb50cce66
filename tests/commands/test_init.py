"""modelship init: a platform repository's files, checked as every command checks them, the
workflows as GitHub and actionlint read them, the pin, and nothing overwritten by surprise."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

from generator import scaffold
from generator.config import loader
from generator.errors import ExitCode
from testsupport.helpers import ROOT, tool, unprivileged
from testsupport.inprocess import modelship

SHA = "0123456789abcdef0123456789abcdef01234567"
PIN = f"modelship @ git+https://github.com/acme/modelship@{SHA}"


def init(folder, *args):
    folder.mkdir(parents=True, exist_ok=True)
    return modelship(
        "init", "--organization", "acme", "--team", "rnd", "--pin", PIN, *args, cwd=folder
    )


def test_init_writes_a_platform_that_validates_and_renders(tmp_path):
    result = init(tmp_path, "--source", "local")
    assert result.returncode == ExitCode.OK, result.stderr
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == [
        ".github/workflows/ci.yml",
        ".github/workflows/pr-preview.yml",
        ".github/workflows/render.yml",
        ".gitignore",
        "models/example-model/MLproject",
        "platform.yaml",
        "requirements.txt",
    ]
    platform = loader.load(tmp_path / "platform.yaml")
    assert (platform.name, platform.source_type, list(platform.teams)) == (
        "acme-ml",
        "local",
        ["rnd"],
    )
    text = (tmp_path / "platform.yaml").read_text()
    assert text.count("#") > 20, "platform.yaml explains itself"
    assert (tmp_path / "requirements.txt").read_text().splitlines()[-1] == PIN
    for path, source in scaffold.COPIED.items():  # the files the project's own tests lint
        assert (tmp_path / source).read_bytes() == (ROOT / "scaffold" / path).read_bytes()
    gitignore = (tmp_path / ".gitignore").read_text().splitlines()
    assert {".modelship/", "modelship.diff", ".*.modelship-stage/", ".venv/"} <= set(gitignore)
    assert modelship("validate", cwd=tmp_path).stdout == "0 errors, 0 warnings in 1 file\n"
    rendered = modelship("render", cwd=tmp_path)
    assert rendered.returncode == ExitCode.OK, rendered.stderr
    assert "rendered 1 model into rendered" in rendered.stderr


def test_the_written_workflows_pass_the_linters(tmp_path):
    assert init(tmp_path).returncode == ExitCode.OK
    workflows = sorted(str(p) for p in (tmp_path / ".github/workflows").glob("*.yml"))
    linted = subprocess.run(
        [tool("actionlint"), "-shellcheck", tool("shellcheck"), "-oneline", *workflows],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (linted.returncode, linted.stdout) == (0, "")
    checked = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *workflows],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout
    render = yaml.safe_load((tmp_path / ".github/workflows/render.yml").read_text())
    steps = render["jobs"]["publish"]["steps"]
    assert any("-r requirements.txt" in step.get("run", "") for step in steps)
    assert "--fail-on refusal" in steps[-1]["run"]


def test_github_source_and_a_separate_rendered_repository(tmp_path):
    url = "https://github.com/acme/ml-deployments.git"
    result = init(tmp_path, "--rendered-repository", url, "--name", "shop-ml")
    assert result.returncode == ExitCode.OK, result.stderr
    platform = loader.load(tmp_path / "platform.yaml")
    assert (platform.name, platform.source_type) == ("shop-ml", "github")
    assert platform.rendered_repository.url == url
    assert not (tmp_path / "models").exists()


def test_nothing_is_overwritten_without_force(tmp_path):
    (tmp_path / "platform.yaml").write_text("ours\n")
    refused = init(tmp_path)
    assert refused.returncode == ExitCode.USAGE
    assert "platform.yaml already exist" in refused.stderr
    assert (tmp_path / "platform.yaml").read_text() == "ours\n"
    assert not (tmp_path / ".gitignore").exists()
    assert init(tmp_path, "--force").returncode == ExitCode.OK
    assert loader.load(tmp_path / "platform.yaml").name == "acme-ml"


def test_bad_values_are_refused_before_anything_is_written(tmp_path):
    for option, value, message in [
        ("--organization", "acme corp", "not a GitHub organization login: 'acme corp'"),
        ("--team", "R&D", "not a team name"),
        (
            "--rendered-repository",
            'https://x"\ny',
            "not an https://, ssh:// or git@ repository URL",
        ),
    ]:
        folder = tmp_path / option.strip("-")
        folder.mkdir()
        args = ["init", "--organization", "acme", "--team", "rnd", "--pin", PIN, option, value]
        result = modelship(*args, cwd=folder)
        assert result.returncode == ExitCode.USAGE, option
        assert message in result.stderr
        assert not any(folder.iterdir())


def test_an_install_without_a_known_commit_needs_a_pin(tmp_path):
    # this checkout's editable install records no commit (PEP 610: a folder, not git)
    assert scaffold.installed().pin is None
    result = modelship("init", "--organization", "acme", "--team", "rnd", cwd=tmp_path)
    assert result.returncode == ExitCode.USAGE
    assert "its commit is unknown; give the requirement to pin with --pin" in result.stderr
    assert not any(tmp_path.iterdir())


def test_a_git_install_pins_the_commit_pip_resolved():
    build = scaffold.Installed("0.2.0", "https://github.com/acme/modelship", SHA, "v0.2.0")
    assert build.pin == PIN
    assert build.schema_url == (
        f"https://raw.githubusercontent.com/acme/modelship/{SHA}/schemas/platform.schema.json"
    )
    assert "(asked for v0.2.0)" in scaffold.requirements(PIN, build)


def test_a_directory_that_is_not_a_folder_is_refused(tmp_path):
    (tmp_path / "a-file").write_text("ours\n")
    (tmp_path / "a-link").symlink_to(tmp_path / "nowhere")
    (tmp_path / "a-file-link").symlink_to("a-file")
    for directory, message in [
        ("a-file-link", "--directory a-file-link: not a folder"),
        ("a-file", "--directory a-file: not a folder"),
        ("a-file/sub", "--directory a-file/sub: a-file is not a folder"),
        ("a-link", "--directory a-link: a symbolic link to nothing"),
    ]:
        result = init(tmp_path, "--directory", directory)
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert message in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "a-file-link", "a-link"]
    assert (tmp_path / "a-file").read_text() == "ours\n"
    assert not (tmp_path / "nowhere").exists()


def test_a_directory_that_does_not_exist_yet_is_made(tmp_path):
    assert init(tmp_path, "--directory", "new/platform").returncode == ExitCode.OK
    assert loader.load(tmp_path / "new" / "platform" / "platform.yaml").name == "acme-ml"


WRITTEN = [
    ".github/workflows/ci.yml",
    ".gitignore",
    "models/example-model/MLproject",
    "platform.yaml",
    "requirements.txt",
]


def test_a_link_where_a_file_goes_is_replaced_under_force_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kept").write_text("theirs\n")
    folder = tmp_path / "platform"
    (folder / "models" / "example-model").mkdir(parents=True)
    (folder / ".github" / "workflows").mkdir(parents=True)
    for number, path in enumerate(WRITTEN):
        # a link to nothing, a link to a file outside, a second hard link to it
        if number % 3 == 0:
            (folder / path).symlink_to(outside / f"made-{number}")
        elif number % 3 == 1:
            (folder / path).symlink_to(outside / "kept")
        else:
            (folder / path).hardlink_to(outside / "kept")
    refused = init(folder, "--source", "local")
    assert refused.returncode == ExitCode.USAGE
    assert f"{', '.join(WRITTEN)} already exist in ." in refused.stderr
    assert not (outside / "made-0").exists()
    assert init(folder, "--source", "local", "--force").returncode == ExitCode.OK
    for path in WRITTEN:
        assert not (folder / path).is_symlink(), path
        assert (folder / path).stat().st_nlink == 1, path
    assert loader.load(folder / "platform.yaml").name == "acme-ml"
    assert sorted(p.name for p in outside.iterdir()) == ["kept"]
    assert (outside / "kept").read_text() == "theirs\n"


def test_a_linked_folder_on_the_way_is_refused_even_with_force(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    for folder_name, link in [("github", ".github"), ("workflows", ".github/workflows")]:
        folder = tmp_path / folder_name
        (folder / link).parent.mkdir(parents=True, exist_ok=True)
        (folder / link).symlink_to(outside)
        result = init(folder, "--force")
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert f"{link}: a symbolic link; init writes only inside" in result.stderr
        assert not (folder / "platform.yaml").exists()
    folder = tmp_path / "models"
    (folder / "models").mkdir(parents=True)
    (folder / "models" / "example-model").symlink_to(outside)
    result = init(folder, "--source", "local", "--force")
    assert result.returncode == ExitCode.USAGE
    assert "models/example-model: a symbolic link" in result.stderr
    assert not any(outside.iterdir())


def test_force_replaces_files_not_folders_nor_pipes(tmp_path):
    for number, (path, make, message) in enumerate(
        [
            ("platform.yaml", Path.mkdir, "platform.yaml: not a file; --force replaces"),
            ("requirements.txt", os.mkfifo, "requirements.txt: not a file; --force replaces"),
            (".github", Path.touch, ".github: not a folder"),
        ]
    ):
        folder = tmp_path / str(number)
        folder.mkdir()
        make(folder / path)
        result = init(folder, "--force")
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert message in result.stderr
        assert sorted(p.name for p in folder.iterdir()) == [path], "nothing was written"


def test_a_folder_that_cannot_be_written_is_exit_3_naming_the_file(tmp_path):
    os.chmod(tmp_path, 0o555)
    try:
        result = subprocess.run(
            unprivileged(
                sys.executable,
                "-m",
                "generator",
                "init",
                "--organization",
                "acme",
                "--team",
                "rnd",
                "--pin",
                PIN,
            ),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.chmod(tmp_path, 0o755)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert "cannot write .github/workflows/ci.yml: Permission denied" in result.stderr
