"""`advisor explain`: the rules whose upstream error messages a log holds, ranked, best first.

`scan` reads the log once, streaming (facts/log_reader.py), and for each block finds the rules' messages
(engine/error_match.py) and what the log says of its origin (facts/log_facts.py). `rank` orders the rules
found: first by what the facts say of each (it fails on them, they cannot tell, it holds), then by
severity, by whether the installed version of the package emits the message, by how many of the rule's
messages were found, and by how specific the message is (its literal characters).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, BinaryIO

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from advisor.core.explanation import VERDICTS, InputSummary, MessageHit, ModelMention, Recognised, RuleMatch
from advisor.core.frozen import frozen, record
from advisor.core.results import SEVERITY_RANK, CheckResult, Recommendation
from advisor.engine.error_match import Matcher, compile_error, line_index, squeeze
from advisor.engine.namespace import FACT_KINDS, PREFIX_KINDS
from advisor.engine.rules import PLACEHOLDER, Rule
from advisor.facts.bundle import Facts
from advisor.facts.log_facts import MODEL_ID, Recogniser
from advisor.facts.log_reader import LogReader
from advisor.facts.software import RELEVANT_DISTS

EXCERPT = 240
"""Characters of the log shown where a message was found."""
MAX_LINES = 10_000
"""Distinct lines counted per message."""


@record
class _Hit:
    first: int
    excerpt: str
    lines: set[int]


@frozen
class Scan:
    """What one read of a log found."""

    input: InputSummary
    found: dict[tuple[str, int], tuple[int, str, int]]
    """(rule id, index of the message in its `errors`) → (first line, excerpt, lines holding it)."""
    recognised: Recognised


def _excerpt(lines: list[str], index: int) -> str:
    text = " ".join(" ".join(lines[index:index + 4]).split())
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"


_MATCHERS: dict[int, tuple[Sequence[Rule], Matcher]] = {}


def matcher(rules: Sequence[Rule]) -> Matcher:
    """The matcher of RULES' messages, built once per rule set in a process (30 ms: compiling and grouping)."""
    hit = _MATCHERS.get(id(rules))
    if hit is None or hit[0] is not rules:
        hit = _MATCHERS[id(rules)] = (rules, Matcher([r for r in rules if r.errors]))
    return hit[1]


def scan(stream: BinaryIO, rules: Sequence[Rule]) -> Scan:
    """Read STREAM once: the rules' messages it holds and what it says of its origin (InputError if unreadable)."""
    reader = LogReader(stream)
    matcher_ = matcher(rules)
    recogniser = Recogniser()
    hits: dict[tuple[str, int], _Hit] = {}
    for block in reader.blocks():
        recogniser.feed(block.text, block.first_line, block.overlap)
        found = matcher_.search(squeeze(block.text))
        if not found:
            continue
        where = line_index(block.text, (o for f in found for o in f.offsets))
        lines = block.text.split("\n")
        for f in found:
            key = (f.entry.rule, f.entry.index)
            for offset in f.offsets:
                index = where[offset]
                number = block.first_line + index
                hit = hits.get(key)
                if hit is None:
                    hits[key] = _Hit(number, _excerpt(lines, index), {number})
                elif len(hit.lines) < MAX_LINES:
                    hit.lines.add(number)
    stats = reader.stats
    return Scan(InputSummary(stats.bytes, stats.lines, stats.long_lines, stats.replaced),
                {k: (h.first, h.excerpt, len(h.lines)) for k, h in hits.items()}, recogniser.result())


