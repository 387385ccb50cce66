"""Generated MLprojects — valid, invalid, at and past every limit, any unicode — against the
real consumers. For every batch: no exit 4 (nor a repository's internal-error finding); every
accepted model renders into a tree that nginx -t, kubectl kustomize, kubernetes-validate
--strict (and the API server's name and label rules), jenkins-jobs test and a JSON decode of
kv.json accept, and every entry point a sync agent applies builds, passes its schemas (the
Flux and Argo CD objects their CRDs') and keeps each team to what its agents let it write; a
second render changes nothing; and no other model's files change.

Each example is a batch of generated repositories beside the example platform's six, so the
consumers run once per batch. The suite tries a few batches (testsupport/property.py scales it:
``MODELSHIP_PROPERTY_SCALE=50`` for a long hunt).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import string
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from generator import cli
from generator.config import loader
from generator.errors import ExitCode
from generator.evaluate import INTERNAL_RULE
from testsupport import consumers
from testsupport.helpers import ROOT, VALID, platform_dir, read_tree, write_repo
from testsupport.property import examples

BATCH = 10
PLATFORM = loader.load(ROOT / "platform.yaml")
ENVIRONMENTS = [env.name for env in PLATFORM.environments]
# Characters every escaping treats specially, and characters consumers refuse.
SHARP = [
    *"\"\\$'`{}%#;:&*!|>@\n\r\t\0\x1b\x7f\x85\x9b\u2028\u202e\u200b\ufeff\ufffe\uffff",
    "\U0001f600",
    "\U0010fffd",
    "\ud800",
]
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
sharp_text = st.text(st.sampled_from([*SHARP, *string.ascii_letters]), max_size=40)


def around(limit: int, alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Texts of a length at, just under and just past ``limit``."""
    return st.builds(
        lambda char, extra, length: (char * length)[: max(length + extra, 0)],
        alphabet,
        st.integers(-2, 2),
        st.just(limit),
    )


VALUES: dict[str, st.SearchStrategy[object]] = {
    "description": st.one_of(any_text, sharp_text, around(200, st.sampled_from([*SHARP, "d"]))),
    "default_output": st.one_of(
        any_text, sharp_text, around(4096, st.sampled_from([*SHARP, "o"])), st.floats(), st.none()
    ),
    "id": st.one_of(st.from_regex(r"[a-z][-a-z0-9]{0,42}[a-z0-9]\n?", fullmatch=True), sharp_text),
    "name": st.one_of(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,102}", fullmatch=True), any_text),
    "team": st.one_of(st.sampled_from([*PLATFORM.teams, "nobody", "rnd\n"]), any_text),
    "version": st.one_of(st.from_regex(r"[0-9a-fA-F]{39,41}\n?", fullmatch=True), st.integers()),
    "input_type": st.sampled_from(["integers", "floats", "doubles", "bytes", "strings", "x"]),
    "slo": st.one_of(st.integers(-1, 10_000_002), st.sampled_from([999, 1000, 10**7, 10**7 + 1])),
    "instances": st.one_of(st.integers(-1, 52), st.booleans(), st.floats()),
    "exposed": st.one_of(st.booleans(), st.sampled_from(["yes", "no", 1])),
    "packages": st.one_of(
        st.lists(
            st.sampled_from(
                [
                    "pandas",
                    "numpy>=1.26",
                    'x; python_version < "4"',
                    "t @ https://files.example/t.whl",
                    "t @ http://files.example/t.whl",
                    "t @ https://u:p@files.example/t.whl",
                    "p" * 500,
                    "p" * 501,
                    "--index-url=x",
                    'x; extra == "$(id) `id` {name}"',
                ]
            ),
            max_size=4,
        ),
        st.builds(lambda n: [f"p{i}" for i in range(n)], st.integers(199, 201)),
    ),
    "entry_points": st.dictionaries(
        st.one_of(st.text(max_size=8), st.integers(), st.booleans(), st.none(), st.dates()),
        st.fixed_dictionaries({"command": st.sampled_from(["run {a}", "go"])}),
        max_size=3,
    ),
}


