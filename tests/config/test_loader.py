from pathlib import Path

import pytest
import yaml

from generator.config import loader, settings
from generator.errors import ConfigError
from testsupport.helpers import ROOT


def test_example_platform_loads_with_resolved_paths():
    platform = loader.load(ROOT / "platform.yaml")
    assert platform.github.organization == "acme"
    assert platform.source_type == "local"
    assert platform.source_path == ROOT / "examples" / "repos"
    assert platform.rendered_path == ROOT / "rendered"
    assert [env.name for env in platform.environments] == ["production", "staging"]
    assert len(platform.teams) >= 3
    assert platform.teams["rnd"].namespace == "models-rnd"
    assert platform.max_delete_share == 0.25


def test_defaults_fill_what_the_file_leaves_out(tmp_path):
    text = (ROOT / "platform.yaml").read_text()
    start = text.index("defaults:")
    end = text.index("safety:")
    platform = loader.parse(text[:start] + text[end:], tmp_path / "platform.yaml")
    assert platform.defaults.instances == 2
    assert platform.defaults.slo == 100000
    assert platform.defaults.requests == {"cpu": "250m", "memory": "512Mi"}


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        loader.load(tmp_path / "platform.yaml")


def test_every_problem_is_listed_with_its_position():
    text = "name: Acme\nteams: {a: {namespace: ns}, b: {namespace: ns}}\nsourc: {}\n"
    with pytest.raises(ConfigError) as caught:
        loader.parse(text, Path("platform.yaml"))
    message = caught.value.message
    assert "platform.yaml:1:7: name: must be a DNS-1123 label" in message
    assert "platform.yaml:3:1: sourc: unknown key; did you mean 'source'?" in message
    assert (
        "platform.yaml:2:33: teams.b.namespace: namespace 'ns' already belongs to team 'a'"
        in message
    )
    assert "missing required key 'registry'" in message


def test_yaml_errors_are_positioned():
    with pytest.raises(ConfigError, match=r"platform.yaml:2:1: invalid YAML"):
        loader.parse("a: [\n", Path("platform.yaml"))


def test_local_source_needs_a_path():
    text = (ROOT / "platform.yaml").read_text().replace("  path: examples/repos\n", "")
    with pytest.raises(ConfigError, match="source: missing required key 'path'"):
        loader.parse(text, Path("platform.yaml"))


def test_jenkins_settings_are_read_and_default_when_absent(tmp_path):
    text = (ROOT / "platform.yaml").read_text()
    platform = loader.parse(text, tmp_path / "platform.yaml")
    assert platform.jenkins.registry_credentials == "acme-model-registry"
    assert platform.jenkins.git_credentials == "acme-github-models"
    assert platform.jenkins.base_images["python"].startswith("registry.acme.example/")
    assert platform.jenkins.dispatch == settings.DispatchSettings(
        "acme/modelship", "acme-modelship-dispatch"
    )
    start, end = text.index("\njenkins:"), text.index("\nconsul:")
    defaults = loader.parse(text[:start] + text[end:], tmp_path / "platform.yaml").jenkins
    assert defaults == settings.JenkinsSettings()
    assert defaults.git_credentials is None
    assert defaults.base_images == {"python": "python:3.11-slim"}


def test_bad_jenkins_settings_are_named_with_their_position():
    text = (ROOT / "platform.yaml").read_text()
    text = text.replace("builds_to_keep: 30", "builds_to_keep: 0")
    text = text.replace("registry_credentials: acme-model-registry", "registry_credentials: a b")
    text = text.replace("    python: registry", "    java: registry")
    text = text.replace("repository: acme/modelship", "repository: modelship")
    with pytest.raises(ConfigError) as caught:
        loader.parse(text, Path("platform.yaml"))
    message = caught.value.message
    line = text[: text.index("builds_to_keep")].count("\n") + 1
    assert (
        f"platform.yaml:{line}:19: jenkins.builds_to_keep: must be an integer between 1" in message
    )
    assert "jenkins.registry_credentials: must be a Jenkins credentials id" in message
    assert (
        "jenkins.base_images: must be a main-language (python), or one with -mlflow: "
        'python-mlflow (got "java")' in message
    )
    assert (
        "jenkins.dispatch.repository: must be the platform repository as owner/name, "
        'e.g. acme/modelship (got "modelship")' in message
    )


