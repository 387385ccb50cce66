"""tests/hostile/: a corpus of hostile MLproject files, each with its expected outcome.

Every file starts with ``# hostile: what it tries`` and one ``# expect:`` line per outcome:
``valid`` (no error), or ``error RULE at KEY`` / ``warning RULE at KEY`` for each finding
(``-`` when it has no key; the key escaped as findings print it). The findings of
``modelship validate`` (the MLproject rules and the platform's team rule) must be exactly the
expected ones. Then every valid file is rendered as a model of one platform, and the real
consumers read the whole tree: each accepts it, and each value arrives as it was written.
"""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator import mlproject
from generator.config import loader
from generator.errors import ExitCode
from generator.evaluate import evaluate
from generator.findings import Finding, printable
from generator.index import Index
from generator.rendering.targets.gateway import output_value
from generator.sources.paths import PathsSource
from testsupport import consumers
from testsupport.helpers import ROOT, platform_dir, read_tree, write_repo
from testsupport.inprocess import modelship
from testsupport.nginx import free_port, predict, running_nginx

CORPUS = ROOT / "tests" / "hostile"
FILES = sorted(CORPUS.glob("*/*.MLproject"))
PLATFORM = loader.load(ROOT / "platform.yaml")
_EXPECT = re.compile(r"# expect: (valid|(error|warning) (\S+) at (.+))\Z")


def expectations(path: Path) -> set[tuple[str, str, str]]:
    found: set[tuple[str, str, str]] = set()
    for line in path.read_bytes().decode("utf-8", "replace").splitlines():
        if line.startswith("# expect: "):
            match = _EXPECT.match(line)
            assert match, f"{path.name}: not an expectation: {line!r}"
            if match.group(1) != "valid":
                found.add((match.group(2), match.group(3), match.group(4)))
    return found


def validate(path: Path) -> tuple[mlproject.ModelSpec | None, list[Finding]]:
    """What `modelship validate PATH` finds, as it finds it: the file read by the PATH
    source, the MLproject rules, then the example platform's rules; and the spec it accepts."""
    scanned = PathsSource([str(path)], PLATFORM.github.organization).scan()
    evaluation = evaluate(PLATFORM, scanned, Index())
    accepted = [model.spec for model in evaluation.models]
    return (accepted[0] if accepted else None), list(evaluation.findings)


def outcome(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.severity.value, f.rule, printable(f.key) if f.key else "-") for f in findings}


def test_the_corpus_is_large_and_covers_every_kind_of_attack():
    assert len(FILES) >= 150
    kinds = {path.parent.name for path in FILES}
    assert kinds == {"yaml", "unicode", "injection", "limits", "structure"}
    for path in FILES:
        data = path.read_bytes()
        assert b"# hostile: " in data, path.name
        assert b"# expect: " in data, path.name


def test_the_docs_tell_the_corpus_size():
    told = {
        "README.md": r"`tests/hostile/` is a corpus of (\d+) hostile",
        "SECURITY.md": r"`tests/hostile/` \((\d+) hostile MLprojects",
    }
    for name, pattern in told.items():
        found = re.search(pattern, (ROOT / name).read_text().replace("\n", " "))
        assert found, f"{name} no longer tells the corpus size"
        assert int(found[1]) == len(FILES), f"{name} tells {found[1]} files, not {len(FILES)}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_each_file_gives_exactly_its_expected_findings(path):
    _, findings = validate(path)
    assert outcome(findings) == expectations(path), [str(f) for f in findings]


def valid_files() -> list[tuple[Path, mlproject.ModelSpec]]:
    found = []
    for path in FILES:
        spec, findings = validate(path)
        if spec is not None and not any(f.is_error for f in findings):
            found.append((path, spec))
    return found


