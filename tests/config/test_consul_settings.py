"""platform.yaml's Consul settings: an environment's store (address, datacenter, namespace)
and consul.timeout, read with their defaults and refused at their position when wrong."""

from pathlib import Path

import pytest

from generator.config import loader
from generator.config.settings import ConsulEndpoint, ConsulSettings
from generator.errors import ConfigError
from testsupport.helpers import ROOT

TEXT = (ROOT / "platform.yaml").read_text()


def test_each_environment_names_its_store_and_a_missing_block_defaults():
    platform = loader.parse(TEXT, ROOT / "platform.yaml")
    assert platform.environment("staging").consul == ConsulEndpoint(
        "https://consul.staging.acme.internal:8501", "staging"
    )
    assert platform.environment("production").consul.datacenter == "production"
    assert platform.consul.timeout == 10
    start, end = TEXT.index("    consul:                  #"), TEXT.index("    gateway:")
    bare = loader.parse(TEXT[:start] + TEXT[end:], ROOT / "platform.yaml")
    assert bare.environment("staging").consul == ConsulEndpoint()
    assert ConsulSettings().timeout == 10


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "address: https://consul.acme.internal:8501",
            "address: consul.acme.internal:8501/ui",
            "environments.production.consul.address: must be a Consul HTTP address",
        ),
        (
            "datacenter: staging ",
            "datacenter: Staging ",
            "environments.staging.consul.datacenter: must be a Consul datacenter name",
        ),
        ("timeout: 10 ", "timeout: 0 ", "consul.timeout: must be a number of seconds"),
    ],
)
def test_a_bad_consul_setting_is_named_at_its_line(old, new, message):
    assert old in TEXT
    text = TEXT.replace(old, new)
    with pytest.raises(ConfigError) as raised:
        loader.parse(text, Path("platform.yaml"))
    line = text[: text.index(new)].count("\n") + 1
    assert f"platform.yaml:{line}:" in raised.value.message
    assert message in raised.value.message