def _with_github(**keys: object) -> str:
    data = yaml.safe_load((ROOT / "platform.yaml").read_text())
    data["github"].update(keys)
    return yaml.safe_dump(data, sort_keys=False)


def test_github_source_settings_have_defaults():
    github = loader.load(ROOT / "platform.yaml").github
    assert (github.include_topics, github.exclude_topics, github.name_pattern) == ((), (), None)
    assert github.skip_forks is True
    assert (github.auth.method, github.auth.token_env) == ("token", "GITHUB_TOKEN")
    limits = github.limits
    assert (limits.rate_limit_wait, limits.retries, limits.retry_time) == (600, 5, 120)
    assert (limits.backoff, limits.timeout) == (1.0, 15)


def test_github_source_settings_are_read(tmp_path):
    text = _with_github(
        include_topics=["production"],
        exclude_topics=["experimental"],
        name_pattern="^churn",
        skip_forks=False,
        auth={
            "method": "app",
            "app_id": 12,
            "private_key_file": "keys/app.pem",
            "installation_id": 34,
        },
        limits={"rate_limit_wait": 30, "retries": 2, "retry_time": 9.5, "timeout": 5},
    )
    github = loader.parse(text, tmp_path / "platform.yaml").github
    assert github.include_topics == ("production",)
    assert github.exclude_topics == ("experimental",)
    assert github.name_pattern == "^churn"
    assert github.skip_forks is False
    assert github.auth.private_key_file == tmp_path / "keys" / "app.pem"
    assert (github.auth.app_id, github.auth.installation_id) == (12, 34)
    assert (github.limits.rate_limit_wait, github.limits.retries) == (30, 2)


def test_app_auth_needs_its_three_settings():
    text = _with_github(auth={"method": "app", "app_id": 12})
    with pytest.raises(ConfigError) as caught:
        loader.parse(text, Path("platform.yaml"))
    assert "github.auth: missing required key 'private_key_file'" in caught.value.message
    assert "github.auth: missing required key 'installation_id'" in caught.value.message


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"name_pattern": "(churn"}, "github.name_pattern: is not a valid regular expression"),
        ({"include_topics": ["Has Space"]}, "github.include_topics[0]: must be a GitHub topic"),
        ({"skip_forks": "yes"}, "github.skip_forks: must be true or false"),
        ({"auth": {"token_env": "my-token"}}, "github.auth.token_env: must be the name of an"),
        ({"limits": {"retries": 99}}, "github.limits.retries: must be the number of retries"),
        ({"limits": {"timeout": 0.5}}, "github.limits.timeout: must be the number of seconds"),
    ],
)
def test_bad_github_source_settings_are_positioned(keys, message):
    with pytest.raises(ConfigError) as caught:
        loader.parse(_with_github(**keys), Path("platform.yaml"))
    assert message in caught.value.message
    assert "platform.yaml:" in caught.value.message


@pytest.mark.parametrize("spelling", [".nan", ".inf"])
def test_a_number_that_is_not_finite_is_named_at_its_line(spelling):
    text = (ROOT / "platform.yaml").read_text()
    assert "  objective: 99.9 " in text
    with pytest.raises(ConfigError) as caught:
        loader.parse(
            text.replace("  objective: 99.9 ", f"  objective: {spelling} "), ROOT / "platform.yaml"
        )
    assert "monitoring.objective: " in caught.value.message
    assert f"(got {spelling})" in caught.value.message
