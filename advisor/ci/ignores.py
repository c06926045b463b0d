"""Policy ignores: drop the findings and unknowns of a rule, and report ignores that match nothing."""

from __future__ import annotations

from collections.abc import Sequence

from advisor.ci.policy import Ignore
from advisor.ci.run_rules import IGNORE_UNUSED
from advisor.core.frozen import replace
from advisor.core.report import Case
from advisor.core.results import Finding


def _matches(ignore: Ignore, rule: str, model: str) -> bool:
    return ignore.rule == rule and (ignore.model is None or ignore.model.lower() == model.lower())


def apply_ignores(cases: Sequence[Case], ignores: Sequence[Ignore], policy: str,
                  ) -> tuple[list[Case], list[Finding]]:
    """The cases without ignored rules, and a finding for each ignore that suppressed nothing."""
    used: set[int] = set()
    out: list[Case] = []
    for case in cases:
        def hit(rule: str, status: str, case: Case = case) -> bool:
            found = False
            for i, ig in enumerate(ignores):
                if _matches(ig, rule, case.model):
                    found = True
                    if status != "pass":
                        used.add(i)
            return found

        evaluations = tuple(e for e in case.evaluations if not hit(e.rule, e.status))
        findings = tuple(f for f in case.findings if not hit(f.rule, "fail"))
        out.append(replace(case, evaluations=evaluations, findings=findings))
    notes = [Finding(IGNORE_UNUSED, "warning",
                     f"ignore of {ig.rule}" + (f" for {ig.model}" if ig.model else "")
                     + " matches no finding and no unknown: remove it", "Remove this [[ignore]] entry.",
                     file=policy, line=ig.line)
             for i, ig in enumerate(ignores) if i not in used]
    return out, notes
