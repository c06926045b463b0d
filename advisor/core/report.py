"""The result of a check or lint run: one case per model (or call) and target, and the verdict."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from advisor.core.errors import ExitCode
from advisor.core.frozen import frozen
from advisor.core.results import SEVERITY_RANK, Evaluation, Finding, Severity

Verdict = Literal["pass", "fail", "unknown"]


@frozen
class Case:
    """One model (or one from_pretrained call) checked on one target."""

    model: str
    revision: str | None
    target: str
    flags: dict[str, Any]
    """The effective flags that were checked (JSON values; None where unknown)."""
    file: str | None
    line: int | None
    findings: tuple[Finding, ...]
    evaluations: tuple[Evaluation, ...]
    column: int | None = None

    @property
    def unknowns(self) -> tuple[Evaluation, ...]:
        """Error-severity rules that evaluated unknown: the facts they need are missing."""
        return tuple(e for e in self.evaluations if e.status == "unknown" and e.severity == "error")

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file or "", self.line or 0, self.model, self.target)


@frozen
class Item:
    """A finding, or an unknown error-severity evaluation, with the case it belongs to."""

    finding: Finding
    model: str | None
    unknown: bool = False

    def sort_key(self) -> tuple[int, int, str, int, str, str, str, str]:
        f = self.finding
        return (int(self.unknown), -SEVERITY_RANK[f.severity], f.file or "", f.line or 0, self.model or "",
                f.target or "", f.rule, f.message)

    def to_json(self) -> dict[str, Any]:
        out = self.finding.to_json()
        if self.model is not None:
            out["model"] = self.model
        if self.unknown:
            out.pop("fix", None)
        return out


@frozen
class Report:
    """Every case of one run, the findings about the run itself, and the fail-on threshold."""

    command: Literal["check", "lint"]
    cases: tuple[Case, ...]
    notes: tuple[Finding, ...]
    """Findings about the policy itself (an ignore that matches nothing)."""
    fail_on: Severity
    policy: str | None = None

    def findings(self) -> list[Item]:
        """Every finding, sorted: severity, file, line, model, target, rule, message."""
        items = [Item(f, c.model) for c in self.cases for f in c.findings]
        items.extend(Item(f, None) for f in self.notes)
        return sorted(items, key=Item.sort_key)

    def unknowns(self) -> list[Item]:
        """Error-severity rules that could not be evaluated, one item each, sorted."""
        items = [Item(Finding(e.rule, e.severity, e.message, "", flag=e.flag, target=c.target, file=c.file,
                              line=c.line, column=c.column), c.model, unknown=True)
                 for c in self.cases for e in c.unknowns]
        return sorted(dict.fromkeys(items), key=Item.sort_key)

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0}
        for item in self.findings():
            out[item.finding.severity] += 1
        out["unknown"] = len(self.unknowns())
        return out

    def verdict(self) -> Verdict:
        """fail: a finding at or above fail-on; unknown: an error rule could not be evaluated; else pass."""
        rank = SEVERITY_RANK[self.fail_on]
        if any(SEVERITY_RANK[i.finding.severity] >= rank for i in self.findings()):
            return "fail"
        return "unknown" if self.unknowns() else "pass"

    def exit_code(self, exit_zero: bool = False) -> ExitCode:
        """0 compatible · 1 a finding at or above fail-on · 3 an error rule could not be evaluated."""
        if exit_zero:
            return ExitCode.OK
        return {"pass": ExitCode.OK, "fail": ExitCode.FINDINGS, "unknown": ExitCode.FACTS}[self.verdict()]

    def targets(self) -> list[str]:
        return sorted({c.target for c in self.cases})

    def models(self) -> list[str]:
        return sorted({c.model for c in self.cases})

    def tally(self) -> str:
        """The counts and what they cover: `2 error(s), 0 warning(s), 1 info, 0 unknown across 3 model(s) ×
        2 target(s)`, or why there was nothing to check."""
        if not self.cases and self.command == "check":
            return "nothing to check (the policy names no models: [[model]] tables)"
        if not self.cases:
            return "nothing to check (no from_pretrained(...) call found)"
        n = self.counts()
        parts = [f"{n['error']} error(s)", f"{n['warning']} warning(s)", f"{n['info']} info",
                 f"{n['unknown']} unknown"]
        scope = f"{len(self.models())} model(s) × {len(self.targets())} target(s)"
        if self.command == "lint":
            calls = {(c.file, c.line) for c in self.cases}
            scope = f"{len(calls)} call(s) × {len(self.targets())} target(s)"
        return f"{', '.join(parts)} across {scope}"

    def summary(self) -> str:
        """One line for stderr."""
        return f"advisor {self.command}: {self.verdict()}: {self.tally()}"


def iter_evaluations(report: Report) -> Iterator[tuple[Case, Evaluation]]:
    """Every (case, evaluation) pair in a stable order."""
    for case in sorted(report.cases, key=Case.sort_key):
        for e in sorted(case.evaluations, key=lambda e: (e.rule, e.flag or "", e.status, e.message)):
            yield case, e
