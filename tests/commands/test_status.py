"""modelship status: the real ``kubernetes`` client against a loopback API server
(testsupport/fakes/kube_api.py) holding what a cluster that applied the rendered tree would
hold — then that cluster drifting, refusing, missing a namespace, or answering too late."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from generator.errors import ExitCode
from testsupport.fakes.kube_api import FakeKubernetes, deployment, pod
from testsupport.helpers import mlproject, platform_dir
from testsupport.inprocess import modelship
from testsupport.output_schemas import valid_output

CANARY_COMMIT = "0123456789abcdef0123456789abcdef01234567"
ENV = "staging"
NAMESPACE = "/api/v1/namespaces/models-rnd"
DEPLOYMENTS = "/apis/apps/v1/namespaces/models-rnd/deployments"
PODS = "/api/v1/namespaces/models-rnd/pods"


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Path:
    folder = platform_dir(tmp_path_factory.mktemp("status"))
    churn = folder / "examples" / "repos" / "churn-model"
    churn.mkdir()
    (churn / "MLproject").write_text(
        mlproject(
            name="churn-model",
            id="churn",
            team="rnd",
            canary={"commit": CANARY_COMMIT, "weight": 20},
        )
    )
    result = modelship("render", cwd=folder)
    assert result.returncode == 0, result.stdout + result.stderr
    return folder


def applied(platform: Path) -> list[dict]:
    """The model Deployments of the staging tree, as the cluster got them."""
    found = []
    for path in sorted((platform / "rendered" / ENV / "kubernetes").glob("*/*/*deployment.yaml")):
        [document] = [d for d in yaml.safe_load_all(path.read_text()) if d]
        found.append(document)
    return found


def cluster_of(platform: Path, fake: FakeKubernetes) -> dict[str, dict]:
    """The fake holds every rendered Deployment, converged: all pods ready, on its image."""
    by_name = {}
    for document in applied(platform):
        meta = document["metadata"]
        labels = document["spec"]["template"]["metadata"]["labels"]
        image = document["spec"]["template"]["spec"]["containers"][0]["image"]
        replicas = document["spec"]["replicas"]
        fake.add(
            deployment(meta["name"], meta["namespace"], image, labels=labels, replicas=replicas)
        )
        for number in range(replicas):
            fake.add(pod(f"{meta['name']}-{number}", meta["namespace"], image, labels))
        by_name[meta["name"]] = document
    # Every team's namespace exists, even one without models here.
    fake.namespaces.update(["models-rnd", "models-search", "models-pricing", "models-fraud"])
    return by_name


@pytest.fixture
def fake(platform) -> Iterator[FakeKubernetes]:
    with FakeKubernetes() as server:
        cluster_of(platform, server)
        yield server


def status(platform: Path, fake: FakeKubernetes, *args: str, token: str | None = None):
    config = platform / f"kubeconfig-{time.monotonic_ns()}"
    config.write_text(fake.kubeconfig(token))
    return modelship("status", "--env", ENV, "--kubeconfig", str(config), *args, cwd=platform)


def test_a_cluster_that_runs_what_is_rendered_matches(platform, fake):
    result = status(platform, fake)
    assert result.returncode == ExitCode.OK, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "MODEL", "DEPLOYMENT", "NAMESPACE", "RENDERED", "RUNNING", "READY", "STATUS"
    ]  # fmt: skip
    rows = {line.split()[1]: line.split() for line in lines[1:]}
    assert set(rows) == {d["metadata"]["name"] for d in applied(platform)}
    assert rows["churn-canary"][3:] == ["0123456", "0123456", "1/1", "ok"]
    assert all(row[-1] == "ok" for row in rows.values())
    # Read with the real client: namespaces got, Deployments and Pods listed by label.
    assert any(r.startswith("/api/v1/namespaces/models-rnd") for r in fake.requests)
    assert any(
        "/apis/apps/v1/namespaces/models-rnd/deployments?labelSelector=" in r for r in fake.requests
    )


def test_drift_is_flagged_model_by_model(platform, fake):
    documents = cluster_of(platform, fake)
    rendered = documents["visual-similarity"]
    labels = rendered["spec"]["template"]["metadata"]["labels"]
    image = rendered["spec"]["template"]["spec"]["containers"][0]["image"]
    old = image.rsplit(":", 1)[0] + ":1111111"
    # A rollout stuck on the way to the rendered image: its pod still runs the old one.
    fake.add(
        deployment(
            "visual-similarity", "models-rnd", image, labels=labels, ready=0, updated=0, stuck=True
        )
    )
    fake.add(pod("visual-similarity-0", "models-rnd", old, labels))
    # A model rendered but not running, and one running but not rendered.
    del fake.objects[("deployments", "models-search", "search-ranking")]
    stray = {
        **labels,
        "app.kubernetes.io/name": "forgotten",
        "app.kubernetes.io/instance": "forgotten",
    }
    fake.add(deployment("forgotten", "models-rnd", old, labels=stray))
    result = status(platform, fake, "--format", "json")
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    report = valid_output("status", result.stdout)
    assert report["matches"] is False
    rows = {row["deployment"]: row for row in report["deployments"]}
    visual = rows["visual-similarity"]
    assert visual["live"]["running"] == [old]
    assert any(d == f"image: pods run {old}" for d in visual["differences"])
    assert any(d.startswith("rollout stuck: ") for d in visual["differences"])
    assert rows["search-ranking"]["differences"] == ["not running"]
    assert rows["forgotten"]["differences"] == ["not rendered"]
    assert rows["forgotten"]["rendered"] is None
    assert rows["churn"]["matches"] is True


def test_a_rollout_in_progress_is_not_a_match_yet(platform, fake):
    documents = cluster_of(platform, fake)
    rendered = documents["churn"]
    labels = rendered["spec"]["template"]["metadata"]["labels"]
    image = rendered["spec"]["template"]["spec"]["containers"][0]["image"]
    fake.add(deployment("churn", "models-rnd", image, labels=labels, generation=2, observed=1))
    result = status(platform, fake)
    assert result.returncode == ExitCode.FINDINGS
    [row] = [line for line in result.stdout.splitlines() if line.split()[1] == "churn"]
    assert row.endswith("rollout in progress")


def test_a_missing_namespace_is_a_404_and_its_models_are_not_running(platform, fake):
    for key in [k for k in fake.objects if k[1] == "models-search"]:
        del fake.objects[key]
    fake.namespaces.discard("models-search")
    result = status(platform, fake, "--format", "json")
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    report = valid_output("status", result.stdout)
    assert report["missing_namespaces"] == ["models-search"]
    search = [row for row in report["deployments"] if row["namespace"] == "models-search"]
    assert search
    assert {tuple(row["differences"]) for row in search} == {
        ("not running (no namespace models-search)",)
    }
    assert "/api/v1/namespaces/models-search" in fake.requests


def test_a_namespace_the_account_may_not_read_is_exit_3(platform, fake):
    fake.forbidden.add("models-pricing")
    result = status(platform, fake)
    assert result.returncode == ExitCode.EXTERNAL
    assert result.stdout == ""
    assert "refused to get namespace models-pricing: 403 Forbidden" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_wrong_token_is_exit_3(platform, fake):
    result = status(platform, fake, token="not-the-token")
    assert result.returncode == ExitCode.EXTERNAL
    assert "401 Unauthorized" in result.stderr


def test_an_api_server_that_answers_too_late_is_exit_3_within_the_timeout(platform, fake):
    fake.delay = 5.0
    started = time.monotonic()
    result = status(platform, fake, "--timeout", "0.3")
    assert result.returncode == ExitCode.EXTERNAL
    assert time.monotonic() - started < 3
    assert "did not answer" in result.stderr


def test_an_unreachable_api_server_is_exit_3(platform, fake):
    config = platform / "kubeconfig-gone"
    config.write_text(fake.kubeconfig())
    fake.stop()
    result = modelship(
        "status", "--env", ENV, "--kubeconfig", str(config), "--timeout", "2", cwd=platform
    )
    assert result.returncode == ExitCode.EXTERNAL
    assert "did not answer" in result.stderr


def listed(kind: str, *items: object) -> bytes:
    return json.dumps({"apiVersion": "v1", "kind": kind, "metadata": {}, "items": items}).encode()


GET_NAMESPACE = "get namespace models-rnd"
LIST_DEPLOYMENTS = "list the deployments in models-rnd"
NAMELESS = {"metadata": {"namespace": "models-rnd"}, "spec": {}}
NAMED = {"metadata": {"name": "churn", "namespace": "models-rnd"}}


@pytest.mark.parametrize(
    ("path", "body", "what", "wrong"),
    [
        (DEPLOYMENTS, b'{"x": 1}', LIST_DEPLOYMENTS, "an object of another kind, not a Deploy"),
        (DEPLOYMENTS, b"[1, 2]", LIST_DEPLOYMENTS, "a list, not a DeploymentList"),
        (NAMESPACE, b'{"x": 1}', GET_NAMESPACE, "an object of another kind, not a Namespace"),
        (NAMESPACE, b"\xff\xfe{}", GET_NAMESPACE, "its answer is not UTF-8 text"),
        (NAMESPACE, b"[" * 100_000, GET_NAMESPACE, "its answer is JSON nested too deeply"),
        (NAMESPACE, b"<html>", GET_NAMESPACE, "its answer is not JSON (Expecting value"),
        (
            DEPLOYMENTS,
            listed("DeploymentList", {"metadata": 5}),
            LIST_DEPLOYMENTS,
            "items[0].metadata is a number, not an object",
        ),
        (
            DEPLOYMENTS,
            listed("DeploymentList", NAMELESS),
            LIST_DEPLOYMENTS,
            "items[0].metadata has no name",
        ),
        (
            DEPLOYMENTS,
            listed("DeploymentList", {**NAMED, "spec": {"replicas": "2"}}),
            LIST_DEPLOYMENTS,
            "items[0].spec.replicas is a string, not an integer",
        ),
        (
            PODS,
            listed("PodList", {"metadata": {"labels": {"app.kubernetes.io/instance": 5}}}),
            "list the pods in models-rnd",
            "items[0].metadata.labels holds a number, not only strings",
        ),
    ],
    ids=[
        "object",
        "list",
        "namespace-object",
        "bytes",
        "nested",
        "html",
        "metadata",
        "nameless",
        "replicas",
        "labels",
    ],
)
def test_an_answer_in_another_shape_than_the_apis_is_exit_3(
    platform, fake, path, body, what, wrong
):
    fake.misanswers[path] = body
    result = status(platform, fake)
    assert result.returncode == ExitCode.EXTERNAL, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(
        f"modelship: error: the Kubernetes API at {fake.url} answered wrongly when asked to "
        f"{what}: "
    )
    assert wrong in result.stderr


def test_without_a_kubeconfig_it_is_a_configuration_error(platform):
    result = modelship(
        "status", "--env", ENV, "--kubeconfig", str(platform / "no-such-file"), cwd=platform
    )
    assert result.returncode == ExitCode.USAGE
    assert "cannot load the Kubernetes configuration" in result.stderr


def test_an_unknown_environment_is_a_usage_error(platform):
    result = modelship("status", "--env", "qa", cwd=platform)
    assert result.returncode == ExitCode.USAGE
    assert "--env qa: no such environment" in result.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "1e12", "1e308", "0", "-1"])
def test_a_timeout_that_is_not_a_sane_number_of_seconds_is_a_usage_error(platform, fake, value):
    result = status(platform, fake, "--timeout", value)
    assert result.returncode == ExitCode.USAGE, result.stderr
    assert ": must be a number of seconds above 0 and at most 3600" in result.stderr
    assert f"--timeout {float(value):g}" in result.stderr
    assert fake.requests == []
