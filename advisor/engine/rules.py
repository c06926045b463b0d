"""Rules: what one is, how a rule file is parsed and checked, and the decision-order check."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from advisor.core.errors import InputError
from advisor.core.frozen import frozen
from advisor.core.logic import Tri, Unknown
from advisor.core.plain import clean
from advisor.core.references import InvalidReference, parse_reference
from advisor.core.results import Severity
from advisor.engine.expr import Expr, ExprError, compile_expr
from advisor.engine.flags import FlagSpec
from advisor.engine.namespace import fact_kind
from advisor.memory.figures import FIGURES

RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")
RULE_KEYS = {"id", "title", "severity", "flags", "when", "require", "message", "fix", "rejects", "fixable", "docs",
             "emitted_by", "errors", "evidence"}
EVIDENCE_ITEM = re.compile(
    r"^(?P<package>[A-Za-z0-9_.\-]+) (?P<release>v?\d[\w.+\-]*) (?P<file>[^\s;:]+)(?::(?P<line>\d+(-\d+)?))?$")
"""One item of a rule's `evidence`: `<package> <release> <file>[:line]` (items are separated by `;`)."""
RUN_PARTS = ("lint", "check", "policy", "explain")
"""What reports a rule that has no requirement over facts (`emitted_by`): lint, check and policy report
problems of the run itself; `explain` reports a rule only when a log holds one of its error messages."""
ERROR_KEYS = {"text", "pattern", "package", "releases", "evidence", "raised", "note"}
"""Keys of one `[[rule.errors]]` entry: an upstream error message the rule explains."""
PACKAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
DOC_KEYS = {"explanation", "analogy", "use_case", "compatibility", "references"}
DATA_FILES = {"flags.toml", "gpus.toml", "native.toml", "transformers_removed.toml"}
"""TOML files in rules/ that hold data, not rules."""
REQUIRED_DOCS = ("explanation", "analogy", "use_case", "compatibility", "references")


@frozen
class RuleDocs:
    """A rule's documentation, in the same five parts for every rule."""

    explanation: str
    analogy: str
    use_case: str
    compatibility: str
    references: tuple[str, ...]


@frozen
class ErrorText:
    """An upstream error message a rule explains, with where it comes from.

    Exactly one of `text` (the message as upstream writes it; `{name}` marks a part that varies, such as a
    class name or a path) and `pattern` (a Python regular expression) is set. Both are matched against a log
    with all whitespace removed (`engine/error_match.py`), so a message wrapped anywhere is still found.
    """

    text: str | None
    pattern: str | None
    package: str
    """The distribution (or runtime) that emits the message: `transformers`, `flash-attn`, `cuda-runtime`."""
    releases: str
    """PEP 440 specifiers of the releases read that emit it (`>=4.36.0,<5.4.0`), or `*` for every one read."""
    evidence: str
    """Where it was read: release, file and line."""
    raised: str = ""
    """How it reaches the user (`RuntimeError at the first forward pass`, `a warning at load`)."""
    note: str = ""

    @property
    def source(self) -> str:
        """The text or the pattern, as written in the rule file."""
        return self.text if self.text is not None else self.pattern or ""

    @property
    def kind(self) -> str:
        return "text" if self.text is not None else "pattern"

    def packed(self) -> tuple[str | None, ...]:
        return (self.text, self.pattern, self.package, self.releases, self.evidence, self.raised, self.note)


