"""Inline suppressions: `# advisor: ignore[RULE-ID]` on the lines of a from_pretrained call.

Like ruff's `# noqa: CODE`, a suppression names the rules it silences; it applies to the call whose lines
it sits on. One that silences nothing is stale and reported (LINT-IGNORE-UNUSED), as a stale policy ignore is.
"""

from __future__ import annotations

from collections.abc import Sequence

from advisor.ci.lint import Call, Suppression
from advisor.ci.run_rules import IGNORE_COMMENT_UNUSED
from advisor.core.frozen import replace
from advisor.core.report import Case
from advisor.core.results import Finding


def apply_suppressions(cases: Sequence[Case], calls: Sequence[Call], quiet: Sequence[Suppression],
                       ) -> tuple[list[Case], list[Finding]]:
    """The cases without the suppressed rules, and a finding for each suppression that silenced nothing."""
    if not quiet:
        return list(cases), []
    spans = {(c.file, c.line): c.end_line for c in calls}
    used: set[tuple[int, str]] = set()
    out: list[Case] = []
    for case in cases:
        end = spans.get((case.file or "", case.line or 0), case.line or 0)
        here = [(i, s) for i, s in enumerate(quiet) if s.file == case.file and case.line and case.line <= s.line <= end]
        if not here:
            out.append(case)
            continue

        def silenced(rule: str, counts: bool, here: list[tuple[int, Suppression]] = here) -> bool:
            hit = False
            for i, s in here:
                if rule in s.rules:
                    hit = True
                    if counts:
                        used.add((i, rule))
            return hit

        findings = tuple(f for f in case.findings if not silenced(f.rule, True))
        evaluations = tuple(e for e in case.evaluations if not silenced(e.rule, e.status != "pass"))
        out.append(replace(case, findings=findings, evaluations=evaluations))
    stale = [Finding(IGNORE_COMMENT_UNUSED, "warning", f"`# advisor: ignore[{rule}]` silences nothing on this "
                     "call: remove it", "Remove the rule from the comment (or the comment).", file=s.file,
                     line=s.line)
             for i, s in enumerate(quiet) for rule in s.rules if (i, rule) not in used]
    return out, stale
