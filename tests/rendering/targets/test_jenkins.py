"""The Jenkins target, checked by its real consumers: `jenkins-jobs test` turns every rendered job
into Jenkins XML, read back with an XML parser; Groovy 2.4 (Jenkins' version) parses the script."""

import json
import subprocess
import xml.etree.ElementTree as ET

import pytest
import yaml

from generator import evaluate, rendered_tree
from generator.config import loader
from generator.errors import TemplateError
from generator.index import Index
from generator.rendering.targets import jenkins
from generator.sources.local import LocalSource
from testsupport import helpers
from testsupport.helpers import ROOT, mlproject, modelship, platform_dir, tool, write_repo

MANAGED = "<!-- Managed by Jenkins Job Builder -->"
HOSTILE_DESCRIPTION = (
    "it's \"quoted\" {{ x }} {name} {} {0} ${HOME} $(id) `id` ; # : - ''' \\ <b>&amp;</b> é😀"
)
HOSTILE_PACKAGES = [
    "requests[socks]>=2; extra == \"{name} ${HOME} $(id) `id` ''' ; {{ x }} }\"",
    "evil @ https://example.com/$(id)/{x}/a.whl",
    "scikit-learn",
]
JJB_CONFIG = """\
[job_builder]
allow_empty_variables = False
keep_descriptions = False

[jenkins]
query_plugins_info = False
"""


def render_platform(folder):
    platform = loader.load(folder / "platform.yaml")
    evaluation = evaluate.evaluate(platform, LocalSource.from_platform(platform).scan(), Index())
    tree = helpers.plan_everywhere(
        platform, evaluation.models, helpers.renderer(platform.templates_path)
    )
    rendered_tree.write_tree(platform.rendered_path, tree, {})
    return platform, tree


