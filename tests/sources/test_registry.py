"""The registry of sources is what platform.yaml and --source may name."""

import pytest

from generator import resources
from generator.errors import UsageError
from generator.sources import registry
from generator.sources.base import OneRepository
from generator.sources.local import LocalSource
from testsupport.scans import PLATFORM


def test_platform_yaml_offers_exactly_the_registered_sources():
    source_type = resources.schema("platform")["properties"]["source"]["properties"]["type"]
    assert sorted(source_type["enum"]) == sorted(registry.SOURCES)


def test_the_platform_source_is_opened_and_narrowed_to_one_repository():
    assert isinstance(registry.open_source(PLATFORM), LocalSource)
    narrowed = registry.open_source(PLATFORM, only="acme/churn-model")
    assert isinstance(narrowed, OneRepository)
    assert narrowed.full_name == "acme/churn-model"
    assert narrowed.report is None


def test_an_unknown_source_is_a_usage_error():
    with pytest.raises(UsageError, match="'svn' source is not available"):
        registry.open_source(PLATFORM, "svn")
