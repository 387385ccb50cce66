"""--fail-on: an hourly publish is red only when a person must act. Held models (kept on
error, a new one rejected) are reported either way; a refused mass delete always fails."""

import shutil

from generator.errors import ExitCode
from testsupport.gitfixtures import bare_remote, edit, git, platform_repo, publish
from testsupport.helpers import mlproject, write_repo
from testsupport.inprocess import modelship


def test_held_models_fail_by_default_and_not_with_fail_on_refusal(tmp_path):
    remote = bare_remote(tmp_path / "origin.git")
    folder = platform_repo(tmp_path / "platform", remote)
    assert publish(folder, "--push").returncode == ExitCode.OK
    edit(folder, "size-advice-model", "slo: 80000", "slo: slow")  # kept on error
    repos = folder / "examples" / "repos"
    write_repo(repos, "typo-model", mlproject(name="typo-model", id="typo", team="rndd"))
    held = modelship("render", "--check", cwd=folder)
    assert held.returncode == ExitCode.FINDINGS
    default = modelship("render", "--dry-run", cwd=folder)
    assert default.returncode == ExitCode.FINDINGS
    lenient = modelship("render", "--dry-run", "--fail-on", "refusal", cwd=folder)
    assert lenient.returncode == ExitCode.OK, lenient.stderr
    assert "slo: must be an integer" in lenient.stderr
    assert "team 'rndd' is not a team of this platform" in lenient.stderr
    published = publish(folder, "--push", "--fail-on", "refusal")
    assert published.returncode == ExitCode.OK, published.stderr
    assert "kept-on-error: size-advice" in published.stderr
    assert "pushed to origin/main" in published.stderr
    assert git(folder, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")


def test_a_refused_mass_delete_fails_under_either_choice(tmp_path):
    remote = bare_remote(tmp_path / "origin.git")
    folder = platform_repo(tmp_path / "platform", remote)
    assert publish(folder, "--push").returncode == ExitCode.OK
    for name in ("fraud-score-model", "size-advice-model"):
        shutil.rmtree(folder / "examples" / "repos" / name)
    refused = publish(folder, "--push", "--fail-on", "refusal")
    assert refused.returncode == ExitCode.FINDINGS
    assert "refusing to remove 2 of 6 models (33%)" in refused.stderr
    assert ": fraud-score, size-advice; nothing was written" in refused.stderr
    assert git(folder, "rev-parse", "HEAD") == git(remote, "rev-parse", "main")


def test_fail_on_takes_only_its_choices(tmp_path):
    result = modelship("render", "--fail-on", "never", cwd=tmp_path)
    assert result.returncode == ExitCode.USAGE
    assert "invalid choice: 'never' (choose from 'held', 'refusal')" in result.stderr
