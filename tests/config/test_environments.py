"""platform.yaml's environments (instances, resources, models, promotion), what the clusters
follow (sync) and where promotions live: loaded with their defaults, every bad value a
positioned message."""

import re

import pytest
import yaml

from generator.config import loader
from generator.config.settings import InstanceRule
from generator.errors import ConfigError
from testsupport.helpers import ROOT

EXAMPLE = (ROOT / "platform.yaml").read_text()


def with_sections(**sections):
    """The example platform.yaml with top-level sections replaced (None: removed)."""
    data = yaml.safe_load(EXAMPLE)
    for key, value in sections.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return yaml.safe_dump(data, sort_keys=False)


def environments(**changes):
    data = yaml.safe_load(EXAMPLE)["environments"]
    for name, values in changes.items():
        data.setdefault(name, {"gateway": dict(data["staging"]["gateway"])}).update(values)
    return data


def problems(text, tmp_path):
    with pytest.raises(ConfigError) as caught:
        loader.parse(text, tmp_path / "platform.yaml")
    return caught.value.message


def test_the_example_environments_differ_as_it_says():
    platform = loader.load(ROOT / "platform.yaml")
    staging, production = platform.environment("staging"), platform.environment("production")
    assert staging.instances == InstanceRule(count=1)
    assert staging.requests == {"cpu": "100m", "memory": "256Mi"}
    assert staging.promoted_from is None
    assert production.instances == InstanceRule()
    assert (production.requests, production.limits) == ({}, {})
    assert production.promoted_from == "staging"
    assert platform.promoted_from == {"production": "staging"}
    assert platform.sync.url == "ssh://git@github.com/acme/modelship.git"
    assert (platform.sync.path, platform.sync.branch) == ("rendered", "main")
    assert platform.promotions.path == ROOT / "promotions"


def test_an_environment_scales_instances_and_picks_its_models(tmp_path):
    text = with_sections(
        environments=environments(
            qa={"instances": {"factor": 0.5}, "models": {"teams": ["rnd"], "exclude": ["churn"]}}
        )
    )
    qa = loader.parse(text, tmp_path / "platform.yaml").environment("qa")
    assert qa.instances == InstanceRule(factor=0.5)
    assert qa.models.teams == ("rnd",)
    assert qa.models.admits("rnd", "size-advice")
    assert not qa.models.admits("rnd", "churn")
    assert not qa.models.admits("search", "search-ranking")


def test_a_separate_rendered_repository_is_what_clusters_follow_by_default(tmp_path):
    text = with_sections(
        rendered={
            "path": "tree",
            "repository": {"url": "git@github.com:acme/deploy.git", "branch": "live"},
        },
        sync=None,
    )
    platform = loader.parse(text, tmp_path / "platform.yaml")
    assert (platform.sync.url, platform.sync.branch, platform.sync.path) == (
        "git@github.com:acme/deploy.git",
        "live",
        "tree",
    )


@pytest.mark.parametrize(
    ("sections", "expected"),
    [
        (
            {"environments": environments(production={"promotion": {"from": "qa"}})},
            r"environments\.production\.promotion\.from: 'qa' is not an environment of this "
            r"platform \(staging\)",
        ),
        (
            {"environments": environments(staging={"promotion": {"from": "staging"}})},
            r"environments\.staging\.promotion\.from: an environment cannot be promoted from itself",
        ),
        (
            {"environments": environments(staging={"promotion": {"from": "production"}})},
            r"environments\.production\.promotion\.from: promotions go round in a cycle "
            r"\(production → staging → production\)",
        ),
        (
            {"environments": environments(qa={"models": {"teams": ["rnd", "marketing"]}})},
            r"environments\.qa\.models\.teams\[1\]: 'marketing' is not a team of this platform",
        ),
        (
            {"environments": environments(qa={"instances": 0})},
            r"environments\.qa\.instances: must be a number of instances between 1 and 50, or "
            r"\{factor: N\}",
        ),
        (
            {"environments": environments(qa={"instances": {"factor": -1}})},
            r"environments\.qa\.instances: must be a number of instances between 1 and 50",
        ),
        (
            {"environments": environments(qa={"resources": {"requests": {"cpu": "lots"}}})},
            r"environments\.qa\.resources\.requests\.cpu: must be a Kubernetes quantity",
        ),
        (
            {"environments": environments(qa={"models": {"exclude": ["Churn"]}})},
            r"environments\.qa\.models\.exclude\[0\]: must be a model id",
        ),
        (
            {"sync": None},
            r"rendered: sync\.url is required when the rendered tree is a folder of this "
            r"repository",
        ),
        ({"sync": {"url": "a b"}}, r"sync\.url: must be a git URL"),
        ({"sync": {"url": "x", "interval": "often"}}, r"sync\.interval: must be a duration"),
        ({"sync": {"url": "x", "path": "../up"}}, r"sync\.path: must be a folder path inside"),
        (
            {"teams": {"rnd": {"namespace": "gateway"}}},
            r"teams\.rnd\.namespace: namespace 'gateway' is the gateway's namespace; a team needs",
        ),
        (
            {"teams": {"rnd": {"namespace": "flux-system"}}},
            r"teams\.rnd\.namespace: namespace 'flux-system' is Flux's namespace",
        ),
        (
            {"promotions": {"path": "rendered/promotions"}},
            r"promotions\.path: the promotions folder 'rendered/promotions' is inside the "
            r"rendered tree \(rendered\)",
        ),
        (
            {"promotions": {"path": "../elsewhere"}},
            r"promotions\.path: the promotions folder '../elsewhere' is outside the platform",
        ),
        (
            {"gateway": {"namespace": "gateway", "replicas": 0}},
            r"gateway\.replicas: must be an integer",
        ),
        (
            {"gateway": {"namespace": "gateway", "image": "Nginx"}},
            r"gateway\.image: must be an image",
        ),
    ],
)
def test_a_bad_setting_is_named_with_its_position(tmp_path, sections, expected):
    message = problems(with_sections(**sections), tmp_path)
    assert re.search(r"platform\.yaml:\d+:\d+: " + expected, message), message
