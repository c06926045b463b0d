"""Check mode: evaluate every rule against a proposed flag set, as transformers would see it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from advisor.core.errors import InputError
from advisor.core.frozen import frozen
from advisor.core.logic import Tri, Unknown
from advisor.core.results import Evaluation, Finding
from advisor.engine.expr import Dynamic, Scope
from advisor.engine.fixes import FixVetter
from advisor.engine.flags import FlagSpec
from advisor.engine.keywords import keyword_facts
from advisor.engine.memo import Key, value_key, values_of
from advisor.engine.rules import PLACEHOLDER, Rule
from advisor.facts.model import FLOAT_DTYPES

DTYPE_NAMES = {**FLOAT_DTYPES, "auto": "auto"}
"""Dtype spellings users pass (`torch.bfloat16`, `bf16`, `half`) and the name each stands for."""


def canonical_names(specs: Sequence[FlagSpec]) -> dict[str, str]:
    """Every keyword a user may pass (any version's name, or an alias) → the canonical flag."""
    return {kw: spec.name for spec in specs for kw in spec.keywords}


_CANONICAL: dict[int, tuple[Sequence[FlagSpec], dict[str, str]]] = {}


def _canonical(specs: Sequence[FlagSpec]) -> dict[str, str]:
    """canonical_names, once per flag table (read-only here)."""
    hit = _CANONICAL.get(id(specs))
    if hit is None or hit[0] is not specs:
        hit = _CANONICAL[id(specs)] = (specs, canonical_names(specs))
    return hit[1]


def normalize_value(flag: str, value: Any) -> Any:
    if flag == "dtype" and isinstance(value, str):
        name = DTYPE_NAMES.get(value.removeprefix("torch.").lower())
        if name is None:
            raise InputError(f"dtype {value!r}: use bfloat16, float16, float32 or auto")
        return name
    return value


def effective_flags(ns: Mapping[str, Any], given: Mapping[str, Any]) -> dict[str, Any]:
    """The flags as transformers will act on them: defaults filled in, config.json overrides applied."""
    out = dict(given)
    default = ns.get("transformers.default_dtype")
    dtype = out.get("dtype")
    if dtype is None or dtype == "auto":
        if dtype == "auto" or default == "auto":
            out["dtype"] = ns.get("model.checkpoint_dtype")
        elif not isinstance(default, Unknown):
            out["dtype"] = "float32"
        else:
            out["dtype"] = Unknown("flag.dtype", "the default depends on the transformers version, which is unknown")
    config_attn = ns.get("model.config_attn_impl")
    attn = out.get("attn_implementation")
    if isinstance(config_attn, str) and (attn is None or "config" not in given):
        out["attn_implementation"] = config_attn
    elif attn is None and ns.get("model.has_attention") is True:
        sdpa = ns.get("arch.sdpa")
        out["attn_implementation"] = sdpa if isinstance(sdpa, Unknown) else ("sdpa" if sdpa else "eager")
    return out


Outcome = tuple[Finding | None, Evaluation]


class _Reading(Scope):
    """The scope the rules of one check read: a memory figure is kept once computed, as the flags it
    follows do not change while the rules are read; `settle` takes them out again (and `value`) before fixes
    are tried, each in a scope of its own with other flags."""

    def __init__(self, ns: Mapping[str, Any]) -> None:
        super().__init__(ns)
        self.kept: list[str] = []

    def __missing__(self, key: str) -> Any:
        value = super().__missing__(key)
        if key.startswith("memory."):
            self[key] = value
            self.kept.append(key)
        return value

    def settle(self) -> None:
        """Back to the facts and the flags checked."""
        for key in self.kept:
            del self[key]
        self.kept.clear()
        self.pop("value", None)

_OUTCOMES: dict[Key, tuple[Rule, Outcome]] = {}
_NAMES: dict[int, tuple[Rule, tuple[str, ...]]] = {}
MAX_OUTCOMES = 200_000
"""Outcomes remembered at most (then forgotten all at once): a few tens of MB for a large policy matrix."""


def _names(rule: Rule) -> tuple[str, ...]:
    """Every name the rule's outcome reads: its requirements' facts and the placeholders of its message and fix."""
    hit = _NAMES.get(id(rule))
    if hit is None or hit[0] is not rule:
        names = set(rule.reads).union(PLACEHOLDER.findall(rule.message + " " + rule.fix))
        hit = _NAMES[id(rule)] = (rule, tuple(sorted(names)))
    return hit[1]


def _outcome(rule: Rule, flag: str | None, s: Scope) -> Outcome:
    """The finding (on a failure) and the evaluation of RULE about FLAG in scope S.

    Both are a function of the values of the names the rule reads (`_names`) and nothing else, so an
    outcome is remembered by those values, with their types (True and 1 render differently) and the release
    numbers of versions (`memo.value_key`): across a policy matrix most rules read the same values on most
    targets.
    """
    key = value_key(values_of(s, _names(rule)), id(rule), flag)
    hit = _OUTCOMES.get(key)
    if hit is not None and hit[0] is rule:
        return hit[1]
    if len(_OUTCOMES) >= MAX_OUTCOMES:
        _OUTCOMES.clear()
    out = _evaluate(rule, flag, s)
    _OUTCOMES[key] = (rule, out)
    return out


HARDWARE_NAMES = ("gpu.", "cpu.", "os.", "env.", "torch.runs_on_gpu")
"""Fact names that differ between the GPU targets of a matrix (by prefix)."""
SOFTWARE_NAMES = ("pkg.", "torch.", "transformers.", "imports.", "import_error.", "module.", "optimum.",
                  "flash_attn.")
"""Fact names that differ between the software targets of a matrix (by prefix). Rules are keyed in groups by
which of the two they read (and whether they read memory figures), so that every GPU target of a model and
software target shares the evaluation of the rules that read nothing of the hardware, and so on. The split
decides what is shared, never what is answered: every group is keyed by the values it reads."""


@frozen
class _Group:
    """Pairs (indices into `_Split.pairs`) that are keyed together, and every name their requirements read
    but `value` and the memory figures (MEMORY: the pairs read figures, which the memory plan in scope and
    the effective flags determine)."""

    members: tuple[int, ...]
    names: tuple[str, ...]
    memory: bool = False


@frozen
class _Split:
    """The (rule, flag) pairs of a rule list in order and their groups (by whether they read memory figures,
    the hardware, the software)."""

    rules: Sequence[Rule]
    pairs: tuple[tuple[Rule, str | None], ...]
    groups: tuple[_Group, ...]
    memory: tuple[bool, ...]
    """Whether each pair reads a memory figure (in its requirements, message or fix)."""
    reads: tuple[tuple[str, ...], ...]
    """Each pair's names its requirements read, but `value`."""


_SPLITS: dict[int, _Split] = {}


def _split(rules: Sequence[Rule]) -> _Split:
    hit = _SPLITS.get(id(rules))
    if hit is None or hit.rules is not rules:
        pairs = tuple((rule, flag) for rule in rules for flag in rule.flags or (None,))
        memory = tuple(any(n.startswith("memory.") for n in _names(rule)) for rule, _ in pairs)
        members: dict[tuple[bool, bool, bool], list[int]] = {}
        names: dict[tuple[bool, bool, bool], set[str]] = {}
        reads = tuple(tuple(sorted(rule.reads - {"value"})) for rule, _ in pairs)
        for i, read in enumerate(reads):
            # a memory group's figures are the plan's, which is of one hardware target already
            kind = (memory[i], not memory[i] and any(n.startswith(HARDWARE_NAMES) for n in read),
                    any(n.startswith(SOFTWARE_NAMES) for n in read))
            members.setdefault(kind, []).append(i)
            names.setdefault(kind, set()).update(n for n in read if not n.startswith("memory."))
        groups = tuple(_Group(tuple(members[k]), tuple(sorted(names[k])), k[0]) for k in sorted(members))
        hit = _SPLITS[id(rules)] = _Split(rules, pairs, groups, memory, reads)
    return hit


_GROUPED: dict[Key, tuple[_Group, tuple[Evaluation | None, ...], Any]] = {}


def _grouped(split: _Split, s: Scope, effective: Mapping[str, Any]) -> list[Evaluation | None]:
    """The evaluation of each pair that passes or is unknown; None for a failure (its message and fix may name
    what its requirement does not read, a GPU's name, so it is rendered per check).

    A passing or unknown evaluation is a function of the values its requirements read and of `value`, which
    the effective flags hold; a memory figure is a function of the memory plan and those flags. Together they
    key a group's evaluations (`memo.value_key`; the plan's figures by identity, held by the entry). Across a
    policy matrix every GPU target of a model and software target shares the group that reads nothing of the
    hardware, every GPU target that reads the same (compute capability, vendor, …) shares the next, and the
    software targets whose plans share their figures share the memory group where they read the same. When a
    group is new, each of its rules that reads no memory figure is still remembered on its own
    (`_remembered`): a new compute capability changes what a few rules read, not all of them.
    """
    out: list[Evaluation | None] = [None] * len(split.pairs)
    flags = tuple((k, repr(v), type(v)) for k, v in effective.items())
    for group in split.groups:
        plan = getattr(s.dynamic, "figures", s.dynamic) if group.memory else None
        key = value_key(values_of(s, group.names), id(group), flags, id(plan))
        hit = _GROUPED.get(key)
        if hit is None or hit[0] is not group or hit[2] is not plan:
            if len(_GROUPED) >= MAX_OUTCOMES // 20:
                _GROUPED.clear()
            hit = _GROUPED[key] = (group, tuple(_steady(*split.pairs[i], s, effective) if group.memory else
                                                _remembered(*split.pairs[i], split.reads[i], s, effective)
                                                for i in group.members), plan)
        for i, evaluation in zip(group.members, hit[1], strict=True):
            out[i] = evaluation
    return out


_PAIRS: dict[Key, tuple[Rule, Evaluation | None]] = {}


def _remembered(rule: Rule, flag: str | None, reads: tuple[str, ...], s: Scope,
                effective: Mapping[str, Any]) -> Evaluation | None:
    """`_steady`, remembered by the values RULE's requirements read (READS) and `value` (`memo.value_key`)."""
    key = value_key((*values_of(s, reads), effective.get(flag) if flag else None), id(rule), flag)
    found = _PAIRS.get(key)
    if found is None or found[0] is not rule:
        if len(_PAIRS) >= MAX_OUTCOMES:
            _PAIRS.clear()
        found = _PAIRS[key] = (rule, _steady(rule, flag, s, effective))
    return found[1]


def _steady(rule: Rule, flag: str | None, s: Scope, effective: Mapping[str, Any]) -> Evaluation | None:
    """The evaluation of RULE about FLAG when it passes or is unknown (None when it fails)."""
    s["value"] = effective.get(flag) if flag else None
    truth, applies = rule.outcome(s)
    if truth is Tri.FALSE:
        return None
    if truth is Tri.UNKNOWN:
        why = "; ".join(rule.unknown_reasons(s))
        return Evaluation(rule.id, rule.severity, "unknown", f"{rule.title}: {why}", flag)
    return Evaluation(rule.id, rule.severity, "pass", rule.title, flag, applies is Tri.TRUE)


def _evaluate(rule: Rule, flag: str | None, s: Scope) -> Outcome:
    truth, applies = rule.outcome(s)
    if truth is Tri.FALSE:
        message = rule.render(rule.message, s)
        return (Finding(rule.id, rule.severity, message, rule.render(rule.fix, s), flag=flag),
                Evaluation(rule.id, rule.severity, "fail", message, flag))
    if truth is Tri.UNKNOWN:
        why = "; ".join(rule.unknown_reasons(s))
        return None, Evaluation(rule.id, rule.severity, "unknown", f"{rule.title}: {why}", flag)
    return None, Evaluation(rule.id, rule.severity, "pass", rule.title, flag, applies is Tri.TRUE)


def check_flags(ns: Mapping[str, Any], rules: Sequence[Rule], specs: Sequence[FlagSpec],
                flags: Mapping[str, Any], dynamic: Dynamic | None = None,
                ) -> tuple[list[Finding], list[Evaluation], dict[str, Any]]:
    """Findings, one evaluation per rule and flag, and the effective flags that were checked."""
    if not isinstance(flags, Mapping):
        raise InputError("--flags must be a JSON object of from_pretrained keyword arguments")
    names = _canonical(specs)
    given: dict[str, Any] = {}
    scope = s = _Reading(ns)  # the rules about a flag see its value as `value`, set before each is read
    scope.dynamic = dynamic
    for key, value in flags.items():
        if not isinstance(key, str):
            raise InputError("--flags keys must be strings")
        scope[f"kwarg.{key}"] = value
        canonical = names.get(key, key)
        given[canonical] = normalize_value(canonical, value)
    scope.update(keyword_facts(scope, [k for k in flags if k not in names], set(names)))
    effective = effective_flags(scope, given)
    for key, value in effective.items():
        scope[f"flag.{key}"] = value
    findings: list[Finding] = []
    evaluations: list[Evaluation] = []
    split = _split(rules)
    for (rule, flag), outcome, memory in zip(split.pairs, _grouped(split, s, effective), split.memory, strict=True):
        if outcome is None:
            s["value"] = effective.get(flag) if flag else None
            # a failure that reads memory figures is rendered as it stands (keyed by every name, it would
            # compute each figure its message names before knowing whether it was remembered)
            finding, evaluation = _evaluate(rule, flag, s) if memory else _outcome(rule, flag, s)
            if finding is not None:
                findings.append(finding)
        else:
            evaluation = outcome
        evaluations.append(evaluation)
    shown = {k: (None if isinstance(v, Unknown) else v) for k, v in effective.items()}
    scope.settle()
    return FixVetter(scope, rules, specs).findings(findings, effective), evaluations, shown
