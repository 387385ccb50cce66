"""A canary waits for its image like any new version, against the real registry on loopback:
while the canary's image is missing, the model's stable version runs alone (no canary
Deployment, no split: it takes every request) and the canary's image is recorded as awaited;
once the build pushes it, the next render adds the canary."""

from __future__ import annotations

from tests.test_registry_gate import (  # the registry fixture, and the same platform helpers
    entry,
    gated,
    listed,
    push,
    registry,  # noqa: F401 (a fixture)
    render,
)

CANARY_COMMIT = "0123456789abcdef0123456789abcdef01234567"
CANARY = f"canary:\n  commit: {CANARY_COMMIT}\n  weight: 20\n"


def test_the_stable_version_runs_alone_until_the_canarys_image_exists(registry, tmp_path):  # noqa: F811
    folder = gated(tmp_path, registry.host, "churn")
    mlproject = folder / "examples" / "repos" / "churn-model" / "MLproject"
    mlproject.write_text(mlproject.read_text() + CANARY)
    render(folder)
    model = entry(folder, "churn").model
    own = image_of_model(registry.host, model.provenance.commit)
    canary = image_of_model(registry.host, CANARY_COMMIT)
    [awaited] = entry(folder, "churn").waiting.values()
    assert set(awaited) == {canary, own}  # a new model: both awaited, nothing deployed

    push(registry, own)
    result = render(folder)
    staging = folder / "rendered" / "staging"
    model_folder = staging / "kubernetes" / "models-rnd" / "churn"
    assert (model_folder / "deployment.yaml").exists()
    assert not (model_folder / "canary-deployment.yaml").exists()
    assert not (staging / "gateway" / "splits" / "churn.conf").exists()
    assert "canary" not in (staging / "gateway" / "routes" / "churn.conf").read_text()
    assert entry(folder, "churn").waiting == {"staging": (canary,)}
    placed = listed(folder, "churn")["staging"]
    assert (placed["state"], placed["image"], placed["canary"]) == ("deployed", own, None)
    assert placed["waiting_for_image"] == [canary]
    assert f"{canary} is not in the registry yet" in result.stderr + result.stdout

    push(registry, canary)
    render(folder)
    assert (model_folder / "canary-deployment.yaml").exists()
    assert "20% canary;" in (staging / "gateway" / "splits" / "churn.conf").read_text()
    placed = listed(folder, "churn")["staging"]
    assert placed["canary"] == {"commit": CANARY_COMMIT, "version": None, "weight": 20}
    assert entry(folder, "churn").waiting == {}


def image_of_model(host: str, commit: str) -> str:
    """The image the build job pushes for churn at ``commit``: <registry>/<id>:<commit7>."""
    return f"{host}/models/churn:{commit[:7]}"
