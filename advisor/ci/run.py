"""`advisor check` and `advisor lint`: gather the jobs and targets, run the matrix, and report.

The verdict and exit code are the report's (`advisor.core.report`): 0 compatible · 1 a finding at or above
fail-on (default error) · 3 the facts needed could not be obtained (an error-severity rule evaluated unknown).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from advisor.ci.ignores import apply_ignores
from advisor.ci.lint import display_path, lint_paths
from advisor.ci.matrix import Job, run_matrix
from advisor.ci.policy import Policy, TargetSpec, find_policy, load_policy
from advisor.ci.run_rules import LINT_UNRESOLVED
from advisor.ci.suppress import apply_suppressions
from advisor.core.errors import InputError
from advisor.core.frozen import replace
from advisor.core.report import Case, Report
from advisor.core.results import Evaluation, Finding, Severity
from advisor.facts.bundle import Request
from advisor.facts.gather import validate_request
from advisor.facts.target import Target, hardware_of, software_of

MAX_CASES = 10_000
"""A matrix of more model × target cases than this is refused unless `--max-cases` allows it."""


def check_size(jobs: Sequence[Job], targets: Sequence[TargetSpec], max_cases: int | None) -> None:
    """InputError, stating the matrix's size, when it has more cases than MAX_CASES (default `MAX_CASES`)."""
    limit = MAX_CASES if max_cases is None else max_cases
    if limit < 1:
        raise InputError(f"--max-cases {limit}: must be at least 1")
    cases = len(jobs) * len(targets)
    if cases > limit:
        raise InputError(f"the matrix is {len(jobs)} model(s) × {len(targets)} target(s) = {cases} cases, more than "
                         f"the {limit} allowed; pass --max-cases {cases} to run it")


def resolve_targets(targets: Sequence[Target]) -> list[TargetSpec]:
    """Each target's hardware and software, read once."""
    return [TargetSpec(t.label, hardware_of(t), software_of(t)) for t in targets]


def merged_request(policy: Policy | None, given: Mapping[str, Any]) -> Request:
    """The policy's request (or the defaults) with the fields given on the command line replacing its own."""
    base = policy.request if policy is not None else Request()
    offline = bool(given.get("offline")) or base.offline
    return validate_request(replace(base, **{**given, "offline": offline}))


def fail_on_of(given: str | None, policy: Policy | None) -> Severity:
    value = given or (policy.fail_on if policy is not None else None) or "error"
    if value not in ("error", "warning", "info"):
        raise InputError(f"--fail-on {value!r}: choose error, warning or info")
    return "error" if value == "error" else ("warning" if value == "warning" else "info")


def _policy_jobs(policy: Policy) -> list[Job]:
    jobs = []
    for m in policy.models:
        flags = dict(m.flags or {})
        if m.revision is not None:
            flags.setdefault("revision", m.revision)
        jobs.append(Job(m.id, m.revision, flags, policy.path, m.line, name=m.name or None))
    return jobs


def check_report(*, model: str | None = None, flags: Mapping[str, Any] | None = None, flags_file: str | None = None,
                 revision: str | None = None, policy_file: Path | None = None,
                 targets: Sequence[Target] | None = None, request: Mapping[str, Any] | None = None,
                 fail_on: str | None = None, progress: Callable[[str], None] | None = None,
                 max_cases: int | None = None) -> Report:
    """Check MODEL with FLAGS (read from FLAGS_FILE when named), or every model of a policy, on each target.

    TARGETS replace the policy's (none given: the policy's, else this machine); REQUEST holds the request
    fields given explicitly, which replace the policy's. PROGRESS gets the matrix size and each model read.
    A matrix of more than MAX_CASES cases (default `MAX_CASES`) is refused before it runs.
    """
    policy = load_policy(policy_file) if policy_file is not None else None
    jobs: list[Job] = []
    if model is not None:
        if flags is None:
            raise InputError("check needs --flags JSON (or --policy FILE)")
        given = dict(flags)
        if revision is not None:
            given.setdefault("revision", revision)
        where = display_path(Path(flags_file)) if flags_file else None
        jobs.append(Job(model, revision, given, where, 1 if where else None))
    elif flags is not None:
        raise InputError("--flags needs a MODEL")
    elif policy is not None:
        jobs = _policy_jobs(policy)  # none (a lint-only policy): nothing to check, which passes
    else:
        raise InputError("check needs a MODEL with --flags, or --policy FILE")
    specs = _targets(targets, policy)
    check_size(jobs, specs, max_cases)
    cases = run_matrix(jobs, specs, merged_request(policy, request or {}), strict=True, progress=progress)
    return _report("check", cases, policy, fail_on_of(fail_on, policy))


def lint_report(paths: Sequence[Path], *, policy_file: Path | None = None, targets: Sequence[Target] | None = None,
                request: Mapping[str, Any] | None = None, fail_on: str | None = None,
                progress: Callable[[str], None] | None = None, max_cases: int | None = None) -> Report:
    """Check the flags of every from_pretrained call in PATHS against the targets (PROGRESS, MAX_CASES: as
    check's)."""
    found = policy_file if policy_file is not None else (None if targets else find_policy(Path.cwd()))
    policy = load_policy(found) if found is not None else None
    calls, unreadable, quiet = lint_paths(list(paths) or [Path(".")])
    pins = {m.id.lower(): m.revision for m in policy.models} if policy is not None else {}
    jobs = [Job(c.model, c.revision, c.flags, c.file, c.line, c.unresolved, label=c.loader,
                fetch_revision=None if c.revision or c.model is None else pins.get(c.model.lower()),
                column=c.column, positions=c.positions)
            for c in calls]
    specs = _targets(targets, policy)
    check_size(jobs, specs, max_cases)
    cases = run_matrix(jobs, specs, merged_request(policy, request or {}), strict=False, progress=progress)
    for bad in unreadable:
        for t in specs:
            cases.append(Case(bad.file, None, t.label, {}, bad.file, bad.line, (),
                              (Evaluation(LINT_UNRESOLVED, "error", "unknown",
                                          bad.why),)))
    cases, unused = apply_suppressions(cases, calls, quiet)
    return _report("lint", cases, policy, fail_on_of(fail_on, policy), unused)


def _targets(targets: Sequence[Target] | None, policy: Policy | None) -> list[TargetSpec]:
    if targets:
        return resolve_targets(targets)
    if policy is not None and policy.targets:
        return list(policy.targets)
    return resolve_targets([Target()])


def _report(command: str, cases: list[Case], policy: Policy | None, fail_on: Severity,
            notes: Sequence[Finding] = ()) -> Report:
    notes = list(notes)
    if policy is not None and policy.ignores:
        cases, stale = apply_ignores(cases, policy.ignores, policy.path)
        notes.extend(stale)
    return Report("lint" if command == "lint" else "check", tuple(sorted(cases, key=Case.sort_key)),
                  tuple(notes), fail_on, policy.path if policy is not None else None)
