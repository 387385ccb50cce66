"""The image chain end to end, with real parts and no Docker engine.

A Debian Python root file system (mmdebstrap, made by ``scripts/bootstrap --test``) becomes a
local image; buildah builds the base image and its -mlflow variant from
runtime/python/Dockerfile on it and pushes them to a real registry on loopback (Debian's
docker-registry). Two models trained here — a scikit-learn pickle whose class is the
repository's own code, and an MLflow model packed as its tar — are rendered by the real CLI;
the pipeline's own Dockerfile (read out of templates/jenkins/pipeline.groovy) builds each
model's image with its rendered job's parameters, and pushes it. Each image's file system then
runs as the Deployment runs it — uid 10001, a read-only root, an in-memory /tmp, the rendered
Deployment's environment — in a chroot, behind a real nginx serving the rendered gateway
configuration. pip in the builds installs from a loopback package index of wheels bootstrap
downloaded: the tests reach no network but loopback. (podman cannot run containers here:
crun refuses this machine's rlimits and hybrid cgroups, hence the chroot.)
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
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
import yaml
from mlflow.models import infer_signature
from modelship_runtime import artifact as model_artifact
from sklearn.linear_model import LinearRegression

from generator.registry import ImageReference, RegistryClient
from testsupport import processes
from testsupport.buildah import Buildah, in_memory_storage
from testsupport.helpers import ROOT, mlproject, modelship, platform_dir
from testsupport.model_server import call, wait_healthy
from testsupport.nginx import free_port, running_nginx
from testsupport.package_index import serving_index
from testsupport.registry_server import running_registry

# Made by scripts/bootstrap --test (the only step that reaches a network).
E2E_INPUTS = ROOT / ".venv" / "e2e"
# The chain (images built, a registry, the gateway; about two minutes) is made once: every
# test of this module goes to one pytest-xdist worker (scripts/test runs --dist loadgroup).
pytestmark = pytest.mark.xdist_group("image-chain")

ROOTFS = E2E_INPUTS / "debian-python.tar"
WHEELS = E2E_INPUTS / "wheels"
PYTHON_IMAGE = "localhost/modelship-test/debian-python:3.11"
ENV = "staging"
SLO_US = 300_000
SLOW_ABOVE = 100.0  # rows whose first value is larger take a second: slower than the SLO
SLOW_SECONDS = 1.0  # as MODEL_CODE sleeps
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
        processes.stop(process, STOP_TIMEOUT_S)


FRAUD_CODE = '''\
"""The fraud model's own code: an MLflow pyfunc model. Its MLflow model refers to this
class, which the model server imports from the image's working directory."""

import mlflow.pyfunc


