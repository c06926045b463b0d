"""Rules about the run itself (unreadable code, missing facts, stale ignores), documented like the rest."""

from __future__ import annotations

from functools import cache

from advisor.frozen import frozen
from advisor.recommendation import Severity

LINT_UNRESOLVED = "LINT-UNRESOLVED"
CHECK_FACTS = "CHECK-FACTS"
IGNORE_UNUSED = "POLICY-IGNORE-UNUSED"


@frozen
class RuleInfo:
    """What an emitter needs to describe a rule: id, title, severity, help text, fix and references."""

    id: str
    title: str
    severity: Severity
    explanation: str
    fix: str
    analogy: str = ""
    use_case: str = ""
    compatibility: str = ""
    references: tuple[str, ...] = ()


META_RULES: tuple[RuleInfo, ...] = (
    RuleInfo(
        LINT_UNRESOLVED, "A from_pretrained call whose arguments cannot be read from the code", "error",
        "lint reads literal arguments only. Keyword unpacking (**kwargs), *args, or a model id or flag "
        "held in a variable could carry any value, so the rules that depend on them are unknown, never "
        "guessed.",
        "Pass the model id and the flags as literals, or check the values with `advisor check --flags`.",
        analogy="A form with a blank the inspector cannot fill in for you.",
        use_case="Loading code that builds its keyword arguments at run time."),
    RuleInfo(
        CHECK_FACTS, "The facts a check needs could not be obtained", "error",
        "The model's config.json (or a target's profile) could not be read, so no rule could be evaluated "
        "for it: unknown is not pass.",
        "Pin a revision the Hub cache or the bundled catalog holds, run once online, or point at a local "
        "config.json.",
        analogy="An exam that could not be marked because the paper never arrived."),
    RuleInfo(
        IGNORE_UNUSED, "An ignore in the policy matches nothing", "warning",
        "An ignore that suppresses no finding and no unknown is stale: the problem it hid is gone, or the "
        "rule id or model is misspelled, and it would silently hide the problem if it came back.",
        "Remove the ignore from the policy, or correct its rule id or model.",
        analogy="A 'wet paint' sign left up long after the paint dried."),
)


@cache
def all_rules() -> dict[str, RuleInfo]:
    """Every rule by id: the rule files' rules, then the run's own."""
    from advisor.engine.rules import load_rules

    out: dict[str, RuleInfo] = {}
    for r in load_rules():
        out[r.id] = RuleInfo(r.id, r.title, r.severity, r.docs.explanation, r.fix, r.docs.analogy,
                             r.docs.use_case, r.docs.compatibility, r.docs.references)
    for m in META_RULES:
        out[m.id] = m
    return out