@pytest.fixture(scope="module")
def corpus_platform(tmp_path_factory) -> Iterator[tuple[Path, dict[str, mlproject.ModelSpec], int]]:
    """Every valid file of the corpus as a model repository of one platform, rendered by the
    real CLI; nginx serving its staging gateway, every model unavailable (its default answer)."""
    folder = platform_dir(tmp_path_factory.mktemp("corpus"), {})
    specs = {}
    for path, spec in valid_files():
        assert spec.id not in specs, f"{path.name}: id {spec.id} is used by another valid file"
        repo = write_repo(folder / "examples" / "repos", spec.name, None)
        (repo / "MLproject").write_bytes(path.read_bytes())
        specs[spec.id] = spec
    internal, public = free_port(), free_port()
    platform_file = folder / "platform.yaml"
    platform_file.write_text(
        platform_file.read_text()
        .replace("internal: 8080", f'internal: "127.0.0.1:{internal}"')
        .replace("public: 8081", f'public: "127.0.0.1:{public}"')
        .replace(
            "resolver: [10.96.0.10]", f'resolver: ["127.0.0.1:{free_port(socket.SOCK_DGRAM)}"]'
        )
    )
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    # Production runs each of them too, as `modelship promote --all` pins them.
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=folder, check=True)
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "staging"], cwd=folder, check=True)
    promoted = modelship("promote", "--all", "--from", "staging", "--to", "production", cwd=folder)
    assert promoted.returncode == ExitCode.OK, promoted.stderr
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    gateway = folder / "rendered" / "staging" / "gateway"
    down = free_port()
    upstreams = folder / "gateway-upstreams"
    upstreams.mkdir()
    prefix = tmp_path_factory.mktemp("nginx")
    conf = prefix / "nginx.conf"
    # The rendered configuration, unchanged, with an upstream block per model that points at
    # a port nothing listens on (the hook nginx.conf includes), outside the rendered tree.
    conf.write_text(
        (gateway / "nginx.conf")
        .read_text()
        .replace("include upstreams/*.conf;", f"include {upstreams}/*.conf;")
        .replace("include routes/*.conf;", f"include {gateway}/routes/*.conf;")
    )
    (upstreams / "down.conf").write_text(
        "".join(
            f"upstream {i}.{PLATFORM.teams[s.team].namespace}.svc.cluster.local "
            f"{{ server 127.0.0.1:{down}; }}\n"
            for i, s in specs.items()
        )
    )
    with running_nginx(prefix, conf, (internal, public)):
        yield folder, specs, internal


def test_every_valid_file_renders_and_every_consumer_accepts_the_tree(corpus_platform, tmp_path):
    folder, specs, _ = corpus_platform
    assert len(specs) >= 100
    reading = consumers.read(folder / "rendered", ["staging", "production"], tmp_path)
    assert reading.problems == []
    for env in ("staging", "production"):  # every team's folder, as its sync agents apply it
        applied = {
            o["metadata"]["name"]
            for team in PLATFORM.teams.values()
            for o in reading.entry_points[f"{env}/kubernetes/{team.namespace}"]
            if o["kind"] == "Deployment"
        }
        assert applied == set(specs), env
    for env in ("staging", "production"):
        deployments = {
            o["metadata"]["name"]: o for o in reading.objects[env] if o["kind"] == "Deployment"
        }
        for model_id, spec in specs.items():
            annotations = deployments[model_id]["metadata"]["annotations"]
            assert annotations["modelship.dev/description"] == spec.description, model_id
            consul = reading.consul[env]
            assert consul[f"modelship/models/{model_id}/default_output"] == spec.default_output
            assert consul[f"modelship/models/{model_id}/description"] == spec.description
    for spec in specs.values():
        description = reading.jobs[spec.name].findtext("description") or ""
        assert description.removesuffix(consumers.JJB_MARK) == spec.description, spec.id


def test_every_default_answer_comes_back_byte_for_byte_from_nginx(corpus_platform):
    _, specs, port = corpus_platform
    for model_id, spec in specs.items():
        answer = predict(port, model_id)
        assert answer.status == 200, model_id
        assert answer.json()["output"] == output_value(spec.default_output), model_id


def test_a_second_render_changes_nothing(corpus_platform):
    folder = corpus_platform[0]
    before = read_tree(folder / "rendered")
    again = modelship("render", cwd=folder)
    assert again.returncode == ExitCode.OK, again.stderr
    assert read_tree(folder / "rendered") == before
