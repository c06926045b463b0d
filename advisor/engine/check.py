"""Check mode: evaluate every rule against a proposed flag set, as transformers would see it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from advisor.core.errors import InputError
from advisor.core.frozen import frozen
from advisor.core.logic import Tri, Unknown
from advisor.core.once import once_per
from advisor.core.results import Evaluation, Finding
from advisor.engine.expr import Dynamic, Scope
from advisor.engine.fixes import FixVetter
from advisor.engine.flags import FlagSpec
from advisor.engine.keywords import keyword_facts
from advisor.engine.memo import Key, value_key, values_of
from advisor.engine.rules import PLACEHOLDER, Rule
from advisor.facts.model import FLOAT_DTYPES
from advisor.memory.plan import flags_key

T = TypeVar("T")
_ABSENT = object()

DTYPE_NAMES = {**FLOAT_DTYPES, "auto": "auto"}
"""Dtype spellings users pass (`torch.bfloat16`, `bf16`, `half`) and the name each stands for."""


def canonical_names(specs: Sequence[FlagSpec]) -> dict[str, str]:
    """Every keyword a user may pass (any version's name, or an alias) → the canonical flag."""
    return {kw: spec.name for spec in specs for kw in spec.keywords}


_CANONICAL: dict[int, tuple[Any, Any]] = {}


def _canonical(specs: Sequence[FlagSpec]) -> dict[str, str]:
    """canonical_names, once per flag table (read-only here)."""
    return once_per(_CANONICAL, specs, lambda: canonical_names(specs), 16)


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
    are tried, each in a scope of its own with other flags. `traced` tells which figures a reading read."""

    def __init__(self, ns: Mapping[str, Any]) -> None:
        super().__init__(ns)
        self.kept: list[str] = []
        self.trace: list[tuple[str, Any]] | None = None
        """When a list, each memory figure read is appended to it with its value, in the order read."""
        self.hidden: dict[str, Any] = {}
        """The figures kept before `traced` began and not read since."""

    def __missing__(self, key: str) -> Any:
        hidden = self.hidden.pop(key, _ABSENT) if self.trace is not None else _ABSENT
        value = super().__missing__(key) if hidden is _ABSENT else hidden
        if key.startswith("memory."):
            self[key] = value
            self.kept.append(key)
            if self.trace is not None:
                self.trace.append((key, value))
        return value

    def traced(self, read: Callable[[], T]) -> tuple[T, list[tuple[str, Any]]]:
        """READ() and the memory figures it read, in order, with their values (those kept so far are taken
        out of the scope meanwhile, so that every read is seen, and given back when read: not asked again)."""
        self.hidden = {key: self.pop(key) for key in self.kept}
        self.kept.clear()
        trace: list[tuple[str, Any]] = []
        self.trace = trace
        try:
            out = read()
        finally:
            self.trace = None
            for key, value in self.hidden.items():
                self[key] = value
                self.kept.append(key)
            self.hidden = {}
        return out, trace

    def settle(self) -> None:
        """Back to the facts and the flags checked."""
        for key in self.kept:
            del self[key]
        self.kept.clear()
        self.pop("value", None)


_OUTCOMES: dict[Key, tuple[Rule, Outcome]] = {}
_NAMES: dict[int, tuple[Any, Any]] = {}
MAX_OUTCOMES = 200_000
"""Outcomes remembered at most (then forgotten all at once): a few tens of MB for a large policy matrix."""


def _names(rule: Rule) -> tuple[str, ...]:
    """Every name the rule's outcome reads: its requirements' facts and the placeholders of its message and fix."""
    return once_per(_NAMES, rule, lambda: tuple(sorted(rule.reads.union(
        PLACEHOLDER.findall(rule.message + " " + rule.fix)))), 4096)


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


SOFTWARE_NAMES = ("pkg.", "torch.", "transformers.", "imports.", "import_error.", "module.", "optimum.",
                  "flash_attn.")
"""Fact names that differ between the software targets of a matrix (by prefix). Rules are keyed in groups by
whether they read the hardware layer of the namespace (`namespace_layers`), these names and memory figures,
so that the models and software targets that read alike share a group's evaluation. The split decides what
is shared, never what is answered: every group is keyed by the values it reads."""


@frozen
class _Group:
    """Pairs (indices into `_Split.pairs`) that are keyed together, and every name their requirements read
    but `value` and the memory figures (MEMORY: the pairs read figures, which the memory plan in scope and
    the effective flags determine)."""

    members: tuple[int, ...]
    names: tuple[str, ...]
    memory: bool = False
    based: tuple[str, ...] = ()
    """The NAMES the hardware layer does not set: a case's column keys them once (`_Column.keys`)."""
    layered: tuple[str, ...] = ()
    """The NAMES the hardware layer sets: keyed per case."""


@frozen
class _Split:
    """The (rule, flag) pairs of a rule list in order and their groups: those of the column (reading neither
    the hardware layer nor memory figures: once per namespace and flag set) and those of each case."""

    rules: Sequence[Rule]
    pairs: tuple[tuple[Rule, str | None], ...]
    column: tuple[_Group, ...]
    case: tuple[_Group, ...]
    memory: tuple[bool, ...]
    """Whether each pair reads a memory figure (in its requirements, message or fix)."""
    reads: tuple[tuple[str, ...], ...]
    """Each pair's names its requirements read, but `value`."""
    rendered: tuple[bool, ...]
    """Whether a failure of each pair of the column renders in the column (its message and fix read nothing of
    the hardware layer either); the others render per case."""


_SPLITS: dict[tuple[int, frozenset[str]], _Split] = {}


def _split(rules: Sequence[Rule], layer: frozenset[str]) -> _Split:
    """The split of RULES for a hardware layer of the names LAYER (empty: the namespace is one piece)."""
    key = (id(rules), layer)
    hit = _SPLITS.get(key)
    if hit is None or hit.rules is not rules:
        pairs = tuple((rule, flag) for rule in rules for flag in rule.flags or (None,))
        memory = tuple(any(n.startswith("memory.") for n in _names(rule)) for rule, _ in pairs)
        members: dict[tuple[bool, bool, bool], list[int]] = {}
        names: dict[tuple[bool, bool, bool], set[str]] = {}
        reads = tuple(tuple(sorted(rule.reads - {"value"})) for rule, _ in pairs)
        for i, read in enumerate(reads):
            # a memory group's figures are the plan's, which is of one hardware target already
            kind = (memory[i], not memory[i] and not layer.isdisjoint(read),
                    any(n.startswith(SOFTWARE_NAMES) for n in read))
            members.setdefault(kind, []).append(i)
            names.setdefault(kind, set()).update(n for n in read if not n.startswith("memory."))
        groups = [_Group(tuple(members[k]), tuple(sorted(names[k])), k[0], tuple(sorted(names[k] - layer)),
                         tuple(sorted(names[k] & layer))) for k in sorted(members)]
        column = tuple(g for g, k in zip(groups, sorted(members), strict=True) if not k[0] and not k[1])
        in_column = {i for g in column for i in g.members}
        rendered = tuple(i in in_column and layer.isdisjoint(_names(rule)) for i, (rule, _) in enumerate(pairs))
        if len(_SPLITS) > 64:
            _SPLITS.clear()
        hit = _SPLITS[key] = _Split(rules, pairs, column, tuple(g for g in groups if g not in column), memory,
                                    reads, rendered)
    return hit


_GROUPED: dict[Key, tuple[_Group, tuple[Evaluation | None, ...]]] = {}


def _grouped(split: _Split, groups: tuple[_Group, ...], s: _Reading, effective: Mapping[str, Any],
             flags: tuple[Any, ...], out: list[Evaluation | None], keys: tuple[Key, ...] | None = None) -> None:
    """Into OUT, the evaluation of each pair of GROUPS that passes or is unknown; None for a failure (its
    message and fix may name what its requirement does not read, a GPU's name, so it is rendered apart).

    A passing or unknown evaluation is a function of the values its requirements read and of `value`, which
    the effective flags (FLAGS: as a key) hold. The values of a group's names but memory figures key its
    evaluations (`memo.value_key`); a memory group's are followed further by the figures they read
    (`_by_figures`). KEYS, when given, key each group's names outside the hardware layer already
    (`_Column.keys`), so that a case keys only the layer's. Across a policy matrix every model and software
    target that reads the same shares a column group, every GPU target that reads the same (compute
    capability, vendor, …) a hardware group, and every case whose figures come out alike a memory group. When
    a group is new, each of its rules that reads no memory figure is still remembered on its own
    (`_remembered`): a new compute capability changes what a few rules read, not all of them.
    """
    for j, group in enumerate(groups):
        key = value_key(values_of(s, group.names), id(group), flags) if keys is None else \
            value_key(values_of(s, group.layered), keys[j])
        if group.memory:
            evaluations = _by_figures(split, group, key, s, effective)
        else:
            hit = _GROUPED.get(key)
            if hit is None or hit[0] is not group:
                if len(_GROUPED) >= MAX_OUTCOMES // 20:
                    _GROUPED.clear()
                hit = _GROUPED[key] = (group, tuple(_remembered(*split.pairs[i], split.reads[i], s, effective)
                                                    for i in group.members))
            evaluations = hit[1]
        for i, evaluation in zip(group.members, evaluations, strict=True):
            out[i] = evaluation


class _Node:
    """A memory group's evaluations by the figures they read, in the order read: `name` is the figure read
    next, `next` the node for each value it reads (`memo.value_key`); `out` the evaluations, once no figure is
    left to read."""

    __slots__ = ("name", "next", "out")

    def __init__(self) -> None:
        self.name: str | None = None
        self.next: dict[Any, _Node] = {}
        self.out: tuple[Evaluation | None, ...] | None = None


_TRIES: dict[Key, tuple[_Group, _Node]] = {}


def _by_figures(split: _Split, group: _Group, key: Key, s: _Reading,
                effective: Mapping[str, Any]) -> tuple[Evaluation | None, ...]:
    """The evaluations of a memory GROUP, remembered by KEY (the values of its other names and the flags) and
    the values of the figures they read, in the order read.

    An evaluation reads its names in an order that the values read before decide, so two evaluations that read
    the same values in the same order read nothing else that differs and answer the same. The figures read
    are followed in a tree (`_Node`): each step reads only a figure the evaluation itself reads, so nothing is
    computed that would not be. Across a policy matrix the GPU, software and model targets whose figures come
    out alike (fits, does not fit, how many GPUs) share the group, wherever their plans differ.
    """
    hit = _TRIES.get(key)
    if hit is None or hit[0] is not group:
        if len(_TRIES) >= MAX_OUTCOMES // 20:
            _TRIES.clear()
        hit = _TRIES[key] = (group, _Node())
    node: _Node | None = hit[1]
    while node is not None and node.out is None and node.name is not None:
        node = node.next.get(value_key((s[node.name],)))
    if node is not None and node.out is not None:
        return node.out
    out, trace = s.traced(lambda: tuple(_steady(*split.pairs[i], s, effective) for i in group.members))
    node = hit[1]
    for name, value in trace:
        if node.out is not None or node.name not in (None, name):
            return out  # an order that the values read did not decide: not remembered
        node.name = name
        node = node.next.setdefault(value_key((value,)), _Node())
    if node.name is None and not node.next:
        node.out = out
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
    return None if truth is Tri.FALSE else _not_failing(rule, flag, truth, applies, s)


def _evaluate(rule: Rule, flag: str | None, s: Scope) -> Outcome:
    truth, applies = rule.outcome(s)
    if truth is Tri.FALSE:
        message = rule.render(rule.message, s)
        return (Finding(rule.id, rule.severity, message, rule.render(rule.fix, s), flag=flag),
                Evaluation(rule.id, rule.severity, "fail", message, flag))
    return None, _not_failing(rule, flag, truth, applies, s)


def _not_failing(rule: Rule, flag: str | None, truth: Tri, applies: Tri, s: Scope) -> Evaluation:
    """The evaluation of a rule that passes (TRUE) or is unknown, with what it is unknown for."""
    if truth is Tri.UNKNOWN:
        why = "; ".join(rule.unknown_reasons(s))
        return Evaluation(rule.id, rule.severity, "unknown", f"{rule.title}: {why}", flag)
    return Evaluation(rule.id, rule.severity, "pass", rule.title, flag, applies is Tri.TRUE)


@frozen
class _Column:
    """What a check of one flag set reads of a namespace but its hardware layer, computed once per (namespace,
    flag set): a policy matrix checks one model and software target on every GPU target with the same flags."""

    ns: Mapping[str, Any]
    split: _Split
    specs: Sequence[FlagSpec]
    names: dict[str, Any]
    """The names the flags set: `kwarg.*` as passed, `kwargs.*` (keyword facts) and `flag.*` (effective)."""
    effective: dict[str, Any]
    flags: tuple[Any, ...]
    """The effective flags as a key (`_grouped`)."""
    out: tuple[Evaluation | None, ...]
    """Each pair's evaluation where the column decides it (None: a failure, or a pair of the cases)."""
    keys: tuple[Key, ...]
    """Each case group's key of the values it reads outside the hardware layer, with the effective flags."""
    failed: tuple[tuple[int, Finding | None, Evaluation], ...]
    """The column's failures rendered in the column (index, finding, evaluation)."""


_COLUMNS: dict[tuple[Any, ...], _Column] = {}


def _column(ns: Mapping[str, Any], split: _Split, specs: Sequence[FlagSpec], flags: Mapping[str, Any]) -> _Column:
    """The column of NS (without its hardware layer) and FLAGS, once per both (NS by identity, held by the
    entry; FLAGS by value). Bad flags raise InputError before anything is remembered."""
    if not isinstance(flags, Mapping):
        raise InputError("--flags must be a JSON object of from_pretrained keyword arguments")
    as_given = tuple((k, repr(v), type(v)) for k, v in flags.items())
    key = (id(ns), id(split), id(specs), as_given)
    hit = _COLUMNS.get(key)
    if hit is not None and hit.ns is ns and hit.split is split and hit.specs is specs:
        return hit
    names = _canonical(specs)
    given: dict[str, Any] = {}
    passed: dict[str, Any] = {}
    for name, value in flags.items():
        if not isinstance(name, str):
            raise InputError("--flags keys must be strings")
        passed[f"kwarg.{name}"] = value
        canonical = names.get(name, name)
        given[canonical] = normalize_value(canonical, value)
    scope = _Reading(ns)
    scope.update(passed)
    scope.update(keywords := keyword_facts(scope, [k for k in flags if k not in names], set(names)))
    effective = effective_flags(scope, given)
    scope.update(set_flags := {f"flag.{name}": value for name, value in effective.items()})
    effective_key = tuple((k, repr(v), type(v)) for k, v in effective.items())
    out: list[Evaluation | None] = [None] * len(split.pairs)
    _grouped(split, split.column, scope, effective, effective_key, out)
    failed: list[tuple[int, Finding | None, Evaluation]] = []
    for i, (rule, flag) in enumerate(split.pairs):
        if out[i] is None and split.rendered[i]:
            scope["value"] = effective.get(flag) if flag else None
            failed.append((i, *_outcome(rule, flag, scope)))
    keys = tuple(value_key(values_of(scope, g.based), id(g), effective_key) for g in split.case)
    column = _Column(ns, split, specs, {**passed, **keywords, **set_flags}, effective, effective_key, tuple(out),
                     keys, tuple(failed))
    if len(_COLUMNS) > 1024:
        _COLUMNS.clear()
    _COLUMNS[key] = column
    return column


def check_flags(ns: Mapping[str, Any], rules: Sequence[Rule], specs: Sequence[FlagSpec],
                flags: Mapping[str, Any], dynamic: Dynamic | None = None, layer: Mapping[str, Any] | None = None,
                ) -> tuple[list[Finding], list[Evaluation], dict[str, Any]]:
    """Findings, one evaluation per rule and flag, and the effective flags that were checked.

    NS is the namespace; LAYER, when given, its hardware names laid over it (`namespace_layers`): what reads
    nothing of LAYER nor memory figures is computed once per NS and flag set (`_column`), the rest per call.
    NS is remembered by its identity, so it must not change once checked (pass a new dict instead).
    """
    layer = layer or {}
    split = _split(rules, frozenset(layer))
    column = _column(ns, split, specs, flags)
    scope = s = _Reading(ns)  # the rules about a flag see its value as `value`, set before each is read
    scope.dynamic = dynamic
    scope.update(layer)
    scope.update(column.names)
    scope.flags_key = flags_key(scope)  # the flags are set for good: only `value` changes from here
    effective = column.effective
    out = list(column.out)
    _grouped(split, split.case, s, effective, column.flags, out, column.keys)
    found: list[tuple[int, Finding]] = []
    for i, finding, failure in column.failed:
        out[i] = failure
        if finding is not None:
            found.append((i, finding))
    for i, evaluation in enumerate(out):
        if evaluation is None:
            rule, flag = split.pairs[i]
            s["value"] = effective.get(flag) if flag else None
            # a failure that reads memory figures is rendered as it stands (keyed by every name, it would
            # compute each figure its message names before knowing whether it was remembered)
            finding, out[i] = _evaluate(rule, flag, s) if split.memory[i] else _outcome(rule, flag, s)
            if finding is not None:
                found.append((i, finding))
    findings = [f for _, f in sorted(found, key=lambda pair: pair[0])]  # in the order of the rules
    scope.settle()
    evaluations: list[Evaluation] = out  # type: ignore[assignment]  # every None was filled above
    shown = {k: (None if isinstance(v, Unknown) else v) for k, v in effective.items()}
    return FixVetter(scope, rules, specs).findings(findings, effective), evaluations, shown
