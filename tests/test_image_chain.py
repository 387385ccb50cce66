"""The image chain end to end, with real parts and no Docker engine.

A Debian Python root file system (mmdebstrap, made by ``scripts/bootstrap --test``) becomes a
local image; buildah builds the base image from runtime/python/Dockerfile on it and pushes it
to a real registry on loopback (Debian's docker-registry); the pipeline's own Dockerfile (read
out of templates/jenkins/pipeline.groovy) builds a model image on that base, with the rendered
job's parameters and a scikit-learn pickle trained here, and pushes it. The model image's file
system, pulled back from the registry, then runs as the Deployment runs it — uid 10001, a
read-only root, an in-memory /tmp, the rendered Deployment's environment — in a chroot, behind
a real nginx serving the rendered gateway configuration. pip in both builds installs from a
loopback package index of wheels bootstrap downloaded: the tests reach no network but loopback.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import pickle
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from sklearn.linear_model import LinearRegression

from generator.registry import ImageReference, RegistryClient
from tests.buildah import Buildah, in_memory_storage
from tests.helpers import ROOT, mlproject, modelship, platform_dir
from tests.package_index import serving_index
from tests.registry_server import running_registry
from tests.runtime.server import call, wait_healthy
from tests.test_gateway import free_port, running_nginx

# Made by scripts/bootstrap --test (the only step that reaches a network).
E2E_INPUTS = ROOT / ".venv" / "e2e"
ROOTFS = E2E_INPUTS / "debian-python.tar"
WHEELS = E2E_INPUTS / "wheels"
PYTHON_IMAGE = "localhost/modelship-test/debian-python:3.11"
ENV = "staging"
SLO_US = 300_000
SLOW_ABOVE = 100.0  # rows whose first value is larger take a second: slower than the SLO
STOP_TIMEOUT_S = 10.0

MODEL_CODE = '''\
"""The churn model's own code. Its pickle refers to this class, which the model server
imports from the image's working directory: this repository."""

import time


class Churn:
    def __init__(self, estimator, slow_above):
        self.estimator = estimator
        self.slow_above = slow_above

    def predict(self, rows):
        # Rows past slow_above stand in for an expensive case: they take a second.
        if any(row[0] > self.slow_above for row in rows):
            time.sleep(1.0)
        return self.estimator.predict(rows)
