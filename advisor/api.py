"""The Python API, advisor's one door: the CLI, the TUI and scripts all come in here.

    from advisor.api import Request, Target, gather, recommend
    rec = recommend(gather("Qwen/Qwen2.5-7B", target=Target(gpu="T4"), request=Request(dtype="bfloat16")))

Facts (`gather`, `facts_for`) → answers (`recommend`, `check`, `check_report`, `lint_report`, `explain`) →
catalogs (`rules`, `rule`, `flags`, `gpus`, `models`). Nothing here parses command lines or renders output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor.core.errors import AdvisorError, InputError
from advisor.core.frozen import replace
from advisor.core.results import CheckResult, Recommendation
from advisor.emit.snippet import python_snippet
from advisor.engine import advise
from advisor.engine.flags import FlagSpec
from advisor.engine.namespace import build_namespace
from advisor.engine.pack import load_flags, load_rules
from advisor.engine.rules import Rule
from advisor.facts.bundle import Facts, Request
from advisor.facts.gather import facts_for, gather, validate_request
from advisor.facts.gpu_catalog import CatalogGpu, load_catalog, parse_gpu_spec
from advisor.facts.hardware import Hardware
from advisor.facts.model_source import ModelSource, is_local
from advisor.facts.profiles import parse_with
from advisor.facts.software import Software
from advisor.facts.target import Target, hardware_of, software_of
from advisor.memory.plan import DEFAULT_CONTEXT

if TYPE_CHECKING:
    from typing import BinaryIO

    from advisor.core.explanation import Explanation
    from advisor.core.report import Report
    from advisor.facts.model_catalog import CatalogEntry
    from advisor.verify.types import VerifyOptions, VerifyReport

_LAZY = {"Report": "advisor.core.report", "Explanation": "advisor.core.explanation",
         "CatalogEntry": "advisor.facts.model_catalog",
         "VerifyOptions": "advisor.verify.types", "VerifyReport": "advisor.verify.types"}
"""Names the API exports that `advisor recommend` does not need: imported on first use."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'advisor.api' has no attribute {name!r}")


__all__ = [
    "DEFAULT_CONTEXT",
    "CheckResult",
    "Explanation",
    "Facts",
    "FlagSpec",
    "Hardware",
    "ModelSource",
    "Recommendation",
    "Report",
    "Request",
    "Rule",
    "Software",
    "Target",
    "VerifyOptions",
    "VerifyReport",
    "check",
    "check_report",
    "explain",
    "facts_for",
    "flag",
    "flags",
    "gather",
    "gpus",
    "hardware_facts",
    "is_local_model",
    "lint_report",
    "load_source",
    "models",
    "parse_package",
    "recommend",
    "rule",
    "rules",
    "software_facts",
    "split_gpu_spec",
    "validate_request",
    "verify",
    "verify_ready",
    "what_would_change",
]


def hardware_facts(target: Target) -> Hardware:
    """The target's hardware: a catalog GPU, a hardware profile, or this machine."""
    return hardware_of(target)


def software_facts(target: Target) -> Software:
    """The target's packages: a software profile or this machine's, with `--with` overlays."""
    return software_of(target)


def load_source(model: str, *, revision: str | None = None, offline: bool = False) -> ModelSource:
    """A model's config.json and what came with it: a local path, the Hub, its cache or the bundled catalog."""
    from advisor.facts.locate import load_model  # huggingface_hub only when a repo id is read

    return load_model(model, revision=revision, offline=offline)


def is_local_model(model: str) -> bool:
    """Whether MODEL names a local file or folder rather than a Hub repo id."""
    return is_local(model)


def recommend(facts: Facts) -> Recommendation:
    """The safe flag set for the facts, each flag with its reasons, rejected candidates and findings."""
    rec = advise.recommend(facts)
    return replace(rec, python=python_snippet(facts, rec))


def check(facts: Facts, flags: Mapping[str, Any], target_name: str = "") -> CheckResult:
    """Validate a proposed flag set against the facts: every problem with its rule, severity and fix."""
    return advise.check(facts, flags, target_name)


