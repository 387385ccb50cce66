"""A damaged index.json entry — written by an older Modelship, or by hand — affects its own
model only: the other models render, it stays exactly as it was (its entry written back as it
is, its files, kustomization listing and Consul keys untouched) and is reported on every run,
until its repository is valid again (it is rendered anew) or gone (it is removed)."""

import json
import shutil
import subprocess

import yaml

from generator.errors import ExitCode
from testsupport.helpers import ROOT, platform_dir, read_tree, tool, without_monitoring
from testsupport.inprocess import modelship

DAMAGED = "size-advice"


def source_spec(entry):
    """The spec of an entry's source state: format 2 holds it under its digest."""
    return entry["spec"] if isinstance(entry["spec"], dict) else entry["specs"][entry["spec"]]


def damage(folder, model_id=DAMAGED, **spec):
    """Write ``spec`` values into the model's entry, as an older version or a hand would."""
    path = folder / "rendered" / "index.json"
    document = json.loads(path.read_text())
    source_spec(document["models"][model_id]).update(spec)
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    return document["models"][model_id]


def edit(folder, repo, old, new):
    path = folder / "examples" / "repos" / repo / "MLproject"
    path.write_text(path.read_text().replace(old, new))


def entries(folder):
    return json.loads((folder / "rendered" / "index.json").read_text())["models"]