@frozen
class Rule:
    """One requirement over facts: when `when` holds, `require` must hold, else a finding.

    A rule about the run itself (`emitted_by`: lint, check or policy) has no requirement: the part of
    advisor it names reports it (an unreadable call, missing facts, a stale ignore), with the same docs.
    """

    id: str
    title: str
    severity: Severity
    flags: tuple[str, ...]
    when: Expr | None
    require: Expr | None
    message: str
    fix: str
    rejects: bool
    """Whether a failure rejects the candidate in recommend mode."""
    fixable: bool
    """Whether the failure can be fixed by changing the installed packages."""
    docs: RuleDocs
    file: str
    emitted_by: str | None = None
    errors: tuple[ErrorText, ...] = ()
    """The upstream error messages this rule explains (`advisor explain`)."""
    evidence: tuple[str, ...] = ()
    """Where each version boundary the rule writes by hand was read: `<package> <release> <file>[:line]`.
    Boundaries of transformers itself come from the knowledge tables (`transformers.*` facts) instead."""

    @property
    def reads(self) -> frozenset[str]:
        """Every name `when` and `require` read."""
        return frozenset(n for e in (self.when, self.require) if e is not None for n in e.names)

    @property
    def keywords_read(self) -> tuple[str, ...]:
        """The keywords, exactly as passed, that `when` and `require` read (`kwarg.torch_dtype`)."""
        return tuple(sorted(n[6:] for n in self.reads if n.startswith("kwarg.")))

    def packed(self) -> tuple[Any, ...]:
        """The rule as plain data for the rule pack (requirements as compiled code)."""
        d = self.docs
        return (self.id, self.title, self.severity, self.flags, self.when.packed() if self.when else None,
                self.require.packed() if self.require else None, self.message, self.fix, self.rejects, self.fixable,
                (d.explanation, d.analogy, d.use_case, d.compatibility, d.references), self.file, self.emitted_by,
                tuple(e.packed() for e in self.errors), self.evidence)

    @classmethod
    def unpack(cls, data: tuple[Any, ...]) -> Rule:
        (rid, title, severity, flags, when, require, message, fix, rejects, fixable, docs, file, emitted_by,
         errors, evidence) = data
        return cls(rid, title, severity, flags, Expr.unpack(when) if when else None,
                   Expr.unpack(require) if require else None, message, fix, rejects, fixable, RuleDocs(*docs), file,
                   emitted_by, tuple(ErrorText(*e) for e in errors), evidence)

    @property
    def family(self) -> str:
        return self.id.split("-", 1)[0]

    def applies(self, ns: Mapping[str, Any]) -> Tri:
        return Tri.TRUE if self.when is None else self.when.truth(ns)

    def evaluate(self, ns: Mapping[str, Any]) -> Tri:
        """`when → require` in three-valued logic: not applicable counts as pass (and `require`, which may
        compute memory figures, is not read then: false → anything holds)."""
        return self.outcome(ns)[0] if self.require is not None else Tri.TRUE

    def outcome(self, ns: Mapping[str, Any]) -> tuple[Tri, Tri]:
        """`evaluate` and `applies` together, reading `when` once."""
        applies = self.applies(ns)
        if self.require is None or applies is Tri.FALSE:
            return Tri.TRUE, applies
        return ~applies | self.require.truth(ns), applies

    def render(self, template: str, ns: Mapping[str, Any]) -> str:
        return PLACEHOLDER.sub(lambda m: display(ns.get(m.group(1))), template)

    def unknown_reasons(self, ns: Mapping[str, Any]) -> list[str]:
        exprs = [e for e in (self.when, self.require) if e is not None]
        seen: dict[str, str] = {}
        for e in exprs:
            for u in e.unknowns(ns):
                seen.setdefault(u.name, u.reason)
        return [f"{name} is unknown ({reason})" for name, reason in seen.items()]


def display(value: object) -> str:
    """How a fact value reads inside a message."""
    if isinstance(value, Unknown):
        return "unknown"
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.1f}" if not value.is_integer() else str(int(value))
    if isinstance(value, dict):
        import json

        return clean(json.dumps(value))
    if isinstance(value, frozenset | set | tuple | list):
        return clean(", ".join(sorted(str(v) for v in value))) or "none"
    return clean(str(value))  # a value may come from a config: it cannot drive the reader's terminal


