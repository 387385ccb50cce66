"""Fixtures shared by the whole suite."""

pytest_plugins = ["tests.fakes.github_server"]