def kustomized(folder, env="staging"):
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(folder / "rendered" / env / "kubernetes")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_damaged_entry_is_kept_as_it_was_while_the_others_render(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    before = read_tree(folder / "rendered")
    record = damage(folder, entry_points=[1])  # what Modelship once wrote for `1: {...}`
    edit(folder, "size-advice-model", "slo: 80000", "slo: fast")  # its repository fails too
    edit(folder, "fraud-score-model", "instances: 3", "instances: 4")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    spec_key = f"models.size-advice.specs.{record['spec']}.entry_points"
    assert spec_key in result.stderr
    assert "stays exactly as it was" in result.stderr
    assert "Traceback" not in result.stderr
    after = read_tree(folder / "rendered")
    models = entries(folder)
    assert models[DAMAGED] == record, "the entry is written back as it was"
    assert source_spec(models["fraud-score"])["instances"] == 4, "the others render"
    owned = list(record["files"])
    assert {path: after[path] for path in owned} == {path: before[path] for path in owned}
    for env in ("staging", "production"):  # it ran in both: it stays in both
        kustomization = after[f"{env}/kubernetes/models-rnd/kustomization.yaml"].decode()
        assert "  - size-advice\n" in kustomization, env
        assert f"/{DAMAGED}/slo" in after[f"{env}/consul/kv.json"].decode(), env
        gateway = after[f"{env}/gateway/kustomization.yaml"].decode()
        assert f'"{DAMAGED}.conf=routes/{DAMAGED}.conf"' in gateway, env
        flux = after[f"{env}/flux/kustomizations/acme-ml-team-rnd.yaml"].decode()
        assert f"name: {DAMAGED}\n" in flux, "its Deployment stays health-checked"
        assert f"name: {DAMAGED}\n" in kustomized(folder, env)
    assert (
        after["production/gateway/kustomization.yaml"]
        == (before["production/gateway/kustomization.yaml"])
    ), "production's gateway does not roll"
    again = modelship("render", cwd=folder)
    assert again.returncode == ExitCode.FINDINGS, "reported on every run, never a wedge"
    assert read_tree(folder / "rendered") == after
    listed = modelship("list", cwd=folder)
    assert listed.returncode == ExitCode.FINDINGS
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert [row[:5] for row in rows if row[0] == DAMAGED] == [
        [DAMAGED, env, "?", "?", "damaged-entry"] for env in ("production", "staging")
    ], listed.stdout


def test_a_damaged_entry_holding_nan_is_written_back_with_it(tmp_path):
    """An older Modelship accepted slo_objective: .nan and wrote NaN into index.json; the
    entry is damaged now, and written back as it was, NaN and all (never as null)."""
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    record = damage(folder, slo_objective=float("nan"))
    edit(folder, "size-advice-model", "slo: 80000", "slo: fast")  # its repository fails too
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "stays exactly as it was" in result.stderr
    text = (folder / "rendered" / "index.json").read_text()
    assert '"slo_objective": NaN' in text
    assert json.dumps(entries(folder)[DAMAGED], sort_keys=True) == json.dumps(
        record, sort_keys=True
    )


def test_a_damaged_format_1_entry_is_kept_as_it_was_when_the_index_becomes_format_2(tmp_path):
    """A tree an earlier Modelship rendered (index.json format 1) with a damaged entry: the next
    render writes format 2 for every other model and keeps the damaged entry verbatim, still
    reported as format 1's rules see it; once its repository renders, it is format 2 too."""
    folder = without_monitoring(platform_dir(tmp_path))  # as format 1's Modelship rendered
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    before = read_tree(folder / "rendered")
    format_1 = json.loads((ROOT / "tests" / "data" / "index-format-1.json").read_text())
    record = format_1["models"][DAMAGED]
    record["spec"]["entry_points"] = [1]
    record["files"] = [path for path in record["files"] if path in before]
    (folder / "rendered" / "index.json").write_text(json.dumps(format_1, indent=2) + "\n")
    edit(folder, "size-advice-model", "slo: 80000", "slo: fast")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "models.size-advice.spec.entry_points" in result.stderr
    document = json.loads((folder / "rendered" / "index.json").read_text())
    assert document["format"] == 2
    assert document["models"][DAMAGED] == record
    assert all("environments" in e for i, e in document["models"].items() if i != DAMAGED)
    after = read_tree(folder / "rendered")
    assert {p: after[p] for p in record["files"]} == {p: before[p] for p in record["files"]}
    again = modelship("render", cwd=folder)
    assert again.returncode == ExitCode.FINDINGS
    assert "models.size-advice.spec.entry_points" in again.stderr, "the same problem, told alike"
    edit(folder, "size-advice-model", "slo: fast", "slo: 80000")
    healed = modelship("render", cwd=folder)
    assert healed.returncode == ExitCode.OK, healed.stderr
    assert read_tree(folder / "rendered") == before, "production's pin renders it as before"


def test_a_valid_repository_renders_its_model_anew_over_a_damaged_entry(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    healthy = entries(folder)[DAMAGED]
    damage(folder, entry_points=[1], version="4f1255f50f5f32e93b4fb69704d23f466e468ebd\n")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    assert "replaced by a new render" in result.stderr
    assert entries(folder)[DAMAGED] == healthy


def test_a_damaged_entry_production_cannot_run_anew_stays_as_it_was(tmp_path):
    """Production runs size-advice at an older state than staging; then its entry is damaged,
    so the older state is known nowhere (no index, no history). Rendering it anew from its
    valid repository would delete it from production: it stays as it was, with an error."""
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    edit(folder, "size-advice-model", "Advises a clothing size", "Advises a size")
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    placed = entries(folder)[DAMAGED]["environments"]
    assert placed["production"]["spec"] != placed["staging"]["spec"], "production is behind"
    record = damage(folder, entry_points=[1])
    before = read_tree(folder / "rendered")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "neither in index.json nor in the rendered repository's history" in result.stderr
    assert "is not rendered anew, which would delete it from production" in result.stderr
    assert "replaced by a new render" not in result.stderr
    assert entries(folder)[DAMAGED] == record
    assert read_tree(folder / "rendered") == before


def test_a_damaged_entry_whose_repository_is_gone_is_removed(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    record = damage(folder, entry_points=[1])
    shutil.rmtree(folder / "examples" / "repos" / "size-advice-model")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.OK, result.stderr
    assert DAMAGED not in entries(folder)
    tree = read_tree(folder / "rendered")
    assert not set(record["files"]) & set(tree)
    assert (
        "  - size-advice\n" not in tree["staging/kubernetes/models-rnd/kustomization.yaml"].decode()
    )


def test_removing_damaged_entries_counts_against_the_mass_delete_guard(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    for model_id, repo in (
        ("size-advice", "size-advice-model"),
        ("fraud-score", "fraud-score-model"),
    ):
        damage(folder, model_id, entry_points=[1])
        shutil.rmtree(folder / "examples" / "repos" / repo)
    before = read_tree(folder / "rendered")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "refusing to remove 2 of 6 models (33%)" in result.stderr
    for env in ("staging", "production"):  # each environment's guard counts them alike
        assert f"refusing to remove 2 of 6 models from {env} (33%)" in result.stderr, env
    assert read_tree(folder / "rendered") == before


def test_a_damaged_entry_in_one_environment_is_counted_by_that_environments_guard(tmp_path):
    """Three of six models run in production, one of them with a damaged entry: removing it
    is a sixth of the platform and of staging (allowed), but a third of production (with no
    floor: by default one removal is always allowed)."""
    folder = platform_dir(tmp_path)
    settings = folder / "platform.yaml"
    text = settings.read_text()
    assert "\nsafety:\n" in text
    settings.write_text(text.replace("\nsafety:\n", "\nsafety:\n  mass_delete_floor: 0\n"))
    pins = folder / "promotions" / "production.yaml"
    document = yaml.safe_load(pins.read_text())
    for model_id in ("search-ranking", "product-title-classifier", "visual-similarity"):
        del document["models"][model_id]
    pins.write_text(yaml.safe_dump(document, sort_keys=False))
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    damage(folder, entry_points=[1])
    shutil.rmtree(folder / "examples" / "repos" / "size-advice-model")
    before = read_tree(folder / "rendered")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "refusing to remove 1 of 3 models from production (33%)" in result.stderr
    assert "from staging" not in result.stderr
    assert "refusing to remove 1 of 6 models (" not in result.stderr
    assert read_tree(folder / "rendered") == before
    allowed = modelship("render", "--allow-mass-delete", cwd=folder)
    assert allowed.returncode == ExitCode.OK, allowed.stderr
    assert DAMAGED not in entries(folder)


def test_a_damaged_committed_index_is_named_as_committed(tmp_path):
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    (folder / "rendered" / "index.json").write_text("{broken")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=folder, check=True)
    subprocess.run(["git", "add", "-A"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "broken index"], cwd=folder, check=True)
    for command in ("diff", "publish"):
        result = modelship(command, cwd=folder)
        assert result.returncode == ExitCode.USAGE, result.stderr
        assert "rendered/index.json at HEAD: not a Modelship index" in result.stderr, command


def test_the_wedge_of_an_invalid_folder_name_heals_once_the_folder_is_renamed(tmp_path):
    """An older Modelship recorded a local folder named `my model` as the repository
    `acme/my model`, which index.json cannot hold: every later run exited 2. Now that entry
    is kept as it was while the folder stays, and renaming the folder renders it anew."""
    folder = platform_dir(tmp_path)
    assert modelship("render", cwd=folder).returncode == ExitCode.OK
    path = folder / "rendered" / "index.json"
    document = json.loads(path.read_text())
    document["models"][DAMAGED]["source"]["repo"] = "acme/size advice-model"
    path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    repos = folder / "examples" / "repos"
    (repos / "size-advice-model").rename(repos / "size advice-model")
    result = modelship("render", cwd=folder)
    assert result.returncode == ExitCode.FINDINGS, result.stderr
    assert "cannot be a model's repository" in result.stderr
    assert entries(folder)[DAMAGED]["source"]["repo"] == "acme/size advice-model"
    (repos / "size advice-model").rename(repos / "size-advice-model")
    healed = modelship("render", cwd=folder)
    assert healed.returncode == ExitCode.OK, healed.stderr
    assert entries(folder)[DAMAGED]["source"]["repo"] == "acme/size-advice-model"
    assert modelship("render", "--check", cwd=folder).returncode == ExitCode.OK
