"""`modelship discover` and `modelship render` with the github source, run as a user runs
them, against a loopback GitHub."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from generator.errors import ExitCode
from testsupport.fakes.github_server import DEFAULT_TOKEN
from testsupport.fakes.github_state import FakeApp
from testsupport.github_helpers import environment, github_platform, populate_models
from testsupport.helpers import mlproject, modelship, platform_dir, read_tree

SECRET = "ghp_S3CRETs3cretS3CRETs3cretS3CRETs3cret"


@pytest.fixture
def acme(github_server):
    """Two model repositories, one plain service, one archived model; team rnd pushes to churn."""
    org = github_server.org
    org.add_repo("churn-model", mlproject=mlproject(name="churn-model", id="churn"))
    org.add_repo("pricing", topics=["ml-model"])
    org.add_repo("billing")
    org.add_repo("old-model", archived=True, mlproject=mlproject(name="old-model", id="old"))
    org.add_team("rnd", {"churn-model": "push", "pricing": "pull"})
    return github_server


def test_discover_lists_the_model_repositories_and_the_requests_spent(acme, tmp_path):
    platform = github_platform(tmp_path, acme)
    result = modelship("discover", cwd=platform, env=environment())
    assert result.returncode == ExitCode.OK, result.stderr
    head = acme.org.repo("churn-model").head_sha
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[0].split() == [
        "REPOSITORY",
        "SELECTED",
        "BY",
        "HEAD",
        "MLPROJECT",
        "PUSH",
        "TEAMS",
    ]
    assert lines[1].split() == [
        "acme/churn-model",
        "suffix",
        "-model",
        head[:7],
        "MLproject",
        "rnd",
    ]
    assert lines[2].split()[:3] == ["acme/pricing", "topic", "ml-model"]
    assert lines[2].split()[-2:] == ["none", "none"]  # no MLproject; rnd may only pull
    assert lines[4].split() == ["SKIPPED", "SELECTED", "BY", "REASON"]
    assert lines[5].split() == ["acme/old-model", "suffix", "-model", "archived"]
    assert "acme: 4 repositories on GitHub, 2 model repositories (1 with an MLproject)" in (
        result.stderr
    )
    assert (
        "GitHub API: 6 requests: scan 1 (at most 3 = ⌈4/100⌉+2), MLproject fallbacks 0, "
        "team ownership 5" in result.stderr
    )
    assert "rate limit left: core 4,995/5,000" in result.stderr
    assert "graphql 4,999/5,000" in result.stderr
    assert acme.count("graphql") == 1


def test_discover_json_carries_everything_a_tool_needs(acme, tmp_path):
    platform = github_platform(tmp_path, acme)
    result = modelship("discover", "--format", "json", cwd=platform, env=environment())
    assert result.returncode == ExitCode.OK, result.stderr
    document = json.loads(result.stdout)
    assert document["complete"] is True
    churn, pricing = document["repositories"]
    assert churn == {
        "full_name": "acme/churn-model",
        "clone_url": "https://github.com/acme/churn-model.git",
        "selected_by": "suffix -model",
        "default_branch": "main",
        "head_sha": acme.org.repo("churn-model").head_sha,
        "has_mlproject": True,
        "mlproject_path": "MLproject",
        "topics": [],
        "push_teams": ["rnd"],
    }
    assert (pricing["has_mlproject"], pricing["mlproject_path"]) == (False, None)
    github = document["github"]
    assert github["total_repositories"] == 4
    assert github["requests"] == {
        "total": 6,
        "scan": 1,
        "scan_budget": 3,
        "mlproject_fallbacks": 0,
        "ownership": 5,
        "retries": 0,
    }
    assert github["skipped"] == [
        {
            "full_name": "acme/old-model",
            "selected_by": "suffix -model",
            "reason": "archived",
            "detail": "",
        }
    ]
    assert github["rate_limits"]["graphql"]["remaining"] == 4999


def test_discover_exits_3_when_a_rate_limit_outlasts_the_budget(github_server, tmp_path):
    populate_models(github_server, 150)
    github_server.inject("rate_limit", page=1, seconds=3600)
    platform = github_platform(tmp_path, github_server, limits={"rate_limit_wait": 600})
    result = modelship("discover", cwd=platform, env=environment())
    assert result.returncode == ExitCode.EXTERNAL
    assert "modelship: error: the scan is incomplete: page 2: GitHub's rate limit is exhausted" in (
        result.stderr
    )
    assert "(read 100 of 150 repositories); the list holds only what was read" in result.stderr
    assert "acme/repo-00095-model" in result.stdout
    assert "acme/repo-00100-model" not in result.stdout
    assert "Traceback" not in result.stderr


def test_discover_really_waits_for_a_short_rate_limit(github_server, tmp_path):
    populate_models(github_server, 20)
    github_server.inject("secondary_rate_limit", page=0, seconds=1)
    platform = github_platform(tmp_path, github_server)
    result = modelship("discover", cwd=platform, env=environment())
    assert result.returncode == ExitCode.OK, result.stderr
    assert "1 retry; waited 1 s for rate limits" in result.stderr
    assert github_server.count("graphql") == 2


def test_discover_lists_a_local_source_too(tmp_path):
    result = modelship("discover", cwd=platform_dir(tmp_path), env=environment(token=None))
    assert result.returncode == ExitCode.OK, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert len(rows) == 6
    assert rows[0][:3] == ["acme/blaze-visual-similarity-model", "local", "folder"]
    assert all(row[-2:] == ["MLproject", "n/a"] for row in rows)
    assert result.stderr.startswith("found 6 model repositories (6 with an MLproject)")


def test_a_missing_token_is_a_configuration_error(acme, tmp_path):
    platform = github_platform(tmp_path, acme)
    result = modelship("discover", cwd=platform, env=environment(token=None))
    assert result.returncode == ExitCode.USAGE
    assert "needs a token in the environment variable GITHUB_TOKEN" in result.stderr
    assert acme.count() == 0


def test_render_from_github_renders_owned_models_and_rejects_the_rest(acme, tmp_path):
    acme.org.add_repo(
        "rogue-model", mlproject=mlproject(name="rogue-model", id="rogue", team="rnd")
    )
    platform = github_platform(tmp_path, acme)
    result = modelship("render", cwd=platform, env=environment())
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert (
        "team 'rnd' does not own acme/rogue-model: none of its GitHub teams (rnd) has push "
        "access to the repository" in result.stderr
    )
    index = json.loads((platform / "rendered" / "index.json").read_text())
    assert sorted(index["models"]) == ["churn"]
    assert index["models"]["churn"]["source"]["commit"] == (acme.org.repo("churn-model").head_sha)


def test_render_exits_3_on_an_incomplete_scan_and_deletes_nothing(acme, tmp_path):
    platform = github_platform(tmp_path, acme)
    assert modelship("render", cwd=platform, env=environment()).returncode == ExitCode.OK
    before = read_tree(platform / "rendered")
    acme.inject("rate_limit", page=0, seconds=3600)
    result = modelship("render", "--source", "github", cwd=platform, env=environment())
    assert result.returncode == ExitCode.EXTERNAL
    assert (
        "modelship: the scan of the repositories did not complete (page 1: GitHub's rate limit"
        in result.stderr
    )
    assert "stay exactly as they were, and nothing is deleted" in result.stderr
    assert read_tree(platform / "rendered") == before


def test_validate_exits_3_on_an_incomplete_scan(acme, tmp_path):
    platform = github_platform(tmp_path, acme)
    acme.inject("rate_limit", page=0, seconds=3600)
    result = modelship("validate", cwd=platform, env=environment())
    assert result.returncode == ExitCode.EXTERNAL
    assert "the scan did not complete (page 1: GitHub's rate limit" in result.stderr
    assert "only the repositories read were checked" in result.stderr


def test_render_source_github_overrides_a_local_platform(acme, tmp_path):
    platform = github_platform(tmp_path, acme)
    text = (platform / "platform.yaml").read_text()
    (platform / "platform.yaml").write_text(
        text.replace("source:\n  type: github", "source:\n  type: local\n  path: nowhere")
    )
    result = modelship("render", "--source", "github", "--dry-run", cwd=platform, env=environment())
    assert result.returncode == ExitCode.OK, result.stderr
    assert "+++ b/index.json" in result.stdout
    assert acme.count("graphql") == 1


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def test_no_secret_reaches_any_output(github_servers, tmp_path):
    outputs: list[str] = []

    def run(platform, *args, token=SECRET):
        result = modelship(*args, cwd=platform, env=environment(token))
        outputs.extend([result.stdout, result.stderr])
        return result

    # a token the server accepts, then failures of every kind
    server = github_servers(token=SECRET)
    server.org.add_repo("churn-model", mlproject=mlproject(name="churn-model", id="churn"))
    platform = github_platform(tmp_path / "token", server, limits={"retries": 0})
    assert run(platform, "discover").returncode == ExitCode.OK
    assert run(platform, "discover", "--format", "json").returncode == ExitCode.OK
    server.inject("status", status=502)
    assert run(platform, "discover").returncode == ExitCode.EXTERNAL
    server.inject("rate_limit", seconds=3600)
    assert run(platform, "render").returncode == ExitCode.EXTERNAL
    # a token the server rejects
    rejecting = github_servers()
    rejected = github_platform(tmp_path / "rejected", rejecting)
    result = run(rejected, "discover")
    assert result.returncode == ExitCode.EXTERNAL
    assert (
        "GitHub rejected the credentials (401 Bad credentials); check the token in $GITHUB_TOKEN"
        in (result.stderr)
    )
    assert run(rejected, "render", "--source", "github").returncode == ExitCode.EXTERNAL
    # a GitHub App: its key and the installation token it gets
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    app_server = github_servers(app=FakeApp(7, public.decode(), 8))
    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "app.pem").write_bytes(_pem(key))
    auth = {"method": "app", "app_id": 7, "private_key_file": "app.pem", "installation_id": 8}
    app_platform = github_platform(app_dir, app_server, auth=auth, limits={"retries": 0})
    assert run(app_platform, "discover", token=None).returncode == ExitCode.OK
    app_server.inject("status", status=500)
    assert run(app_platform, "discover", "--format", "json", token=None).returncode == (
        ExitCode.EXTERNAL
    )
    (app_dir / "app.pem").write_text(
        "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
    )
    bad_key = run(app_platform, "discover", token=None)
    assert bad_key.returncode == ExitCode.USAGE
    assert "not a usable PEM private key of a GitHub App" in bad_key.stderr

    installation_tokens = app_server.tokens - {DEFAULT_TOKEN}
    assert installation_tokens  # the exchange happened
    key_lines = [line for line in _pem(key).decode().splitlines() if "-----" not in line]
    secrets = [SECRET, *installation_tokens, "bm90IGEga2V5", *key_lines]
    everything = "\n".join(outputs)
    for secret in secrets:
        assert secret not in everything
    assert "Traceback" not in everything