def jenkins_jobs_test(platform, out):
    """One `jenkins-jobs test` run over every rendered job; job name → its config.xml, parsed."""
    ini = out.parent / "jenkins_jobs.ini"
    ini.write_text(JJB_CONFIG)
    result = subprocess.run(
        [
            tool("jenkins-jobs"),
            "--conf",
            str(ini),
            "test",
            str(platform.rendered_path / "jenkins"),
            "-o",
            str(out),
            "--config-xml",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return {path.parent.name: ET.parse(path).getroot() for path in out.glob("*/config.xml")}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The example platform plus one model whose free text is as hostile as the contract allows."""
    folder = platform_dir(tmp_path_factory.mktemp("platform"))
    text = mlproject(
        name="hostile-model",
        id="hostile",
        description=HOSTILE_DESCRIPTION,
        default_output="'''\n$(reboot)\n{{ }} {name}",
        packages=HOSTILE_PACKAGES,
    )
    write_repo(folder / "examples" / "repos", "hostile-model", text)
    platform, tree = render_platform(folder)
    jobs = jenkins_jobs_test(platform, tmp_path_factory.mktemp("xml") / "out")
    return platform, tree, jobs


def parameters(job):
    """Parameter name → its choices."""
    return {
        p.findtext("name"): [s.text or "" for s in p.iter("string")]
        for p in job.iter("hudson.model.ChoiceParameterDefinition")
    }


def string_defaults(job):
    """String parameter name → its default."""
    return {
        p.findtext("name"): p.findtext("defaultValue")
        for p in job.iter("hudson.model.StringParameterDefinition")
    }


def single_values(job):
    """Every parameter's value: the one option of each choice, the default of each string."""
    found = parameters(job)
    assert all(len(choices) == 1 for choices in found.values()), found
    return {**{name: choices[0] for name, choices in found.items()}, **string_defaults(job)}


def built_image(values):
    """The image a build of the rendered commit pushes."""
    return f"{values['MODEL_IMAGE_REPOSITORY']}:{values['MODEL_COMMIT'][:7]}"


def index_entry(tree, model_id):
    return json.loads(tree["index.json"])["models"][model_id]


def test_jenkins_jobs_turns_every_rendered_job_into_xml(built):
    _, tree, jobs = built
    assert sorted(jobs) == [
        "blaze-visual-similarity-model",
        "fraud-score-model",
        "hostile-model",
        "price-elasticity-model",
        "product-title-classifier-model",
        "search-ranking-model",
        "size-advice-model",
    ]
    assert sorted(p for p in tree if p.startswith("jenkins/")) == sorted(
        [
            "jenkins/pipeline.groovy",
            *(f"jenkins/{model_id}.yaml" for model_id in json.loads(tree["index.json"])["models"]),
        ]
    )
    assert all(job.tag == "flow-definition" for job in jobs.values())


def test_job_builds_the_rendered_commit_into_the_image_the_deployment_runs(built):
    platform, tree, jobs = built
    deployment = yaml.safe_load(
        tree["production/kubernetes/models-rnd/visual-similarity/deployment.yaml"]
    )
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    commit = deployment["metadata"]["annotations"]["modelship.dev/source-commit"]
    values = single_values(jobs["blaze-visual-similarity-model"])
    assert built_image(values) == container["image"]
    assert built_image(values) == f"registry.acme.example/models/visual-similarity:{commit[:7]}"
    assert values["MODEL_COMMIT"] == commit
    assert values["MODEL_REPO_URL"] == "https://github.com/acme/blaze-visual-similarity-model.git"
    assert values["MODEL_REPOSITORY"] == "acme/blaze-visual-similarity-model"
    assert values["MODEL_BRANCH"] == "main"
    assert values["MODEL_VERSION"] == "4f1255f50f5f32e93b4fb69704d23f466e468ebd"
    assert values["MODEL_URI"] == (
        "s3://acme-ml-artifacts/models/blaze-visual-similarity-model/"
        "4f1255f50f5f32e93b4fb69704d23f466e468ebd.pkl"
    )
    assert json.loads(values["MODEL_PACKAGES"]) == ["scikit-learn", "pandas"]
    assert values["MODELSHIP_BASE_IMAGE"] == platform.jenkins.base_images["python"]
    # The smoke stage starts the image with the Deployment's environment.
    environment = {e["name"]: e["value"] for e in container["env"]}
    for name in ("MODEL_ID", "MODEL_NAME", "MODEL_VERSION", "MODEL_PICKLE", "MODEL_INPUT_TYPE",
                 "MODEL_SLO_MICROSECONDS"):  # fmt: skip
        assert values[name] == environment[name], name
    assert values["MODEL_PORT"] == environment["PORT"]
    assert values["MODELSHIP_DISPATCH_REPOSITORY"] == "acme/modelship"
    assert values["MODELSHIP_DISPATCH_CREDENTIALS"] == "acme-modelship-dispatch"
    assert values["MODELSHIP_GITHUB_API_URL"] == "https://api.github.com"
    assert values["MODELSHIP_REGISTRY"] == "registry.acme.example"
    assert values["MODELSHIP_REGISTRY_CREDENTIALS"] == "acme-model-registry"
    assert values["MODELSHIP_GIT_CREDENTIALS"] == "acme-github-models"
    assert values["MODELSHIP_AGENT_LABEL"] == "docker"


def test_every_job_values_match_its_index_entry(built):
    _, tree, jobs = built
    for model_id, entry in json.loads(tree["index.json"])["models"].items():
        spec = entry["specs"][entry["spec"]]
        values = single_values(jobs[spec["name"]])
        assert values["MODEL_ID"] == model_id
        # A job builds the commit the source is at: the image staging, which follows the
        # sources, runs (and production later, once promoted).
        assert built_image(values) == entry["environments"]["staging"]["image"]
        assert values["MODEL_COMMIT"] == entry["source"]["commit"]
        assert values["MODEL_REPO_URL"] == entry["source"]["clone_url"]
        assert json.loads(values["MODEL_PACKAGES"]) == spec["packages"]


def test_job_has_push_trigger_discarder_no_concurrency_and_a_sandboxed_script(built):
    _, _, jobs = built
    for name, job in jobs.items():
        properties = job.find("properties")
        assert (
            properties.find(
                "org.jenkinsci.plugins.workflow.job.properties.DisableConcurrentBuildsJobProperty"
            )
            is not None
        ), name
        rotator = properties.find("jenkins.model.BuildDiscarderProperty/strategy")
        assert rotator.get("class") == "hudson.tasks.LogRotator"
        assert rotator.findtext("numToKeep") == "30"
        triggers = properties.find(
            "org.jenkinsci.plugins.workflow.job.properties.PipelineTriggersJobProperty/triggers"
        )
        assert [t.tag for t in triggers] == ["com.cloudbees.jenkins.GitHubPushTrigger"]
        assert job.findtext("definition/sandbox") == "true"
    github = jobs["size-advice-model"].find(
        "properties/com.coravy.hudson.plugins.github.GithubProjectProperty"
    )
    assert github.findtext("projectUrl") == "https://github.com/acme/size-advice-model"


def test_description_is_the_mlprojects(built):
    _, _, jobs = built
    description = jobs["search-ranking-model"].findtext("description")
    assert description == "Scores how well a product matches a search query" + MANAGED


def test_pipeline_script_is_the_static_file_in_every_job(built):
    _, _, jobs = built
    static = (ROOT / "templates" / "jenkins" / "pipeline.groovy").read_text()
    for name, job in jobs.items():
        assert job.findtext("definition/script") == static, name


def test_pipeline_script_parses_as_groovy_24_like_jenkins_runs(built, tmp_path):
    _, _, jobs = built
    script = tmp_path / "pipeline.groovy"
    script.write_text(jobs["hostile-model"].findtext("definition/script"))
    result = subprocess.run(
        [tool("groovyc"), "-d", str(tmp_path / "classes"), str(script)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    version = subprocess.run(
        [tool("groovyc"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert "version 2.4." in version.stdout + version.stderr


def test_hostile_values_arrive_in_the_xml_unchanged_and_only_as_data(built):
    _, tree, jobs = built
    job = jobs["hostile-model"]
    assert job.findtext("description") == HOSTILE_DESCRIPTION + MANAGED
    values = single_values(job)
    assert json.loads(values["MODEL_PACKAGES"]) == HOSTILE_PACKAGES
    assert built_image(values) == index_entry(tree, "hostile")["environments"]["staging"]["image"]
    static = (ROOT / "templates" / "jenkins" / "pipeline.groovy").read_text()
    assert job.findtext("definition/script") == static  # no model text became code


def test_git_credentials_are_left_out_when_the_platform_has_none(tmp_path):
    folder = platform_dir(tmp_path, repos={"churn-model": mlproject()})
    platform_file = folder / "platform.yaml"
    platform_file.write_text(
        platform_file.read_text().replace("  git_credentials: acme-github-models", "")
    )
    platform, _ = render_platform(folder)
    jobs = jenkins_jobs_test(platform, tmp_path / "out")
    names = parameters(jobs["churn-model"])
    assert "MODELSHIP_GIT_CREDENTIALS" not in names
    assert "MODELSHIP_REGISTRY_CREDENTIALS" in names


@pytest.mark.parametrize(
    ("registry", "host"),
    [
        ("registry.acme.example/models", "registry.acme.example"),
        ("localhost:5000/models", "localhost:5000"),
        ("localhost/models", "localhost"),
        ("acme/models", "docker.io"),
        ("ghcr.io", "ghcr.io"),
    ],
)
def test_registry_host_follows_dockers_rule(registry, host):
    assert jenkins.registry_host(registry) == host


def test_a_platforms_own_pipeline_script_is_used_as_it_is_never_rendered(tmp_path):
    folder = platform_dir(tmp_path / "platform", repos={"churn-model": mlproject()})
    own = folder / "my-templates" / "jenkins"
    own.mkdir(parents=True)
    script = "node(params.MODELSHIP_AGENT_LABEL) { echo '{{ m.id }} ${MODEL_ID}' }\n"
    (own / "pipeline.groovy").write_text(script)
    with (folder / "platform.yaml").open("a") as handle:
        handle.write("templates: my-templates\n")
    platform, _ = render_platform(folder)
    jobs = jenkins_jobs_test(platform, tmp_path / "out")
    assert jobs["churn-model"].findtext("definition/script") == script


def test_a_missing_pipeline_script_is_a_template_error(tmp_path):
    with pytest.raises(TemplateError, match=r"jenkins/nothing\.groovy: template not found"):
        helpers.renderer(tmp_path).source("jenkins/nothing.groovy")


def test_an_mlflow_model_builds_on_the_mlflow_variant_from_its_tar(built):
    platform, _, jobs = built
    values = single_values(jobs["fraud-score-model"])
    assert values["MODEL_PICKLE"] == "false"
    assert values["MODELSHIP_BASE_IMAGE"] == platform.jenkins.base_images["python-mlflow"]
    assert values["MODEL_URI"].endswith(f"/fraud-score-model/{values['MODEL_VERSION']}.tar")


def test_the_commit_is_a_string_parameter_defaulting_to_the_rendered_commit(built):
    _, tree, jobs = built
    job = jobs["size-advice-model"]
    [commit] = [
        p
        for p in job.iter("hudson.model.StringParameterDefinition")
        if p.findtext("name") == "MODEL_COMMIT"
    ]
    assert commit.findtext("defaultValue") == index_entry(tree, "size-advice")["source"]["commit"]
    assert commit.findtext("trim") == "true"
    assert "MODEL_COMMIT" not in parameters(job)


def test_an_mlflow_model_without_an_mlflow_base_image_is_rejected_by_its_runtime(tmp_path):
    folder = platform_dir(tmp_path, repos={"churn-model": mlproject(pickle=False)})
    platform_file = folder / "platform.yaml"
    text = platform_file.read_text()
    platform_file.write_text(
        "\n".join(line for line in text.splitlines() if "python-mlflow:" not in line) + "\n"
    )
    result = modelship("render", cwd=folder)
    assert result.returncode == 1
    assert (
        "pickle: the platform has no runtime image 'python-mlflow' for this model "
        "(main-language python, pickle false): add it to jenkins.base_images in platform.yaml"
        in result.stdout
        + result.stderr
    )
    assert not (folder / "rendered" / "jenkins" / "churn.yaml").exists()


def test_no_dispatch_parameters_without_a_dispatch_setting(tmp_path):
    folder = platform_dir(tmp_path, repos={"churn-model": mlproject()})
    platform_file = folder / "platform.yaml"
    text = platform_file.read_text()
    start = text.index("  dispatch:")
    end = text.index("\n\n", start)
    platform_file.write_text(text[:start] + text[end + 1 :])
    platform, _ = render_platform(folder)
    assert platform.jenkins.dispatch is None
    names = parameters(jenkins_jobs_test(platform, tmp_path / "out")["churn-model"])
    assert not any(name.startswith("MODELSHIP_DISPATCH") for name in names)
    assert "MODELSHIP_GITHUB_API_URL" not in names