@st.composite
def mlproject_text(draw: st.DrawFn, index: int) -> bytes:
    """An MLproject for repository g<index>-model: mostly the contract with a few values
    replaced; sometimes raw text around it."""
    data: dict[object, object] = {**VALID, "name": f"g{index}-model", "id": f"g{index}"}
    for key in draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=3, unique=True)):
        data[key] = draw(VALUES[key])
    try:
        text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)
    except yaml.YAMLError:
        text = ""
    if draw(st.integers(0, 9)) == 0:
        text = draw(
            st.sampled_from([text + draw(any_text), draw(any_text), text.replace(": ", ":")])
        )
    return text.encode("utf-8", "surrogatepass")


batches = st.tuples(*(mlproject_text(index) for index in range(BATCH)))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> tuple[Path, dict[str, bytes], set[str]]:
    """The example platform, rendered: its tree, and the files its six models own."""
    folder = platform_dir(tmp_path_factory.mktemp("base"))
    assert run(folder, "render") == ExitCode.OK
    tree = read_tree(folder / "rendered")
    owned = {p for e in json.loads(tree["index.json"])["models"].values() for p in e["files"]}
    return folder, tree, owned


def run(folder: Path, *args: str) -> int:
    """The CLI in this process (no interpreter start per run), its output discarded."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return cli.main(["--platform", str(folder / "platform.yaml"), *args])


@examples(3)
@given(batches)
def test_generated_mlprojects_never_break_a_consumer_or_another_model(base, batch):
    base_folder, base_tree, owned = base
    with tempfile.TemporaryDirectory(prefix="modelship-property-") as scratch:
        folder = Path(scratch) / "platform"
        shutil.copytree(base_folder, folder, symlinks=True)
        repos = folder / "examples" / "repos"
        for index, text in enumerate(batch):
            (write_repo(repos, f"g{index}-model", None) / "MLproject").write_bytes(text)
        paths = [str(repos / f"g{index}-model") for index in range(BATCH)]
        assert run(folder, "validate", *paths) in (ExitCode.OK, ExitCode.FINDINGS)
        assert run(folder, "render") in (ExitCode.OK, ExitCode.FINDINGS)
        tree = read_tree(folder / "rendered")
        index = json.loads(tree["index.json"])
        assert not any(
            INTERNAL_RULE in error
            for entry in index["models"].values()
            for record in (entry, *entry["environments"].values())
            for error in record.get("errors", [])
        )
        assert {path: tree.get(path) for path in owned} == {path: base_tree[path] for path in owned}
        reading = consumers.read(
            folder / "rendered", ENVIRONMENTS, Path(scratch) / "consumers", validate_cli=True
        )
        assert reading.problems == []
        assert len(reading.entry_points) == len(ENVIRONMENTS) * (4 + len(PLATFORM.teams))
        for model_id, entry in index["models"].items():
            for env, placed in entry["environments"].items():
                key = f"{PLATFORM.consul_prefix}/{model_id}/default_output"
                written = entry["specs"][placed["spec"]]["default_output"]
                assert reading.consul[env][key] == written, (model_id, env)
        assert run(folder, "render") in (ExitCode.OK, ExitCode.FINDINGS)
        assert read_tree(folder / "rendered") == tree


def test_the_consumers_see_a_team_reach_past_what_its_sync_agents_let_it_write(tmp_path):
    """The isolation the agents enforce, as the consumers read it, can fail: a team's Role
    that no longer covers its Deployments, an AppProject that names another namespace."""
    tree = tmp_path / "rendered"
    shutil.copytree(ROOT / "rendered", tree)
    role = tree / "staging" / "flux" / "platform" / "rnd-role.yaml"
    role.write_text(role.read_text().replace("- deployments", "- configmaps"))
    project = tree / "staging" / "argocd" / "projects" / "acme-ml-team-search.yaml"
    project.write_text(project.read_text().replace("namespace: models-search", "namespace: x"))
    problems = consumers.read(tree, ["staging"], tmp_path / "work").problems
    assert (
        "staging: Kustomization acme-ml-team-rnd: no Role lets acme-ml-team-rnd write "
        "Deployment/size-advice" in problems
    )
    assert (
        "staging: Application acme-ml-team-search applies Deployment/search-ranking in "
        "models-search" in problems
    )
    assert all(p.startswith("staging: ") for p in problems), problems
