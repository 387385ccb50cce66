"""Modelship: a GitOps generator for machine-learning models."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("modelship")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
