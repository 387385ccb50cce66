"""The line that says what changed in a model in one environment, from its index.json
entries."""

from dataclasses import replace

from generator.index import EnvironmentEntry
from generator.mlproject import ModelSpec
from generator.model import Model, Provenance
from generator.present.change_lines import differences

SPEC = ModelSpec(
    name="size-advice-model",
    id="size-advice",
    team="rnd",
    description="Advises a clothing size",
    version="5e5a7d1ce0ad5e5a7d1ce0ad5e5a7d1ce0ad5e5a",
    input_type="integers",
    default_output="M",
    packages=("scikit-learn", "pandas"),
)
COMMIT = "0190304" + "1" * 33
BEFORE = EnvironmentEntry(
    model=Model(SPEC, Provenance("acme/size-advice-model", COMMIT, "", "main")),
    namespace="models-rnd",
    instances=2,
    slo=80000,
    image=f"registry.acme.example/models/size-advice:{COMMIT[:7]}",
)


def changed(**values):
    spec = replace(SPEC, **{k: v for k, v in values.items() if hasattr(SPEC, k)})
    commit = values.get("commit", COMMIT)
    model = Model(spec, replace(BEFORE.model.provenance, commit=commit))
    entry = {k: v for k, v in values.items() if k in ("instances", "slo", "state")}
    return replace(
        BEFORE,
        model=model,
        image=f"registry.acme.example/models/size-advice:{commit[:7]}",
        **entry,
    )


def test_the_values_that_changed_in_one_line():
    after = changed(
        instances=3, version="0123456" + "a" * 33, commit="0123456" + "b" * 33, slo=90000
    )
    assert differences(BEFORE, after) == [
        "version 5e5a7d1→0123456",
        "instances 2→3",
        "slo 80000→90000",
        "image tag 0190304→0123456",
    ]


def test_long_text_is_said_changed_and_packages_as_added_and_removed():
    after = changed(description="Advises a size", packages=("scikit-learn", "xgboost"))
    assert differences(BEFORE, after) == ["description changed", "packages +xgboost -pandas"]


def test_the_same_values_differ_in_nothing():
    assert differences(BEFORE, BEFORE) == []
    assert differences(BEFORE, changed(state="kept-on-error")) == []  # the state line says it


def test_repository_text_is_printable():
    after = changed(team="rnd\x1b[31m")
    assert differences(BEFORE, after) == ["team rnd→rnd\\u001b[31m"]