class FraudScore(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return (model_input["amount"] / 1000 + model_input["age"] / 10).to_numpy()
'''


@dataclass(frozen=True)
class Model:
    """A model repository of the test: its files, its trained artifact, what it answers."""

    id: str
    team: str
    files: dict[str, str]
    artifact: bytes
    pickle: bool
    packages: tuple[str, ...]
    expected: Callable[[list[float]], float]

    @property
    def name(self) -> str:
        return f"{self.id}-model"


def imported(folder: Path, module_name: str, code: str) -> ModuleType:
    """A model repository's module, imported here as the server imports it in the image."""
    folder.mkdir()
    (folder / f"{module_name}.py").write_text(code)
    spec = importlib.util.spec_from_file_location(module_name, folder / f"{module_name}.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def churn_model(work: Path) -> Model:
    """A pickle of the repository's own class around a scikit-learn regression."""
    module = imported(work / "churn-training", "churn_model", MODEL_CODE)
    try:
        features = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0], [4.0, 3.0]])
        estimator = LinearRegression().fit(features, features @ [1.5, -0.5] + 2.0)
        artifact = pickle.dumps(module.Churn(estimator, SLOW_ABOVE))
    finally:
        del sys.modules["churn_model"]
    packages = (f"scikit-learn=={importlib.metadata.version('scikit-learn')}",)
    return Model(
        "churn", "rnd", {"churn_model.py": MODEL_CODE}, artifact, True, packages,
        lambda row: float(estimator.predict([row])[0]),
    )  # fmt: skip


def fraud_model(work: Path) -> Model:
    """An MLflow pyfunc model of the repository's own class with a column signature, packed
    as its tar. It needs nothing but what the -mlflow base image has: no packages."""
    module = imported(work / "fraud-training", "fraud_model", FRAUD_CODE)
    try:
        features = pd.DataFrame([[10.0, 1.0], [250.0, 3.0]], columns=["amount", "age"])
        python_model = module.FraudScore()
        mlflow.pyfunc.save_model(
            work / "fraud-mlflow",
            python_model=python_model,
            signature=infer_signature(features, python_model.predict(None, features)),
            input_example=features,
            pip_requirements=[],
        )
    finally:
        del sys.modules["fraud_model"]
    version = model_artifact.pack(work / "fraud-mlflow", work / "fraud.tar")
    artifact = (work / "fraud.tar").read_bytes()
    assert hashlib.sha1(artifact).hexdigest() == version
    return Model(
        "fraud", "fraud", {"fraud_model.py": FRAUD_CODE}, artifact, False, (),
        lambda row: row[0] / 1000 + row[1] / 10,
    )  # fmt: skip


@dataclass(frozen=True)
class Platform:
    """The test's platform folder, rendered by the real CLI onto the loopback parts."""

    folder: Path
    internal: int
    public: int

    @property
    def tree(self) -> Path:
        return self.folder / "rendered"

    def repo(self, model: Model) -> Path:
        return self.folder / "examples" / "repos" / model.name

    def job(self, model: Model) -> dict[str, str]:
        return job_parameters(self.tree / "jenkins" / f"{model.id}.yaml")

    def image(self, model: Model) -> str:
        [path] = (self.tree / ENV / "kubernetes").glob(f"*/{model.id}/deployment.yaml")
        [container] = yaml.safe_load(path.read_text())["spec"]["template"]["spec"]["containers"]
        return container["image"]

    def environment(self, model: Model) -> dict[str, str]:
        return deployment_environment(self.tree, model.id)


def render_platform(
    work: Path, registry: str, bases: dict[str, str], models: list[Model]
) -> Platform:
    folder = platform_dir(work / "platform", repos={})
    for model in models:
        text = mlproject(
            name=model.name,
            id=model.id,
            team=model.team,
            version=hashlib.sha1(model.artifact).hexdigest(),
            pickle=model.pickle,
            slo=SLO_US,
            packages=list(model.packages),
        )
        git_repo(folder / "examples" / "repos" / model.name, {**model.files, "MLproject": text})
    internal, public = free_port(), free_port()
    platform_file = folder / "platform.yaml"
    platform_file.write_text(
        platform_file.read_text()
        .replace("registry: registry.acme.example/models", f"registry: {registry}/models")
        .replace("python: registry.acme.example/base/model-server-python:3.11", f"python: {bases['python']}")
        .replace("python-mlflow: registry.acme.example/base/model-server-python:3.11-mlflow",
                 f"python-mlflow: {bases['python-mlflow']}")
        .replace("internal: 8080", f'internal: "127.0.0.1:{internal}"')
        .replace("public: 8081", f'public: "127.0.0.1:{public}"')
        .replace("resolver: [10.96.0.10]", f'resolver: ["127.0.0.1:{free_port(socket.SOCK_DGRAM)}"]')
    )  # fmt: skip
    rendered = modelship("render", cwd=folder)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    return Platform(folder, internal, public)


def build_model_image(
    buildah: Buildah, work: Path, platform: Platform, model: Model, env: dict[str, str]
) -> str:
    """What the pipeline's stages do, with the rendered job's parameters: its Dockerfile, build
    context and build arguments; the image tagged by the commit built, and pushed."""
    job = platform.job(model)
    image = f"{job['MODEL_IMAGE_REPOSITORY']}:{job['MODEL_COMMIT'][:7]}"
    context = work / f"{model.id}-context"
    shutil.copytree(platform.repo(model), context / "src")
    (context / "artifact").mkdir()
    (context / "artifact" / "model").write_bytes(model.artifact)
    assert hashlib.sha1(model.artifact).hexdigest() == job["MODEL_VERSION"]
    (context / "Dockerfile").write_text(pipeline_dockerfile())
    (context / ".dockerignore").write_text("src/.git\n")
    (context / "packages.json").write_text(job["MODEL_PACKAGES"])
    buildah.build(context, image,
                  {"MODELSHIP_BASE_IMAGE": None, "PIP_INDEX_URL": None},
                  {**env, "MODELSHIP_BASE_IMAGE": job["MODELSHIP_BASE_IMAGE"]},
                  "--pull", "--label", f"org.opencontainers.image.revision={job['MODEL_COMMIT']}")  # fmt: skip
    buildah.push(image)
    return image


@dataclass(frozen=True)
class Pod:
    port: int
    process: subprocess.Popen
    image_config: dict
    version: str


@dataclass(frozen=True)
class Chain:
    gateway_port: int
    platform: Platform
    models: dict[str, Model]
    pods: dict[str, Pod]


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
            self.seconds[phase] = round(time.monotonic() - started, 1)

    def report(self) -> None:
        print(f"\nimage chain timings (s): {json.dumps(self.seconds)}")


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

        bases = {
            "python": f"{registry.host}/base/model-server-python:3.11",
            "python-mlflow": f"{registry.host}/base/model-server-python:3.11-mlflow",
        }
        with timings("base images: import, build both, push"):
            buildah.import_rootfs(ROOTFS, PYTHON_IMAGE)
            for key, requirements in (("python", "requirements.txt"),
                                      ("python-mlflow", "requirements-mlflow.txt")):  # fmt: skip
                buildah.build(ROOT / "runtime" / "python", bases[key],
                              {"PYTHON_IMAGE": PYTHON_IMAGE, "PIP_INDEX_URL": None,
                               "REQUIREMENTS": requirements}, env)  # fmt: skip
                buildah.push(bases[key])
        models = {m.id: m for m in (churn_model(work), fraud_model(work))}
        platform = render_platform(work, registry.host, bases, list(models.values()))

        pods = {}
        gateway = platform.tree / ENV / "gateway"
        (gateway / "upstreams").mkdir()
        for model in models.values():
            reference = ImageReference.parse(platform.image(model))
            asked = RegistryClient(reference.registry, scheme="http", backoff=0.01)
            assert asked.exists(reference.repository, reference.tag) is False
            with timings(f"{model.id} image: build, push"):
                image = build_model_image(buildah, work, platform, model, env)
            assert image == str(reference)  # the image the Deployment runs is the one pushed
            assert asked.exists(reference.repository, reference.tag) is True

            container, root, image_config = buildah.mount_image(image)
            stack.callback(buildah.run, "rm", container)
            port = free_port()
            deployed = platform.environment(model)
            log = work / f"{model.id}-server.log"
            process = stack.enter_context(running_pod(
                root, image_config, {**deployed, "PORT": str(port), "HOST": "127.0.0.1"}, log
            ))  # fmt: skip
            with timings(f"{model.id} pod: start to healthy"):
                wait_healthy(process, port, log)
            pods[model.id] = Pod(port, process, image_config, deployed["MODEL_VERSION"])
            [path] = (platform.tree / ENV / "kubernetes").glob(f"*/{model.id}/service.yaml")
            namespace = path.parent.parent.name
            with (gateway / "upstreams" / "pods.conf").open("a") as upstreams:
                upstreams.write(
                    f"upstream {model.id}.{namespace}.svc.cluster.local "
                    f"{{ server 127.0.0.1:{port}; }}\n"
                )
        (work / "nginx").mkdir()
        stack.enter_context(
            running_nginx(
                work / "nginx", gateway / "nginx.conf", (platform.internal, platform.public)
            )
        )
        yield Chain(platform.internal, platform, models, pods)


def post(chain: Chain, model_id: str, row: object) -> tuple[int, dict, float]:
    started = time.monotonic()
    answer = call(
        chain.gateway_port, "POST", f"/{model_id}/predict", json.dumps({"input": row}).encode()
    )
    return answer.status, answer.json(), time.monotonic() - started


def metrics(chain: Chain, model_id: str) -> dict[str, float]:
    text = call(chain.pods[model_id].port, "GET", "/metrics").body.decode()
    return {
        name: float(value)
        for name, value in (
            line.rsplit(" ", 1) for line in text.splitlines() if line.startswith("modelship_")
        )
    }


def test_a_real_prediction_comes_back_through_the_gateway(chain):
    status, body, _ = post(chain, "churn", [1.1, 5.1])
    assert status == 200
    assert body == {
        "output": pytest.approx(chain.models["churn"].expected([1.1, 5.1])),
        "default": False,
    }


def test_a_model_slower_than_its_slo_gets_the_default_answer_within_about_its_slo(chain):
    status, body, seconds = post(chain, "churn", [SLOW_ABOVE + 1, 0.0])
    assert status == 200
    assert body == {
        "output": 0.0,
        "default": True,
        "default_explanation": "model churn did not answer within its SLO of 300 ms",
    }
    assert SLO_US / 1e6 * 0.9 <= seconds < SLO_US / 1e6 + 0.5


def test_a_bad_input_gets_the_models_400_through_the_gateway(chain):
    status, body, _ = post(chain, "churn", [1.1, "five"])
    assert status == 400
    assert body == {
        "error": "invalid_input",
        "message": 'input[1]: must be a number (doubles), got "five"',
    }


def test_the_metrics_count_all_three(chain):
    # A slow prediction goes on in the model for a second after the gateway gave up on it.
    time.sleep(SLOW_SECONDS + 0.2)  # an earlier test's
    before = metrics(chain, "churn")
    for row in ([1.1, 5.1], [SLOW_ABOVE + 1, 0.0], [1.1, "five"]):
        post(chain, "churn", row)
    time.sleep(SLOW_SECONDS + 0.2)  # this test's
    after = metrics(chain, "churn")
    grown = {name: after[name] - before.get(name, 0.0) for name in after}
    assert grown['modelship_model_requests_total{outcome="ok"}'] == 2
    assert grown['modelship_model_requests_total{outcome="invalid_input"}'] == 1
    assert grown["modelship_model_request_duration_seconds_count"] == 3
    assert (
        grown['modelship_model_request_duration_seconds_bucket{le="0.3"}'] == 2
    )  # not the slow one
    info = f'modelship_model_info{{input_type="doubles",loader="pickle",model="churn",version="{chain.pods["churn"].version}"}}'
    assert after[info] == 1


def test_an_mlflow_model_answers_from_its_mlflow_image(chain):
    fraud = chain.models["fraud"]
    status, body, _ = post(chain, "fraud", [120.0, 2.0])
    assert status == 200
    assert body == {"output": pytest.approx(fraud.expected([120.0, 2.0])), "default": False}
    short = post(chain, "fraud", [120.0])
    assert short[:2] == (400, {
        "error": "invalid_input",
        "message": "input must hold 2 values, the model's columns amount, age; got 1",
    })  # fmt: skip
    job = chain.platform.job(fraud)
    assert job["MODELSHIP_BASE_IMAGE"].endswith("/base/model-server-python:3.11-mlflow")
    assert job["MODEL_URI"].endswith(f"/fraud-model/{job['MODEL_VERSION']}.tar")
    samples = metrics(chain, "fraud")
    assert (
        samples[
            f'modelship_model_info{{input_type="doubles",loader="mlflow",model="fraud",version="{job["MODEL_VERSION"]}"}}'
        ]
        == 1
    )


def test_the_servers_run_as_uid_10001_on_a_read_only_root(chain):
    for pod in chain.pods.values():
        status = Path(f"/proc/{pod.process.pid}/status").read_text()
        assert re.search(r"^Uid:\s+10001\s+10001\s", status, re.MULTILINE), status
        mounts = [
            line.split()
            for line in Path(f"/proc/{pod.process.pid}/mountinfo").read_text().splitlines()
        ]
        assert "ro" in [fields[5].split(",") for fields in mounts if fields[4] == "/"][-1]
        tmp = [fields for fields in mounts if fields[4] == "/tmp"][-1]
        assert "rw" in tmp[5].split(",")
        assert "tmpfs" in tmp


def test_each_image_is_built_on_its_base_and_runs_its_server(chain):
    for pod in chain.pods.values():
        assert pod.image_config["Entrypoint"] == ["python", "-m", "modelship_runtime"]
        assert pod.image_config["User"] == "10001:10001"
        assert pod.image_config["WorkingDir"] == "/opt/model/src"
        assert "MODEL_ARTIFACT=/opt/model/artifact" in pod.image_config["Env"]
