"""The safety rules end to end: the render command over a real platform folder, with the real
local source (real git repositories) or with a source that returns a chosen Scan."""

import json
import shutil
from dataclasses import replace

import git

from generator import index
from generator.cli import build_parser
from generator.commands import render
from generator.config import loader
from generator.errors import ExitCode
from generator.sources.base import Scan
from generator.sources.local import LocalSource
from testsupport.chosen_scan import ChosenScan
from testsupport.helpers import ROOT, mlproject, modelship, platform_dir, read_tree, write_repo


def render_with(folder, scan, *options):
    platform = loader.load(folder / "platform.yaml")
    args = build_parser().parse_args(["render", *options])
    return render.execute(args, platform, ChosenScan(scan))


def local_scan(folder):
    return LocalSource.from_platform(loader.load(folder / "platform.yaml")).scan()


def models_of(folder):
    return index.loads((folder / "rendered" / "index.json").read_bytes()).models


def files_of(folder, model_id):
    tree = read_tree(folder / "rendered")
    return {path: tree[path] for path in models_of(folder)[model_id].files}


def rendered(folder):
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    return read_tree(folder / "rendered")


def edit(folder, repo, old, new):
    path = folder / "examples" / "repos" / repo / "MLproject"
    path.write_text(path.read_text().replace(old, new))


def test_an_incomplete_scan_deletes_nothing_renders_what_it_saw_and_exits_3(tmp_path, capsys):
    folder = platform_dir(tmp_path)
    before = rendered(folder)
    old_models = models_of(folder)
    edit(folder, "size-advice-model", "slo: 80000", "slo: 90000")
    seen = [s for s in local_scan(folder).snapshots if s.name == "size-advice-model"]
    partial = Scan(tuple(seen), complete=False, incomplete_reason="GitHub answered 502 on page 2")
    assert render_with(folder, partial) == ExitCode.EXTERNAL
    message = capsys.readouterr().err
    assert (
        "the scan of the repositories did not complete (GitHub answered 502 on page 2)" in message
    )
    assert "5 models it could not confirm stay exactly as they were" in message
    models = models_of(folder)
    assert models.keys() == old_models.keys()
    assert models["size-advice"].environments["staging"].slo == 90000
    # Production runs what was promoted: the new commit reaches staging only.
    assert (
        models["size-advice"].environments["production"]
        == (old_models["size-advice"].environments["production"])
    )
    after = read_tree(folder / "rendered")
    for model_id, entry in old_models.items():
        if model_id != "size-advice":
            assert models[model_id] == entry
            assert all(after[path] == before[path] for path in entry.files)


def test_a_repository_that_cannot_be_read_keeps_its_files_and_is_listed_as_kept(tmp_path):
    folder = platform_dir(tmp_path)
    rendered(folder)
    kept_files = files_of(folder, "fraud-score")
    repo = folder / "examples/repos/fraud-score-model"
    shutil.rmtree(repo)
    git.Repo.init(repo).close()  # a git repository without commits cannot be read
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS
    assert "cannot read the repository: the repository has no commits" in result.stderr
    assert "kept-on-error: fraud-score (acme/fraud-score-model)" in result.stderr
    assert files_of(folder, "fraud-score") == kept_files
    entry = models_of(folder)["fraud-score"]
    assert entry.state == "kept-on-error"
    assert entry.errors == ("cannot read the repository: the repository has no commits",)
    listed = json.loads(modelship("list", "--format", "json", cwd=folder).stdout)
    assert {m["id"]: m["state"] for m in listed["models"]}["fraud-score"] == "kept-on-error"
    table = modelship("list", cwd=folder).stdout
    assert "kept-on-error" in table


