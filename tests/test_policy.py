from generator import index, mlproject, policy
from generator.config import loader
from generator.model import Provenance
from testsupport.helpers import ROOT
from testsupport.helpers import mlproject as text_of

PLATFORM = loader.load(ROOT / "platform.yaml")


def candidate(repo, push_teams=None, **overrides):
    result = mlproject.parse(text_of(**overrides), f"{repo}/MLproject", repo)
    return policy.Candidate(
        spec=result.spec,
        provenance=Provenance(repo, "a" * 40, "", "main"),
        location=f"{repo}/MLproject",
        positions=result.positions,
        push_teams=push_teams,
    )


def test_unique_ids_with_known_teams_are_accepted():
    decision = policy.decide(
        PLATFORM,
        [
            candidate("acme/a-model", id="model-a", name="a-model"),
            candidate("acme/b-model", id="model-b", name="b-model"),
        ],
        policy.Owners(),
    )
    assert [m.id for m in decision.accepted] == ["model-a", "model-b"]
    assert decision.findings == ()


def test_unknown_team_is_rejected_at_the_team_value():
    decision = policy.decide(
        PLATFORM, [candidate("acme/a-model", team="marketing")], policy.Owners()
    )
    assert decision.accepted == ()
    [finding] = decision.findings
    assert (finding.line, finding.column, finding.key) == (3, 7, "team")
    assert "team 'marketing' is not a team of this platform" in finding.message
    assert finding.repo == "acme/a-model"


def test_incumbent_keeps_its_id_and_the_newcomer_is_rejected():
    incumbent = candidate("acme/old-model", id="churn")
    newcomer = candidate("acme/new-model", id="churn")
    decision = policy.decide(
        PLATFORM, [newcomer, incumbent], policy.Owners(ids={"churn": "acme/old-model"})
    )
    assert [m.provenance.repo for m in decision.accepted] == ["acme/old-model"]
    [finding] = decision.findings
    assert finding.repo == "acme/new-model"
    assert "id 'churn' already belongs to acme/old-model" in finding.message


def test_id_held_by_an_absent_incumbent_is_not_taken_by_a_newcomer():
    decision = policy.decide(
        PLATFORM,
        [candidate("acme/new-model", id="churn")],
        policy.Owners(ids={"churn": "acme/old-model"}),
    )
    assert decision.accepted == ()
    assert "already belongs to acme/old-model" in decision.findings[0].message


def test_two_newcomers_with_one_id_are_both_rejected():
    decision = policy.decide(
        PLATFORM, [candidate("acme/a-model"), candidate("acme/b-model")], policy.Owners()
    )
    assert decision.accepted == ()
    assert [f.repo for f in decision.findings] == ["acme/a-model", "acme/b-model"]
    assert "also claimed by acme/b-model" in decision.findings[0].message


def test_push_access_of_a_github_team_of_the_platform_team_is_required():
    owned = candidate("acme/a-model", push_teams=("rnd", "other"))
    foreign = candidate("acme/b-model", push_teams=("pricing",), id="model-b", name="b-model")
    decision = policy.decide(PLATFORM, [owned, foreign], policy.Owners())
    assert [m.id for m in decision.accepted] == ["churn"]
    [finding] = decision.findings
    assert "team 'rnd' does not own acme/b-model" in finding.message


def test_a_name_belongs_to_one_repository_like_an_id():
    incumbent = candidate("acme/churn-model", id="churn")
    copycat = candidate("acme/copy-model", id="churn-copy")  # same name, its own id
    owners = policy.Owners(
        ids={"churn": "acme/churn-model"}, names={"churn-model": "acme/churn-model"}
    )
    decision = policy.decide(PLATFORM, [copycat, incumbent], owners)
    assert [m.provenance.repo for m in decision.accepted] == ["acme/churn-model"]
    [finding] = decision.findings
    assert (finding.repo, finding.key) == ("acme/copy-model", "name")
    assert (
        "name 'churn-model' already belongs to acme/churn-model; choose another name"
        in finding.message
    )


def test_two_newcomers_with_one_name_are_both_rejected():
    decision = policy.decide(
        PLATFORM,
        [candidate("acme/a-model", id="model-a"), candidate("acme/b-model", id="model-b")],
        policy.Owners(),
    )
    assert decision.accepted == ()
    assert {f.key for f in decision.findings} == {"name"}
    assert "names must be unique" in decision.findings[0].message


def test_owners_come_from_the_index():
    previous = index.loads((ROOT / "rendered/index.json").read_bytes())
    owners = policy.Owners.of(previous)
    assert owners.ids["visual-similarity"] == "acme/blaze-visual-similarity-model"
    assert owners.names["blaze-visual-similarity-model"] == "acme/blaze-visual-similarity-model"


def test_a_model_may_skip_environments_the_platform_has():
    decision = policy.decide(
        PLATFORM,
        [candidate("acme/a-model", name="a-model", skip_environments=["production"])],
        policy.Owners(),
    )
    [model] = decision.accepted
    assert model.spec.skip_environments == ("production",)


def test_a_misspelt_environment_to_skip_is_an_error_at_its_key():
    """Skipping 'prodution' would run the model in production: refused, not ignored."""
    decision = policy.decide(
        PLATFORM,
        [candidate("acme/a-model", name="a-model", skip_environments=["staging", "prodution"])],
        policy.Owners(),
    )
    assert decision.accepted == ()
    [finding] = decision.findings
    assert (finding.line, finding.key, finding.rule) == (
        9,  # where the list starts
        "skip_environments",
        "policy/unknown-environment",
    )
    assert finding.message == (
        "'prodution': not an environment of this platform (production, staging)"
    )


def test_skip_environments_is_a_list_of_names():
    result = mlproject.parse(text_of(skip_environments="production"), "MLproject")
    assert result.spec is None
    [finding] = result.findings
    assert finding.message.startswith("must be a list of environment names, e.g. [production]")