def what_would_change(facts: Facts, rec: Recommendation) -> dict[str, str]:
    """For each rule that rejected a candidate: its fix in words for these facts (never a value that fails
    here too)."""
    return advise.what_would_change(facts, rec)


def explain(text: str | bytes | BinaryIO, *, model: str | None = None, revision: str | None = None,
            target: Target | None = None, request: Request | None = None, facts: Facts | None = None,
            recommend_flags: bool = True) -> Explanation:
    """The rules that explain an error message or a whole log (TEXT: a string, bytes, or a binary stream read
    once, streaming), best match first, with what the log says of its origin.

    When MODEL is given, or the log names one (a from_pretrained("…") line, a Hub URL or cache path, a local
    config.json) and RECOMMEND_FLAGS is true, the facts of TARGET (default: this machine) are gathered for it:
    they rank the rules, write each fix for them, and give the recommendation. FACTS, when given, are used
    instead. InputError (exit 2) for empty, binary or unreadable input; a model given as MODEL that cannot
    be read raises too, one named only by the log becomes a note.
    """
    import io  # explain's modules stay off `advisor recommend`'s path

    from advisor.core.explanation import Explanation, ModelMention  # as above
    from advisor.engine import explain as ex  # as above

    if isinstance(text, str):
        stream: BinaryIO = io.BytesIO(text.encode("utf-8", "surrogateescape"))
    elif isinstance(text, bytes | bytearray):
        stream = io.BytesIO(bytes(text))
    else:
        stream = text
    all_rules = load_rules()
    found = ex.scan(stream, all_rules)
    seen = found.recognised
    notes: list[str] = []
    named, passed_over = ex.pick_model(seen.models, lambda p: Path(p).expanduser().exists())
    mention = ModelMention(model, "--model", 0) if model is not None else named
    if model is None:
        notes += passed_over
    target = target or Target()
    if facts is not None:
        mention = ModelMention(str(facts.model.summary().get("id")), "the facts given", 0)
    elif mention is not None and recommend_flags:
        try:
            facts = gather(mention.id, revision=revision, target=target, request=request)
        except AdvisorError as exc:
            if model is not None:
                raise
            notes.append(f"the log names {mention.id} ({mention.how}, line {mention.line}), but its facts could "
                         f"not be gathered: {exc}")
    rec = None
    verdicts: dict[str, tuple[str, str]] = {}
    ns = None
    versions = seen.versions()
    if facts is not None:
        rec = recommend(facts)
        try:
            checked = check(facts, seen.flags) if seen.flags else None
        except AdvisorError as exc:
            checked = None
            notes.append(f"the flags of the log's from_pretrained call could not be checked: {exc}")
        verdicts = ex.verdicts(rec, checked)
        ns = build_namespace(facts)
        versions = {**versions, **ex.installed_versions(facts)}
    elif mention is None and recommend_flags:
        notes.append("the log names no model: pass --model MODEL to see the flags that fit this machine")
    gpus = list(dict.fromkeys(catalog for _, catalog in seen.gpus))
    here = {str(g.name.value) for g in facts.hardware.gpus} if facts is not None else set()
    if gpus and target.is_this_machine and not any(g in name for g in gpus for name in here):
        notes.append(f"the log names {', '.join(gpus)}: pass --gpu {gpus[0]}"
                     + (" and --model MODEL" if facts is None else "") + " to rank the rules for that machine")
    matches = ex.rank(found, all_rules, verdicts, versions, ns)
    label = "" if facts is None else target.label
    return Explanation(found.input, matches, seen, mention if facts is not None else None, named, label, rec,
                       tuple(notes))


def rules() -> tuple[Rule, ...]:
    """Every rule, in file order."""
    return load_rules()


def rule(rule_id: str) -> Rule | None:
    """One rule by id (case-insensitive), or None."""
    wanted = rule_id.strip().upper()
    return next((r for r in load_rules() if r.id == wanted), None)