def check_decision_order(rules: Sequence[Rule], specs: Sequence[FlagSpec]) -> None:
    """Refuse a rule about a flag that reads a flag decided after it (rules/flags.toml gives the order).

    The resolver decides flags in that order, so such a rule would read a flag that is not set yet. The
    same holds for a flag's `relevant` and `first` facts. `memory.*` figures read the flags in their
    registry entry.
    """
    order = {s.name: i for i, s in enumerate(specs) if not s.check_only}
    known = {s.name for s in specs}
    keyword = {kw: s.name for s in specs for kw in s.keywords}

    def read(names: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for name in names:
            if name.startswith("flag."):
                out.add(name[5:])
            elif name.startswith("kwarg.") and name[6:] in keyword:
                out.add(keyword[name[6:]])
            elif name.startswith("memory.") and name[7:] in FIGURES:
                out.update(FIGURES[name[7:]].reads)
        return {f for f in out if f in order}

    for rule in rules:
        where = f"{rule.file}: rule {rule.id}"
        for flag in rule.flags:
            if flag not in known:
                raise InputError(f"{where}: `flags` names {flag!r}, which rules/flags.toml does not define")
        exprs = [e for e in (rule.when, rule.require) if e is not None]
        names = {n for e in exprs for n in e.names} | set(PLACEHOLDER.findall(rule.message + " " + rule.fix))
        for flag in (f for f in rule.flags if f in order):
            later = sorted(f for f in read(names) if order[f] > order[flag])
            if later:
                raise InputError(f"{where}: a rule about {flag} reads {', '.join(later)}, decided after it "
                                 "(rules/flags.toml decides flags in file order)")
    for spec in specs:
        if spec.name not in order:
            continue
        names = set(spec.relevant.names if spec.relevant else ()) | set(spec.first)
        later = sorted(f for f in read(names) if order[f] >= order[spec.name])
        if later:
            raise InputError(f"flags.toml: flag {spec.name}: `relevant` or `first` reads {', '.join(later)}, "
                             "which is not decided before it")


def parse_rule_file(name: str, data: Mapping[str, Any]) -> list[Rule]:
    """The rules of one parsed rule file (NAME is the file's name), each checked; InputError otherwise."""
    unknown = set(data) - {"rule"}
    if unknown:
        raise InputError(f"{name}: unknown top-level keys {sorted(unknown)} (rules go in [[rule]] tables)")
    entries = data.get("rule", [])
    if not isinstance(entries, list):
        raise InputError(f"{name}: `rule` must be an array of tables ([[rule]])")
    return [_parse_rule(entry, name, i) for i, entry in enumerate(entries)]


def _prose(text: object) -> str:
    """Documentation text with its line breaks folded."""
    return " ".join(str(text).split())


def _parse_rule(entry: Any, file: str, index: int) -> Rule:
    rid = entry.get("id") if isinstance(entry, dict) else None
    where = f"{file}: rule {rid or f'#{index + 1}'}"

    def fail(msg: str) -> InputError:
        return InputError(f"{where}: {msg}")

    if not isinstance(entry, dict):
        raise fail("must be a table")
    if not isinstance(rid, str) or not RULE_ID.match(rid):
        raise fail("`id` must look like FAMILY-NAME (capitals, digits, dashes)")
    extra = set(entry) - RULE_KEYS
    if extra:
        raise fail(f"unknown keys {sorted(extra)}")
    emitted_by = entry.get("emitted_by")
    if emitted_by is not None and emitted_by not in RUN_PARTS:
        raise fail(f"`emitted_by` must be one of {', '.join(RUN_PARTS)}")
    if emitted_by is not None and ("when" in entry or "require" in entry or entry.get("flags")):
        raise fail("a rule `emitted_by` the run has no `when`, `require` or `flags`")
    for key in ("title", "message", "fix") + (() if emitted_by else ("require",)):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise fail(f"`{key}` must be a non-empty string")
    severity = entry.get("severity")
    if severity not in ("error", "warning", "info"):
        raise fail("`severity` must be error, warning or info")
    flags = entry.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise fail("`flags` must be a list of flag names")
    try:
        when = compile_expr(entry["when"], fact_kind) if entry.get("when") else None
        require = compile_expr(entry["require"], fact_kind) if emitted_by is None else None
    except ExprError as exc:
        raise fail(str(exc)) from None
    for key in ("message", "fix"):
        for name in PLACEHOLDER.findall(entry[key]):
            if fact_kind(name) is None:
                raise fail(f"`{key}` names unknown fact {{{name}}}")
    docs = entry.get("docs")
    if not isinstance(docs, dict):
        raise fail("needs a [rule.docs] table")
    if set(docs) - DOC_KEYS:
        raise fail(f"unknown docs keys {sorted(set(docs) - DOC_KEYS)}")
    for key in REQUIRED_DOCS:
        if not docs.get(key):
            raise fail(f"docs.{key} is missing")
    refs = docs["references"]
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise fail("docs.references must be a list of strings")
    for ref in refs:
        try:
            parse_reference(ref)
        except InvalidReference as exc:
            raise fail(f"docs.references: {exc}") from None
    for key in ("rejects", "fixable"):
        if key in entry and not isinstance(entry[key], bool):
            raise fail(f"`{key}` must be true or false")
    evidence = _evidence(entry.get("evidence"), fail)
    boundaries = [b for e in (when, require) if e is not None for b in e.boundaries]
    if boundaries and not evidence:
        fact, literal = boundaries[0]
        raise fail(f"compares {fact} with {literal!r}, a boundary written by hand: cite where it was read "
                   '(`evidence = "<package> <release> <file>[:line]; ..."`), or read it from the target\'s '
                   "knowledge table (the transformers.* facts)")
    errors = _parse_errors(entry.get("errors", []), fail)
    if emitted_by == "explain" and not errors:
        raise fail("a rule `emitted_by` explain needs at least one [[rule.errors]] entry")
    return Rule(
        id=rid, title=entry["title"].strip(), severity=severity, flags=tuple(flags), when=when,
        require=require, message=" ".join(entry["message"].split()), fix=" ".join(entry["fix"].split()),
        rejects=entry.get("rejects", severity == "error"), fixable=entry.get("fixable", False),
        docs=RuleDocs(explanation=_prose(docs["explanation"]), analogy=_prose(docs["analogy"]),
                      use_case=_prose(docs["use_case"]), compatibility=_prose(docs["compatibility"]),
                      references=tuple(refs)),
        file=file, emitted_by=emitted_by, errors=errors, evidence=evidence,
    )


def _evidence(value: object, fail: Callable[[str], InputError]) -> tuple[str, ...]:
    """The items of a rule's `evidence` string, each `<package> <release> <file>[:line]`."""
    if value is None:
        return ()
    if not isinstance(value, str) or not value.strip():
        raise fail("`evidence` must be a string: \"<package> <release> <file>[:line]; ...\"")
    items = tuple(" ".join(part.split()) for part in value.split(";") if part.strip())
    for item in items:
        if not EVIDENCE_ITEM.match(item):
            raise fail(f"evidence {item!r} is not `<package> <release> <file>[:line]`")
    return items


def _parse_errors(entries: object, fail: Callable[[str], InputError]) -> tuple[ErrorText, ...]:
    """The `[[rule.errors]]` entries, each checked: one of text/pattern, package, releases, evidence."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet  # only when the pack is rebuilt

    from advisor.engine.error_match import ErrorTextError, compile_error  # as above

    if not isinstance(entries, list):
        raise fail("`errors` must be an array of tables ([[rule.errors]])")
    out: list[ErrorText] = []
    for i, e in enumerate(entries):
        where = f"errors #{i + 1}"
        if not isinstance(e, dict):
            raise fail(f"{where} must be a table")
        extra = set(e) - ERROR_KEYS
        if extra:
            raise fail(f"{where}: unknown keys {sorted(extra)}")
        if ("text" in e) == ("pattern" in e):
            raise fail(f"{where}: give exactly one of `text` (the exact message) and `pattern` (a regex)")
        for key in ("package", "releases", "evidence", *(k for k in ("text", "pattern") if k in e)):
            if not isinstance(e.get(key), str) or not e[key].strip():
                raise fail(f"{where}: `{key}` must be a non-empty string")
        for key in ("raised", "note"):
            if key in e and not isinstance(e[key], str):
                raise fail(f"{where}: `{key}` must be a string")
        if not PACKAGE_NAME.match(e["package"]):
            raise fail(f"{where}: `package` {e['package']!r} must be a distribution name such as flash-attn")
        releases = e["releases"].strip()
        if releases != "*":
            try:
                SpecifierSet(releases)
            except InvalidSpecifier:
                raise fail(f"{where}: `releases` {releases!r} must be PEP 440 specifiers "
                           "(>=4.36.0,<5.4.0) or * for every release read") from None
        text = e.get("text")
        error = ErrorText(text=text, pattern=e.get("pattern"), package=e["package"], releases=releases,
                          evidence=_prose(e["evidence"]), raised=_prose(e.get("raised", "")),
                          note=_prose(e.get("note", "")))
        try:
            compile_error(error)
        except ErrorTextError as exc:
            raise fail(f"{where}: {exc}") from None
        out.append(error)
    return tuple(out)
