"""render.yml's sync-consul job: it follows every publish, and its step — run with bash as
the runner runs it, in a runner's workspace — applies the environment's kv.json to a
loopback Consul with the GitHub environment's token."""

import pytest
import yaml

from generator.errors import ExitCode
from testsupport.consul import (
    CONSUL_VARIABLES,
    PREFIX,
    commit_kv,
    decoded,
    entries,
    point_at,
    rendered_platform,
)
from testsupport.fakes.consul_server import DEFAULT_TOKEN
from testsupport.github_runner import run_step, runner, schedule_payload
from testsupport.helpers import ROOT

RENDER = yaml.safe_load((ROOT / ".github/workflows/render.yml").read_text())
JOB = RENDER["jobs"]["sync-consul"]


def step_of(name):
    [step] = [s for s in JOB["steps"] if s.get("name") == name]
    return step


def test_the_job_follows_every_publish_for_each_configured_environment():
    assert JOB["needs"] == "publish"
    assert JOB["if"] == (
        "${{ !cancelled() && needs.publish.result != 'skipped' && "
        "vars.MODELSHIP_CONSUL_ENVIRONMENTS != '' }}"
    )
    assert JOB["strategy"]["matrix"] == {
        "environment": "${{ fromJSON(vars.MODELSHIP_CONSUL_ENVIRONMENTS) }}"
    }
    assert JOB["environment"] == "${{ matrix.environment }}", "the environment's own secrets"
    assert JOB["permissions"] == {"contents": "read"}
    checkout = step_of("Check out")
    assert checkout["with"] == {"ref": "${{ github.ref }}", "persist-credentials": False}
    assert "concurrency" not in JOB, "the workflow's group: one publisher and syncer at once"


@pytest.fixture
def workspace(tmp_path, consul_servers, monkeypatch):
    for name in CONSUL_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    step = runner(tmp_path, "acme/modelship", "schedule", schedule_payload())
    folder = rendered_platform(step.workspace)
    server = consul_servers(datacenter="staging")
    point_at(folder, address=server.address, datacenter="staging")
    (folder / ".venv").symlink_to(ROOT / ".venv")
    return step, folder, server


def run_sync(step, tmp_path, allow_mass_delete=""):
    contexts = {
        "matrix.environment": "staging",
        "secrets.CONSUL_HTTP_TOKEN": DEFAULT_TOKEN,
        "inputs.allow_mass_delete": allow_mass_delete,
    }
    return run_step(step_of("Sync Consul"), step.env, contexts, step.workspace, tmp_path)


def test_the_step_syncs_and_a_refused_mass_delete_is_confirmed_by_hand(workspace, tmp_path):
    step, folder, server = workspace
    first = run_sync(step, tmp_path)
    assert first.returncode == ExitCode.OK, first.stdout + first.stderr
    assert server.values(PREFIX) == decoded(entries(folder))
    assert {r.token for r in server.requests} == {DEFAULT_TOKEN}
    kept = [e for e in entries(folder) if not e["key"].startswith(f"{PREFIX}fraud-score/")]
    kept = [e for e in kept if not e["key"].startswith(f"{PREFIX}size-advice/")]
    commit_kv(folder, kept)
    refused = run_sync(step, tmp_path)
    assert refused.returncode == ExitCode.FINDINGS
    assert "refusing to delete 24 of 72 keys" in refused.stderr
    confirmed = run_sync(step, tmp_path, allow_mass_delete="true")
    assert confirmed.returncode == ExitCode.OK, confirmed.stdout + confirmed.stderr
    assert server.values(PREFIX) == decoded(kept)
    assert DEFAULT_TOKEN not in first.stdout + first.stderr + confirmed.stdout