def flags() -> tuple[FlagSpec, ...]:
    """The flags advisor decides, in decision order."""
    return load_flags()


def flag(name: str) -> FlagSpec | None:
    """One flag spec by its canonical name, or None."""
    return next((s for s in load_flags() if s.name == name.strip()), None)


def gpus() -> tuple[CatalogGpu, ...]:
    """The GPU catalog."""
    return load_catalog()


def models(query: str | None = None) -> tuple[CatalogEntry, ...]:
    """The bundled model catalog, most used first; with QUERY, the models whose id holds each of its words."""
    from advisor.facts.model_catalog import catalog  # the catalog loads only when it is asked for

    words = (query or "").lower().split()
    return tuple(e for e in catalog().entries.values() if all(w in e.id.lower() for w in words))


def split_gpu_spec(spec: str | None) -> tuple[str | None, int]:
    """`H100x8` → ("H100", 8); `none` → ("none", 1); an unknown name is kept as written, count 1."""
    if spec is None:
        return None, 1
    try:
        entry, count = parse_gpu_spec(spec)
    except InputError:
        return spec, 1
    if entry is None:
        return "none", 1
    return entry.name, max(count, 1)


def parse_package(spec: str) -> tuple[str, str | None]:
    """A `NAME==VERSION` (or `NAME==none`) overlay as (normalised name, version or None); InputError if bad."""
    name, version = parse_with(spec)
    return name, None if version is None else str(version)


def check_report(*, model: str | None = None, flags: Mapping[str, Any] | None = None, flags_file: str | None = None,
                 revision: str | None = None, policy_file: Path | None = None,
                 targets: Sequence[Target] | None = None, request: Mapping[str, Any] | None = None,
                 fail_on: str | None = None, progress: Callable[[str], None] | None = None,
                 max_cases: int | None = None) -> Report:
    """`advisor check`: MODEL with FLAGS, or every model of a policy file, on each target, as one report.

    TARGETS replace the policy's (none: the policy's, else this machine); REQUEST holds the request fields
    given explicitly, which replace the policy's; FAIL_ON replaces the policy's `fail-on`. PROGRESS, when
    given, gets a line with the size of the matrix, then one as each model is read. A matrix of more cases
    than MAX_CASES (default 10000) is refused before it runs (InputError stating its size).
    """
    from advisor.ci.run import check_report as run  # the CI modules stay off `advisor recommend`'s path

    return run(model=model, flags=flags, flags_file=flags_file, revision=revision, policy_file=policy_file,
               targets=targets, request=request, fail_on=fail_on, progress=progress, max_cases=max_cases)


def lint_report(paths: Sequence[Path], *, policy_file: Path | None = None, targets: Sequence[Target] | None = None,
                request: Mapping[str, Any] | None = None, fail_on: str | None = None,
                progress: Callable[[str], None] | None = None, max_cases: int | None = None) -> Report:
    """`advisor lint`: the flags of every from_pretrained call found in PATHS, checked on each target."""
    from advisor.ci.run import lint_report as run  # the CI modules stay off `advisor recommend`'s path

    return run(paths, policy_file=policy_file, targets=targets, request=request, fail_on=fail_on,
               progress=progress, max_cases=max_cases)


def verify(facts: Facts, candidates: str, options: VerifyOptions,
           progress: Callable[[str], None] | None = None) -> VerifyReport:
    """Try candidate flag sets on a small model of the same shape on this machine, beside the rules' verdicts.

    PROGRESS, when given, gets a line for each step (building, loading, forward, generate) and outcome.
    MissingRuntime (exit 2) when torch or transformers cannot be imported here.
    """
    from advisor.verify.core import verify_candidates  # torch-side code only for verify

    verify_ready()
    return verify_candidates(facts, candidates, options, progress=progress)


def verify_ready() -> None:
    """Raise MissingRuntime (exit 2, with the install command) when verify cannot run here."""
    from advisor.verify.core import require_runtime  # verify's modules only for verify

    require_runtime()
