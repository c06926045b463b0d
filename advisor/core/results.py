"""What advisor answers: flags with their reasons, rejected candidates, findings."""

from __future__ import annotations

from typing import Any, Literal

from advisor.core.frozen import frozen
from advisor.core.ledger import MemoryLedger

Severity = Literal["error", "warning", "info"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}
Status = Literal["pass", "fail", "unknown"]


@frozen
class Reason:
    """Why a candidate was rejected, or would need more facts: a rule and its message."""

    rule: str
    message: str
    status: Status = "fail"

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "status": self.status}


@frozen
class Rejected:
    """A better candidate value that was not chosen, with every requirement it failed."""

    value: Any
    reasons: tuple[Reason, ...]

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "reasons": [r.to_json() for r in self.reasons]}


@frozen
class Decision:
    """The value chosen for one flag, the rules that chose it and the candidates rejected before it."""

    flag: str
    """Canonical flag name (`dtype`, `attn_implementation`, ...)."""
    name: str
    """The keyword as the target transformers names it (`torch_dtype` before 4.56)."""
    value: Any
    """JSON value; None means the flag is best left out."""
    rules: tuple[str, ...]
    rejected: tuple[Rejected, ...]
    summary: str
    """One line: why this value."""

    @property
    def emitted(self) -> bool:
        return self.value is not None

    def to_json(self) -> dict[str, Any]:
        return {"flag": self.name, "canonical": self.flag, "value": self.value, "rules": list(self.rules),
                "summary": self.summary, "rejected": [r.to_json() for r in self.rejected]}


@frozen
class Finding:
    """Something the user should know: a rule that did not hold, with its fix."""

    rule: str
    severity: Severity
    message: str
    fix: str
    flag: str | None = None
    target: str | None = None
    """Which target (hardware/software profile) it concerns, in a matrix check."""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    """1-based, where the finding points into a source file (lint: the keyword's own position)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "severity": self.severity, "message": self.message,
                               "fix": self.fix}
        for key in ("flag", "target", "file", "line", "column"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out

    def sort_key(self) -> tuple[int, str, str, str, int, int, str]:
        return (-SEVERITY_RANK[self.severity], self.target or "", self.file or "", self.rule,
                self.line or 0, self.column or 0, self.message)


@frozen
class Evaluation:
    """One rule evaluated against one flag set: pass, fail or unknown (for JUnit and the TUI)."""

    rule: str
    severity: Severity
    status: Status
    message: str
    flag: str | None = None
    applicable: bool = True
    """False when the rule's condition did not hold (a pass that tested nothing)."""


@frozen
class Recommendation:
    """The whole answer of `advisor recommend`."""

    model: dict[str, Any]
    target: dict[str, Any]
    flags: dict[str, Any]
    """The keyword arguments for `from_pretrained`, ready to pass from Python (`**rec.flags`): GPU indices
    of `max_memory` are ints. The JSON output writes the same flags in their JSON form."""
    decisions: tuple[Decision, ...]
    findings: tuple[Finding, ...]
    memory: MemoryLedger | None
    python: str

    def json_flags(self) -> dict[str, Any]:
        """The flags in their JSON form (what `--format json` prints)."""
        return {d.name: d.value for d in self.decisions if d.value is not None}

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": 1,
            "model": self.model,
            "target": self.target,
            "flags": self.json_flags(),
            "decisions": [d.to_json() for d in self.decisions],
            "findings": [f.to_json() for f in self.findings],
            "memory": self.memory.to_json() if self.memory is not None else None,
            "python": self.python,
        }


@frozen
class CheckResult:
    """The answer of `advisor check` for one model and one target."""

    model: dict[str, Any]
    target: dict[str, Any]
    target_name: str
    flags: dict[str, Any]
    findings: tuple[Finding, ...]
    evaluations: tuple[Evaluation, ...]

    @property
    def unknown(self) -> bool:
        return any(e.status == "unknown" and e.severity == "error" for e in self.evaluations)

    def worst(self) -> int:
        return max((SEVERITY_RANK[f.severity] for f in self.findings), default=-1)
