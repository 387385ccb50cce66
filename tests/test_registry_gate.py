"""The registry gate end to end: the real CLI over a platform folder in real git, asking a
real registry on loopback (Debian's docker-registry, htpasswd auth) into which the tests
push images through the distribution API, as a build's `docker push` does."""

import json

import pytest
import yaml

from generator import index
from generator.errors import ExitCode
from generator.present import markdown as md
from testsupport.gitfixtures import clean_env, edit, git, set_platform
from testsupport.helpers import VALID, mlproject, modelship, platform_dir, read_tree
from testsupport.registry_server import PASSWORD, USERNAME, push_image, running_registry

CREDENTIALS = {"username_env": "TEST_REGISTRY_USER", "password_env": "TEST_REGISTRY_PASSWORD"}
RIGHT = clean_env(TEST_REGISTRY_USER=USERNAME, TEST_REGISTRY_PASSWORD=PASSWORD)
WRONG_PASSWORD = "not-the-registry-password"
WRONG = clean_env(TEST_REGISTRY_USER=USERNAME, TEST_REGISTRY_PASSWORD=WRONG_PASSWORD)
VERSION_1, VERSION_2 = VALID["version"], "9a" * 20


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    with running_registry(tmp_path_factory.mktemp("registry"), "htpasswd") as (running, _):
        yield running


def gated(tmp_path, host, model_id, credentials=True):
    """A platform of one model ``model_id`` whose registry is ``host``, the gate on, in git."""
    repos = {f"{model_id}-model": mlproject(name=f"{model_id}-model", id=model_id)}
    folder = platform_dir(tmp_path / "platform", repos)
    gate = {"scheme": "http", "retries": 1, "backoff": 0.01, "timeout": 5}
    set_platform(
        folder,
        registry=f"{host}/models",
        image_gate={**gate, **(CREDENTIALS if credentials else {})},
    )
    git(folder, "init", "--quiet", "--initial-branch=main")
    commit(folder, "the platform")
    return folder


def commit(folder, message):
    git(folder, "add", "-A")
    git(folder, "commit", "--quiet", "--allow-empty", "-m", message)


def run(folder, *args, env=RIGHT):
    return modelship(*args, cwd=folder, env=env)


def render(folder, env=RIGHT):
    result = run(folder, "render", env=env)
    assert result.returncode == ExitCode.OK, result.stderr
    commit(folder, "render")
    return result


def entry(folder, model_id):
    return index.loads((folder / "rendered" / "index.json").read_bytes()).models[model_id]


def deployment(folder, model_id, env="staging"):
    path = folder / "rendered" / env / "kubernetes" / "models-rnd" / model_id / "deployment.yaml"
    if not path.exists():
        return None
    [container] = yaml.safe_load(path.read_text())["spec"]["template"]["spec"]["containers"]
    return container["image"]


def listed(folder, model_id):
    result = run(folder, "list", "--format", "json")
    assert result.returncode == ExitCode.OK, result.stderr
    [found] = [m for m in json.loads(result.stdout)["models"] if m["id"] == model_id]
    return found["environments"]


def awaited(folder, model_id, env="staging"):
    """The image the model waits for in ``env``, as index.json records it."""
    [image] = entry(folder, model_id).waiting[env]
    return image


def push(registry, image):
    repository, tag = image.split("/", 1)[1].rsplit(":", 1)
    push_image(registry, repository, tag)


def test_a_new_model_waits_for_its_image_and_is_deployed_once_it_is_pushed(registry, tmp_path):
    folder = gated(tmp_path, registry.host, "churn")
    diff = run(folder, "diff")
    assert diff.returncode == ExitCode.OK, diff.stderr
    result = render(folder)
    image = awaited(folder, "churn")
    assert f"staging not deployed yet (waiting for image {image}, not in the registry yet)" in (
        diff.stdout
    )
    assert (
        image
        == f"{registry.host}/models/churn:{entry(folder, 'churn').model.provenance.short_commit}"
    )
    assert f"churn waits for its image in staging: {image} is not in the registry yet" in (
        result.stderr + result.stdout
    )
    assert deployment(folder, "churn") is None
    assert (folder / "rendered" / "jenkins" / "churn.yaml").exists()  # the job that builds it
    assert listed(folder, "churn") == {
        "staging": {"state": "waiting-for-image", "waiting_for_image": [image]}
    }
    table = run(folder, "list").stdout
    assert [line.split()[:5] for line in table.splitlines() if line.startswith("churn")] == [
        ["churn", "staging", "4f1255f", image.rsplit(":", 1)[1], "waiting-for-image"]
    ]

    push(registry, image)
    render(folder)
    assert deployment(folder, "churn") == image
    assert listed(folder, "churn")["staging"]["state"] == "deployed"
    assert entry(folder, "churn").waiting == {}


