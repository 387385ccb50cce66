"""platform.yaml's image_gate: its defaults, and its credentials named as variables only."""

import pytest

from generator.config import loader
from generator.config.settings import ImageGate
from generator.errors import ConfigError
from testsupport.helpers import ROOT

TEXT = (ROOT / "platform.yaml").read_text()
EXAMPLE_GATE = TEXT[TEXT.index("image_gate:") : TEXT.index("artifact_store:")]


def with_gate(block, tmp_path):
    return loader.parse(TEXT.replace(EXAMPLE_GATE, block), tmp_path / "platform.yaml")


def test_the_example_platform_turns_the_gate_off_and_a_platform_without_the_key_has_it_on(
    tmp_path,
):
    assert loader.load(ROOT / "platform.yaml").image_gate == ImageGate(enabled=False)
    assert with_gate("", tmp_path).image_gate == ImageGate()
    assert ImageGate().enabled is True


def test_credentials_are_the_names_of_two_environment_variables(tmp_path):
    block = "image_gate: {username_env: REGISTRY_USER, password_env: REGISTRY_PASSWORD}\n"
    gate = with_gate(block, tmp_path).image_gate
    assert (gate.username_env, gate.password_env) == ("REGISTRY_USER", "REGISTRY_PASSWORD")


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (
            "image_gate: {username_env: REGISTRY_USER}\n",
            "image_gate: must name both username_env and password_env, or neither",
        ),
        (
            "image_gate: {username_env: REGISTRY_USER, password_env: 's3cret pass'}\n",
            "image_gate.password_env: must be the name of an environment variable",
        ),
        ("image_gate: {scheme: ftp}\n", "image_gate.scheme: must be https, or http"),
    ],
)
def test_a_bad_gate_setting_is_an_error_at_its_key(tmp_path, block, message):
    with pytest.raises(ConfigError) as raised:
        with_gate(block, tmp_path)
    assert message in raised.value.message
