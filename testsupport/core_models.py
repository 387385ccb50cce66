"""Models (spec and provenance) built in code, for the tests of the pure core."""

from __future__ import annotations

from typing import Any

from generator.mlproject import ModelSpec
from generator.model import Model, Provenance


def model(
    model_id: str = "churn",
    commit: str = "a",
    team: str = "rnd",
    repo: str | None = None,
    **spec: Any,
) -> Model:
    """A valid model ``model_id`` of ``team`` at the commit of forty ``commit`` characters."""
    values = {
        "name": f"{model_id}-model",
        "id": model_id,
        "team": team,
        "description": "d",
        "version": "1" * 40,
        "input_type": "doubles",
        "default_output": "0",
        **spec,
    }
    repo = repo or f"acme/{model_id}-model"
    return Model(ModelSpec(**values), Provenance(repo, commit * 40, "u", "main"))
