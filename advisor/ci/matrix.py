"""Run every job (a model, or a call found in code) on every target; each model is loaded once."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from advisor.ci.policy import TargetSpec
from advisor.ci.run_rules import CHECK_FACTS, LINT_UNRESOLVED
from advisor.core.errors import AdvisorError, FactsUnavailable
from advisor.core.frozen import field, frozen, record, replace
from advisor.core.report import Case
from advisor.core.results import Evaluation
from advisor.engine.advise import check
from advisor.engine.check import canonical_names
from advisor.engine.pack import load_flags, load_rules
from advisor.facts.bundle import Request
from advisor.facts.gather import facts_for
from advisor.facts.locate import load_model
from advisor.facts.model_source import ModelSource


@frozen
class Job:
    """What to check: a model at a revision with a flag set, and where in a file it was named."""

    model: str | None
    revision: str | None
    flags: Mapping[str, Any]
    file: str | None = None
    line: int | None = None
    unresolved: tuple[str, ...] = ()
    """Why part of the job cannot be read (lint): each is an unknown, never a guess."""
    label: str = ""
    """How to name the model when `model` is None (the loader class)."""
    fetch_revision: str | None = None
    """The revision to read the config at, when it differs from the flags' (a policy pin)."""
    name: str | None = None
    """How reports and ignores name the model, when not `model` (a policy id as written)."""
    column: int | None = None
    positions: tuple[tuple[str, int, int], ...] = ()
    """(keyword as written, line, column) in the source file: a finding about a flag points at its keyword."""

    def where(self, flag: str | None, keywords: Mapping[str, str],
              read: Sequence[str] = ()) -> tuple[int | None, int | None]:
        """The line and column a finding points at: the keyword of its FLAG (a canonical flag name), else
        a keyword its rule READ as passed, else the call."""
        for keyword, line, column in self.positions:
            if flag is not None and keywords.get(keyword, keyword) == flag:
                return line, column
        for keyword, line, column in self.positions:
            if flag is None and keyword in read:
                return line, column
        return self.line, self.column


@record
class _Models:
    """Each (model, revision) loaded once; a failure is remembered, not retried."""

    offline: bool
    strict: bool
    loaded: dict[tuple[str, str | None], ModelSource | str] = field(default_factory=dict)

    def get(self, model: str, revision: str | None) -> ModelSource | str:
        key = (model, revision)
        if key not in self.loaded:
            try:
                self.loaded[key] = load_model(model, revision=revision, offline=self.offline)
            except FactsUnavailable as exc:
                self.loaded[key] = str(exc)
            except AdvisorError as exc:
                if self.strict:
                    raise
                self.loaded[key] = str(exc)
        return self.loaded[key]


def plural(n: int, word: str) -> str:
    """`1 model`, `3 models`."""
    return f"{n} {word}" + ("" if n == 1 else "s")


@contextmanager
def _no_collections() -> Iterator[None]:
    """Python's cyclic collector off while a matrix runs, and what is alive after it left out of later
    collections' scans (`gc.freeze`). A matrix makes hundreds of thousands of values, most of them held by the
    memos, and next to no cycles (6 unreachable objects in 100 models × 116 targets): a collection during it,
    or the first full one after it, scans them all, a tenth to a fifth of a large matrix's time. Reference counting
    still frees every value a memo lets go of; only a cycle made meanwhile is never collected."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def run_matrix(jobs: Sequence[Job], targets: Sequence[TargetSpec], request: Request, *,
               strict: bool = True, progress: Callable[[str], None] | None = None) -> list[Case]:
    """One Case per job and target. STRICT: a model that is bad input (not merely unreachable) raises.

    PROGRESS, when given, gets the size of the matrix first, then a line as each model is read.
    """
    with _no_collections():
        return _run_matrix(jobs, targets, request, strict, progress)


def _run_matrix(jobs: Sequence[Job], targets: Sequence[TargetSpec], request: Request, strict: bool,
                progress: Callable[[str], None] | None) -> list[Case]:
    models = _Models(request.offline, strict)
    facts_cache: dict[tuple[int, int], Any] = {}
    keywords = canonical_names(load_flags())
    read = {r.id: r.keywords_read for r in load_rules()}
    cases: list[Case] = []
    if progress is not None:
        distinct = len({(j.model, j.fetch_revision or j.revision) for j in jobs if j.model is not None})
        progress(f"{plural(len(jobs), 'model')} ({distinct} distinct) × {plural(len(targets), 'target')}: "
                 f"{plural(len(jobs) * len(targets), 'case')}")
    for number, job in enumerate(jobs, 1):
        name = job.name or job.model or job.label or "(unknown model)"
        source: ModelSource | str | None = None
        if job.model is not None:
            if progress is not None:
                progress(f"[{number}/{len(jobs)}] {job.model}" + (f" at {job.revision}" if job.revision else ""))
            source = models.get(job.model, job.fetch_revision or job.revision)
        extra = tuple(Evaluation(LINT_UNRESOLVED, "error", "unknown", why) for why in job.unresolved)
        for t_index, target in enumerate(targets):
            if not isinstance(source, ModelSource):
                evals = extra
                if isinstance(source, str) or not extra:
                    why = source if isinstance(source, str) else "no model to read facts from"
                    evals = (*extra, Evaluation(CHECK_FACTS, "error", "unknown", f"{name}: {why}"))
                cases.append(Case(name, job.revision, target.label, dict(job.flags), job.file, job.line, (),
                                  evals, job.column))
                continue
            key = (id(source), t_index)
            if key not in facts_cache:
                facts_cache[key] = facts_for(source, target.hardware, target.software, request)
            result = check(facts_cache[key], job.flags, target.label)
            findings = tuple(replace(f, target=target.label, file=job.file, line=line, column=column)
                             for f in result.findings
                             for line, column in (job.where(f.flag, keywords, read.get(f.rule, ())),))
            cases.append(Case(name, job.revision, target.label, result.flags, job.file, job.line, findings,
                              (*result.evaluations, *extra), job.column))
    return cases
