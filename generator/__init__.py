"""Modelship: a GitOps generator for machine-learning models."""

# The one place the version is written: pyproject.toml reads it from here (hatch), and a run
# reads it without importlib.metadata, which costs every command a twentieth of a second.
__version__ = "0.1.0.dev0"
