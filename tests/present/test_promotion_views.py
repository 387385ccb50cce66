"""A promotion or rollback as printed and committed: every line escaped, whatever the ids
(from the command line) and reasons (from index.json and the promotions file) hold."""

from generator.index import EnvironmentEntry
from generator.pins import Promotions
from generator.present import promotion_views
from generator.promotion import Decision, Move
from testsupport.core_models import model

HOSTILE = "x\x1b]8;;https://evil.example\x07y \x9b2J \u202etxt \u200b"


def entry(commit: str) -> EnvironmentEntry:
    return EnvironmentEntry(model("size-advice", commit), "models-rnd", 2, 80000, "i")


def decision() -> Decision:
    return Decision(
        promotions=Promotions("production"),
        moves=(Move("size-advice", entry("a"), entry("b")),),
        refused=((f"churn{HOSTILE}", f"it is kept-on-error in staging: {HOSTILE}"),),
        skipped=(("pricing", HOSTILE),),
        dropped=(f"gone{HOSTILE}",),
    )


def test_the_text_and_the_commit_message_escape_every_line():
    for text in (
        promotion_views.as_text("promoted", decision()),
        promotion_views.commit_message("acme-ml", "promote", decision()),
    ):
        assert "size-advice" in text
        assert "aaaaaaa" in text, "what ran before"
        assert not {"\x1b", "\x07", "\x9b", "\u202e", "\u200b"} & set(text), text
    assert "gone" in promotion_views.commit_message("acme-ml", "promote", decision())
    assert "refused" in promotion_views.as_text("promoted", decision())


def test_the_json_keeps_the_reasons_exact():
    document = promotion_views.as_json(decision(), "promotions/production.yaml", "")
    assert document["refused"] == [
        {"model": f"churn{HOSTILE}", "reason": f"it is kept-on-error in staging: {HOSTILE}"}
    ]