def test_a_repository_that_fails_validation_keeps_its_last_good_files(tmp_path):
    folder = platform_dir(tmp_path)
    rendered(folder)
    kept_files = files_of(folder, "size-advice")
    edit(folder, "size-advice-model", "slo: 80000", "slo: fast")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS
    assert files_of(folder, "size-advice") == kept_files
    entry = models_of(folder)["size-advice"]
    assert entry.state == "kept-on-error"
    assert entry.environments["staging"].slo == 80000
    assert entry.environments["staging"].state == "kept-on-error"
    assert entry.environments["production"].state == "deployed", "production runs its pin"
    [error] = entry.errors
    assert error.startswith("MLproject:10:6: slo: must be an integer number of microseconds")
    # A second failing run changes nothing; fixing the file deploys it again.
    before = read_tree(folder / "rendered")
    assert modelship("render", cwd=folder).returncode == ExitCode.FINDINGS
    assert read_tree(folder / "rendered") == before
    edit(folder, "size-advice-model", "slo: fast", "slo: 70000")
    rendered(folder)
    assert models_of(folder)["size-advice"].state == "deployed"
    assert models_of(folder)["size-advice"].errors == ()


def test_a_mass_delete_is_refused_and_nothing_is_written(tmp_path):
    folder = platform_dir(tmp_path)
    before = rendered(folder)
    for name in ("size-advice-model", "fraud-score-model"):
        shutil.rmtree(folder / "examples/repos" / name)
    refused = modelship("render", cwd=folder)
    assert refused.returncode == ExitCode.FINDINGS
    assert "refusing to remove 2 of 6 models (33%)" in refused.stderr
    assert "--allow-mass-delete" in refused.stderr
    assert read_tree(folder / "rendered") == before
    dry = modelship("render", "--dry-run", cwd=folder)
    assert dry.returncode == ExitCode.FINDINGS
    assert "refusing to remove 2 of 6 models" in dry.stderr
    allowed = modelship("render", "--allow-mass-delete", cwd=folder)
    assert allowed.returncode == ExitCode.OK, allowed.stderr
    assert models_of(folder).keys() == {
        "price-elasticity",
        "product-title-classifier",
        "search-ranking",
        "visual-similarity",
    }


def test_a_mass_delete_from_one_environment_is_refused_too(tmp_path):
    folder = platform_dir(tmp_path)
    before = rendered(folder)
    text = (folder / "platform.yaml").read_text()
    narrowed = text.replace(
        "    promotion:\n      from: staging",
        "    models: {exclude: [size-advice, fraud-score]}\n    promotion:\n      from: staging",
    )
    assert narrowed != text
    (folder / "platform.yaml").write_text(narrowed)
    refused = modelship("render", cwd=folder)
    assert refused.returncode == ExitCode.FINDINGS
    assert "refusing to remove 2 of 6 models from production (33%)" in refused.stderr
    assert read_tree(folder / "rendered") == before
    allowed = modelship("render", "--allow-mass-delete", cwd=folder)
    assert allowed.returncode == ExitCode.OK, allowed.stderr
    placed = {m: sorted(e.environments) for m, e in models_of(folder).items()}
    assert placed["size-advice"] == placed["fraud-score"] == ["staging"]
    assert placed["search-ranking"] == ["production", "staging"]


def test_one_removal_within_the_share_goes_through(tmp_path):
    folder = platform_dir(tmp_path)
    rendered(folder)
    shutil.rmtree(folder / "examples/repos/size-advice-model")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    assert "size-advice" not in models_of(folder)


def test_the_incumbent_keeps_its_id_even_while_kept_on_error(tmp_path):
    folder = platform_dir(tmp_path)
    rendered(folder)
    incumbent_files = files_of(folder, "size-advice")
    write_repo(
        folder / "examples/repos",
        "copycat-model",
        mlproject(name="copycat-model", id="size-advice", team="search"),
    )
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS
    assert "id 'size-advice' already belongs to acme/size-advice-model" in result.stderr
    assert models_of(folder)["size-advice"].repo == "acme/size-advice-model"
    assert files_of(folder, "size-advice") == incumbent_files
    edit(folder, "size-advice-model", "slo: 80000", "slo: fast")  # now the incumbent fails too
    result = modelship("render", cwd=folder)
    assert "id 'size-advice' already belongs to acme/size-advice-model" in result.stderr
    entry = models_of(folder)["size-advice"]
    assert (entry.repo, entry.state) == ("acme/size-advice-model", "kept-on-error")
    assert files_of(folder, "size-advice") == incumbent_files
    assert not list((folder / "rendered").rglob("models-search/size-advice"))