'''


def pipeline_dockerfile() -> str:
    """The model image's Dockerfile exactly as the Jenkins pipeline writes it."""
    script = (ROOT / "templates" / "jenkins" / "pipeline.groovy").read_text()
    match = re.search(r"final String DOCKERFILE = '''(.*?)'''", script, re.DOTALL)
    assert match, "pipeline.groovy has no DOCKERFILE"
    return match.group(1)


def require_inputs() -> None:
    if os.geteuid() != 0:
        pytest.skip(
            "the image chain mounts file systems and runs the image as uid 10001 in a chroot, "
            "which needs root (as CI has); run the suite as root to include it"
        )
    missing = [str(p) for p in (ROOTFS, WHEELS) if not p.exists()]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run scripts/bootstrap --test, which makes them")


def train(repo: Path) -> tuple[bytes, object]:
    """A scikit-learn model trained here, wrapped in the repository's own class, pickled."""
    spec = importlib.util.spec_from_file_location("churn_model", repo / "churn_model.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["churn_model"] = module
    try:
        spec.loader.exec_module(module)
        features = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0], [4.0, 3.0]])
        estimator = LinearRegression().fit(features, features @ [1.5, -0.5] + 2.0)
        model = module.Churn(estimator, SLOW_ABOVE)
        return pickle.dumps(model), estimator
    finally:
        del sys.modules["churn_model"]


def git_repo(folder: Path, files: dict[str, str | bytes]) -> str:
    folder.mkdir(parents=True)
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    git = [
        "git",
        "-C",
        str(folder),
        "-c",
        "user.name=Data Scientist",
        "-c",
        "user.email=ds@acme.example",
    ]
    subprocess.run([*git, "init", "-q", "-b", "main"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "churn model"], check=True)
    return subprocess.run(
        [*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()


class JobLoader(yaml.SafeLoader):
    """Jenkins Job Builder YAML: its include tag read as the file name it names."""


JobLoader.add_constructor(
    "!include-raw-verbatim:", lambda loader, node: loader.construct_scalar(node)
)


def job_parameters(job_file: Path) -> dict[str, str]:
    """The rendered build job's parameters: each choice's one value, each string's default."""
    [job] = yaml.load(job_file.read_text(), Loader=JobLoader)  # a SafeLoader
    values = {}
    for parameter in job["job"]["parameters"]:
        [(kind, settings)] = parameter.items()
        values[settings["name"]] = (
            settings["choices"][0] if kind == "choice" else settings["default"]
        )
    return values


def deployment_environment(tree: Path, model_id: str) -> dict[str, str]:
    [path] = (tree / ENV / "kubernetes").glob(f"*/{model_id}/deployment.yaml")
    [container] = yaml.safe_load(path.read_text())["spec"]["template"]["spec"]["containers"]
    return {item["name"]: item["value"] for item in container["env"]}


# The Deployment's pod, on this machine: the image's root file system bound read-only, an
# in-memory /tmp, uid/gid 10001, the image's own environment, working directory and
# entrypoint, and the Deployment's environment; in a mount namespace of its own, so every
# mount goes when the server does.
CHROOT = """set -eu
root=$1; shift
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t tmpfs -o size=256m,mode=1777 tmpfs "$root/tmp"
mount --rbind /dev "$root/dev"
mount -t proc proc "$root/proc"
exec chroot --userspec=10001:10001 "$root" "$@"
"""


@contextlib.contextmanager
def running_pod(
    root: Path, image_config: dict, env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen]:
    image_env = dict(item.split("=", 1) for item in image_config.get("Env", []))
    command = [
        "unshare", "--mount", "--propagation", "private", "sh", "-c", CHROOT, "sh", str(root),
        "/usr/bin/env", "-i", f"--chdir={image_config['WorkingDir']}",
        *(f"{name}={value}" for name, value in {**image_env, **env}.items()),
        *image_config["Entrypoint"], *image_config.get("Cmd", []),
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)


@dataclass(frozen=True)
class Chain:
    gateway_port: int
    model_port: int
    image_config: dict
    estimator: object
    server: subprocess.Popen
    version: str


@dataclass(frozen=True)
class Platform:
    """The test's platform folder, rendered by the real CLI onto the loopback parts."""

    tree: Path
    repo: Path
    commit: str
    artifact: bytes
    estimator: object
    internal: int
    public: int


def train_in(folder: Path, files: dict[str, str]) -> tuple[bytes, object]:
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_text(content)
    return train(folder)


def render_platform(work: Path, registry: str, base: str) -> Platform:
    repo_files = {"churn_model.py": MODEL_CODE}
    artifact, estimator = train_in(work / "training", repo_files)
    folder = platform_dir(work / "platform", repos={})
    repo = folder / "examples" / "repos" / "churn-model"
    packages = [f"scikit-learn=={importlib.metadata.version('scikit-learn')}"]
    text = mlproject(version=hashlib.sha1(artifact).hexdigest(), slo=SLO_US, packages=packages)
    commit = git_repo(repo, {**repo_files, "MLproject": text})
    internal, public = free_port(), free_port()
    platform_file = folder / "platform.yaml"
    platform_file.write_text(
        platform_file.read_text()
        .replace("registry: registry.acme.example/models", f"registry: {registry}/models")
        .replace("python: registry.acme.example/base/model-server-python:3.11", f"python: {base}")
        .replace("internal: 8080", f'internal: "127.0.0.1:{internal}"')
        .replace("public: 8081", f'public: "127.0.0.1:{public}"')
        .replace(
            "resolver: [10.96.0.10]", f'resolver: ["127.0.0.1:{free_port(socket.SOCK_DGRAM)}"]'
        )
    )
    rendered = modelship("render", cwd=folder)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    return Platform(folder / "rendered", repo, commit, artifact, estimator, internal, public)


def build_model_image(buildah: Buildah, work: Path, platform: Platform, env: dict[str, str]) -> str:
    """What the pipeline's stages do, with the rendered job's parameters: its Dockerfile, build
    context and build arguments; the image tagged by the commit built, and pushed."""
    job = job_parameters(platform.tree / "jenkins" / "churn.yaml")
    assert job["MODEL_COMMIT"] == platform.commit
    image = f"{job['MODEL_IMAGE_REPOSITORY']}:{job['MODEL_COMMIT'][:7]}"
    context = work / "context"
    shutil.copytree(platform.repo, context / "src")
    (context / "artifact").mkdir()
    (context / "artifact" / "model").write_bytes(platform.artifact)
    assert hashlib.sha1(platform.artifact).hexdigest() == job["MODEL_VERSION"]
    (context / "Dockerfile").write_text(pipeline_dockerfile())
    (context / ".dockerignore").write_text("src/.git\n")
    (context / "packages.json").write_text(job["MODEL_PACKAGES"])
    buildah.build(context, image,
                  {"MODELSHIP_BASE_IMAGE": None, "PIP_INDEX_URL": None},
                  {**env, "MODELSHIP_BASE_IMAGE": job["MODELSHIP_BASE_IMAGE"]},
                  "--pull", "--label", f"org.opencontainers.image.revision={platform.commit}")  # fmt: skip
    buildah.push(image)
    return image


@pytest.fixture(scope="module")
def chain(tmp_path_factory) -> Iterator[Chain]:
    require_inputs()
    work = tmp_path_factory.mktemp("chain")
    timings = Timings()
    with contextlib.ExitStack() as stack:
        index = stack.enter_context(serving_index(WHEELS, work / "index"))
        registry, _ = stack.enter_context(running_registry(work / "registry"))
        buildah = stack.enter_context(in_memory_storage(work / "storage"))
        stack.callback(timings.report)
        env = {"PATH": os.environ["PATH"], "PIP_INDEX_URL": index, "HOME": str(work)}

        with timings("base image: import, build, push"):
            buildah.import_rootfs(ROOTFS, PYTHON_IMAGE)
            base = f"{registry.host}/base/model-server-python:3.11"
            buildah.build(ROOT / "runtime" / "python", base,
                          {"PYTHON_IMAGE": PYTHON_IMAGE, "PIP_INDEX_URL": None}, env)  # fmt: skip
            buildah.push(base)
        platform = render_platform(work, registry.host, base)
        reference = ImageReference.parse(
            yaml.safe_load(next(platform.tree.glob(f"{ENV}/kubernetes/*/churn/deployment.yaml")).read_text())[
                "spec"]["template"]["spec"]["containers"][0]["image"])  # fmt: skip
        asked = RegistryClient(reference.registry, scheme="http", backoff=0.01)
        assert asked.exists(reference.repository, reference.tag) is False
        with timings("model image: build, push"):
            image = build_model_image(buildah, work, platform, env)
        assert image == str(reference)  # the image the Deployment runs is the one pushed
        assert asked.exists(reference.repository, reference.tag) is True

        # The pod: the image's file system, run as the Deployment runs it.
        with timings("pod: its file system"):
            container, root, image_config = buildah.mount_image(image)
        stack.callback(buildah.run, "rm", container)
        model_port = free_port()
        pod_env = {
            **deployment_environment(platform.tree, "churn"),
            "PORT": str(model_port),
            "HOST": "127.0.0.1",
        }
        log = work / "server.log"
        server = stack.enter_context(running_pod(root, image_config, pod_env, log))
        timings.add("pod: start to healthy", wait_healthy(server, model_port, log))

        gateway = platform.tree / ENV / "gateway"
        (gateway / "upstreams").mkdir()
        (gateway / "upstreams" / "pod.conf").write_text(
            f"upstream churn.models-rnd.svc.cluster.local {{ server 127.0.0.1:{model_port}; }}\n"
        )
        (work / "nginx").mkdir()
        stack.enter_context(
            running_nginx(
                work / "nginx", gateway / "nginx.conf", (platform.internal, platform.public)
            )
        )
        version = deployment_environment(platform.tree, "churn")["MODEL_VERSION"]
        yield Chain(
            platform.internal, model_port, image_config, platform.estimator, server, version
        )


class Timings:
    """Seconds per phase, printed at the end (``pytest -s`` shows them)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, phase: str) -> Iterator[None]:
        started = time.monotonic()
        try:
            yield
        finally:
            self.add(phase, time.monotonic() - started)

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = round(seconds, 1)

    def report(self) -> None:
        print(f"\nimage chain timings (s): {json.dumps(self.seconds)}")


def post(port: int, row: object) -> tuple[int, dict, float]:
    started = time.monotonic()
    answer = call(port, "POST", "/churn/predict", json.dumps({"input": row}).encode())
    return answer.status, answer.json(), time.monotonic() - started


def test_a_real_prediction_comes_back_through_the_gateway(chain):
    status, body, _ = post(chain.gateway_port, [1.1, 5.1])
    assert status == 200
    assert body == {
        "output": pytest.approx(float(chain.estimator.predict([[1.1, 5.1]])[0])),
        "default": False,
    }


def test_a_model_slower_than_its_slo_gets_the_default_answer_within_about_its_slo(chain):
    status, body, seconds = post(chain.gateway_port, [SLOW_ABOVE + 1, 0.0])
    assert status == 200
    assert body == {
        "output": 0.0,
        "default": True,
        "default_explanation": "model churn did not answer within its SLO of 300 ms",
    }
    assert SLO_US / 1e6 * 0.9 <= seconds < SLO_US / 1e6 + 0.5


def test_a_bad_input_gets_the_models_400_through_the_gateway(chain):
    status, body, _ = post(chain.gateway_port, [1.1, "five"])
    assert status == 400
    assert body == {
        "error": "invalid_input",
        "message": 'input[1]: must be a number (doubles), got "five"',
    }


def test_the_metrics_count_all_three(chain):
    for row in ([1.1, 5.1], [SLOW_ABOVE + 1, 0.0], [1.1, "five"]):
        post(chain.gateway_port, row)
    time.sleep(1.2)  # the slow prediction finishes in the model after the gateway gave up
    text = call(chain.model_port, "GET", "/metrics").body.decode()
    samples = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("modelship_")
    )
    ok = float(samples['modelship_model_requests_total{outcome="ok"}'])
    invalid = float(samples['modelship_model_requests_total{outcome="invalid_input"}'])
    within = float(samples['modelship_model_request_duration_seconds_bucket{le="0.3"}'])
    total = float(samples["modelship_model_request_duration_seconds_count"])
    assert ok >= 2
    assert invalid >= 1
    assert total == ok + invalid
    assert total - within >= 1  # the slow one, past the SLO bucket
    assert f'version="{chain.version}"' in text


def test_the_server_runs_as_uid_10001_on_a_read_only_root(chain):
    status = Path(f"/proc/{chain.server.pid}/status").read_text()
    assert re.search(r"^Uid:\s+10001\s+10001\s", status, re.MULTILINE), status
    mounts = [
        line.split()
        for line in Path(f"/proc/{chain.server.pid}/mountinfo").read_text().splitlines()
    ]
    options = [fields[5].split(",") for fields in mounts if fields[4] == "/"][-1]
    assert "ro" in options
    tmp = [fields for fields in mounts if fields[4] == "/tmp"][-1]
    assert "rw" in tmp[5].split(",")
    assert "tmpfs" in tmp


def test_the_image_is_built_on_the_base_and_runs_its_server(chain):
    assert chain.image_config["Entrypoint"] == ["python", "-m", "modelship_runtime"]
    assert chain.image_config["User"] == "10001:10001"
    assert chain.image_config["WorkingDir"] == "/opt/model/src"
    assert "MODEL_ARTIFACT=/opt/model/artifact" in chain.image_config["Env"]