def fits(releases: str, version: str | None) -> bool | None:
    """Whether VERSION is one of RELEASES (PEP 440 specifiers, `*` for all); None when either is unknown."""
    if version is None:
        return None
    if releases == "*":
        return True
    try:
        return SpecifierSet(releases).contains(Version(version).public, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return None


def fix_text(rule: Rule, ns: Mapping[str, Any] | None) -> str:
    """The rule's fix, for the facts when there are some, else with each fact named in words."""
    if ns is not None:
        return rule.render(rule.fix, ns)

    def named(name: str) -> str:
        doc = FACT_KINDS.get(name) or next((v for p, v in PREFIX_KINDS.items() if name.startswith(p)), ("", name))
        return f"<{doc[1]}>"

    return PLACEHOLDER.sub(lambda m: named(m.group(1)), rule.fix)


def rank(found: Scan, rules: Sequence[Rule], verdicts: Mapping[str, tuple[str, str]],
         versions: Mapping[str, str], ns: Mapping[str, Any] | None = None) -> tuple[RuleMatch, ...]:
    """The rules found in the log, best match first.

    VERDICTS: rule id → (one of VERDICTS, the rule's message for the facts); VERSIONS: distribution → the
    installed version (from the facts, else from the log); NS: the facts' namespace, to write each fix for them.
    """
    order = {r.id: i for i, r in enumerate(rules)}
    matches: list[tuple[tuple[int, ...], RuleMatch]] = []
    for rule in rules:
        hits: list[tuple[int, MessageHit]] = []
        for i, error in enumerate(rule.errors):
            hit = found.found.get((rule.id, i))
            if hit is None:
                continue
            first, excerpt, count = hit
            fit = fits(error.releases, versions.get(error.package))
            hits.append((compile_error(error).literal, MessageHit(
                error.kind, error.source, error.package, error.releases, error.evidence, error.raised, error.note,
                first, excerpt, count, fit)))
        if not hits:
            continue
        verdict, on_facts = verdicts.get(rule.id, (None, ""))
        fit_rank = 0 if any(h.fits_version for _, h in hits) else (
            1 if any(h.fits_version is None for _, h in hits) else 2)
        key = (VERDICTS.index(verdict) if verdict in VERDICTS else 1, -SEVERITY_RANK[rule.severity], fit_rank,
               -len(hits), -max(lit for lit, _ in hits), order[rule.id])
        d = rule.docs
        messages = tuple(h for _, h in sorted(hits, key=lambda x: x[1].line))
        on_facts = on_facts if verdict == "fails" else ""
        happened = on_facts or (rule.message if rule.emitted_by else rule.title)
        matches.append((key, RuleMatch(rule.id, rule.title, rule.severity, happened, d.explanation, d.analogy,
                                       fix_text(rule, ns), d.references, messages, verdict, on_facts)))
    return tuple(m for _, m in sorted(matches, key=lambda x: x[0]))


def installed_versions(facts: Facts) -> dict[str, str]:
    """Distribution → version installed on the target (those known to be installed)."""
    out: dict[str, str] = {}
    for dist in RELEVANT_DISTS:
        fact = facts.software.package(dist).version
        if fact.known and fact.value is not None:
            out[dist] = str(fact.value)
    if facts.transformers.known and facts.transformers.value is not None:
        out["transformers"] = str(facts.transformers.value)
    return out


def verdicts(rec: Recommendation | None, checked: CheckResult | None) -> dict[str, tuple[str, str]]:
    """What the facts say of each rule: from a check of the log's flags first, then from the recommendation
    (a rule that rejected a candidate, or reported a finding, fails on these facts)."""
    out: dict[str, tuple[str, str]] = {}
    if checked is not None:
        worst: dict[str, tuple[int, str, str]] = {}
        for e in checked.evaluations:
            if e.status == "pass" and not e.applicable:
                continue
            rank_ = {"fail": 0, "unknown": 1, "pass": 2}[e.status]
            if e.rule not in worst or rank_ < worst[e.rule][0]:
                worst[e.rule] = (rank_, {"fail": "fails", "unknown": "unknown", "pass": "holds"}[e.status], e.message)
        out.update({rule: (v, msg) for rule, (_, v, msg) in worst.items()})
    if rec is not None:
        for d in rec.decisions:
            for rej in d.rejected:
                for reason in rej.reasons:
                    verdict = "fails" if reason.status == "fail" else "unknown"
                    if out.get(reason.rule, ("unknown", ""))[0] == "unknown":
                        out[reason.rule] = (verdict, reason.message)
        for f in rec.findings:
            if out.get(f.rule, ("unknown", ""))[0] == "unknown":
                out[f.rule] = ("fails", f.message)
    return out


MODEL_PRIORITY = ("--model", "from_pretrained", "command line", "Hub URL", "Hub cache path", "config path",
                  "not found on the Hub")
"""How the log names a model, most trusted first."""


def pick_model(mentions: Sequence[ModelMention], exists: Callable[[str], bool]) -> tuple[ModelMention | None,
                                                                                         list[str]]:
    """The model the log is about, and notes on the mentions passed over.

    The most trusted kind of mention wins, its last one (nearest the crash). A path (absolute, relative or
    a config.json's folder) counts only when EXISTS says it is on this machine.
    """
    notes: list[str] = []
    ordered = sorted(mentions, key=lambda m: (MODEL_PRIORITY.index(m.how), -m.line))
    for m in ordered:
        looks_local = m.how == "config path" or not MODEL_ID.fullmatch(m.id) or m.id.startswith((".", "~"))
        if looks_local and not exists(m.id):
            note = f"the log names {m.id} (line {m.line}), which is not a path on this machine"
            if note not in notes:
                notes.append(note)
            continue
        return m, notes
    return None, notes