def test_two_newcomers_claiming_one_id_are_both_rejected(tmp_path):
    folder = platform_dir(tmp_path)
    rendered(folder)
    for name in ("left-model", "right-model"):
        write_repo(folder / "examples/repos", name, mlproject(name=name, id="churn"))
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS
    assert "id 'churn' is also claimed by acme/right-model" in result.stderr
    assert "id 'churn' is also claimed by acme/left-model" in result.stderr
    assert "churn" not in models_of(folder)
    assert not list((folder / "rendered").rglob("churn"))


def test_a_repository_may_only_use_a_team_whose_github_team_can_push_to_it(tmp_path, capsys):
    folder = platform_dir(tmp_path, repos={})
    texts = {
        "owned-model": mlproject(name="owned-model", id="owned", team="search"),
        "foreign-model": mlproject(name="foreign-model", id="foreign", team="search"),
        "nobody-model": mlproject(name="nobody-model", id="nobody", team="fraud"),
        "unknown-model": mlproject(name="unknown-model", id="unknown", team="marketing"),
    }
    push_teams = {
        "owned-model": ("search-ml", "interns"),  # search-ml is one of team search's GitHub teams
        "foreign-model": ("rnd",),  # only another team's GitHub team may push
        "nobody-model": (),
        "unknown-model": ("marketing",),
    }
    for name, text in texts.items():
        write_repo(folder / "examples/repos", name, text)
    snapshots = tuple(
        replace(s, push_teams=push_teams[s.name]) for s in local_scan(folder).snapshots
    )
    assert render_with(folder, Scan(snapshots)) == ExitCode.FINDINGS
    errors = capsys.readouterr().err
    assert list(models_of(folder)) == ["owned"]
    assert (
        "team 'search' does not own acme/foreign-model: none of its GitHub teams "
        "(search, search-ml) has push access to the repository" in errors
    )
    assert "team 'fraud' does not own acme/nobody-model" in errors
    assert "team 'marketing' is not a team of this platform" in errors
    # A deployed model whose repository loses push access is kept, not deleted.
    revoked = tuple(
        replace(s, push_teams=("rnd",)) if s.name == "owned-model" else s for s in snapshots
    )
    assert render_with(folder, Scan(revoked)) == ExitCode.FINDINGS
    assert models_of(folder)["owned"].state == "kept-on-error"
    assert "does not own acme/owned-model" in models_of(folder)["owned"].errors[0]


def format_1_tree(folder):
    """The tree the example platform had before index format 2, every file its index lists
    (their content does not matter: the next render replaces them)."""
    old = json.loads((ROOT / "tests/data/index-format-1.json").read_text())
    root = folder / "rendered"
    paths = [*old["shared_files"], *(p for e in old["models"].values() for p in e["files"])]
    for path in paths:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("as an earlier Modelship wrote it\n")
    shutil.copy(ROOT / "tests/data/index-format-1.json", root / "index.json")
    return old


def test_a_format_1_tree_is_read_and_rewritten_in_format_2_without_losing_a_model(tmp_path):
    folder = platform_dir(tmp_path)
    old = format_1_tree(folder)
    listed = modelship("list", "--env", "production", cwd=folder)
    assert listed.returncode == ExitCode.OK, listed.stderr
    # The source line, the header, a row per model.
    assert len(listed.stdout.splitlines()) == 2 + len(old["models"])
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    document = json.loads((folder / "rendered/index.json").read_text())
    assert document["format"] == 2
    for model_id, entry in old["models"].items():
        placed = document["models"][model_id]["environments"]
        assert sorted(placed) == ["production", "staging"], model_id
        assert placed["production"]["source"] == entry["source"]
    tree = read_tree(folder / "rendered")
    assert b"as an earlier Modelship wrote it\n" not in tree.values()
    assert "production/kubernetes/models-rnd/namespace.yaml" not in tree, "the old layout went"


def test_a_failing_repository_keeps_its_model_from_a_format_1_tree(tmp_path):
    folder = platform_dir(tmp_path)
    old = format_1_tree(folder)
    edit(folder, "size-advice-model", "slo: 80000", "slo: fast")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS
    entry = models_of(folder)["size-advice"]
    assert entry.state == "kept-on-error"
    for env in ("staging", "production"):
        placed = entry.environments[env]
        assert placed.model.provenance.commit == old["models"]["size-advice"]["source"]["commit"]
