"""What `advisor explain` answers: the rules that explain an error, best first, and what the log revealed."""

from __future__ import annotations

from typing import Any

from advisor.core.errors import ExitCode
from advisor.core.frozen import field, frozen
from advisor.core.results import Recommendation

VERDICTS = ("fails", "unknown", "holds")
"""What the facts say of a matched rule: it fails on them (the error fits), they cannot tell, or it holds
(the error is unlikely to come from this rule on these facts)."""


@frozen
class ModelMention:
    """A model the log names, and how."""

    id: str
    how: str
    """from_pretrained, command line, Hub URL, Hub cache path, config path, not found on the Hub, --model."""
    line: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "how": self.how, "line": self.line}


@frozen
class Recognised:
    """What the log says about where it came from (empty parts when it says nothing)."""

    models: tuple[ModelMention, ...] = ()
    packages: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Distribution → versions the log mentions, in the order first seen."""
    gpus: tuple[tuple[str, str], ...] = ()
    """The name as written → the catalog GPU it is."""
    capabilities: tuple[str, ...] = ()
    exceptions: tuple[str, ...] = ()
    """Exception types raised, in the order of their lines (the last one usually ended the run)."""
    flags: dict[str, Any] = field(default_factory=dict)
    """Keyword arguments of the from_pretrained call the log shows."""
    python: str | None = None

    def versions(self) -> dict[str, str]:
        """Distribution → version, for those the log gives exactly one version of."""
        return {name: found[0] for name, found in self.packages if len(found) == 1}

    def is_empty(self) -> bool:
        return not (self.models or self.packages or self.gpus or self.capabilities or self.exceptions
                    or self.flags or self.python)

    def to_json(self) -> dict[str, Any]:
        return {"models": [m.to_json() for m in self.models],
                "packages": {name: list(found) for name, found in self.packages},
                "gpus": [{"written": w, "catalog": c} for w, c in self.gpus],
                "compute_capabilities": list(self.capabilities), "exceptions": list(self.exceptions),
                "flags": self.flags, "python": self.python}


@frozen
class MessageHit:
    """One upstream message of a rule, found in the log."""

    kind: str
    """`text` (exact, `{name}` varies) or `pattern` (a regex)."""
    source: str
    package: str
    releases: str
    evidence: str
    raised: str
    note: str
    line: int
    """The line it starts on (1-based)."""
    excerpt: str
    """That line of the log, normalised and shortened."""
    count: int
    """How many lines of the log start it."""
    fits_version: bool | None
    """Whether the installed version of `package` is in `releases`; None when unknown."""

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, self.kind: self.source, "package": self.package, "releases": self.releases,
                "evidence": self.evidence, "raised": self.raised, "note": self.note, "line": self.line,
                "excerpt": self.excerpt, "count": self.count, "fits_version": self.fits_version}


@frozen
class RuleMatch:
    """A rule that explains the error: its documentation, the messages found, what the facts say of it."""

    rule: str
    title: str
    severity: str
    happened: str
    """What the message means: the rule's message for the facts when it fails on them, else its summary."""
    explanation: str
    analogy: str
    fix: str
    references: tuple[str, ...]
    messages: tuple[MessageHit, ...]
    verdict: str | None = None
    """One of VERDICTS when facts were gathered, else None."""
    on_facts: str = ""
    """The rule's message for the facts, when it fails on them."""

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "title": self.title, "severity": self.severity, "verdict": self.verdict,
                "happened": self.happened, "on_facts": self.on_facts or None, "explanation": self.explanation,
                "analogy": self.analogy,
                "fix": self.fix, "references": list(self.references),
                "messages": [m.to_json() for m in self.messages]}


@frozen
class InputSummary:
    """What was read."""

    bytes: int
    lines: int
    long_lines: int = 0
    """Lines longer than the limit, cut there."""
    replaced: int = 0
    """Characters that were not UTF-8."""

    def to_json(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "lines": self.lines, "long_lines": self.long_lines, "replaced": self.replaced}


@frozen
class Explanation:
    """The whole answer of `advisor explain`."""

    input: InputSummary
    matches: tuple[RuleMatch, ...]
    """Best match first."""
    recognised: Recognised
    model: ModelMention | None = None
    """The model the recommendation is for (from --model, the log, or the facts given)."""
    named: ModelMention | None = None
    """The model the log names (the most trusted mention), whether or not its facts were gathered."""
    target: str = ""
    """Whose facts ranked the rules and made the recommendation ("this machine", a GPU, a profile)."""
    recommendation: Recommendation | None = None
    notes: tuple[str, ...] = ()

    @property
    def explained(self) -> bool:
        return bool(self.matches)

    @property
    def exit_code(self) -> ExitCode:
        """0 when a rule explains the error, 3 when none does."""
        return ExitCode.OK if self.explained else ExitCode.FACTS

    def to_json(self) -> dict[str, Any]:
        rec = self.recommendation
        return {"schema_version": 1, "explained": self.explained, "input": self.input.to_json(),
                "matches": [m.to_json() for m in self.matches], "recognised": self.recognised.to_json(),
                "model": self.model.to_json() if self.model else None,
                "named": self.named.to_json() if self.named else None, "target": self.target or None,
                "recommendation": None if rec is None else {"flags": rec.flags, "python": rec.python,
                                                            "findings": [f.to_json() for f in rec.findings]},
                "notes": list(self.notes)}
