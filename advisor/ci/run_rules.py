"""The ids of the rules about the run itself (their text and docs are in `rules/run.toml`)."""

from __future__ import annotations

LINT_UNRESOLVED = "LINT-UNRESOLVED"
CHECK_FACTS = "CHECK-FACTS"
IGNORE_UNUSED = "POLICY-IGNORE-UNUSED"
IGNORE_COMMENT_UNUSED = "LINT-IGNORE-UNUSED"
RUN_RULES = (LINT_UNRESOLVED, CHECK_FACTS, IGNORE_UNUSED, IGNORE_COMMENT_UNUSED)
