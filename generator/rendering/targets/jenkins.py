"""Jenkins Job Builder definitions: one pipeline job per model that builds and pushes its image.

jenkins/<id>.yaml          the model's build job (built once, deployed to every environment)
jenkins/pipeline.groovy    the pipeline script every job includes (``!include-raw-verbatim``)

The pipeline script (templates/jenkins/pipeline.groovy) is static text, the same for every
model, copied once beside the jobs. Every value the build needs reaches it as a job
parameter: Jenkins Job Builder writes the value into the job's XML, and the script reads it
as data (``params.NAME``, ``"$NAME"``), so no MLproject text is ever Groovy or shell code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from generator.config.settings import Platform
from generator.errors import ConfigError
from generator.rendering.deployment import ModelDeployment, Release
from generator.rendering.targets.base import RenderedFile
from generator.rendering.templating import Renderer

JOB_TEMPLATE = "jenkins/job.jjb.j2"
PIPELINE_SCRIPT = "jenkins/pipeline.groovy"


@dataclass(frozen=True)
class Parameter:
    """A job parameter: a choice with this one value (Jenkins refuses any other), or, for
    ``kind="string"``, a string with this value as its default."""

    name: str
    value: str
    description: str
    kind: str = "choice"


@dataclass(frozen=True)
class BuildJob:
    """What the job template prints for one model."""

    name: str
    description: str
    repo: str
    project_url: str
    builds_to_keep: int
    parameters: tuple[Parameter, ...]


def job_path(deployment: ModelDeployment) -> str:
    return f"jenkins/{deployment.id}.yaml"


def registry_host(registry: str) -> str:
    """The host ``docker login`` needs for images under ``registry`` (Docker's own rule: a first
    path component without a dot, a port or the name localhost is a Docker Hub account)."""
    first = registry.split("/", 1)[0]
    if "." in first or ":" in first or first == "localhost":
        return first
    return "docker.io"


def build_job(platform: Platform, deployment: ModelDeployment) -> BuildJob:
    settings = platform.jenkins
    key = deployment.model.spec.runtime
    base_image = settings.base_images.get(key)
    if base_image is None:
        # policy.decide rejects such a model; only one kept from index.json gets here, after
        # platform.yaml dropped the image it was built on
        raise ConfigError(
            f"platform.yaml: jenkins.base_images has no image for {key!r} (model "
            f"{deployment.id}, main-language {deployment.main_language}, "
            f"pickle {'true' if deployment.pickle else 'false'})"
        )
    parameters = [
        Parameter("MODEL_ID", deployment.id, "The model's id."),
        Parameter("MODEL_NAME", deployment.name, "The MLproject's name."),
        Parameter("MODEL_REPOSITORY", deployment.repo, "The model repository (owner/name)."),
        Parameter("MODEL_REPO_URL", deployment.clone_url, "The model repository's clone URL."),
        Parameter("MODEL_BRANCH", deployment.branch, "The branch a push to which builds its head."),
        Parameter(
            "MODEL_COMMIT",
            deployment.commit,
            "The commit to build (by default the one rendered); a build started by a push "
            "builds the pushed head of MODEL_BRANCH.",
            kind="string",
        ),
        Parameter("MODEL_VERSION", deployment.version, "sha1 of the trained model."),
        Parameter("MODEL_URI", deployment.artifact_uri, "The trained model in the artifact store."),
        Parameter("MODEL_PICKLE", "true" if deployment.pickle else "false", "Pickle or MLflow."),
        Parameter("MODEL_MAIN_LANGUAGE", deployment.main_language, "Its main-language."),
        Parameter("MODEL_INPUT_TYPE", deployment.input_type, "The model's input_type."),
        Parameter("MODEL_SLO_MICROSECONDS", str(deployment.slo_us), "The model's SLO."),
        Parameter("MODEL_PORT", str(deployment.port), "The port the model server listens on."),
        Parameter(
            "MODEL_PACKAGES",
            json.dumps(list(deployment.packages), ensure_ascii=True),
            "The MLproject's packages (PEP 508), as a JSON list.",
        ),
        Parameter(
            "MODEL_IMAGE_REPOSITORY",
            deployment.image_repository,
            "The image's repository; its tag is the first 7 characters of the commit built.",
        ),
        Parameter(
            "MODELSHIP_BASE_IMAGE",
            base_image,
            f"The runtime image the model's image is built on (jenkins.base_images.{key}).",
        ),
        Parameter("MODELSHIP_REGISTRY", registry_host(platform.registry), "The registry host."),
        Parameter(
            "MODELSHIP_REGISTRY_CREDENTIALS",
            settings.registry_credentials,
            "Jenkins credentials (username and password) for the registry.",
        ),
        Parameter("MODELSHIP_AGENT_LABEL", settings.agent_label, "Agents that build images."),
    ]
    if settings.git_credentials is not None:
        parameters.append(
            Parameter(
                "MODELSHIP_GIT_CREDENTIALS",
                settings.git_credentials,
                "Jenkins credentials to clone the model repository.",
            )
        )
    if settings.dispatch is not None:
        parameters += [
            Parameter(
                "MODELSHIP_DISPATCH_REPOSITORY",
                settings.dispatch.repository,
                "The platform repository told (model-changed) after a push.",
            ),
            Parameter(
                "MODELSHIP_DISPATCH_CREDENTIALS",
                settings.dispatch.credentials,
                "Jenkins secret-text credentials: a GitHub token that may dispatch there.",
            ),
            Parameter("MODELSHIP_GITHUB_API_URL", platform.github.api_url, "GitHub's API."),
        ]
    return BuildJob(
        name=deployment.name,
        description=deployment.description,
        repo=deployment.repo,
        project_url=f"{platform.github.web_url.rstrip('/')}/{deployment.repo}",
        builds_to_keep=settings.builds_to_keep,
        parameters=tuple(parameters),
    )


def render(platform: Platform, release: Release, renderer: Renderer) -> Iterator[RenderedFile]:
    # One copy of the static script, beside the jobs, which include it by name.
    yield RenderedFile(PIPELINE_SCRIPT, renderer.source(PIPELINE_SCRIPT).encode("utf-8"))
    # A model is built once, at the commit its source is at; every environment runs an
    # image built this way (a promoted one, at the commit that was promoted).
    for deployment in release.models:
        content = renderer.render(JOB_TEMPLATE, job=build_job(platform, deployment))
        yield RenderedFile(job_path(deployment), content, owner=deployment.id)