def test_a_new_commit_stays_at_the_image_it_ran_until_its_image_exists(registry, tmp_path):
    folder = gated(tmp_path, registry.host, "ranking")
    render(folder)
    first = awaited(folder, "ranking")
    push(registry, first)
    render(folder)
    edit(folder, "ranking-model", VERSION_1, VERSION_2)

    diff = run(folder, "diff")
    assert diff.returncode == ExitCode.OK, diff.stderr
    markdown = run(folder, "diff", "--format", "markdown").stdout
    published = run(folder, "publish")
    assert published.returncode == ExitCode.OK, published.stderr
    second = awaited(folder, "ranking")
    assert second != first
    waits = f"waiting for image {second}, not in the registry yet"
    assert f"staging {first.rsplit(':', 1)[1]} ({waits})" in diff.stdout
    assert md.text(waits) in markdown  # the table row, escaped for markdown
    assert "(waiting for its image in staging)" in git(folder, "log", "-1", "--format=%B")
    assert deployment(folder, "ranking") == first
    staging = listed(folder, "ranking")["staging"]
    assert (staging["state"], staging["image"], staging["waiting_for_image"]) == (
        "waiting-for-image",
        first,
        [second],
    )

    push(registry, second)
    render(folder)
    assert deployment(folder, "ranking") == second
    assert listed(folder, "ranking")["staging"]["state"] == "deployed"


def test_a_registry_that_is_down_is_exit_3_and_nothing_is_written(tmp_path):
    with running_registry(tmp_path / "short-lived") as (down, _):
        folder = gated(tmp_path, down.host, "pricing", credentials=False)
        render(folder)
        push(down, awaited(folder, "pricing"))
        render(folder)
        assert deployment(folder, "pricing") is not None
    before = read_tree(folder / "rendered")
    edit(folder, "pricing-model", VERSION_1, VERSION_2)
    result = run(folder, "render")
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert f"registry {down.host} cannot be asked whether {down.host}/models/pricing:" in (
        result.stderr
    )
    assert "nothing was written" in result.stderr
    assert "Traceback" not in result.stderr
    assert read_tree(folder / "rendered") == before


def test_wrong_credentials_are_a_clear_error_naming_the_registry_and_never_the_password(
    registry, tmp_path
):
    folder = gated(tmp_path, registry.host, "fraud")
    render(folder)
    before = read_tree(folder / "rendered")
    result = run(folder, "render", env=WRONG)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert f"registry {registry.host} refused the credentials" in result.stderr
    assert f"(user {USERNAME})" in result.stderr
    assert WRONG_PASSWORD not in result.stderr + result.stdout
    assert read_tree(folder / "rendered") == before


def test_credentials_named_but_not_set_are_a_configuration_error(registry, tmp_path):
    folder = gated(tmp_path, registry.host, "search")
    result = run(folder, "render", env=clean_env(TEST_REGISTRY_USER=USERNAME))
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert (
        "platform.yaml: image_gate: the registry's credentials are read from "
        "TEST_REGISTRY_PASSWORD, which is not set"
    ) in result.stderr
    assert not (folder / "rendered").exists()


def test_production_moves_only_by_promotion_and_a_waiting_state_is_not_promoted(registry, tmp_path):
    folder = gated(tmp_path, registry.host, "elastic")
    render(folder)
    first = awaited(folder, "elastic")
    push(registry, first)
    render(folder)
    promoted = run(folder, "promote", "elastic", "--from", "staging", "--to", "production",
                   "--by", "Jane <jane@acme.example>")  # fmt: skip
    assert promoted.returncode == ExitCode.OK, promoted.stderr
    render(folder)
    assert deployment(folder, "elastic", "production") == first

    edit(folder, "elastic-model", VERSION_1, VERSION_2)
    render(folder)
    assert entry(folder, "elastic").waiting == {"staging": (awaited(folder, "elastic"),)}
    again = run(folder, "promote", "elastic", "--from", "staging", "--to", "production",
                "--by", "Jane <jane@acme.example>")  # fmt: skip
    assert again.returncode == ExitCode.FINDINGS
    assert "it is waiting-for-image in staging" in again.stdout + again.stderr
    render(folder)
    assert deployment(folder, "elastic", "production") == first
    assert listed(folder, "elastic")["production"]["state"] == "deployed"
