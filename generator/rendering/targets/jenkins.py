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
from generator.rendering.deployment import ModelDeployment, Release
from generator.rendering.targets.base import RenderedFile
from generator.rendering.templating import Renderer

JOB_TEMPLATE = "jenkins/job.jjb.j2"
PIPELINE_SCRIPT = "jenkins/pipeline.groovy"


@dataclass(frozen=True)
class Parameter:
    name: str
    value: str
    description: str


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
    # policy.decide accepts only models whose main-language has a base image
    base_image = settings.base_images[deployment.main_language]
    parameters = [
        Parameter("MODEL_ID", deployment.id, "The model's id."),
        Parameter("MODEL_REPO_URL", deployment.clone_url, "The model repository."),
        Parameter("MODEL_COMMIT", deployment.commit, "The commit to build."),
        Parameter("MODEL_VERSION", deployment.version, "sha1 of the trained model."),
        Parameter("MODEL_URI", deployment.artifact_uri, "The trained model in the artifact store."),
        Parameter(
            "MODEL_PACKAGES",
            json.dumps(list(deployment.packages), ensure_ascii=True),
            "The MLproject's packages (PEP 508), as a JSON list.",
        ),
        Parameter("MODEL_IMAGE", deployment.image, "The image to build and push."),
        Parameter(
            "MODELSHIP_BASE_IMAGE",
            base_image,
            f"The {deployment.main_language} runtime image the model's image is built on.",
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
